// Collector tests: what POST /collect stores and what reads it back: a valid batch in the
// dashboard endpoints, both content types, dedup of resent and overlapping batches, a
// batch's drop, the SQLite store across restarts, the NDJSON export and the time series.
// collector-input.test.js has the input it refuses or limits. Each test starts its own
// collector on 127.0.0.1:0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, SCHEMA_VERSION } from '../../demo/store.js';
import { batch, withCollector, post, getJson } from './support.js';

test('a valid batch is stored and shows up in the dashboard endpoints', async () => {
  await withCollector({}, async ({ url }) => {
    const res = await post(url, batch());
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { stored: 4, duplicates: 0 });

    const { gigs } = await getJson(url, '/api/gigs');
    assert.equal(gigs.length, 1);
    const gig = gigs[0];
    assert.equal(gig.id, 'gig-1');
    assert.equal(gig.impressions, 1);
    assert.equal(gig.viewable, 1);
    assert.equal(gig.clicks, 1);
    assert.equal(gig.clicks_after_view, 1);
    assert.equal(gig.visible_ms, 1380);
    assert.equal(gig.avg_position, 3);
    assert.equal(gig.viewable_rate, 1);
    assert.equal(gig.ctr, 1);
    assert.equal(gig.ctr_viewable, 1);

    const totals = await getJson(url, '/api/totals');
    assert.equal(totals.events, 4);
    assert.equal(totals.page_views, 1);
    assert.equal(totals.batches, 1);
    assert.equal(totals.collector.accepted, 1);
  });
});

test('fetch (application/json) and beacon (text/plain) bodies are both accepted', async () => {
  await withCollector({}, async ({ url }) => {
    assert.equal((await post(url, batch({ pv: 'a' }), { 'Content-Type': 'application/json' })).status, 200);
    assert.equal((await post(url, batch({ pv: 'b' }), { 'Content-Type': 'text/plain;charset=UTF-8' })).status, 200);
    assert.equal((await post(url, batch({ pv: 'c' }), {})).status, 200);
    assert.equal((await getJson(url, '/api/totals')).page_views, 3);
  });
});

test('a resent batch changes nothing; an overlapping one adds only its new events', async () => {
  await withCollector({}, async ({ url }) => {
    await post(url, batch());
    const before = await getJson(url, '/api/gigs');
    const again = await post(url, batch());
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { stored: 0, duplicates: 4 });
    assert.deepEqual(await getJson(url, '/api/gigs'), before);
    const totals = await getJson(url, '/api/totals');
    assert.equal(totals.events, 4);
    assert.equal(totals.batches, 1);

    const overlap = batch({ from: 3 }); // s = 3..6: two known, two new
    const res = await post(url, overlap);
    assert.deepEqual(res.body, { stored: 2, duplicates: 2 });
    assert.equal((await getJson(url, '/api/totals')).events, 6);
  });
});

test('a batch\'s drop counts once per page view and first s, whatever the order of its events', async () => {
  await withCollector({}, async ({ url }) => {
    const sent = { ...batch(), drop: 3 };
    assert.equal((await post(url, sent)).status, 200);
    const reordered = { ...sent, ev: [...sent.ev].reverse() }; // the same batch, resent
    assert.deepEqual((await post(url, reordered)).body, { stored: 0, duplicates: 4 });
    let totals = await getJson(url, '/api/totals');
    assert.deepEqual([totals.events, totals.batches, totals.dropped], [4, 1, 3]);
    // Another batch of the page view carries its own drop; its events in reverse order.
    const next = batch({ from: 5 });
    assert.equal((await post(url, { ...next, drop: 2, ev: next.ev.reverse() })).status, 200);
    totals = await getJson(url, '/api/totals');
    assert.deepEqual([totals.events, totals.batches, totals.dropped, totals.impressions], [8, 2, 5, 2]);
  });
});

test('restart with the same database file keeps the data and the schema version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-'));
  const dbPath = join(dir, 'nested', 'events.sqlite');
  try {
    await withCollector({ dbPath }, async ({ url }) => {
      assert.equal((await post(url, batch())).status, 200);
    });
    await withCollector({ dbPath }, async ({ url }) => {
      const totals = await getJson(url, '/api/totals');
      assert.equal(totals.events, 4);
      // Dedup survives the restart too.
      assert.deepEqual((await post(url, batch())).body, { stored: 0, duplicates: 4 });
      assert.equal((await post(url, batch({ pv: 'second' }))).status, 200);
    });
    const store = openStore(dbPath);
    assert.equal(store.schemaVersion(), SCHEMA_VERSION);
    assert.equal(store.totals().events, 8);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database from a newer collector is refused, not damaged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-'));
  const dbPath = join(dir, 'future.sqlite');
  try {
    const db = new Database(dbPath);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openStore(dbPath), /newer than this collector/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NDJSON export has one line per stored event with its batch header', async () => {
  await withCollector({}, async ({ url }) => {
    await post(url, batch({ wd: true }));
    await post(url, batch({ pv: 'pv-2' }));
    const res = await fetch(url + '/export.ndjson');
    assert.match(res.headers.get('content-type'), /ndjson/);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 8);
    const click = lines.find((l) => l.pv === 'pv-1' && l.e === 'click');
    assert.equal(click.s, 4);
    assert.equal(click.seen, 1);
    assert.equal(click.since, 1480);
    assert.equal(click.path, '/search');
    assert.equal(click.wd, 1);
    assert.equal(click.ms, null);
    assert.match(click.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const human = (await (await fetch(url + '/export.ndjson?human=1')).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(human.map((l) => `${l.pv}/${l.s}/${l.wd}`), ['pv-2/1/0', 'pv-2/2/0', 'pv-2/3/0', 'pv-2/4/0'],
      '?human=1 leaves out the automated page view');
  });
});

test('series buckets events by estimated event time; ?human=1 leaves out automated views', async () => {
  const clock = 1_700_000_000_000; // a bucket boundary for 10 s buckets
  await withCollector({ now: () => clock }, async ({ url }) => {
    await post(url, batch({ wd: true }));
    await post(url, batch({ pv: 'person' }));
    const all = await getJson(url, '/api/series?bucket=10000');
    assert.equal(all.bucket, 10000);
    // at = 5200 and t <= 1600: every event happened 3.6 s or more before arrival.
    assert.deepEqual(all.rows.map((r) => [r.time, r.impressions, r.viewable, r.clicks, r.visible_ms]),
      [[clock - 10000, 2, 2, 2, 2760]]);
    for (const [query, bucket] of [['bucket=0', 1000], ['bucket=-5', 1000], ['bucket=abc', 10000],
      ['bucket=999999999999', 86400000], ['bucket=1e400', 86400000], ['bucket=6e3', 6000],
      ["bucket=1000;DROP TABLE events&since=-1", 10000]]) {
      const answer = await getJson(url, `/api/series?${query}`);
      assert.equal(answer.bucket, bucket, query);
      assert.equal(answer.rows.reduce((sum, r) => sum + r.impressions, 0), 2, `${query}: every event counted`);
    }
    for (const since of ['99999999999999999999', '1e21', String(clock + 1), `${clock / 1e12}e12`]) {
      assert.deepEqual((await getJson(url, `/api/series?since=${since}`)).rows, [], `since=${since}: after every event`);
    }
    assert.equal((await getJson(url, `/api/series?since=${(clock - 10000) / 1e12}e12`)).rows.length, 1, 'since in exponent form');
    const human = await getJson(url, '/api/series?bucket=10000&human=1');
    assert.equal(human.rows[0].impressions, 1);
    await post(url, { ...batch({ pv: 'robot', wd: true }), drop: 5 });
    const totals = await getJson(url, '/api/totals?human=1');
    assert.deepEqual([totals.page_views, totals.batches, totals.dropped], [1, 1, 0],
      'the batches and drops of automated page views are left out too');
    const everyone = await getJson(url, '/api/totals');
    assert.deepEqual([everyone.automated_page_views, everyone.batches, everyone.dropped], [2, 3, 5]);
  });
});
