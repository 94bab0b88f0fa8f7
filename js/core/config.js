// config.js: the core's configuration record (struct imp_config in src/imp.h) written
// from JS. The core owns the defaults (imp_config_defaults); a caller gives only the
// fields it sets, in the record's field order (abi.js CONFIG_OFFSETS, also the order of
// a trace's `start` line), undefined for "keep the default". uint32 fields take a JS
// number the way a wasm i32 parameter does (ToUint32); the core checks every field.

import { CONFIG_BYTES, CONFIG_OFFSETS, X_CONFIG_DEFAULTS, X_CONFIG_PTR } from './abi.js';
import { recordView } from './loader.js';

const configView = (loaded) => recordView(loaded, loaded.exports[X_CONFIG_PTR](), CONFIG_BYTES);

/** Every field of the record in order, as the core will read it (uint32 below byte 32). */
export function readConfig(loaded) {
  const view = configView(loaded);
  return CONFIG_OFFSETS.map((at) => (at < 32 ? view.getUint32(at, true) : view.getFloat64(at, true)));
}

/**
 * Resets the record to the core's defaults, writes the given fields, and returns every
 * field's value as the core will read it (the `start` line of a trace).
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} loaded
 * @param {Array<number|undefined>} values
 * @returns {number[]}
 */
export function writeConfig(loaded, values) {
  loaded.exports[X_CONFIG_DEFAULTS]();
  const view = configView(loaded);
  CONFIG_OFFSETS.forEach((at, i) => {
    const v = values[i];
    if (v !== undefined) at < 32 ? view.setUint32(at, Number(v), true) : view.setFloat64(at, Number(v), true);
  });
  return readConfig(loaded);
}
