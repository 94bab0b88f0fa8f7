// config.js: the core's configuration record (struct imp_config in src/imp.h) written
// from JS. The core owns the defaults (imp_config_defaults); a caller gives only the
// fields it sets, in the record's field order (abi.js CONFIG_OFFSETS, also the order of
// a trace's `start` line), undefined for "keep the default". uint32 fields take a JS
// number the way a wasm i32 parameter does (ToUint32); the core checks every field.

import { CONFIG_BYTES, CONFIG_OFFSETS, X_CONFIG_DEFAULTS, X_CONFIG_PTR } from './abi.js';

/**
 * Resets the record to the core's defaults, writes the given fields, and returns every
 * field's value as the core will read it (the `start` line of a trace).
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} loaded
 * @param {Array<number|undefined>} values
 * @returns {number[]}
 */
export function writeConfig(loaded, values) {
  const x = loaded.exports;
  x[X_CONFIG_DEFAULTS]();
  const bytes = loaded.memoryView(x[X_CONFIG_PTR](), CONFIG_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, CONFIG_BYTES);
  return CONFIG_OFFSETS.map((offset, i) => {
    const v = values[i];
    const whole = offset < 32;
    if (v !== undefined) whole ? view.setUint32(offset, Number(v), true) : view.setFloat64(offset, Number(v), true);
    return whole ? view.getUint32(offset, true) : view.getFloat64(offset, true);
  });
}
