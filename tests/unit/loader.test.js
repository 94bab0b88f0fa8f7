// The loader against the real core (js/imp.wasm) and two tiny hand-assembled modules:
// every accepted source, the MIME-type fallback, and both refusals (imports, ABI).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ABI_VERSION, X_INPUT_PTR } from '../../js/core/abi.js';
import { loadCore } from '../../js/core/loader.js';
import { bundleMinified } from '../tools/bundle.mjs';
import { wasmBytes } from './fakes/dom.js';

// A minimal module assembler: enough for a function returning a constant.
const bytes = (...parts) => Uint8Array.from(parts.flat());
const name = (s) => [s.length, ...Buffer.from(s)];
const section = (id, ...content) => [id, content.flat().length, ...content.flat()];
const HEADER = [0, 97, 115, 109, 1, 0, 0, 0];

/** A module exporting memory and imp_abi_version() returning `version`. */
function versionModule(version) {
  return bytes(
    HEADER,
    section(1, 1, 0x60, 0, 1, 0x7f), // type: () -> i32
    section(3, 1, 0), // one function of type 0
    section(5, 1, 0, 1), // one memory, 1 page
    section(7, 2, name('imp_abi_version'), 0, 0, name('memory'), 2, 0),
    section(10, 1, 4, 0, 0x41, version, 0x0b), // i32.const version
  );
}
/**
 * A module whose imp_abi_version() returns a global that only _initialize() sets to
 * the ABI version: it loads only when the loader calls _initialize first.
 */
function initializedModule() {
  return bytes(
    HEADER,
    section(1, 2, 0x60, 0, 1, 0x7f, 0x60, 0, 0), // types: () -> i32, () -> ()
    section(3, 2, 0, 1), // two functions
    section(5, 1, 0, 1), // one memory, 1 page
    section(6, 1, 0x7f, 1, 0x41, 0, 0x0b), // one mutable i32 global, 0
    section(7, 3, name('imp_abi_version'), 0, 0, name('_initialize'), 0, 1, name('memory'), 2, 0),
    section(10, 2, 4, 0, 0x23, 0, 0x0b, 6, 0, 0x41, ABI_VERSION, 0x24, 0, 0x0b), // global.get; i32.const, global.set
  );
}
/** A module importing env.f. */
const importingModule = bytes(HEADER, section(1, 1, 0x60, 0, 0), section(2, 1, name('env'), name('f'), 0, 0));

const wasmResponse = (type) => new Response(wasmBytes(), { headers: { 'content-type': type } });

describe('loadCore', () => {
  for (const [label, source] of [
    ['bytes (a Buffer)', () => wasmBytes()],
    ['an ArrayBuffer', () => new Uint8Array(wasmBytes()).buffer],
    ['a compiled WebAssembly.Module', () => new WebAssembly.Module(wasmBytes())],
    ['a Response with application/wasm (streaming)', () => wasmResponse('application/wasm')],
    ['a Response with the wrong MIME type (fallback)', () => wasmResponse('application/octet-stream')],
    ['a promise of a Response', () => Promise.resolve(wasmResponse('application/wasm'))],
    ['a promise of bytes', () => Promise.resolve(new Uint8Array(wasmBytes()).buffer)],
    ['a promise of a compiled WebAssembly.Module', () => WebAssembly.compile(wasmBytes())],
  ]) {
    it(`loads the core from ${label}`, async () => {
      const { exports, memoryView } = await loadCore(source());
      assert.equal(exports.imp_abi_version(), ABI_VERSION);
      const input = memoryView(exports[X_INPUT_PTR](), 4);
      input.set([1, 2, 3, 4]);
      assert.deepEqual([...memoryView(exports[X_INPUT_PTR](), 4)], [1, 2, 3, 4]);
    });
  }

  it('fetches a URL with the fetch it is given', async () => {
    const asked = [];
    const fetch = async (url) => {
      asked.push(url);
      return wasmResponse('text/plain');
    };
    const { exports } = await loadCore(new URL('https://cdn.example/imp.wasm'), { fetch });
    assert.deepEqual(asked, ['https://cdn.example/imp.wasm']);
    assert.equal(exports.imp_abi_version(), ABI_VERSION);
  });

  it('refuses a failed response', async () => {
    await assert.rejects(loadCore(new Response('missing', { status: 404 })), /HTTP 404/);
  });

  it('names the URL and what to do when the core cannot be fetched, or what came back does not compile (a page instead)', async () => {
    const at = (body, init) => async (url) => Object.defineProperty(new Response(body, init), 'url', { value: url });
    const url = 'https://shop.example/assets/imp.wasm';
    const serveIt = ": copy the package's js/imp.wasm there, pass the wasm option or import 'impression-tracker/embedded'";
    await assert.rejects(loadCore(url, { fetch: at('missing', { status: 404 }) }), {
      message: `impression-tracker: core: HTTP 404 from https://shop.example/assets/imp.wasm${serveIt}`,
    });
    // A dev server's fallback page, as a single-page app's server answers any path.
    const page = at('<!doctype html><html><body>app</body></html>', { headers: { 'content-type': 'text/html' } });
    await assert.rejects(loadCore(url, { fetch: page }), (error) => error instanceof WebAssembly.CompileError
      && error.message.startsWith('impression-tracker: core from https://shop.example/assets/imp.wasm: ') && error.message.endsWith(serveIt));
    await assert.rejects(loadCore(new Uint8Array([60, 33, 100, 111])), (error) => error instanceof WebAssembly.CompileError
      && error.message.startsWith('impression-tracker: core: ') && error.message.endsWith(serveIt));
  });

  it("says to allow 'wasm-unsafe-eval' when a Content-Security-Policy refuses to compile the core", async (t) => {
    // Chromium's words for it; Firefox and Safari name CSP or 'unsafe-eval' too.
    const refusal = "WebAssembly.compile(): Compiling or instantiating WebAssembly module violates the following Content Security policy directive because 'unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\".";
    t.mock.method(WebAssembly, 'compile', async () => { throw new WebAssembly.CompileError(refusal); });
    await assert.rejects(loadCore(wasmBytes()), {
      message: `impression-tracker: core: ${refusal}: allow 'wasm-unsafe-eval' in script-src`,
    });
  });
});

describe('loadCore: the modules it refuses and the one it runs', () => {
  it('refuses a module that imports anything', async () => {
    await assert.rejects(loadCore(new WebAssembly.Module(importingModule)), /imports env\.f/);
  });

  it('refuses a module with another ABI version', async () => {
    await assert.rejects(loadCore(versionModule(ABI_VERSION + 1)), new RegExp(`ABI version ${ABI_VERSION + 1}; this glue needs ${ABI_VERSION}`));
    const { exports } = await loadCore(versionModule(ABI_VERSION));
    assert.equal(exports.imp_abi_version(), ABI_VERSION);
  });

  it('the real core imports nothing and keeps one fixed memory', async () => {
    const module = new WebAssembly.Module(wasmBytes());
    assert.deepEqual(WebAssembly.Module.imports(module), []);
    const { exports } = await loadCore(module);
    const size = exports.memory.buffer.byteLength;
    assert.throws(() => exports.memory.grow(1), RangeError, 'memory cannot grow');
    assert.equal(exports.memory.buffer.byteLength, size);
  });

  it('calls _initialize before anything else, also in the minified build', async () => {
    const { exports } = await loadCore(initializedModule());
    assert.equal(exports.imp_abi_version(), ABI_VERSION);
    const { code } = await bundleMinified({ contents: "export { loadCore } from './js/core/loader.js';" });
    const minified = await import(`data:text/javascript,${encodeURIComponent(code)}`);
    const loaded = await minified.loadCore(initializedModule());
    assert.equal(loaded.exports.imp_abi_version(), ABI_VERSION);
  });
});
