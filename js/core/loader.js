// loader.js: turns the core's .wasm into a running instance. It accepts what a page or
// a test has at hand (bytes, a compiled WebAssembly.Module, a URL, a Response or a
// promise of one), prefers WebAssembly.compileStreaming (compiled while the bytes
// arrive) and falls back to compile(arrayBuffer) when the server sends the wrong MIME
// type or there is no streaming. It checks that the module imports nothing before it
// instantiates it (one path for every source), calls _initialize (the reactor's
// constructors, which --no-entry builds require before any other call) and refuses a
// module whose imp_abi_version() is not the one the glue was written for. memoryView()
// makes each view on the memory's current buffer (the core is built without memory
// growth, so there is only ever one). Given env's setTimeout, it gives up after LOAD_TIMEOUT_MS (a
// source that never settles, a fetch that never answers); the timer is unref()ed where
// it can be, and cleared either way.

import { ABI_VERSION } from './abi.js';

const LOAD_TIMEOUT_MS = 10000;

// What to do, at the end of the message of a core that could not be had: the bytes are
// not at that URL (missing, or a server's fallback page), or the page's CSP forbids
// compiling WebAssembly.
const SERVE_IT = ": copy the package's js/imp.wasm there, pass the wasm option or import 'impression-tracker/embedded'";
const ALLOW_IT = ": allow 'wasm-unsafe-eval' in script-src";

/** A DataView on the n bytes of a record of the core's memory at ptr (little endian fields). */
export function recordView(loaded, ptr, n) {
  const bytes = loaded.memoryView(ptr, n);
  return new DataView(bytes.buffer, bytes.byteOffset, n);
}

/**
 * Loads and starts the core module.
 * @param {ArrayBuffer|ArrayBufferView|WebAssembly.Module|URL|string|Response|Promise<Response>} source
 * @param {{fetch?: typeof fetch, setTimeout?: Function, clearTimeout?: Function}} [env]
 * @returns {Promise<{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}>}
 */
export const loadCore = (source, env = {}) => new Promise((resolve, reject) => {
  const timer = env.setTimeout?.(() => reject(new Error(`core: not loaded after ${LOAD_TIMEOUT_MS} ms`)), LOAD_TIMEOUT_MS);
  timer?.unref?.(); // Node: the wait never keeps the process alive
  instantiate(source, env).then(resolve, reject).finally(() => env.clearTimeout?.(timer));
});

async function instantiate(source, env) {
  const wasm = globalThis.WebAssembly;
  if (!wasm) throw new Error('no WebAssembly');
  if (typeof source === 'string' || source instanceof URL) {
    source = (env.fetch || fetch)(String(source));
  }
  source = await source;
  let module = source instanceof wasm.Module && source; // else compiled below
  let from = ''; // where the bytes came from, for the messages
  if (typeof source?.arrayBuffer === 'function') { // a Response
    if (source.url) from = ` from ${source.url}`;
    if (source.ok === false) throw new Error(`impression-tracker: core: HTTP ${source.status}${from}${SERVE_IT}`);
    // clone() keeps the body readable for the fallback when streaming refuses the
    // response (a server that does not send application/wasm).
    module = await wasm.compileStreaming?.(source.clone()).catch(() => {});
    if (!module) source = await source.arrayBuffer();
  }
  // Bytes that do not compile name where they came from: most often a server's
  // fallback page (HTML: "found 3c ...") where imp.wasm was not copied, or a CSP
  // that refuses WebAssembly (each browser's message names CSP or 'unsafe-eval').
  module = module || await wasm.compile(source).catch((error) => {
    error.message = `impression-tracker: core${from}: ${error.message}${/unsafe-eval|CSP/.test(error.message) ? ALLOW_IT : SERVE_IT}`;
    throw error;
  });
  const imports = wasm.Module.imports(module);
  if (imports.length) {
    throw new Error(`core imports ${imports.map((i) => `${i.module}.${i.name}`)}`);
  }
  const { exports } = await wasm.instantiate(module, {});
  // The build shortens properties named _x but keeps this one (tests/tools/bundle.mjs).
  exports._initialize?.();
  const version = exports.imp_abi_version?.();
  if (version !== ABI_VERSION) {
    throw new Error(`core ABI version ${version}; this glue needs ${ABI_VERSION}`);
  }
  return { exports, memoryView: (ptr, length) => new Uint8Array(exports.memory.buffer, ptr, length) };
}
