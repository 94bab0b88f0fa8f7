#!/usr/bin/env node
// Lists the functions of a .wasm by the size of their code (bytes of the function body),
// largest first, with their names when the module has a name section (`make size-funcs`
// builds the core with names: same flags and passes, so the same code as js/imp.wasm).
// Usage: node tests/tools/wasm-funcs.mjs <file.wasm> [count]
import { readFileSync } from 'node:fs';

const [file, countText] = process.argv.slice(2);
if (!file) {
  console.error('usage: wasm-funcs.mjs <file.wasm> [count]');
  process.exit(2);
}
const bytes = readFileSync(file);
let at = 8; // after the magic number and the version

function uleb() {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    value += (byte & 127) * 2 ** shift;
    shift += 7;
  } while (byte & 128);
  return value;
}

function skipName() {
  at += uleb();
}

// Imported functions come first in the function index space.
function countFunctionImports() {
  let functions = 0;
  for (let n = uleb(); n > 0; n--) {
    skipName();
    skipName();
    const kind = bytes[at++];
    if (kind === 0) { uleb(); functions++; }
    else if (kind === 1) { at++; if (uleb() & 1) uleb(); uleb(); }
    else if (kind === 2) { if (uleb() & 1) uleb(); uleb(); }
    else at += 2; // global: value type, mutability
  }
  return functions;
}

function readFunctionNames(end, names) {
  while (at < end) {
    const id = bytes[at++];
    const subEnd = uleb() + at;
    if (id === 1) {
      for (let n = uleb(); n > 0; n--) {
        const index = uleb();
        const length = uleb();
        names.set(index, bytes.subarray(at, at + length).toString());
        at += length;
      }
    }
    at = subEnd;
  }
}

let imported = 0;
const bodies = [];
const names = new Map();
while (at < bytes.length) {
  const id = bytes[at++];
  const end = uleb() + at;
  if (id === 2) imported = countFunctionImports();
  if (id === 10) for (let n = uleb(); n > 0; n--) { const size = uleb(); bodies.push(size); at += size; }
  if (id === 0) {
    const length = uleb();
    const name = bytes.subarray(at, at + length).toString();
    at += length;
    if (name === 'name') readFunctionNames(end, names);
  }
  at = end;
}

const rows = bodies.map((size, i) => ({ size, name: names.get(imported + i) ?? `#${imported + i}` }));
rows.sort((a, b) => b.size - a.size);
const total = rows.reduce((sum, row) => sum + row.size, 0);
console.log(`# ${file}: ${rows.length} functions, ${total} B of code`);
for (const row of rows.slice(0, Number(countText) || rows.length)) {
  console.log(`${String(row.size).padStart(6)}  ${row.name}`);
}
