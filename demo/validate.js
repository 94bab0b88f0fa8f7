// Payload validation for the collector: the repository's JSON Schema (js/payload.schema.json,
// draft 2020-12) checked with Ajv, plus what the schema can only describe: ids at most
// 128 UTF-8 bytes, list ids at most 64, and every string well-formed Unicode (a lone
// surrogate, which JSON can carry as "\ud800", has no UTF-8 form: ids differing only in
// one would be distinct when stored and identical once exported). It turns Ajv's errors
// into one short reason a developer can act on, e.g. "/ev/2/ms: must be >= 1 (vis event)".

import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';

const SCHEMA_URL = new URL('../js/payload.schema.json', import.meta.url);
const EVENT_TYPES = ['imp', 'view', 'vis', 'click'];
const MAX_ID_BYTES = 128;
const MAX_LIST_BYTES = 64;
const NOT_WELL_FORMED = 'not well-formed Unicode (a lone surrogate)';

/** Compiles the schema once; returns validate(batch) -> null when valid, else a reason. */
export function createValidator(schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'))) {
  // strictTypes is off because the schema's event branches rely on the object type that
  // their shared "$defs/common" declares; everything else stays strict.
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: false });
  ajv.addSchema(schema);
  const validateBatch = ajv.getSchema(schema.$id);
  // One validator per event type, so an invalid event is explained by the rules of its
  // own type instead of the four-branch "must match exactly one schema in oneOf".
  const branches = schema.$defs.event.oneOf;
  const byType = new Map();
  branches.forEach((branch, i) => {
    const type = branch.properties?.e?.const;
    if (type) byType.set(type, ajv.compile({ $ref: `${schema.$id}#/$defs/event/oneOf/${i}` }));
  });

  return function validate(batch) {
    if (!validateBatch(batch)) return explain(batch, validateBatch.errors, byType);
    for (const field of ['pv', 'path']) {
      if (!batch[field].isWellFormed()) return `/${field}: ${NOT_WELL_FORMED}`;
    }
    for (let i = 0; i < batch.ev.length; i++) {
      const ev = batch.ev[i];
      for (const field of ['id', 'list']) {
        if (ev[field] !== undefined && !ev[field].isWellFormed()) return `/ev/${i}/${field}: ${NOT_WELL_FORMED}`;
      }
      if (Buffer.byteLength(ev.id) > MAX_ID_BYTES) return `/ev/${i}/id: longer than ${MAX_ID_BYTES} UTF-8 bytes`;
      if (ev.list !== undefined && Buffer.byteLength(ev.list) > MAX_LIST_BYTES) {
        return `/ev/${i}/list: longer than ${MAX_LIST_BYTES} UTF-8 bytes`;
      }
    }
    return null;
  };
}

function explain(batch, errors, byType) {
  const first = errors?.[0];
  if (!first) return 'does not match the payload schema';
  const match = /^\/ev\/(\d+)/.exec(first.instancePath);
  if (match && Array.isArray(batch?.ev)) {
    const index = Number(match[1]);
    const ev = batch.ev[index];
    if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) return `/ev/${index}: must be an object`;
    const check = byType.get(ev.e);
    if (!check) return `/ev/${index}/e: must be one of ${EVENT_TYPES.join(', ')}`;
    if (!check(ev)) return `/ev/${index}${format(check.errors[0])} (${ev.e} event)`;
  }
  return format(first).replace(/^: /, '/: ');
}

function format(error) {
  let detail = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') detail = `unknown property "${error.params.additionalProperty}"`;
  if (error.keyword === 'const') detail = `must be ${JSON.stringify(error.params.allowedValue)}`;
  if (error.keyword === 'enum') detail = `must be one of ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${error.instancePath}: ${detail}`;
}
