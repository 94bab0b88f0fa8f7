// Types of 'impression-tracker/embedded': the same API as the main entry, with the
// core inlined as gzip bytes that the browser's DecompressionStream unpacks (no
// options.wasm needed where DecompressionStream exists; elsewhere the tracker is a
// no-op that says so through onError, unless options.wasm is given).
export * from './index.js';
