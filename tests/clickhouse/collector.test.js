// The collector suite against a real ClickHouse (in this process): valid, invalid,
// duplicate and resent batches give exact counts, read both through the dashboard
// endpoints and straight from the tables with FINAL.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { listenCollector } from '../../demo/collector.js';
import { openClickHouseStore } from '../../demo/store-clickhouse.js';
import { startTestClickHouse, scalar, batch, post, getJson } from './support.mjs';

let clickhouse;
before(async () => { clickhouse = await startTestClickHouse(); });
after(async () => { await clickhouse?.close(); });

async function withClickHouseCollector(run) {
  const database = clickhouse.database();
  const store = openClickHouseStore({ url: clickhouse.url, database, batchMs: 20,
    spoolPath: join(clickhouse.dir, `${database}.spool`) });
  const started = await listenCollector({ store });
  try {
    await run({ url: started.url, database, store });
  } finally {
    await started.close();
  }
}

const countFinal = (database) => scalar(clickhouse.sql, `SELECT count() FROM ${database}.events FINAL`);

test('a valid batch is stored in ClickHouse and shows up in the dashboard endpoints', async () => {
  await withClickHouseCollector(async ({ url, database }) => {
    const res = await post(url, batch());
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { stored: 4, duplicates: 0, spooled: false });
    assert.equal(await countFinal(database), 4);
    const { gigs } = await getJson(url, '/api/gigs');
    assert.equal(gigs.length, 1);
    assert.deepEqual([gigs[0].id, gigs[0].impressions, gigs[0].viewable, gigs[0].clicks, gigs[0].visible_ms,
      gigs[0].avg_position, gigs[0].clicks_after_view], ['gig-1', 1, 1, 1, 1381, 3, 1]);
    const totals = await getJson(url, '/api/totals');
    assert.deepEqual([totals.events, totals.page_views, totals.batches], [4, 1, 1]);
  });
});

test('invalid batches are refused with their status and never reach ClickHouse', async () => {
  await withClickHouseCollector(async ({ url, database }) => {
    const valid = batch();
    const cases = [
      ['', 400], ['{"v":1', 400], ['[]', 422], [{ ...valid, v: 2 }, 422],
      [{ ...valid, ev: [] }, 422], [{ ...valid, ev: [{ ...valid.ev[0], s: 0 }] }, 422],
      [{ ...valid, ev: [{ ...valid.ev[0], id: 'x'.repeat(129) }] }, 422],
    ];
    for (const [body, status] of cases) assert.equal((await post(url, body)).status, status, JSON.stringify(body).slice(0, 60));
    assert.equal((await post(url, valid)).status, 200, 'a valid batch after them still goes in');
    assert.equal(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.events`), 4, 'only the valid batch, in raw rows too');
    assert.equal((await getJson(url, '/api/totals')).collector.rejected['422'], 5);
  });
});

test('duplicate and resent batches count once; an overlapping batch adds only its new events', async () => {
  await withClickHouseCollector(async ({ url, database }) => {
    await post(url, batch());
    const before = await getJson(url, '/api/gigs');
    // The same batch twice at once (two retries in flight) and once more later.
    const copies = await Promise.all([post(url, batch()), post(url, batch())]);
    assert.deepEqual(copies.map((r) => r.status), [200, 200]);
    assert.equal((await post(url, batch())).status, 200);
    assert.ok(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.events`) >= 4, 'copies may sit in unmerged parts');
    assert.equal(await countFinal(database), 4);
    assert.deepEqual(await getJson(url, '/api/gigs'), before);
    const totals = await getJson(url, '/api/totals');
    assert.deepEqual([totals.events, totals.batches, totals.impressions, totals.clicks], [4, 1, 1, 1]);

    await post(url, batch({ from: 3 })); // s = 3..6: two known, two new
    assert.equal(await countFinal(database), 6);
    assert.equal((await getJson(url, '/api/totals')).events, 6);
    assert.equal(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.batches FINAL`), 2);
  });
});

test('the first copy received wins, as in SQLite', async () => {
  await withClickHouseCollector(async ({ database, store }) => {
    await store.addBatch(batch(), 1_000_000);
    await store.addBatch(batch(), 2_000_000); // resent much later: a different ts estimate
    const [row] = await clickhouse.sql.rows(`SELECT min(received) AS first, max(received) AS last, count() AS n FROM ${database}.events FINAL`);
    assert.deepEqual(row, { first: 1_000_000, last: 1_000_000, n: 4 });
  });
});

test('the NDJSON export lists each event once', async () => {
  await withClickHouseCollector(async ({ url }) => {
    await post(url, batch({ pv: 'a' }));
    await post(url, batch({ pv: 'a' }));
    await post(url, batch({ pv: 'b', id: 'gig-é' }));
    const lines = (await (await fetch(url + '/export.ndjson')).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 8);
    assert.deepEqual(new Set(lines.map((l) => `${l.pv}/${l.s}`)).size, 8);
    assert.ok(lines.some((l) => l.id === 'gig-é'));
    assert.match(lines[0].ts, /^\d{4}-\d\d-\d\dT/);
  });
});

test('with ttl_days on 18.16, day partitions past the limit are dropped at start', async () => {
  await withClickHouseCollector(async ({ database, store }) => {
    const day = 86400000;
    await store.addBatch(batch({ pv: 'old' }), Date.now() - 40 * day);
    await store.addBatch(batch({ pv: 'recent' }), Date.now() - 5 * day);
    const kept = openClickHouseStore({ url: clickhouse.url, database, ttlDays: 30,
      spoolPath: join(clickhouse.dir, `${database}-ttl.spool`) });
    try {
      const totals = await kept.totals();
      assert.deepEqual([totals.events, totals.page_views, totals.batches], [4, 1, 1]);
      assert.equal(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.events WHERE pv = 'old'`), 0);
    } finally {
      await kept.close();
    }
  });
});

test('a copy resent the next day lands in another partition and still counts once', async () => {
  await withClickHouseCollector(async ({ database, store }) => {
    const midnight = Date.UTC(2026, 10, 30);
    const sent = { ...batch({ pv: 'late' }), drop: 2 };
    await store.addBatch(sent, midnight - 1000); // its events happened before midnight
    await store.addBatch(sent, midnight + 60000); // the resend's estimate is after it
    assert.equal(await scalar(clickhouse.sql, `SELECT uniqExact(partition_id) FROM system.parts
      WHERE database = '${database}' AND table = 'events' AND active`), 2, 'the copies are in two partitions');
    const totals = await store.totals();
    assert.deepEqual([totals.events, totals.impressions, totals.batches, totals.dropped], [4, 1, 1, 2]);
    const exported = [];
    for await (const row of store.exportRows()) exported.push(row);
    assert.equal(exported.length, 4);
  });
});
