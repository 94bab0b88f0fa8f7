// Types of 'impression-tracker/embedded': the same API as the main entry, with the
// core inlined (no options.wasm needed).
export * from './index.js';
