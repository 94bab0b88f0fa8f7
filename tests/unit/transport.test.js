// transport.test.js: every delivery rule of js/delivery/transport.js against fakes.
//
// Each test drives a fake clock (no real timers, no sleeps) and asserts on the exact
// set of event ids (pv:s) that reached the fake collector, and on duplicates.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createTransport } from '../../js/delivery/transport.js';
import {
  createClock, createCollector, createBeacon, createFetchLater, createStorage, createLockManager,
  createTab, makeBatch, idsOf,
} from './delivery-fakes.js';

const ENDPOINT = 'https://collector.example/i';

function setup({ beacon = {}, fetchLater = false, storage, locks = null, online = true, gpc, transport = {}, tabName = 'A', clock, collector } = {}) {
  clock = clock || createClock();
  collector = collector || createCollector();
  const b = beacon === null ? null : createBeacon(collector, beacon);
  const fl = fetchLater ? createFetchLater(collector, typeof fetchLater === 'object' ? fetchLater : {}) : null;
  const st = storage === undefined ? createStorage() : storage;
  const tab = createTab({ clock, collector, beacon: b, fetchLater: fl, storage: st, locks, name: tabName, online, gpc });
  const dropped = [];
  const errors = [];
  const debug = [];
  const t = createTransport({
    endpoint: ENDPOINT,
    consent: 'granted',
    onDropped: (n) => dropped.push(n),
    onError: (e) => errors.push(e),
    onDebug: (d) => debug.push(d),
    env: tab.env,
    ...transport,
  });
  return { clock, collector, beacon: b, fetchLater: fl, storage: st, tab, transport: t, dropped, errors, debug };
}

const sorted = (ids) => [...ids].sort();
const fetchAttempts = (collector) => collector.fetchCalls.length;

describe('normal operation: fetch keepalive', () => {
  test('sends a string body with keepalive, credentials omit, cors, POST; 2xx counts as sent', async () => {
    const s = setup();
    const a = makeBatch('pv1', 1, 12);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    assert.equal(s.collector.fetchCalls.length, 1);
    const { url, init } = s.collector.fetchCalls[0];
    assert.equal(url, ENDPOINT);
    assert.equal(init.method, 'POST');
    assert.equal(typeof init.body, 'string');
    assert.equal(init.body, a.body);
    assert.equal(init.keepalive, true);
    assert.equal(init.credentials, 'omit');
    assert.equal(init.mode, 'cors');
    assert.equal(init.headers, undefined, 'no custom headers: text/plain, no preflight');
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.collector.duplicates(), []);
    const st = s.transport.stats();
    assert.equal(st.sent, 12);
    assert.equal(st.queued, 0);
    assert.equal(st.inFlight, 0);
    assert.equal(st.persisted, 0);
    assert.deepEqual(s.storage.ownKeys(), [], 'nothing stored when delivery worked');
    assert.deepEqual(s.errors, []);
  });

  test('a body over maxBodyBytes is split into valid batches under the cap, header kept, drop once', async () => {
    const s = setup({ transport: { maxBodyBytes: 4096 } });
    const a = makeBatch('pv-big', 1, 200, { drop: 7 });
    assert.ok(Buffer.byteLength(a.body) > 4096 * 3);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    await s.clock.advance(0);
    assert.ok(s.collector.fetchCalls.length >= 4);
    let drops = 0;
    for (const { init } of s.collector.fetchCalls) {
      assert.ok(Buffer.byteLength(init.body) <= 4096, 'every body under the cap');
      const parsed = JSON.parse(init.body);
      assert.deepEqual(Object.keys(parsed), ['v', 'pv', 'path', 'at', 'drop', 'ev']);
      assert.equal(parsed.pv, 'pv-big');
      drops += parsed.drop;
    }
    assert.equal(drops, 7, 'the drop count is reported once across pieces');
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.collector.duplicates(), []);
  });

  test('maxBodyBytes is never above 61440', async () => {
    const s = setup({ transport: { maxBodyBytes: 1e9, maxQueuedEvents: 5000 } });
    const a = makeBatch('pv1', 1, 1200);
    assert.ok(Buffer.byteLength(a.body) > 61440);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    await s.clock.advance(0);
    for (const { init } of s.collector.fetchCalls) assert.ok(Buffer.byteLength(init.body) <= 61440);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
  });

  test('bytes in flight stay under the keepalive budget', async () => {
    const s = setup({ transport: { keepaliveBudgetBytes: 40000 } });
    s.collector.setPolicy(() => 'hang');
    const batches = [1, 2, 3, 4, 5].map((i) => makeBatch('pv1', i * 1000, 120));
    for (const b of batches) s.transport.send(b.body, b.count);
    await s.clock.advance(0);
    const inflight = s.collector.fetchCalls.reduce((n, c) => n + Buffer.byteLength(c.init.body), 0);
    assert.ok(inflight <= 40000, `in flight ${inflight}`);
    assert.ok(s.collector.fetchCalls.length < batches.length, 'some batches wait');
    s.collector.setPolicy(() => 204);
    await s.clock.advance(5000); // hung requests time out and are retried, the rest follow
    await s.clock.advance(1300);
    await s.clock.advance(3000);
    assert.deepEqual(s.collector.ids(), sorted(batches.flatMap((b) => b.ids)));
  });
  test('a response body is read before its bytes leave the keepalive budget (Chromium holds the quota until then)', async () => {
    const s = setup({ transport: { keepaliveBudgetBytes: 30000 } });
    let open;
    s.collector.bodyGate = new Promise((resolve) => { open = resolve; });
    const batches = [1, 151, 301].map((from) => makeBatch('pv1', from, 150));
    for (const b of batches) assert.ok(Buffer.byteLength(b.body) > 10000 && Buffer.byteLength(b.body) < 15000);
    for (const b of batches) s.transport.send(b.body, b.count);
    await s.clock.advance(0);
    assert.equal(fetchAttempts(s.collector), 2, 'two fit the budget');
    await s.clock.advance(0);
    assert.equal(s.collector.bodiesRead, 2, 'both answered; their bodies are being read');
    assert.equal(fetchAttempts(s.collector), 2, 'the third waits while the answered bodies are unread');
    assert.equal(s.transport.stats().inFlight, 300);
    open();
    await s.clock.advance(0);
    await s.clock.advance(0);
    assert.equal(fetchAttempts(s.collector), 3);
    assert.deepEqual(s.collector.ids(), sorted(batches.flatMap((b) => b.ids)));
    assert.equal(s.transport.stats().sent, 450);
  });
});

describe('retry', () => {
  for (const status of [408, 429, 500, 502, 503, 504]) {
    test(`status ${status} is retried after ~1 s and then delivered once`, async () => {
      const s = setup();
      let n = 0;
      s.collector.setPolicy(() => (++n === 1 ? status : 204));
      const a = makeBatch('pv1', 1, 5);
      s.transport.send(a.body, a.count);
      await s.clock.advance(0);
      assert.equal(fetchAttempts(s.collector), 1);
      assert.deepEqual(s.collector.ids(), []);
      assert.equal(s.storage.ownKeys().length, 1, 'failed batch persisted while it waits');
      await s.clock.advance(799);
      assert.equal(fetchAttempts(s.collector), 1, 'no retry before the jittered 1 s');
      await s.clock.advance(500);
      assert.equal(fetchAttempts(s.collector), 2);
      assert.deepEqual(s.collector.ids(), sorted(a.ids));
      assert.deepEqual(s.collector.duplicates(), []);
      assert.equal(s.transport.stats().retried, 1);
      assert.deepEqual(s.storage.ownKeys(), [], 'stored copy removed once delivered');
      assert.deepEqual(s.dropped, []);
    });
  }

  for (const status of [400, 401, 403, 410, 413, 422]) {
    test(`status ${status} is never retried: dropped, counted, onDropped called`, async () => {
      const s = setup();
      const bad = makeBatch('pv1', 1, 6);
      const good = makeBatch('pv1', 7, 4);
      s.collector.setPolicy(({ body }) => (body === bad.body ? status : 204));
      s.transport.send(bad.body, bad.count);
      s.transport.send(good.body, good.count);
      await s.clock.advance(0);
      await s.clock.advance(120000);
      assert.equal(s.collector.fetchCalls.filter((c) => c.init.body === bad.body).length, 1, 'one attempt only');
      assert.deepEqual(s.collector.ids(), sorted(good.ids));
      assert.deepEqual(s.dropped, [6]);
      assert.equal(s.transport.stats().dropped.byReason[`http${status}`], 6);
      assert.equal(s.transport.stats().dropped.total, 6);
      assert.deepEqual(s.storage.ownKeys(), []);
    });
  }

  test('backoff doubles from 1 s to a 60 s cap (jitter fixed at its midpoint)', async () => {
    const s = setup();
    s.collector.setPolicy(() => 503);
    const a = makeBatch('pv1', 1, 3);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    const expected = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
    for (const delay of expected) {
      const before = fetchAttempts(s.collector);
      await s.clock.advance(delay - 1);
      assert.equal(fetchAttempts(s.collector), before, `not before ${delay} ms`);
      await s.clock.advance(1);
      assert.equal(fetchAttempts(s.collector), before + 1, `retry at ${delay} ms`);
    }
    s.collector.setPolicy(() => 204);
    await s.clock.advance(60000);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
  });

  test('jitter stays within +-20 % and never above 60 s', async () => {
    const { backoffDelayMs } = await import('../../js/delivery/backoff.js');
    assert.equal(backoffDelayMs(1, () => 0), 800);
    assert.equal(backoffDelayMs(1, () => 0.999999), 1200);
    assert.equal(backoffDelayMs(3, () => 0.5), 4000);
    assert.equal(backoffDelayMs(20, () => 0.999999), 60000);
    assert.equal(backoffDelayMs(20, () => 0), 48000);
  });

  test('while the collector fails only one request is in flight; others wait behind it', async () => {
    const s = setup();
    s.collector.setPolicy(() => 500);
    const batches = [1, 11, 21].map((from) => makeBatch('pv1', from, 10));
    s.transport.send(batches[0].body, 10);
    await s.clock.advance(0);
    s.transport.send(batches[1].body, 10);
    s.transport.send(batches[2].body, 10);
    await s.clock.advance(0);
    assert.equal(fetchAttempts(s.collector), 1);
    await s.clock.advance(1200);
    assert.equal(fetchAttempts(s.collector), 2);
    assert.equal(s.collector.fetchCalls[1].init.body, batches[0].body, 'failed batch retried first');
    s.collector.setPolicy(() => 204);
    await s.clock.advance(2400);
    assert.deepEqual(s.collector.ids(), sorted(batches.flatMap((b) => b.ids)));
    assert.deepEqual(s.collector.duplicates(), []);
  });

  // Retry-After in both forms: no attempt during `quietMs` after the failure, one
  // `thenMs` later (an HTTP date has 1 s resolution).
  for (const { name, status, retryAfter, quietMs, thenMs } of [
    { name: '429 with Retry-After seconds: no attempt before it', status: 429, retryAfter: () => '5', quietMs: 4999, thenMs: 1 },
    { name: '503 with Retry-After as an HTTP date', status: 503, retryAfter: (now) => new Date(now + 30000).toUTCString(), quietMs: 28500, thenMs: 1500 },
  ]) {
    test(name, async () => {
      const s = setup();
      let n = 0;
      const headers = { 'Retry-After': retryAfter(s.clock.now()) };
      s.collector.setPolicy(() => (++n === 1 ? { status, headers } : 204));
      const a = makeBatch('pv1', 1, 4);
      s.transport.send(a.body, a.count);
      await s.clock.advance(0);
      await s.clock.advance(quietMs);
      assert.equal(fetchAttempts(s.collector), 1);
      await s.clock.advance(thenMs);
      assert.equal(fetchAttempts(s.collector), 2);
      assert.deepEqual(s.collector.ids(), sorted(a.ids));
    });
  }

  test('a request with no answer is aborted at 5 s and retried; a duplicate only if the server had stored it', async () => {
    const s = setup();
    let n = 0;
    s.collector.setPolicy(() => (++n === 1 ? { hang: true, processed: true } : 204));
    const a = makeBatch('pv1', 1, 8);
    s.transport.send(a.body, a.count);
    await s.clock.advance(4999);
    assert.equal(fetchAttempts(s.collector), 1);
    assert.equal(s.collector.fetchCalls[0].init.signal.aborted, false);
    await s.clock.advance(1);
    assert.equal(s.collector.fetchCalls[0].init.signal.aborted, true, 'AbortController fired at 5 s');
    await s.clock.advance(1200);
    assert.equal(fetchAttempts(s.collector), 2);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.collector.duplicates(), sorted(a.ids), 'at most this one batch twice, removable by (pv, s)');
  });

  test('a network error is retried', async () => {
    const s = setup();
    let n = 0;
    s.collector.setPolicy(() => (++n <= 2 ? 'network' : 204));
    const a = makeBatch('pv1', 1, 8);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    await s.clock.advance(1200);
    await s.clock.advance(2400);
    assert.equal(fetchAttempts(s.collector), 3);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.collector.duplicates(), []);
  });
});

describe('offline', () => {
  test('nothing is attempted while offline; batches are stored; online resumes', async () => {
    const s = setup({ online: false });
    const a = makeBatch('pv1', 1, 5);
    const b = makeBatch('pv1', 6, 5);
    s.transport.send(a.body, a.count);
    s.transport.send(b.body, b.count);
    await s.clock.advance(120000);
    assert.equal(fetchAttempts(s.collector), 0);
    assert.equal(s.storage.ownKeys().length, 2);
    assert.equal(s.transport.stats().persisted, 10);
    s.tab.goOnline();
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted([...a.ids, ...b.ids]));
    assert.deepEqual(s.collector.duplicates(), []);
    assert.deepEqual(s.storage.ownKeys(), []);
  });

  test('going offline during backoff stops attempts until online', async () => {
    const s = setup();
    s.collector.setPolicy(() => 'network');
    const a = makeBatch('pv1', 1, 5);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    s.tab.goOffline();
    await s.clock.advance(300000);
    assert.equal(fetchAttempts(s.collector), 1);
    s.collector.setPolicy(() => 204);
    s.tab.goOnline();
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
  });

  test('hidden while offline: stored (not beaconed), sent at the next page load', async () => {
    const storage = createStorage();
    const s = setup({ storage, online: false });
    const a = makeBatch('pv1', 1, 5);
    s.transport.send(a.body, a.count);
    const last = makeBatch('pv1', 6, 3);
    s.transport.sendNow(last.body, last.count);
    s.transport.pageHidden();
    assert.equal(s.beacon.calls.length, 0);
    s.transport.stop();
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await s.clock.advance(0);
    await next.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted([...a.ids, ...last.ids]));
    assert.deepEqual(s.collector.duplicates(), []);
    assert.deepEqual(storage.ownKeys(), []);
  });
});

describe('page hide: sendBeacon, split, persistence', () => {
  test('hidden: queued batches and the final one go by sendBeacon with string bodies; true counts as queued', async () => {
    const s = setup({ beacon: { deliverNow: false } });
    s.collector.setPolicy(() => 'hang');
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    s.collector.setPolicy(() => 204);
    const b = makeBatch('pv1', 11, 5);
    s.transport.sendNow(b.body, b.count);
    s.transport.pageHidden();
    s.transport.pageHidden(); // idempotent
    assert.equal(s.beacon.calls.length, 1, 'a sent only by its in-flight fetch, b by beacon');
    assert.equal(s.beacon.calls[0].body, b.body);
    const st = s.transport.stats();
    assert.equal(st.beaconed, 5);
    assert.equal(st.sent, 0, 'a beacon is not a delivery receipt');
    assert.equal(s.storage.ownKeys().length, 1, 'the in-flight batch has a stored copy');
    s.beacon.deliver();
    assert.deepEqual(s.collector.ids(), sorted(b.ids));
  });

  test('in-flight at hide: stored copy removed when the answer comes, resent if the page dies', async () => {
    // page survives: answer arrives, copy removed
    {
      const s = setup();
      s.collector.setPolicy(() => 'hang');
      const a = makeBatch('pv1', 1, 10);
      s.transport.send(a.body, a.count);
      await s.clock.advance(0);
      s.transport.pageHidden();
      assert.equal(s.storage.ownKeys().length, 1);
      s.collector.setPolicy(() => 204);
      await s.clock.advance(5000); // timed out: retryable, page hidden -> stays stored
      assert.equal(s.storage.ownKeys().length, 1);
      s.transport.pageShown();
      await s.transport.settled();
      await s.clock.advance(1200);
      assert.deepEqual(s.collector.ids(), sorted(a.ids));
      assert.deepEqual(s.storage.ownKeys(), []);
    }
    // page dies with the request processed but unanswered: next load resends; duplicates of that batch only
    {
      const storage = createStorage();
      const s = setup({ storage });
      s.collector.setPolicy(() => ({ hang: true, processed: true }));
      const a = makeBatch('pv2', 1, 10);
      s.transport.send(a.body, a.count);
      await s.clock.advance(0);
      s.transport.pageHidden();
      s.collector.setPolicy(() => 204);
      const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
      await next.transport.settled();
      await s.clock.advance(500);
      assert.deepEqual(s.collector.ids(), sorted(a.ids));
      assert.deepEqual(s.collector.duplicates(), sorted(a.ids));
    }
  });

  test('a beacon refused for size is split in halves until it fits; nothing lost', async () => {
    const s = setup({ beacon: { perBeaconLimit: 3000 } });
    const a = makeBatch('pv1', 1, 100, { drop: 2 });
    assert.ok(Buffer.byteLength(a.body) > 6000);
    s.transport.sendNow(a.body, a.count);
    s.transport.pageHidden();
    const accepted = s.beacon.calls.filter((c) => c.ok);
    assert.ok(accepted.length >= 4);
    assert.ok(s.beacon.calls.some((c) => !c.ok), 'the first try was refused');
    let drops = 0;
    for (const c of accepted) {
      assert.ok(c.bytes <= 3000);
      const p = JSON.parse(c.body);
      assert.equal(p.pv, 'pv1');
      assert.equal(p.path, '/search');
      drops += p.drop;
    }
    assert.equal(drops, 2);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.collector.duplicates(), []);
    assert.deepEqual(s.storage.ownKeys(), []);
  });

  test('a browser that refuses every beacon although our budget has room: each batch is stored whole, not halved into pieces', async () => {
    const storage = createStorage();
    // Requests we cannot see (ours just answered, the host's) hold the whole quota.
    const s = setup({ storage, beacon: { hostInflightBytes: 65536 } });
    const batches = [1, 51, 101].map((from) => makeBatch('pv1', from, 50));
    s.transport.pageHidden();
    for (const b of batches) s.transport.sendNow(b.body, b.count);
    assert.equal(s.beacon.calls.filter((c) => c.ok).length, 0);
    assert.ok(s.beacon.calls.length <= batches.length * 7, `${s.beacon.calls.length} beacon calls: one halving chain per batch at most`);
    assert.equal(storage.ownKeys().length, batches.length, 'one record per batch');
    assert.deepEqual(s.dropped, []);
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(500);
    assert.deepEqual(s.collector.ids(), sorted(batches.flatMap((b) => b.ids)));
    assert.deepEqual(storage.ownKeys(), []);
  });

  test('quota split: the host holds most of the 64 KiB keepalive quota; what does not fit is split, then stored, never dropped', async () => {
    const storage = createStorage();
    const s = setup({ storage, beacon: { hostInflightBytes: 40000, deliverNow: false } });
    const batches = [1, 201, 401, 601].map((from) => makeBatch('pv1', from, 120));
    for (const b of batches) assert.ok(Buffer.byteLength(b.body) > 8000);
    s.transport.pageHidden();
    for (const b of batches) s.transport.sendNow(b.body, b.count);
    assert.ok(s.beacon.maxInflightSeen <= 65536, 'quota never exceeded');
    const ours = s.beacon.calls.filter((c) => c.ok).reduce((n, c) => n + c.bytes, 0);
    assert.ok(ours <= 49152, 'within our own budget');
    assert.ok(ours > 0, 'some events went by beacon');
    assert.ok(storage.ownKeys().length > 0, 'the rest is stored');
    assert.deepEqual(s.dropped, []);
    s.beacon.deliver();
    // the page dies; the next page load sends the stored rest
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted(batches.flatMap((b) => b.ids)));
    assert.deepEqual(s.collector.duplicates(), []);
    assert.deepEqual(storage.ownKeys(), []);
  });

  test('our own keepalive budget (48 KiB) leaves room for the host even when the browser quota would allow more', async () => {
    const storage = createStorage();
    const s = setup({ storage, beacon: { deliverNow: false } });
    const batches = [1, 201, 401, 601, 801, 1001].map((from) => makeBatch('pv1', from, 120));
    const total = batches.reduce((n, b) => n + Buffer.byteLength(b.body), 0);
    assert.ok(total > 49152 && total < 65536);
    s.transport.pageHidden();
    for (const b of batches) s.transport.sendNow(b.body, b.count);
    const ours = s.beacon.calls.filter((c) => c.ok).reduce((n, c) => n + c.bytes, 0);
    assert.ok(ours <= 49152, `beaconed ${ours}`);
    assert.ok(storage.ownKeys().length >= 1);
    assert.ok(storage.ownKeys().length <= 3, `${storage.ownKeys().length} records: once the budget is used up, batches are stored whole, not split into tiny pieces`);
    s.beacon.deliver();
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(500);
    assert.deepEqual(s.collector.ids(), sorted(batches.flatMap((b) => b.ids)));
    assert.deepEqual(s.collector.duplicates(), []);
  });

  test('sendBeacon throwing: the batch is stored, not lost, and nothing escapes', async () => {
    const storage = createStorage();
    const s = setup({ storage });
    s.tab.env.sendBeacon = () => { throw new Error('SecurityError'); };
    const a = makeBatch('pv1', 1, 5);
    assert.doesNotThrow(() => { s.transport.sendNow(a.body, a.count); s.transport.pageHidden(); });
    assert.equal(storage.ownKeys().length, 1);
    assert.ok(s.errors.length >= 1);
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
  });

  test('no sendBeacon at all: keepalive fetch with a stored copy', async () => {
    const s = setup({ beacon: null });
    const a = makeBatch('pv1', 1, 5);
    s.transport.sendNow(a.body, a.count);
    s.transport.pageHidden();
    await s.clock.advance(0);
    assert.equal(s.collector.fetchCalls.length, 1);
    assert.equal(s.collector.fetchCalls[0].init.keepalive, true);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.storage.ownKeys(), [], 'copy removed after the 2xx');
  });

  test('collector failing at hide: batches go to storage (a beacon would be lost), next load delivers', async () => {
    const storage = createStorage();
    const s = setup({ storage });
    s.collector.setPolicy(() => 503);
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    const b = makeBatch('pv1', 11, 4);
    s.transport.sendNow(b.body, b.count);
    s.transport.pageHidden();
    assert.equal(s.beacon.calls.length, 0);
    assert.equal(storage.ownKeys().length, 2);
    s.collector.setPolicy(() => 204);
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted([...a.ids, ...b.ids]));
    assert.deepEqual(s.collector.duplicates(), []);
  });

  test('hidden then shown (bfcache): a beaconed batch is never sent again; the tab lock is released while hidden', async () => {
    const locks = createLockManager();
    const s = setup({ locks });
    await s.clock.advance(0);
    const tabLocks = () => [...locks.held.keys()].filter((n) => n.startsWith('impression-tracker:tab:'));
    assert.equal(tabLocks().length, 1, 'a visible tab with storage holds its liveness lock');
    const a = makeBatch('pv1', 1, 10);
    s.transport.sendNow(a.body, a.count);
    s.transport.pageHidden();
    await s.clock.advance(0);
    assert.equal(tabLocks().length, 0, 'no Web Lock held while hidden');
    s.transport.pageShown();
    await s.transport.settled();
    await s.clock.advance(120000);
    assert.equal(tabLocks().length, 1);
    assert.equal(s.beacon.calls.length, 1);
    assert.equal(s.collector.fetchCalls.length, 0);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.collector.duplicates(), []);
  });

  test('page shown again: stored batches of this tab are adopted and sent', async () => {
    const s = setup({ online: false });
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    s.transport.pageHidden();
    assert.equal(s.storage.ownKeys().length, 1);
    s.tab.navigator.onLine = true;
    s.transport.pageShown();
    await s.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.storage.ownKeys(), []);
  });
});

describe('fetchLater', () => {
  test('an unconfirmed batch has a pending deferred copy, aborted once delivered', async () => {
    const s = setup({ fetchLater: true });
    let n = 0;
    s.collector.setPolicy(() => (++n === 1 ? 503 : 204));
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    assert.equal(s.fetchLater.active().length, 1);
    assert.equal(s.fetchLater.active()[0].body, a.body);
    await s.clock.advance(0);
    assert.equal(s.fetchLater.active().length, 1, 'still pending while retrying');
    await s.clock.advance(1200);
    assert.equal(s.fetchLater.active().length, 0, 'aborted after the 2xx');
    s.fetchLater.destroy();
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.collector.duplicates(), []);
  });

  test('the page dies while the collector is failing: the browser sends the deferred copy', async () => {
    const storage = createStorage();
    const s = setup({ storage, fetchLater: true });
    s.collector.setPolicy(() => 503);
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    // renderer crash: no pagehide, nothing else runs; the collector is back
    s.collector.setPolicy(() => 204);
    s.fetchLater.destroy();
    assert.deepEqual(s.collector.ids(), sorted(a.ids), 'delivered without a next visit');
    // a next visit also finds the stored copy: duplicates of that batch only
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(35000);
    await next.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.ok(s.collector.duplicates().every((id) => a.ids.includes(id)));
  });

  test('a beaconed batch has its deferred copy aborted (no double send)', async () => {
    const s = setup({ fetchLater: true });
    s.collector.setPolicy(() => 'hang');
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count); // in flight, deferred registered
    const b = makeBatch('pv1', 11, 10);
    s.transport.sendNow(b.body, b.count);
    s.transport.pageHidden();
    assert.deepEqual(s.fetchLater.active().map((r) => r.body), [a.body]);
    s.fetchLater.destroy();
    assert.deepEqual(s.collector.ids(), sorted([...a.ids, ...b.ids]));
    assert.deepEqual(s.collector.duplicates(), []);
  });

  test('fetchLater throwing QuotaExceededError is harmless', async () => {
    const s = setup({ fetchLater: { quota: 100 } });
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.deepEqual(s.errors, []);
  });
});

describe('storage: full, throwing, bounded', () => {
  test('storage full: memory only, reported once, host keys untouched, delivery continues', async () => {
    const storage = createStorage({ quotaChars: 2000 });
    storage.setItem('host:cart', 'x'.repeat(1500));
    const s = setup({ storage, online: false });
    const a = makeBatch('pv1', 1, 10);
    const b = makeBatch('pv1', 11, 10);
    s.transport.send(a.body, a.count);
    s.transport.send(b.body, b.count);
    assert.equal(s.errors.length, 1, 'one onError for the switch to memory');
    assert.equal(s.transport.stats().storage, 'memory');
    assert.deepEqual(storage.ownKeys(), []);
    assert.equal(storage.getItem('host:cart'), 'x'.repeat(1500));
    s.tab.goOnline();
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted([...a.ids, ...b.ids]));
  });

  test('storage throwing (SecurityError getter): never throws, memory only, beacons at hide even a failed batch', async () => {
    const s = setup({ storage: null });
    Object.defineProperty(s.tab.env, 'localStorage', { get() { const e = new Error('denied'); e.name = 'SecurityError'; throw e; } });
    const t = createTransport({ endpoint: ENDPOINT, env: s.tab.env, onError: (e) => s.errors.push(e) });
    s.collector.setPolicy(() => 500);
    const a = makeBatch('pv1', 1, 10);
    assert.doesNotThrow(() => t.send(a.body, a.count));
    await s.clock.advance(0);
    assert.equal(t.stats().storage, 'memory');
    s.collector.setPolicy(() => 204);
    t.pageHidden();
    assert.equal(s.beacon.calls.length, 1, 'no storage: the beacon is the last chance');
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.ok(s.errors.some((e) => /SecurityError/.test(e.message)));
  });

  test('storage bound: the oldest batches are dropped and counted; their count travels in the "drop" of the oldest batch kept', async () => {
    const s = setup({ online: false, transport: { maxStoredEvents: 30 } });
    const batches = [1, 11, 21, 31, 41].map((from) => makeBatch('pv1', from, 10));
    for (const b of batches) s.transport.send(b.body, b.count);
    assert.equal(s.transport.stats().persisted, 30);
    assert.deepEqual(s.dropped, [], 'no onDropped: the count is carried by a batch held');
    assert.equal(s.transport.stats().dropped.byReason.storageBound, 20);
    s.tab.goOnline();
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted(batches.slice(2).flatMap((b) => b.ids)));
    assert.deepEqual(s.collector.duplicates(), []);
    // 1..10 dropped onto 11..20, then 11..20 (with its 10) dropped onto 21..30.
    assert.deepEqual(s.collector.drops(), { 'pv1:21': 20, 'pv1:31': 0, 'pv1:41': 0 });
  });

  test('storage bound in bytes: stored bytes stay under the bound, even after a "drop" grows a stored body', async () => {
    const s = setup({ online: false, transport: { maxStoredBytes: 5000 } });
    const batches = [1, 21, 41, 61].map((from) => makeBatch('pv1', from, 20));
    const size = Buffer.byteLength(batches[0].body);
    assert.ok(size > 1500 && size < 2400);
    for (const b of batches) { s.transport.send(b.body, b.count); assert.ok(s.transport.stats().persistedBytes <= 5000); }
    assert.deepEqual(s.dropped, []);
    s.tab.goOnline();
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted(batches.slice(2).flatMap((b) => b.ids)));
    assert.deepEqual(s.collector.drops(), { 'pv1:41': 40, 'pv1:61': 0 });
  });

  test('storage bound at page hide (offline): the loss reaches the collector with the stored data at the next load', async () => {
    const storage = createStorage();
    const s = setup({ storage, online: false, transport: { maxStoredEvents: 30 } });
    const batches = [1, 11, 21, 31].map((from) => makeBatch('pv1', from, 10));
    for (const b of batches.slice(0, 3)) s.transport.send(b.body, b.count);
    s.transport.pageHidden();
    s.transport.sendNow(batches[3].body, batches[3].count); // the final batch cut at the hide
    s.transport.stop();
    assert.deepEqual(s.dropped, [], 'nothing left to the core: no batch would ever carry it');
    assert.equal(s.transport.stats().dropped.byReason.storageBound, 10);
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted(batches.slice(1).flatMap((b) => b.ids)));
    assert.deepEqual(s.collector.drops(), { 'pv1:11': 10, 'pv1:21': 0, 'pv1:31': 0 });
    const drops = Object.values(s.collector.drops()).reduce((a, n) => a + n, 0);
    assert.equal(s.collector.ids().length + drops, 40, 'delivered + reported in "drop" = every event');
    assert.deepEqual(storage.ownKeys(), []);
  });

  test('the in-memory queue is bounded too (consent pending, nothing stored); the count travels with the data', async () => {
    const s = setup({ transport: { consent: 'pending', maxQueuedEvents: 25 } });
    const batches = [1, 11, 21, 31].map((from) => makeBatch('pv1', from, 10, { drop: from === 1 ? 3 : 0 }));
    for (const b of batches) s.transport.send(b.body, b.count);
    assert.equal(s.transport.stats().queued, 20);
    assert.deepEqual(s.dropped, []);
    assert.equal(s.transport.stats().dropped.byReason.queueBound, 20);
    s.transport.setConsent(true);
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted(batches.slice(2).flatMap((b) => b.ids)));
    // 10 + 10 events lost, plus the 3 the first lost batch itself reported.
    assert.deepEqual(s.collector.drops(), { 'pv1:21': 23, 'pv1:31': 0 });
  });

  test('a dropped count goes to a batch of the same page view first, and never pushes a body over maxBodyBytes', async () => {
    const s = setup({ transport: { consent: 'pending', maxQueuedEvents: 35, maxBodyBytes: 4096 } });
    const full = makeBatch('pvA', 11, 10);
    full.body = makeBatch('pvA', 11, 10, { path: `/search${'x'.repeat(4096 - Buffer.byteLength(full.body))}` }).body;
    assert.equal(Buffer.byteLength(full.body), 4096, 'exactly at the cap: "drop":10 would not fit');
    const batches = [makeBatch('pvA', 1, 10), makeBatch('pvB', 1, 10), full, makeBatch('pvA', 21, 10)];
    for (const b of batches) s.transport.send(b.body, b.count);
    assert.deepEqual(s.dropped, []);
    s.transport.setConsent(true);
    await s.clock.advance(0);
    assert.deepEqual(s.collector.drops(), { 'pvB:1': 0, 'pvA:11': 0, 'pvA:21': 10 });
    for (const { init } of s.collector.fetchCalls) {
      assert.ok(Buffer.byteLength(init.body) <= 4096);
      const keys = Object.keys(JSON.parse(init.body));
      assert.deepEqual(keys, ['v', 'pv', 'path', 'at', 'drop', 'ev'], 'key order kept');
    }
    const other = setup({ transport: { consent: 'pending', maxQueuedEvents: 15 } });
    for (const b of [makeBatch('pvA', 1, 10), makeBatch('pvB', 1, 10)]) other.transport.send(b.body, b.count);
    other.transport.setConsent(true);
    await other.clock.advance(0);
    assert.deepEqual(other.collector.drops(), { 'pvB:1': 10 }, 'no batch of the same page view: any batch');
  });

  test('a batch whose "drop" is raised gets its fetchLater copy replaced (no storage, offline, the page dies)', async () => {
    const s = setup({ storage: null, online: false, fetchLater: true, transport: { maxQueuedEvents: 25 } });
    const batches = [1, 11, 21, 31].map((from) => makeBatch('pv1', from, 10));
    for (const b of batches) s.transport.send(b.body, b.count);
    assert.deepEqual(s.dropped, []);
    assert.equal(s.fetchLater.active().length, 2, 'the dropped batches have no deferred copy left');
    assert.equal(s.transport.stats().deferred, 20);
    s.fetchLater.destroy();
    assert.deepEqual(s.collector.ids(), sorted(batches.slice(2).flatMap((b) => b.ids)));
    assert.deepEqual(s.collector.drops(), { 'pv1:21': 20, 'pv1:31': 0 });
  });

  test('stored batches older than maxAgeMs are dropped and counted; reported through onDropped when nothing is held', async () => {
    const storage = createStorage();
    const s = setup({ storage, online: false });
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    s.transport.pageHidden();
    s.transport.stop();
    await s.clock.advance(25 * 3600 * 1000);
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    assert.deepEqual(next.dropped, [10]);
    assert.equal(next.transport.stats().dropped.byReason.expired, 10);
    assert.deepEqual(storage.ownKeys(), []);
    assert.deepEqual(s.collector.ids(), []);
  });

  test('an expired batch\'s count travels in a batch adopted with it (another page view)', async () => {
    const storage = createStorage();
    const s = setup({ storage, online: false });
    const old = makeBatch('pv-old', 1, 10, { drop: 2 });
    s.transport.send(old.body, old.count);
    s.transport.pageHidden();
    s.transport.stop();
    await s.clock.advance(23 * 3600 * 1000);
    const later = setup({ storage, clock: s.clock, collector: s.collector, online: false, tabName: 'A2' });
    const recent = makeBatch('pv-new', 1, 5);
    later.transport.send(recent.body, recent.count);
    later.transport.pageHidden();
    later.transport.stop();
    await s.clock.advance(2 * 3600 * 1000);
    const next = setup({ storage, clock: s.clock, collector: s.collector, tabName: 'B' });
    await next.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(next.dropped, []);
    assert.equal(next.transport.stats().dropped.byReason.expired, 10);
    assert.deepEqual(s.collector.ids(), sorted(recent.ids));
    assert.deepEqual(s.collector.drops(), { 'pv-new:1': 12 }, '10 expired events plus the 2 the expired batch carried');
    assert.deepEqual(storage.ownKeys(), []);
  });
});

describe('two tabs sharing storage', () => {
  /** Tabs of one origin: one clock, collector and localStorage (and Web Locks if given); tab(name, options) opens one. */
  function sharedOrigin({ locks = null } = {}) {
    const origin = { clock: createClock(), collector: createCollector(), storage: createStorage(), locks };
    return { ...origin, tab: (tabName, options = {}) => setup({ ...origin, tabName, ...options }) };
  }

  for (const withLocks of [true, false]) {
    test(`a live tab's stored batches are not sent by another tab (${withLocks ? 'Web Locks' : 'lease'})`, async () => {
      const { clock, collector, storage, tab } = sharedOrigin({ locks: withLocks ? createLockManager() : null });
      const A = tab('A');
      collector.setPolicy(() => 503);
      const a = makeBatch('pvA', 1, 10);
      A.transport.send(a.body, a.count);
      await clock.advance(0);
      assert.equal(storage.ownKeys().length, 1, 'A stored its failing batch');
      collector.setPolicy(() => 204);
      const B = tab('B');
      await B.transport.settled();
      await clock.advance(500);
      assert.deepEqual(collector.ids(), [], 'B leaves A\'s batch alone');
      assert.equal(B.transport.stats().queued, 0);
      await clock.advance(1200); // A retries and delivers
      assert.deepEqual(collector.ids(), sorted(a.ids));
      assert.deepEqual(collector.duplicates(), []);
      assert.deepEqual(storage.ownKeys(), []);
    });

    test(`a dead tab's stored batch is adopted by exactly one of two new tabs (${withLocks ? 'Web Locks' : 'lease'})`, async () => {
      const { clock, collector, storage, locks, tab } = sharedOrigin({ locks: withLocks ? createLockManager() : null });
      const A = tab('A');
      collector.setPolicy(() => 503);
      const a = makeBatch('pvA', 1, 10);
      const a2 = makeBatch('pvA', 11, 10);
      A.transport.send(a.body, a.count);
      A.transport.send(a2.body, a2.count);
      await clock.advance(0);
      assert.ok(storage.ownKeys().length >= 1);
      // A crashes: no pagehide, no more timers (its leases are not renewed), its locks are released
      A.tab.crash();
      if (locks) locks.kill('A');
      else await clock.advance(31000);
      collector.setPolicy(() => 204);
      const B = tab('B');
      const C = tab('C');
      await Promise.all([B.transport.settled(), C.transport.settled()]);
      await clock.advance(500);
      await Promise.all([B.transport.settled(), C.transport.settled()]);
      await clock.advance(500);
      assert.deepEqual(collector.ids(), sorted([...a.ids, ...a2.ids]));
      assert.deepEqual(collector.duplicates(), [], 'each stored batch sent by one tab only');
      assert.deepEqual(storage.ownKeys(), []);
    });
  }

  test('lease mode: two tabs racing on a stale storage view both claim; the re-read confirmation lets only the last writer send', async () => {
    const { clock, collector, storage, tab } = sharedOrigin();
    const first = tab('A', { online: false });
    const a = makeBatch('pvA', 1, 10);
    first.transport.send(a.body, a.count);
    first.transport.pageHidden(); // released
    first.transport.stop();
    // C's renderer has not yet seen B's claim: its reads come from a snapshot until thawed
    let snapshot = new Map(storage.map);
    const staleView = {
      get length() { return (snapshot || storage.map).size; },
      key: (i) => [...(snapshot || storage.map).keys()][i] ?? null,
      getItem: (k) => { const m = snapshot || storage.map; return m.has(k) ? m.get(k) : null; },
      setItem: (k, v) => { storage.setItem(k, v); if (snapshot) snapshot.set(k, String(v)); },
      removeItem: (k) => { storage.removeItem(k); if (snapshot) snapshot.delete(k); },
    };
    const B = tab('B');
    const C = tab('C', { storage: staleView });
    await Promise.all([B.transport.settled(), C.transport.settled()]);
    snapshot = null; // C's view catches up
    await clock.advance(500);
    assert.deepEqual(collector.ids(), sorted(a.ids));
    assert.deepEqual(collector.duplicates(), [], 'only the tab whose claim stuck sent it');
    assert.ok([...B.debug, ...C.debug].some((d) => d.kind === 'claim' && d.result === 'lost'));
  });

  test('a visible tab adopts what another tab released when it was hidden (storage event), and a crashed owner\'s batches after a lease period', async () => {
    const { clock, collector, storage, locks, tab } = sharedOrigin({ locks: createLockManager() });
    const B = tab('B');
    await B.transport.settled();
    collector.setPolicy(({ body }) => (JSON.parse(body).pv === 'pvA' && collector.fetchCalls.length <= 2 ? 503 : 204));
    const A = tab('A');
    const C = tab('C');
    const a = makeBatch('pvA', 1, 10);
    const c = makeBatch('pvC', 1, 10);
    A.transport.send(a.body, a.count);
    C.transport.send(c.body, c.count);
    await clock.advance(0);
    // A is hidden (tab switch): it releases its batch; B hears the storage event and takes it
    A.transport.pageHidden();
    B.tab.fire('storage');
    await B.transport.settled();
    await clock.advance(0);
    assert.ok(collector.ids().includes('pvA:1'), 'B delivered A\'s released batch');
    // C crashes with a stored batch: B takes it over after a lease period (30 s)
    collector.setPolicy(() => 503);
    const c2 = makeBatch('pvC', 11, 5);
    C.transport.send(c2.body, c2.count);
    await clock.advance(0);
    B.tab.fire('storage');
    await B.transport.settled();
    C.tab.crash();
    locks.kill('C');
    collector.setPolicy(() => 204);
    await clock.advance(31000);
    await B.transport.settled();
    await clock.advance(0);
    assert.deepEqual(collector.ids(), sorted([...a.ids, ...c.ids, ...c2.ids]));
    assert.deepEqual(collector.duplicates(), []);
  });

  test('lease mode: a live tab renews its leases, so a tab opened minutes later still leaves its batch alone', async () => {
    const { clock, collector, storage, tab } = sharedOrigin();
    const A = tab('A');
    collector.setPolicy(() => 503);
    const a = makeBatch('pvA', 1, 10);
    A.transport.send(a.body, a.count);
    await clock.advance(0);
    await clock.advance(120000); // the collector stays down for two minutes; leases are 30 s
    const attemptsByA = collector.fetchCalls.length;
    assert.ok(attemptsByA >= 5);
    const B = tab('B');
    await B.transport.settled();
    await clock.advance(500);
    assert.equal(collector.fetchCalls.length, attemptsByA, 'B sent nothing');
    assert.equal(B.transport.stats().queued, 0);
    collector.setPolicy(() => 204);
    await clock.advance(60000);
    assert.deepEqual(collector.ids(), sorted(a.ids));
    assert.deepEqual(collector.duplicates(), []);
  });

  test('hidden tab releases its batches; another tab adopts them; the first tab does not resend them when shown', async () => {
    const { clock, collector, storage, tab } = sharedOrigin({ locks: createLockManager() });
    const A = tab('A', { online: false });
    const a = makeBatch('pvA', 1, 10);
    A.transport.send(a.body, a.count);
    A.transport.pageHidden();
    const B = tab('B');
    await B.transport.settled();
    await clock.advance(2500); // A's own start-up scan held the adoption lock: B tries again 2 s later
    assert.deepEqual(collector.ids(), sorted(a.ids));
    A.tab.navigator.onLine = true;
    A.transport.pageShown();
    await A.transport.settled();
    await clock.advance(1000);
    assert.deepEqual(collector.duplicates(), []);
  });
});

describe('consent and privacy', () => {
  test('pending: nothing sent, stored or deferred until setConsent(true); then everything is delivered', async () => {
    const s = setup({ fetchLater: true, transport: { consent: 'pending' } });
    const a = makeBatch('pv1', 1, 10);
    const b = makeBatch('pv1', 11, 5);
    s.transport.send(a.body, a.count);
    s.transport.sendNow(b.body, b.count);
    await s.clock.advance(60000);
    assert.equal(s.collector.fetchCalls.length, 0);
    assert.equal(s.beacon.calls.length, 0);
    assert.equal(s.fetchLater.registrations.length, 0);
    assert.equal(s.storage.log.set + s.storage.log.get + s.storage.log.key, 0, 'storage not even read');
    assert.equal(s.transport.stats().queued, 15);
    s.transport.setConsent(true);
    await s.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted([...a.ids, ...b.ids]));
  });

  test('pending: stored batches of an earlier visit wait for consent', async () => {
    const storage = createStorage();
    const first = setup({ storage, online: false });
    const a = makeBatch('pv1', 1, 10);
    first.transport.send(a.body, a.count);
    first.transport.pageHidden();
    const s = setup({ storage, clock: first.clock, collector: first.collector, tabName: 'B', transport: { consent: 'pending' } });
    await s.transport.settled();
    await s.clock.advance(10000);
    assert.deepEqual(s.collector.ids(), []);
    s.transport.setConsent(true);
    await s.transport.settled();
    await s.clock.advance(500); // lease mode confirms a claim 250 ms later
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
  });

  test('revoked: memory queue and stored keys purged, host keys kept, nothing sent afterwards', async () => {
    const s = setup({ fetchLater: true });
    s.storage.setItem('host:prefs', '{"dark":true}');
    s.collector.setPolicy(() => 503);
    const a = makeBatch('pv1', 1, 10);
    const b = makeBatch('pv1', 11, 10);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    s.transport.send(b.body, b.count);
    assert.ok(s.storage.ownKeys().length >= 1);
    s.storage.setItem('impression-tracker:other', 'x');
    s.transport.setConsent(false);
    assert.deepEqual(s.storage.ownKeys(), []);
    assert.equal(s.storage.getItem('host:prefs'), '{"dark":true}');
    assert.equal(s.fetchLater.active().length, 0, 'deferred copies aborted');
    s.collector.setPolicy(() => 204);
    const c = makeBatch('pv1', 21, 3);
    s.transport.send(c.body, c.count);
    s.transport.sendNow(c.body, c.count);
    s.transport.pageHidden();
    await s.clock.advance(120000);
    s.fetchLater.destroy();
    assert.deepEqual(s.collector.ids(), []);
    assert.equal(s.transport.stats().queued, 0);
    assert.ok(s.transport.stats().dropped.byReason.consent >= 20);
    assert.deepEqual(s.dropped, [], 'not reported as lost: withheld on purpose');
  });

  test('consent denied at start: earlier stored keys are removed, nothing sent', async () => {
    const storage = createStorage();
    const first = setup({ storage, online: false });
    const a = makeBatch('pv1', 1, 10);
    first.transport.send(a.body, a.count);
    first.transport.pageHidden();
    const s = setup({ storage, clock: first.clock, collector: first.collector, tabName: 'B', transport: { consent: 'denied' } });
    assert.deepEqual(storage.ownKeys(), []);
    s.transport.send(makeBatch('pv2', 1, 3).body, 3);
    await s.clock.advance(10000);
    assert.deepEqual(s.collector.ids(), []);
  });

  test('GPC on (default mode): sent normally, but nothing is read from or written to localStorage', async () => {
    const s = setup({ gpc: true, online: false });
    const a = makeBatch('pv1', 1, 10, { gpc: true });
    s.transport.send(a.body, a.count);
    s.transport.pageHidden();
    assert.equal(s.storage.log.set + s.storage.log.get + s.storage.log.key, 0);
    assert.equal(s.transport.stats().gpc, true);
    assert.equal(s.transport.stats().storage, 'off (gpc)');
    s.tab.navigator.onLine = true;
    s.transport.pageShown();
    await s.clock.advance(0);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
    assert.equal(JSON.parse(s.collector.fetchCalls[0].init.body).gpc, 1);
  });

  test('GPC on with collector failing at hide: beacon instead of storage', async () => {
    const s = setup({ gpc: true });
    s.collector.setPolicy(() => 503);
    const a = makeBatch('pv1', 1, 10, { gpc: true });
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    s.transport.pageHidden();
    assert.equal(s.beacon.calls.length, 1);
    assert.deepEqual(s.storage.ownKeys(), []);
    assert.deepEqual(s.collector.ids(), sorted(a.ids));
  });

  test('GPC on with gpc: "deny": treated as consent denied, even after setConsent(true)', async () => {
    const s = setup({ gpc: true, transport: { gpc: 'deny' } });
    const a = makeBatch('pv1', 1, 10, { gpc: true });
    s.transport.setConsent(true);
    s.transport.send(a.body, a.count);
    s.transport.sendNow(a.body, a.count);
    s.transport.pageHidden();
    await s.clock.advance(10000);
    assert.deepEqual(s.collector.ids(), []);
    assert.equal(s.beacon.calls.length, 0);
    assert.equal(s.transport.stats().consent, 'denied');
  });

  test('GPC with gpc: "ignore": storage used as usual', async () => {
    const s = setup({ gpc: true, online: false, transport: { gpc: 'ignore' } });
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    assert.equal(s.storage.ownKeys().length, 1);
  });
});

describe('host safety and observability', () => {
  test('nothing happens at import or before a call; createTransport with no options never throws', async () => {
    const t = createTransport();
    assert.doesNotThrow(() => { t.send('not json', 1); t.sendNow(null); t.pageHidden(); t.pageShown(); t.setConsent(true); t.stats(); t.stop(); t.stop(); });
  });

  test('every injected function throwing: no method throws, errors go to onError', async () => {
    const clock = createClock();
    const boom = () => { throw new Error('boom'); };
    const env = {
      fetch: boom, sendBeacon: boom, fetchLater: boom,
      navigator: { onLine: true, locks: { request: boom, query: boom } },
      addEventListener: boom, removeEventListener: boom,
      setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout, now: clock.now, random: boom,
    };
    Object.defineProperty(env, 'localStorage', { get: boom });
    const errors = [];
    const t = createTransport({ endpoint: ENDPOINT, env, onError: (e) => errors.push(e), onDebug: boom, onDropped: boom });
    const a = makeBatch('pv1', 1, 5);
    assert.doesNotThrow(() => {
      t.send(a.body, a.count);
      t.sendNow(a.body, a.count);
      t.pageHidden();
      t.pageShown();
      t.stats();
      t.setConsent(false);
      t.stop();
    });
    await clock.advance(10000);
    assert.ok(errors.length > 0);
  });

  test('onDebug sees each attempt; stats counts queued, in flight, sent, retried, persisted, dropped', async () => {
    const s = setup();
    let n = 0;
    s.collector.setPolicy(() => (++n === 1 ? 500 : 'hang'));
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    const b = makeBatch('pv1', 11, 4);
    s.transport.send(b.body, b.count);
    await s.clock.advance(0);
    let st = s.transport.stats();
    assert.equal(st.queued, 14);
    assert.equal(st.persisted, 10);
    assert.equal(st.collector, 'failing');
    await s.clock.advance(1000);
    st = s.transport.stats();
    assert.equal(st.inFlight, 10);
    assert.equal(st.queued, 4);
    assert.equal(st.retried, 1);
    const kinds = s.debug.map((d) => d.kind);
    assert.equal(kinds.filter((k) => k === 'fetch').length, 2);
    assert.ok(kinds.includes('response'));
    assert.ok(kinds.includes('retry'));
    assert.ok(kinds.includes('persist'));
  });

  test('stop() clears timers and the online listener; idempotent', async () => {
    const s = setup();
    s.collector.setPolicy(() => 503);
    const a = makeBatch('pv1', 1, 10);
    s.transport.send(a.body, a.count);
    await s.clock.advance(0);
    assert.ok(s.clock.pending() > 0);
    s.transport.stop();
    s.transport.stop();
    assert.equal(s.clock.pending(), 0);
    assert.equal(s.tab.listeners.get('online').size, 0);
    await s.clock.advance(120000);
    assert.equal(s.collector.fetchCalls.length, 1);
    assert.equal(s.storage.ownKeys().length, 1, 'kept for the next page load');
  });
});

test('idsOf helper parses (pv, s) pairs', () => {
  const b = makeBatch('x', 5, 3);
  assert.deepEqual(idsOf(b.body), ['x:5', 'x:6', 'x:7']);
});
