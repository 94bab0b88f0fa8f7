// The core's exports under their C names, for tests and benchmarks that call the .wasm
// directly: the .wasm names them with one or two letters (IMP_EXPORT in src/imp.h and
// src/outbox.h), and this reads the headers for the pairs.
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);

/** [[cName, wasmName], ...] as the headers declare them. */
export function exportPairs() {
  const pairs = [];
  for (const header of ['src/imp.h', 'src/outbox.h']) {
    const text = readFileSync(new URL(header, root), 'utf8');
    for (const m of text.matchAll(/^IMP_EXPORT\("([^"]+)"\)[^(]*?\b(imp_\w+)\(/gm)) pairs.push([m[2], m[1]]);
  }
  return pairs;
}

/** An object with the module's exports (memory, _initialize...) plus each under its C name. */
export function namedExports(exports) {
  const named = { ...exports };
  for (const [cName, wasmName] of exportPairs()) named[cName] = exports[wasmName];
  return named;
}
