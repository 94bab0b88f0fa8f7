// wire.test.js: what the tracker puts on the wire in a real Chromium. With compress on
// (the default), fetch and the fetchLater copy are handed the gzip bytes with a
// text/plain Content-Type, and sendBeacon at hide a text/plain Blob of them, which the
// browser's own DecompressionStream reads back as the JSON batch; the collector gets gzip bodies with no preflight and no Referer, and
// exactly the (pv, s) events the debug hook saw. compress: false sends the JSON text.
// The demo collector, called from the page, refuses a decompression bomb (413) and a
// truncated gzip body (400) and stores nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenCollector } from '../../demo/collector.js';
import { eventIds } from './server.js';
import { inViewObserved, useBrowserSuite, transportIdle, waitInPage } from './browser.js';

let collector;
const { open } = useBrowserSuite({}, (shared) => ({ collector } = shared));

// Keeps every body the page hands to fetch, fetchLater and sendBeacon, with the
// Content-Type the call sets (then calls them).
const RECORD_SENDS = () => {
  window.__sends = [];
  const keep = (api, body, type) => window.__sends.push({ api, body, type });
  const typeOf = (init) => new Headers(init?.headers).get('content-type');
  const realFetch = window.fetch.bind(window);
  window.fetch = (url, init) => { if (init?.method === 'POST') keep('fetch', init.body, typeOf(init)); return realFetch(url, init); };
  if (window.fetchLater) {
    const realLater = window.fetchLater.bind(window);
    window.fetchLater = (url, init) => { keep('fetchLater', init.body, typeOf(init)); return realLater(url, init); };
  }
  const realBeacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, body) => { keep('beacon', body); return realBeacon(url, body); };
};

/** Each recorded body: its API, kind, MIME type (the Blob's or the call's Content-Type)
 * and, for bytes or a Blob, its gzip inflated in the page. */
function readSends(page) {
  return page.evaluate(() => Promise.all(window.__sends.map(async ({ api, body, type }) => {
    const isBlob = body instanceof Blob;
    if (!isBlob && !(body instanceof Uint8Array)) return { api, kind: typeof body, type, text: String(body) };
    const blob = isBlob ? body : new Blob([body]);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const text = await new Response(blob.stream().pipeThrough(new DecompressionStream('gzip'))).text();
    return { api, kind: isBlob ? 'Blob' : 'bytes', type: isBlob ? body.type : type, magic: [bytes[0], bytes[1]], text };
  })));
}

const hookIds = (page) => page.evaluate(() => window.__it.events.map((e) => `${e.pv}:${e.s}`));

test('compressed: fetch and fetchLater send gzip bytes, sendBeacon a gzip Blob; the collector gets exactly the hooked events', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24&q=secret', init: [RECORD_SENDS] });
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
  await transportIdle(page);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await waitInPage(page, () => window.__sends.some((s) => s.api === 'beacon'), undefined, { what: 'the hide beacon' });
  const ids = await hookIds(page);
  assert.ok(ids.length >= 16);
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 10000, 'every hooked event');
  assert.deepEqual([...eventIds(collector.records)].sort(), [...ids].sort(), 'exactly the events the hook saw');

  const sends = await readSends(page);
  const apis = new Set(sends.map((s) => s.api));
  assert.ok(apis.has('fetch') && apis.has('beacon'), `fetch and sendBeacon were used: ${[...apis]}`);
  if (await page.evaluate(() => typeof window.fetchLater === 'function')) assert.ok(apis.has('fetchLater'), 'a fetchLater copy was registered');
  for (const s of sends) {
    assert.equal(s.kind, s.api === 'beacon' ? 'Blob' : 'bytes', `${s.api}: ${s.api === 'beacon' ? 'a Blob' : 'the bytes, no Blob'}`);
    assert.equal(s.type, 'text/plain', `${s.api}: a CORS-safelisted type`);
    assert.deepEqual(s.magic, [0x1f, 0x8b], `${s.api}: gzip magic bytes`);
    assert.equal(JSON.parse(s.text).v, 1, `${s.api}: DecompressionStream reads the batch`);
  }
  const posts = collector.records.filter((r) => r.method === 'POST');
  assert.ok(posts.length >= 2);
  assert.deepEqual(collector.records.filter((r) => r.method !== 'POST').map((r) => r.method), [], 'no preflight');
  for (const r of posts) {
    assert.ok(r.gzip, 'a gzip body');
    assert.equal(r.headers['content-type'], 'text/plain');
    // fetch sends no Referer; sendBeacon cannot be told, and sends the origin alone
    // (the page's default policy for another origin): never the path or query string.
    if (r.headers['sec-fetch-mode'] === 'cors') assert.equal(r.headers.referer, undefined, 'fetch: no Referer');
    assert.ok(!/grid|secret/.test(r.headers.referer || ''), `no page path or query in the Referer: ${r.headers.referer}`);
  }
  assert.ok(posts.some((r) => r.headers['sec-fetch-mode'] === 'cors'), 'some requests came from fetch');
});

test('fetchLater: a batch whose fetch is still unanswered at close arrives gzip from the deferred copy', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24', init: [RECORD_SENDS] });
  if (!(await page.evaluate(() => typeof window.fetchLater === 'function'))) return t.skip('no fetchLater in this browser');
  await inViewObserved(page);
  collector.delayNext(1, 3000);
  await page.evaluate(() => window.__it.tracker.flush());
  await waitInPage(page, () => window.__sends.some((s) => s.api === 'fetchLater'), undefined, { what: 'a fetchLater copy' });
  const ids = await hookIds(page);
  await page.close({ runBeforeUnload: false });
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 10000, 'the events after close');
  const posts = collector.records.filter((r) => r.method === 'POST' && r.received);
  assert.ok(posts.length >= 2, `the delayed fetch and the fetchLater copy both arrived (${posts.length})`);
  assert.ok(posts.every((r) => r.gzip), 'every body gzip');
});

test('compress: false sends the JSON text', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24', init: [RECORD_SENDS], it: { options: { compress: false } } });
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
  const ids = await hookIds(page);
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 10000, 'every hooked event');
  assert.deepEqual([...eventIds(collector.records)].sort(), [...ids].sort());
  const sends = await readSends(page);
  assert.ok(sends.length > 0 && sends.every((s) => s.kind === 'string'), 'JSON strings handed to the browser');
  for (const r of collector.records) {
    assert.equal(r.gzip, false);
    assert.equal(r.headers['content-type'], 'text/plain;charset=UTF-8');
  }
});

test('the demo collector refuses a gzip bomb (413) and a truncated gzip body (400) from a page, storing nothing', async (t) => {
  const demo = await listenCollector({});
  t.after(() => demo.close());
  const { page } = await open(t, { fixture: 'grid.html?n=1' });
  const statuses = await page.evaluate(async (url) => {
    const gzip = async (text) => new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
    const batch = '{"v":1,"pv":"pv-b","path":"/","at":1,"drop":0,"ev":[{"e":"imp","s":1,"t":1,"id":"g","f":1}]}';
    const bomb = await gzip(`${batch.slice(0, -1)}${' '.repeat(8 << 20)}}`);
    const whole = await gzip(batch);
    const post = async (bytes) => (await fetch(url, { method: 'POST', body: new Blob([bytes], { type: 'text/plain' }) })).status;
    return { bomb: await post(bomb), bombBytes: bomb.length, truncated: await post(whole.subarray(0, whole.length - 10)), whole: await post(whole) };
  }, `${demo.url}/collect`);
  assert.ok(statuses.bombBytes < 64 * 1024, `the bomb is small on the wire (${statuses.bombBytes} B)`);
  assert.equal(statuses.bomb, 413);
  assert.equal(statuses.truncated, 400);
  assert.equal(statuses.whole, 200, 'the same batch whole is stored');
  assert.deepEqual([...demo.collector.store.exportRows()].map((r) => r.pv), ['pv-b'], 'only the whole batch was stored');
});
