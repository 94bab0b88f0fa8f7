// watch.js: how the debug entry sees the core without the tracker's help. It hands the
// tracker a copy of the loaded core whose exports it has replaced with wrappers that
// call the real ones; the tracker and the outbox object call them as usual, so the
// module entry carries no debug code at all. Also the views on the core's records the
// wrappers read (the result, the outbox's action record and io buffer).

import {
  INPUT_BYTES, RESULT_BYTES, X_INPUT_PTR, X_OUTBOX_ACTION_PTR, X_OUTBOX_IO_PTR, X_RESULT_PTR,
} from '../core/abi.js';
import { recordView } from '../core/loader.js';
import { ACTION_BYTES, IO_BYTES } from '../core/outbox.js';

/** A copy of `loaded` with its own exports object, ready for wrap(). */
export const copyCore = (loaded) => ({ ...loaded, exports: { ...loaded.exports } });

/**
 * Replaces the export `name` (abi.js X_*) of a copyCore() with around(real, ...args), whose result
 * the caller gets. Wrappers stack: the last one made runs first.
 */
export function wrap(core, name, around) {
  const real = core.exports[name];
  core.exports[name] = (...args) => around(real, ...args);
}

/** Views on the core's records, each made on the memory's current buffer. */
export function coreViews(core) {
  const x = core.exports;
  const view = (ptr, n) => recordView(core, ptr, n);
  return {
    result: () => view(x[X_RESULT_PTR](), RESULT_BYTES),
    action: () => view(x[X_OUTBOX_ACTION_PTR](), ACTION_BYTES),
    input: () => core.memoryView(x[X_INPUT_PTR](), INPUT_BYTES),
    io: () => core.memoryView(x[X_OUTBOX_IO_PTR](), IO_BYTES),
  };
}

/** A hook of the page, never allowed to throw: its errors go to report. */
export const safeHook = (fn, report) => (...args) => {
  try {
    fn(...args);
  } catch (error) {
    report(error);
  }
};
