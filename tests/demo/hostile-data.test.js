// The collector under hostile data: numbers past what the core can write, rows no
// collector of ours would store, and strings that are not well-formed Unicode.
// hostile-http.test.js has the hostile requests and connections. Each test starts its own
// collector on 127.0.0.1:0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../demo/store.js';
import { batch, withCollector, post, getJson } from './support.js';

const UINT32_MAX = 4294967295;

test('every number is bounded by what the core writes (uint32): one past it is refused', async () => {
  const past = UINT32_MAX + 1;
  const base = batch();
  const cases = [
    ['at', { ...base, at: past }],
    ['drop', { ...base, drop: past }],
    ['t', { ...base, ev: [{ ...base.ev[0], t: past }] }],
    ['pos', { ...base, ev: [{ ...base.ev[0], pos: past }] }],
    ['ms', { ...base, ev: [{ ...base.ev[2], ms: past }] }],
    ['max', { ...base, ev: [{ ...base.ev[2], max: past }] }],
    ['n', { ...base, ev: [{ ...base.ev[2], n: past }] }],
    ['since', { ...base, ev: [{ ...base.ev[3], since: past }] }],
    ['t far past the date range', { ...base, ev: [{ ...base.ev[0], t: 9000000000000000 }] }],
  ];
  await withCollector({}, async ({ url }) => {
    for (const [name, body] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, 422, name);
      assert.match(res.body.error, /must be <= 4294967295/, name);
    }
    // The largest values the core can write are fine (a page view of 49.7 days).
    const largest = { ...base, at: UINT32_MAX, drop: UINT32_MAX, ev: [
      { ...base.ev[0], t: UINT32_MAX, pos: UINT32_MAX },
      { ...base.ev[2], ms: UINT32_MAX, max: UINT32_MAX, n: UINT32_MAX },
      { ...base.ev[3], since: UINT32_MAX }] };
    assert.equal((await post(url, largest)).status, 200);
    assert.equal((await post(url, { ...largest, pv: 'pv-2' })).status, 200);
    const totals = await getJson(url, '/api/totals');
    assert.equal(totals.events, 6);
    assert.equal(totals.visible_ms, 2 * UINT32_MAX);
    assert.equal(totals.dropped, 2 * UINT32_MAX);
    const lines = (await (await fetch(url + '/export.ndjson')).text()).trim().split('\n');
    assert.equal(lines.length, 6);
  });
});

test('rows no collector of ours would store (old rows, other writers) leave every read endpoint working', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-poison-'));
  const dbPath = join(dir, 'events.sqlite');
  try {
    const store = openStore(dbPath);
    const huge = 2n ** 62n;
    const insert = store.db.prepare(`INSERT INTO events (pv, s, e, t, id, pos, ms, max, n, path, ts, received)
      VALUES (@pv, @s, @e, @t, 'gig-1', @pos, @ms, @ms, 1, '/', @ts, @received)`);
    insert.run({ pv: 'a', s: 1, e: 'vis', t: 9000000000000000, pos: null, ms: huge, ts: 9000000000000000, received: -1 });
    insert.run({ pv: 'b', s: 1, e: 'vis', t: 1, pos: null, ms: huge, ts: -huge, received: huge });
    insert.run({ pv: 'c', s: 1, e: 'imp', t: 1, pos: huge, ms: null, ts: 1700000000000, received: 1700000000000 });
    insert.run({ pv: 'c', s: 2, e: 'imp', t: 1, pos: huge, ms: null, ts: 1700000000000, received: 1700000000000 });
    const batchRow = store.db.prepare(`INSERT INTO batches (pv, s_first, s_last, events, path, at, dropped, received)
      VALUES (@pv, 1, 1, 1, '/', 0, @dropped, 0)`);
    batchRow.run({ pv: 'a', dropped: huge });
    batchRow.run({ pv: 'b', dropped: huge });
    store.close();

    await withCollector({ dbPath }, async ({ url }) => {
      for (const path of ['/api/totals', '/api/gigs', '/api/series?bucket=10000', '/api/totals?human=1']) {
        const res = await fetch(url + path);
        assert.equal(res.status, 200, path);
        await res.json();
      }
      const totals = await getJson(url, '/api/totals');
      assert.equal(totals.events, 4);
      assert.ok(Number.isFinite(totals.visible_ms) && totals.visible_ms <= 2 * UINT32_MAX, 'visible time clamped per span');
      assert.ok(totals.dropped <= 2 * UINT32_MAX, 'drop clamped per batch');
      const res = await fetch(url + '/export.ndjson');
      assert.equal(res.status, 200);
      const lines = (await res.text()).trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(lines.length, 4);
      for (const line of lines) {
        assert.ok(line.ts === null || /^\d{4}-\d\d-\d\dT/.test(line.ts), `ts ${line.ts}`);
        assert.ok(line.received === null || /^[+-]?\d{4,6}-\d\d-\d\dT/.test(line.received), `received ${line.received}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ids, paths and list ids that are not well-formed Unicode (lone surrogates) are refused', async () => {
  await withCollector({}, async ({ url }) => {
    const base = batch();
    const cases = [
      ['pv', { ...base, pv: 'pv-\ud800' }, /\/pv/],
      ['pv, low surrogate', { ...base, pv: 'pv-\udc00' }, /\/pv/],
      ['path', { ...base, path: '/x\udfff' }, /\/path/],
      ['id', { ...base, ev: [{ ...base.ev[0], id: 'gig-\ud83d' }] }, /\/ev\/0\/id/],
      ['list', { ...base, ev: [{ ...base.ev[0], list: 'q\ude00' }] }, /\/ev\/0\/list/],
    ];
    for (const [name, body, where] of cases) {
      const res = await post(url, JSON.stringify(body)); // JSON.stringify escapes them as \udXXX
      assert.equal(res.status, 422, name);
      assert.match(res.body.error, where, name);
      assert.match(res.body.error, /well-formed Unicode/, name);
    }
    // A proper pair (an emoji) is fine.
    assert.equal((await post(url, { ...base, pv: 'pv-\ud83d\ude00' })).status, 200);
    assert.equal((await getJson(url, '/api/totals')).events, 4);
  });
});
