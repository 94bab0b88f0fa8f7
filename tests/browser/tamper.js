// A tampered copy of the core module for the browser suite's loader tests: 'corrupt'
// breaks the binary, 'abi' patches imp_abi_version() to answer one above the glue's
// ABI_VERSION. Owns the small wasm reader that finds an exported function's body.

import { ABI_VERSION } from '../../js/core/abi.js';

/**
 * Flips bytes of the core module. 'corrupt' breaks the binary (compilation fails);
 * 'abi' makes imp_abi_version() return ABI_VERSION + 1 (a well-formed module the loader
 * must refuse).
 */
export function tamperWasm(bytes, how) {
  const copy = Buffer.from(bytes);
  if (how === 'corrupt') {
    copy[copy.length >> 1] ^= 0xff;
    copy[8] = 0x7f; // first section id: not a valid section
    return copy;
  }
  if (how === 'abi') {
    const body = functionBody(copy, 'imp_abi_version');
    // The accessor's body is `i32.const ABI_VERSION; end` (0x41 n 0x0b) after its locals.
    const at = copy.indexOf(Buffer.from([0x41, ABI_VERSION, 0x0b]), body.start);
    if (at < 0 || at >= body.end) throw new Error('tamperWasm: imp_abi_version body not recognised');
    copy[at + 1] = ABI_VERSION + 1;
    return copy;
  }
  throw new Error(`tamperWasm: unknown mode ${how}`);
}

// Minimal wasm reader: finds the byte range of an exported function's body.
function functionBody(bytes, exportName) {
  let p = 8;
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      result |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return result >>> 0;
      shift += 7;
    }
  };
  let importedFunctions = 0;
  let funcIndex = -1;
  let code = null;
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 2) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        p += u32(); p += u32(); // module, name
        const kind = bytes[p++];
        if (kind === 0) { u32(); importedFunctions++; } else if (kind === 1) { p++; const f = u32(); u32(); if (f & 1) u32(); } else if (kind === 2) { const f = u32(); u32(); if (f & 1) u32(); } else { p += 2; }
      }
    } else if (id === 7) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const len = u32();
        const name = bytes.subarray(p, p + len).toString();
        p += len;
        const kind = bytes[p++];
        const index = u32();
        if (kind === 0 && name === exportName) funcIndex = index;
      }
    } else if (id === 10) {
      code = { start: p, end };
    }
    p = end;
  }
  if (funcIndex < 0 || !code) throw new Error(`tamperWasm: export ${exportName} not found`);
  p = code.start;
  const count = u32();
  for (let i = 0; i < count; i++) {
    const size = u32();
    if (i === funcIndex - importedFunctions) return { start: p, end: p + size };
    p += size;
  }
  throw new Error('tamperWasm: function body not found');
}
