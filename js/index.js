// index.js: the package's module entry. createTracker() loads js/imp.wasm from beside
// this file: `new URL('./imp.wasm', import.meta.url)` is the pattern Vite, webpack 5,
// Rollup and esbuild recognise, so a bundler copies the .wasm and rewrites the URL.
// Nothing runs at import. For a single file with the .wasm inlined, import
// 'impression-tracker/embedded' instead (same API).

import { startTracker } from './tracker.js';
import { createTransport } from './transport.js';

/**
 * Starts a tracker. Never rejects: when the tracker cannot run it resolves to a
 * tracker that does nothing and says why through options.onError.
 * @param {import('./index.js').TrackerOptions} [options]
 */
export function createTracker(options) {
  return startTracker(options, { wasm: () => new URL('./imp.wasm', import.meta.url), createTransport });
}
