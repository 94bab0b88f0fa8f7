// replay.js: the audit entry ('impression-tracker/replay'). Replays a trace recorded by
// the debug option (js/debug.js, trace()) or written by hand through a fresh instance of the core and returns
// what the native replay tool (`make replay`, build/replay) prints for it: the batches
// the core cut, one per line, "! <line> <STATUS>" for refused calls, and for delivery's
// lines the outbox's actions against a simulated localStorage (src/replay_outbox.c).

import { loadCore } from './core/loader.js';
import { replayTrace } from './core/trace.js';

/**
 * @param {string|Uint8Array} trace the trace text
 * @param {import('./index.js').WasmSource} wasm the core (for example the bytes of imp.wasm)
 * @returns {Promise<Uint8Array>} the replay output
 */
export async function replay(trace, wasm) {
  return replayTrace(await loadCore(wasm), trace);
}
