// The I/O driver of delivery (js/delivery/io.js, network.js) against fake fetch,
// sendBeacon and localStorage: each browser answer maps to the outcome the outbox is
// told (status and Retry-After, network errors and aborts, the request's options, the
// beacon's Blob; storage full or throwing, our records listed and purged). The rules
// themselves are the outbox's, proven by the C tests, golden traces and the fuzzer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listRecords, removeAll, setRecord } from '../../js/delivery/io.js';
import { beacon, post, retryAfterMs } from '../../js/delivery/network.js';
import { fakeStorage } from './fakes/delivery.js';

const io = (fetch, extra = {}) => ({ fetch, Blob: null, wallNow: () => Date.parse('2026-01-01T00:00:00Z'), ...extra });
const answer = (status, retryAfter = null) => async () => ({ status, headers: { get: (h) => (h === 'Retry-After' ? retryAfter : null) } });

describe('network answers', () => {
  it('status and Retry-After in seconds, as an HTTP date, absent or unreadable', async () => {
    assert.deepEqual(await post(io(answer(204)), '/c', 'x'), [204, -1]);
    assert.deepEqual(await post(io(answer(429, '5')), '/c', 'x'), [429, 5000]);
    assert.deepEqual(await post(io(answer(503, 'Thu, 01 Jan 2026 00:00:07 GMT')), '/c', 'x'), [503, 7000]);
    assert.deepEqual(await post(io(answer(503, 'Wed, 31 Dec 2025 00:00:00 GMT')), '/c', 'x'), [503, -1], 'a date in the past: the backoff');
    assert.deepEqual(await post(io(answer(503, 'soon')), '/c', 'x'), [503, -1]);
    assert.equal(retryAfterMs(' 12 ', 0), 12000);
  });

  it('an asctime Retry-After (no zone written) is read as GMT, whatever the local time zone', () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      assert.equal(retryAfterMs('Thu Jan  1 00:00:07 2026', Date.parse('2026-01-01T00:00:00Z')), 7000);
    } finally {
      if (zone === undefined) delete process.env.TZ; else process.env.TZ = zone;
    }
  });

  it('a network error, a fetch that throws and an abort are status 0', async () => {
    assert.deepEqual(await post(io(async () => { throw new TypeError('Failed to fetch'); }), '/c', 'x'), [0, -1]);
    assert.deepEqual(await post(io(() => { throw new Error('sync'); }), '/c', 'x'), [0, -1]);
    const controller = new AbortController();
    const pending = post(io((url, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))), '/c', 'x', controller.signal);
    controller.abort();
    assert.deepEqual(await pending, [0, -1]);
  });

  it('posts with keepalive, no credentials, no referrer; gzip bytes as they are, typed text/plain', async () => {
    let seen = null;
    const bytes = new Uint8Array([31, 139]);
    await post(io(async (url, init) => { seen = init; return { status: 204 }; }, { Blob }), '/c', bytes);
    assert.equal(seen.keepalive, true);
    assert.equal(seen.credentials, 'omit');
    assert.equal(seen.referrerPolicy, 'no-referrer');
    assert.equal(seen.body, bytes, 'no Blob and no copy');
    assert.equal(new Headers(seen.headers).get('content-type'), 'text/plain');
    await post(io(async (url, init) => { seen = init; return { status: 204 }; }), '/c', '{"v":1}');
    assert.equal(seen.headers, undefined, 'JSON text: the browser types it');
  });

  it('sendBeacon gets the gzip bytes in a text/plain Blob (it takes no headers)', () => {
    let sent = null;
    beacon({ Blob, sendBeacon: (url, body) => { sent = body; return true; } }, '/c', new Uint8Array([31, 139]), () => {});
    assert.ok(sent instanceof Blob);
    assert.equal(sent.type, 'text/plain');
  });

  it('sendBeacon: accepted 1, false 0, throw 2 (reported); absent: a keepalive fetch stands in', () => {
    const errors = [];
    const report = (e) => errors.push(e.message);
    assert.equal(beacon({ sendBeacon: () => true }, '/c', 'x', report), 1);
    assert.equal(beacon({ sendBeacon: () => false }, '/c', 'x', report), 0);
    assert.equal(beacon({ sendBeacon: () => { throw new Error('blocked'); } }, '/c', 'x', report), 2);
    assert.deepEqual(errors, ['blocked']);
    const posted = [];
    assert.equal(beacon(io(async (url, init) => posted.push([url, init.keepalive, init.body])), '/c', 'x', report), 1);
    assert.deepEqual(posted, [['/c', true, 'x']]);
    assert.equal(beacon(io(() => { throw new Error('no fetch'); }), '/c', 'x', report), 2);
  });
});

describe('storage', () => {
  it('QuotaExceededError is "full" (1), any other throw "threw" (2); both are reported', () => {
    const errors = [];
    const full = { setItem: () => { throw new DOMException('quota', 'QuotaExceededError'); } };
    const broken = { setItem: () => { throw new DOMException('insecure', 'SecurityError'); } };
    assert.equal(setRecord(fakeStorage(), 'k', 'v', (e) => errors.push(e)), 0);
    assert.equal(setRecord(full, 'k', 'v', (e) => errors.push(e.message)), 1);
    assert.equal(setRecord(broken, 'k', 'v', (e) => errors.push(e.message)), 2);
    assert.deepEqual(errors, [
      'impression-tracker: localStorage unusable (QuotaExceededError); memory only',
      'impression-tracker: localStorage unusable (SecurityError); memory only',
    ]);
  });

  it('lists only our records, oldest key first, and purges them without touching the host keys', () => {
    const [one, two] = ['q:1700000000001:t:0', 'q:1700000000002:t:0'];
    const storage = fakeStorage([[`p:${two}`, 'b'], ['host', 'h'], [`p:${one}`, 'a'], ['p:other', 'o'], ['pq:1', 'x'], ['p:q:settings', 's']]);
    assert.deepEqual(listRecords(storage, 'p:'), [[one, 'a'], [two, 'b']]);
    removeAll(storage, 'p:');
    assert.deepEqual([...storage.records.keys()], ['host', 'p:other', 'pq:1', 'p:q:settings'], 'a page key under <prefix>q: that is no record key stays');
  });
});
