// The package's entry points on a fake page: the embedded entry with its inlined core
// (js/imp-embedded.js, made by make glue), with and without DecompressionStream, and the
// module entry fetching imp.wasm from beside itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../js/index.js';
import { createPage, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { grid, kinds } from './tracker-setup.js';

describe('entry points', () => {
  it('the embedded entry runs the inlined core (js/imp-embedded.js, made by make glue)', async () => {
    const { createTracker: createEmbedded } = await import('../../js/embedded.js');
    const page = createPage();
    const transport = fakeNetwork();
    const tracker = await createEmbedded({ endpoint: '/c', env: { ...page.env, ...transport.env } });
    assert.equal(tracker.stats().active, true);
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
  });

  it('the embedded entry without DecompressionStream is a no-op that says so, and tracks given the wasm option', async () => {
    const { createTracker: createEmbedded } = await import('../../js/embedded.js');
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'DecompressionStream');
    delete globalThis.DecompressionStream;
    try {
      const errors = [];
      const page = createPage();
      const env = { ...page.env, ...fakeNetwork().env };
      const tracker = await createEmbedded({ endpoint: '/c', env, onError: (e) => errors.push(e.message) });
      assert.equal(tracker.stats().active, false);
      assert.match(errors.join('\n'), /no DecompressionStream to unpack the inlined core: pass the wasm option/);
      assert.equal(page.window.listeners.length, 0, 'nothing left listening');
      const withWasm = await createEmbedded({ endpoint: '/c', env, wasm: wasmBytes() });
      assert.equal(withWasm.stats().active, true);
    } finally {
      Object.defineProperty(globalThis, 'DecompressionStream', saved);
    }
  });

  it('the module entry fetches imp.wasm from beside itself', async () => {
    const page = createPage();
    const asked = [];
    const fetch = async (url) => {
      asked.push(url);
      return new Response(wasmBytes(), { headers: { 'content-type': 'application/wasm' } });
    };
    const tracker = await createTracker({ endpoint: '/c', env: { ...page.env, ...fakeNetwork().env, fetch } });
    assert.equal(tracker.stats().active, true);
    assert.deepEqual(asked, [new URL('../../js/imp.wasm', import.meta.url).href]);
  });
});
