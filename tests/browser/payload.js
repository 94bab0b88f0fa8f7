// payload.js: checks a delivered body the way a strict collector would: a gzip body
// (magic bytes 1f 8b) inflated first, then valid UTF-8, valid JSON, and valid against
// the repository's payload schema (js/payload.schema.json, JSON Schema 2020-12, compiled
// once with ajv). Not a test file.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { decodeBody } from '../../demo/inflate.js';

const schemaPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'js', 'payload.schema.json');
let validate = null;

/** Returns a list of problems with one raw body (a Buffer); empty when it is a valid batch. */
export function batchProblems(raw) {
  validate ||= new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  const body = decodeBody(raw, 1 << 20);
  if (body.error) return [`gzip body: ${body.error}`];
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body.bytes);
  } catch {
    return ['body is not valid UTF-8'];
  }
  let batch;
  try {
    batch = JSON.parse(text);
  } catch (error) {
    return [`body is not JSON: ${error.message}`];
  }
  if (validate(batch)) return [];
  return validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** Problems of every complete POST body the collector received (any status), prefixed by index. */
export function allBatchProblems(records) {
  const out = [];
  records.forEach((record, i) => {
    if (record.method !== 'POST' || !record.url.startsWith('/collect') || !record.received) return;
    for (const problem of batchProblems(record.raw)) out.push(`request ${i}: ${problem}`);
  });
  return out;
}
