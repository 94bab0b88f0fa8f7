// index.js: the package's module entry. createTracker() loads js/imp.wasm from beside
// this file: `new URL('./imp.wasm', import.meta.url)` is the pattern Vite, webpack 5,
// Rollup and esbuild recognise, so a bundler copies the .wasm and rewrites the URL.
// A bundle without import.meta.url (esbuild's IIFE or CommonJS output) cannot find the
// core this way: the tracker then says so and names the two fixes. One tracker per
// document (share.js). Nothing runs at import. For a single file with the .wasm
// inlined, import 'impression-tracker/embedded' instead (same API).

import { shareTracker } from './tracker/share.js';
import { startTracker } from './tracker/tracker.js';

const NO_URL = "no import.meta.url to find imp.wasm (IIFE or CommonJS bundle): pass the wasm option or import 'impression-tracker/embedded'";

function wasmBesideModule() {
  if (!import.meta.url) throw new Error(NO_URL);
  return new URL('./imp.wasm', import.meta.url);
}

/**
 * Starts a tracker, or shares the one already live on this document. Never rejects:
 * when the tracker cannot run it resolves to a tracker that does nothing and says why
 * through options.onError (or one console.warn without it).
 * @param {import('./index.js').TrackerOptions} [options]
 */
export function createTracker(options) {
  return shareTracker(options, (report) => startTracker(options, wasmBesideModule, report));
}
