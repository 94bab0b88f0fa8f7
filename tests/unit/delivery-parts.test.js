// delivery-parts.test.js: the pure parts of delivery: status classes, backoff,
// Retry-After parsing, batch splitting, the bounded store and the claim rules.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classifyStatus, backoffDelayMs, parseRetryAfter, NEVER_RETRY } from '../../js/delivery/backoff.js';
import { splitToFit, halveBatch, utf8Length, parseBatch, countEvents, headerOf, addDrop } from '../../js/delivery/batch-split.js';
import { createBatchStore, DEFAULT_MAX_STORED_EVENTS, DEFAULT_MAX_STORED_BYTES } from '../../js/delivery/storage.js';
import { createClaimer } from '../../js/delivery/claim.js';
import { createStorage, createLockManager, makeBatch, idsOf } from './delivery-fakes.js';

describe('backoff.js', () => {
  test('status classes', () => {
    for (const s of [200, 202, 204, 299]) assert.equal(classifyStatus(s), 'ok');
    for (const s of [400, 401, 403, 410, 413, 422]) assert.equal(classifyStatus(s), 'drop');
    for (const s of [0, 408, 429, 500, 502, 503, 504, 599, 404, 302]) assert.equal(classifyStatus(s), 'retry');
    assert.deepEqual([...NEVER_RETRY], [400, 401, 403, 410, 413, 422]);
  });

  test('backoff doubles, caps at 60 s, jitter within +-20 %', () => {
    const mid = () => 0.5;
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffDelayMs(n, mid)), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    for (let n = 1; n < 12; n++) {
      for (const r of [0, 0.25, 0.75, 0.9999]) {
        const d = backoffDelayMs(n, () => r);
        const base = Math.min(60000, 1000 * 2 ** (n - 1));
        assert.ok(d >= base * 0.8 - 1 && d <= Math.min(60000, base * 1.2 + 1), `n=${n} r=${r} d=${d}`);
      }
    }
    assert.equal(backoffDelayMs(1, () => { throw new Error('x'); }), 1000);
    assert.equal(backoffDelayMs(1, () => NaN), 1000);
  });

  test('Retry-After: seconds, HTTP date, past date, garbage, clamp', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    assert.equal(parseRetryAfter('5', now), 5000);
    assert.equal(parseRetryAfter(' 120 ', now), 120000);
    assert.equal(parseRetryAfter('Sat, 28 Nov 2026 12:00:30 GMT', now), 30000);
    assert.equal(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter('-3', now), null);
    assert.equal(parseRetryAfter(null, now), null);
    assert.equal(parseRetryAfter('', now), null);
    assert.equal(parseRetryAfter('999999', now), 3600000);
  });
});

describe('batch-split.js', () => {
  test('utf8Length matches Buffer.byteLength, including astral and lone surrogates', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a\u2028b', '\ud800x', 'x\udc00']) {
      assert.equal(utf8Length(s), Buffer.byteLength(s), JSON.stringify(s));
    }
  });

  test('splitToFit keeps the header and every event, drop only in the first piece', () => {
    const a = makeBatch('pv-ü', 1, 150, { drop: 3, wd: true, gpc: true, path: '/search/ß' });
    const { _pieces: pieces, _oversize: oversize } = splitToFit(a.body, 4096);
    assert.equal(oversize.length, 0);
    assert.ok(pieces.length >= 3);
    const ids = [];
    pieces.forEach((p, i) => {
      assert.ok(p._bytes <= 4096);
      assert.equal(p._bytes, Buffer.byteLength(p._body));
      const parsed = JSON.parse(p._body);
      assert.deepEqual(Object.keys(parsed), ['v', 'pv', 'path', 'wd', 'gpc', 'at', 'drop', 'ev']);
      assert.equal(parsed.drop, i === 0 ? 3 : 0);
      assert.equal(p._events, parsed.ev.length);
      ids.push(...idsOf(p._body));
    });
    assert.deepEqual(ids, a.ids, 'same events, same order');
  });

  test('addDrop raises "drop" in the header, keeps the key order and the events byte for byte', () => {
    const a = makeBatch('pv-ü', 1, 3, { drop: 4, wd: true, gpc: true, path: '/search/"ev":[' });
    const body = a.body.replace('"id":"gig-0001"', '"id":"caf\\u00e9 \\/x"'); // escapes JSON.stringify would not write
    const raised = addDrop(body, 17);
    assert.deepEqual(Object.keys(JSON.parse(raised)), ['v', 'pv', 'path', 'wd', 'gpc', 'at', 'drop', 'ev']);
    assert.equal(JSON.parse(raised).drop, 21);
    assert.equal(raised.slice(raised.indexOf(',"ev":[')), body.slice(body.indexOf(',"ev":[')), 'events untouched');
    assert.equal(headerOf(raised).pv, 'pv-ü');
    assert.equal(headerOf(raised).path, '/search/"ev":[');
    assert.equal(addDrop(makeBatch('pv', 1, 1).body, 5).length, makeBatch('pv', 1, 1).body.length, '0 -> 5: same length');
    for (const bad of ['nope', '[1,"ev":[]]', '{"ev":[]}', '']) assert.equal(addDrop(bad, 1), null, bad);
    // The schema bounds "drop" by the core's uint32; the count saturates there as the core's does.
    assert.equal(JSON.parse(addDrop(makeBatch('pv', 1, 1, { drop: 4294967290 }).body, 17)).drop, 4294967295);
  });

  test('splitToFit leaves a fitting body untouched; an unparseable oversize body is reported', () => {
    const a = makeBatch('pv', 1, 3);
    assert.deepEqual(splitToFit(a.body, 16384)._pieces.map((p) => p._body), [a.body]);
    const r = splitToFit('x'.repeat(5000), 4096);
    assert.equal(r._pieces.length, 0);
    assert.equal(r._oversize.length, 1);
  });

  test('halveBatch divides ev, keeps the header; null for one event', () => {
    const a = makeBatch('pv', 1, 7, { drop: 1 });
    const [x, y] = halveBatch(a.body);
    assert.deepEqual([...idsOf(x._body), ...idsOf(y._body)], a.ids);
    assert.equal(JSON.parse(x._body).drop, 1);
    assert.equal(JSON.parse(y._body).drop, 0);
    assert.equal(halveBatch(makeBatch('pv', 1, 1).body), null);
    assert.equal(halveBatch('nope'), null);
    assert.equal(parseBatch('[1]'), null);
    assert.equal(countEvents(a.body), 7);
  });
});

describe('storage.js', () => {
  // Records and pieces use _x field names (internal: the build shortens them).
  const record = (key, events, owner = '', created = 1) => ({ _key: key, _owner: owner, _until: 0, _created: created, _events: events, _body: makeBatch('pv', 1, events).body });

  test('only our prefix is touched; list is oldest first; corrupt records are removed', () => {
    const ls = createStorage();
    ls.setItem('host:a', '1');
    ls.setItem('impression-tracker:q:bad', '{not json');
    const store = createBatchStore({ _getStorage: () => ls, _prefix: 'impression-tracker:' });
    const k2 = store._newKey(2000, 't', 1);
    const k1 = store._newKey(1000, 't', 2);
    assert.ok(store._put(record(k2, 3))._ok);
    assert.ok(store._put(record(k1, 4))._ok);
    assert.deepEqual(store._list().map((r) => r._key), [k1, k2]);
    assert.equal(ls.getItem('impression-tracker:q:bad'), null);
    assert.equal(ls.getItem('host:a'), '1');
    assert.equal(store._purge(), 7);
    assert.equal(ls.getItem('host:a'), '1');
    assert.deepEqual(ls.ownKeys(), []);
  });

  test('event bound evicts the oldest evictable records and reports them', () => {
    const ls = createStorage();
    const store = createBatchStore({ _getStorage: () => ls, _prefix: 'p:', _maxEvents: 10 });
    store._put(record(store._newKey(1, 'a', 1), 4, 'live-other'));
    store._put(record(store._newKey(2, 'a', 2), 4));
    const r = store._put(record(store._newKey(3, 'a', 3), 4), (rec) => rec._owner !== 'live-other');
    assert.ok(r._ok);
    assert.deepEqual(r._evicted.map((x) => x._events), [4]);
    assert.equal(store._totals()._events, 8);
    const tooBig = store._put(record(store._newKey(4, 'a', 4), 11));
    assert.equal(tooBig._ok, false);
  });

  test('default bounds: 5000 events and 512 KiB', () => {
    assert.equal(DEFAULT_MAX_STORED_EVENTS, 5000);
    assert.equal(DEFAULT_MAX_STORED_BYTES, 524288);
    const store = createBatchStore({ _getStorage: () => createStorage(), _prefix: 'p:' });
    assert.equal(store._put(record(store._newKey(1, 'a', 1), 5001))._ok, false);
    assert.equal(store._put(record(store._newKey(1, 'a', 3), 5000))._ok, true, 'a 5000-event batch (~400 KB) fits');
    assert.equal(store._put({ ...record(store._newKey(1, 'a', 2), 1), _body: 'x'.repeat(524288) })._ok, false);
  });

  test('quota exceeded: memory only, reported once, never throws', () => {
    const ls = createStorage({ quotaChars: 500 });
    const errors = [];
    const store = createBatchStore({ _getStorage: () => ls, _prefix: 'p:', _onError: (e) => errors.push(e) });
    assert.equal(store._put(record(store._newKey(1, 'a', 1), 10))._ok, false);
    assert.equal(store._put(record(store._newKey(1, 'a', 2), 1))._ok, false);
    assert.equal(store._mode(), 'memory');
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /QuotaExceededError/);
  });

  test('a throwing or missing localStorage: memory only, never throws', () => {
    for (const getStorage of [() => { throw Object.assign(new Error('no'), { name: 'SecurityError' }); }, () => null, () => ({})]) {
      const store = createBatchStore({ _getStorage: getStorage, _prefix: 'p:' });
      assert.doesNotThrow(() => {
        assert.equal(store._usable(), false);
        assert.deepEqual(store._list(), []);
        assert.equal(store._put(record('p:q:1', 1))._ok, false);
        store._remove('p:q:1');
        assert.equal(store._purge(), 0);
      });
    }
  });

  test('a localStorage whose methods throw after a while', () => {
    const ls = createStorage();
    const store = createBatchStore({ _getStorage: () => ls, _prefix: 'p:' });
    assert.ok(store._put(record(store._newKey(1, 'a', 1), 2))._ok);
    ls.getItem = () => { throw new Error('gone'); };
    assert.doesNotThrow(() => store._list());
    assert.equal(store._mode(), 'memory');
  });
});

describe('claim.js', () => {
  test('with Web Locks: one scan at a time; liveness follows the tab lock', async () => {
    const locks = createLockManager();
    const nav = (tab) => ({ locks: locks.forTab(tab) });
    const a = createClaimer({ _getNavigator: () => nav('A'), _prefix: 'p:', _tabId: 'A' });
    const b = createClaimer({ _getNavigator: () => nav('B'), _prefix: 'p:', _tabId: 'B' });
    a._holdTabLock();
    await Promise.resolve();
    assert.ok(locks.held.has('p:tab:A'));
    let release;
    const gate = new Promise((r) => { release = r; });
    const first = b._exclusive(async (alive) => {
      assert.equal(alive({ _owner: 'A', _until: 0 }), true, 'A holds its tab lock');
      assert.equal(alive({ _owner: 'Z', _until: Infinity }), false, 'Z has no tab lock: gone');
      assert.equal(alive({ _owner: '', _until: 0 }), false);
      await gate;
    }, () => 0);
    await new Promise((r) => setImmediate(r));
    const second = await a._exclusive(async () => { throw new Error('must not run'); }, () => 0);
    assert.equal(second, false, 'the adoption lock is busy');
    release();
    assert.equal(await first, true);
    locks.kill('A');
    assert.equal(await b._exclusive(async (alive) => { assert.equal(alive({ _owner: 'A', _until: Infinity }), false); }, () => 0), true);
  });

  test('without Web Locks: liveness is the lease', async () => {
    const c = createClaimer({ _getNavigator: () => ({}), _prefix: 'p:', _tabId: 'B' });
    assert.equal(c._usesLocks(), false);
    assert.equal(await c._exclusive(async (alive) => {
      assert.equal(alive({ _owner: 'A', _until: 101 }), true);
      assert.equal(alive({ _owner: 'A', _until: 100 }), false);
      assert.equal(alive({ _owner: 'B', _until: 1e12 }), false, 'own records are not "another live tab"');
    }, () => 100), true);
  });

  test('a broken locks API falls back to leases and reports once', async () => {
    const errors = [];
    const c = createClaimer({ _getNavigator: () => ({ locks: { request: () => Promise.reject(new Error('broken')) } }), _prefix: 'p:', _tabId: 'B', _onError: (e) => errors.push(e) });
    let ran = false;
    assert.equal(await c._exclusive(async () => { ran = true; }, () => 0), true);
    assert.ok(ran);
    assert.equal(c._usesLocks(), false);
    assert.equal(errors.length, 1);
  });
});
