// wire.test.js: what leaves the page when batches are compressed. Through the real
// transport: the gzip form goes as a Blob typed text/plain (no CORS preflight) to
// fetch (keepalive, referrerPolicy 'no-referrer', no headers), sendBeacon and
// fetchLater, and maxBodyBytes counts the bytes sent. Through the tracker and the real
// core: every batch inflates to the JSON the debug hook and trace() see; compress:false
// sends the JSON text; a bad option is named in the error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createTracker } from '../../js/index.js';
import { createTransport } from '../../js/delivery/transport.js';
import { createClock, makeBatch } from './delivery-fakes.js';
import { createPage, wasmBytes } from './fakes/dom.js';

const ENDPOINT = 'https://collector.example/i';
const inflate = async (blob) => gunzipSync(Buffer.from(await blob.arrayBuffer())).toString('utf8');

function transportWith(extra = {}) {
  const clock = createClock();
  const sent = { fetch: [], beacon: [], later: [] };
  const env = {
    fetch: async (url, init) => { sent.fetch.push(init); return { ok: true, status: 204, arrayBuffer: async () => new ArrayBuffer(0) }; },
    sendBeacon: (url, body) => sent.beacon.push(body) > 0,
    fetchLater: (url, init) => { sent.later.push(init); return { activated: false }; },
    localStorage: null,
    navigator: { onLine: true },
    addEventListener: () => {},
    removeEventListener: () => {},
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    AbortController,
  };
  const t = createTransport({ endpoint: ENDPOINT, consent: 'granted', encode: (body) => new Uint8Array(gzipSync(body)), env, ...extra });
  return { t, sent, clock };
}

describe('compressed bodies through the transport', () => {
  it('fetch gets the gzip form as a text/plain Blob, keepalive, no referrer, no headers', async () => {
    const { t, sent, clock } = transportWith();
    const { body } = makeBatch('pv1', 1, 40);
    t.send(body, 40);
    await clock.advance(0);
    assert.equal(sent.fetch.length, 1);
    const init = sent.fetch[0];
    assert.ok(init.body instanceof Blob);
    assert.equal(init.body.type, 'text/plain');
    assert.equal(await inflate(init.body), body);
    assert.equal(init.keepalive, true);
    assert.equal(init.referrerPolicy, 'no-referrer');
    assert.equal(init.headers, undefined);
    assert.equal(sent.later.length, 1, 'and a fetchLater copy while it is unconfirmed');
    assert.equal(await inflate(sent.later[0].body), body);
  });

  it('sendBeacon at hide gets the gzip form too', async () => {
    const { t, sent } = transportWith();
    t.pageHidden();
    const { body } = makeBatch('pv1', 1, 10);
    t.sendNow(body, 10);
    assert.equal(sent.beacon.length, 1);
    assert.equal(sent.beacon[0].type, 'text/plain');
    assert.equal(await inflate(sent.beacon[0]), body);
  });

  it('maxBodyBytes counts the bytes sent: a batch over it as JSON but under it compressed goes whole', async () => {
    const { t, sent, clock } = transportWith({ maxBodyBytes: 4096 });
    const { body } = makeBatch('pv1', 1, 120);
    assert.ok(Buffer.byteLength(body) > 4096 && gzipSync(body).length < 4096);
    t.send(body, 120);
    await clock.advance(0);
    assert.equal(sent.fetch.length, 1);
    assert.equal(await inflate(sent.fetch[0].body), body);
    const plain = transportWith({ maxBodyBytes: 4096, encode: undefined });
    plain.t.send(body, 120);
    await plain.clock.advance(0);
    assert.ok(plain.sent.fetch.length > 1, 'without encode the same batch is split');
    assert.equal(typeof plain.sent.fetch[0].body, 'string');
  });
});

async function trackerRun(options) {
  const page = createPage();
  const sent = [];
  const seen = [];
  const errors = [];
  const env = {
    ...page.env,
    fetch: async (url, init) => { sent.push(init.body); return { ok: true, status: 204, headers: { get: () => null } }; },
    sendBeacon: (url, body) => sent.push(body) > 0,
    localStorage: new Map(), // unusable: memory only (reported once, not a failure here)
    addEventListener: () => {},
    removeEventListener: () => {},
  };
  page.env.navigator.onLine = true;
  const tracker = await createTracker({
    endpoint: ENDPOINT, wasm: wasmBytes(), trace: true, onError: (e) => /localStorage/.test(e) || errors.push(e),
    onEvent: (event) => seen.push(event), ...options, env,
  });
  const list = page.el({ 'data-list-id': 'q' });
  const cards = [1, 2, 3].map((i) => page.el({ 'data-gig-id': `gig-${i}`, 'data-position': i }));
  list.append(...cards);
  page.document.body.append(list);
  await page.settle();
  if (!tracker.stats().active) return { tracker, sent, seen, errors };
  for (const card of cards) page.intersect(card, 1);
  page.advance(1500);
  tracker.flush();
  await page.settle();
  return { tracker, sent, seen, errors };
}

describe('compressed batches from the tracker and the core', () => {
  it('sends gzip bytes that inflate to the JSON batches the hook and trace() see', async () => {
    const { tracker, sent, seen, errors } = await trackerRun({});
    assert.deepEqual(errors, []);
    assert.ok(sent.length >= 1);
    assert.ok(sent.every((b) => b instanceof Uint8Array && b[0] === 0x1f && b[1] === 0x8b), 'gzip magic bytes');
    const events = sent.flatMap((b) => JSON.parse(gunzipSync(b).toString()).ev);
    assert.deepEqual(events, seen, 'the debug hook saw exactly the events that were sent');
    assert.match(tracker.trace(), /^start 2048 8192 1048576 200 16384 10000 0\.5 1000 242500 0\.3 0 1 15 0 1000$/m);
  });

  it('compress: false sends the JSON text', async () => {
    const { tracker, sent, errors } = await trackerRun({ compress: false });
    assert.deepEqual(errors, []);
    assert.ok(sent.length >= 1 && sent.every((b) => typeof b === 'string'));
    assert.deepEqual(sent.flatMap((b) => JSON.parse(b).ev.map((e) => e.e)), ['imp', 'imp', 'imp', 'view', 'view', 'view']);
    assert.match(tracker.trace(), /^start .* 0 15 0 1000$/m);
  });

  it('an option the core refuses is named in the error', async () => {
    const { tracker, errors } = await trackerRun({ batch: { maxBytes: 100 } });
    assert.equal(tracker.stats().active, false);
    assert.match(String(errors[0]), /IMP_ERR_CONFIG \(option batch\.maxBytes\)/);
  });
});
