// Collector tests: the HTTP contract of POST /collect (status codes and reasons for every
// kind of bad input, dedup, flooding), the dashboard endpoints, the NDJSON export and the
// SQLite store across restarts. Each test starts its own collector on 127.0.0.1:0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MAX_BODY_BYTES } from '../../demo/collector.js';
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

test('every kind of bad input gets its exact status and a reason', async () => {
  const valid = batch();
  const cases = [
    ['empty body', '', 400, /empty/],
    ['whitespace body', '   \n', 400, /empty/],
    ['truncated JSON', JSON.stringify(valid).slice(0, 40), 400, /unparseable/],
    ['not JSON at all', 'hello', 400, /unparseable/],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, /UTF-8/],
    ['JSON array', '[]', 422, /schema: \/: must be object/],
    ['JSON number', '5', 422, /schema/],
    ['JSON null', 'null', 422, /schema/],
    ['wrong version', { ...valid, v: 2 }, 422, /\/v: must be 1/],
    ['missing pv', (({ pv, ...rest }) => rest)(valid), 422, /pv/],
    ['unknown header field', { ...valid, extra: true }, 422, /unknown property "extra"/],
    ['path too long', { ...valid, path: '/' + 'x'.repeat(600) }, 422, /\/path/],
    ['no events', { ...valid, ev: [] }, 422, /\/ev/],
    ['event is not an object', { ...valid, ev: [7] }, 422, /\/ev\/0: must be an object/],
    ['unknown event type', { ...valid, ev: [{ e: 'hover', s: 1, t: 1, id: 'g' }] }, 422, /\/ev\/0\/e: must be one of/],
    ['impression without f', { ...valid, ev: [{ e: 'imp', s: 1, t: 1, id: 'g' }] }, 422, /required property 'f' \(imp event\)/],
    ['vis with ms 0', { ...valid, ev: [{ e: 'vis', s: 1, t: 1, id: 'g', ms: 0, max: 1, n: 1 }] }, 422, /\/ev\/0\/ms/],
    ['sequence 0', { ...valid, ev: [{ ...valid.ev[0], s: 0 }] }, 422, /\/ev\/0\/s/],
    ['negative time', { ...valid, ev: [{ ...valid.ev[0], t: -1 }] }, 422, /\/ev\/0\/t/],
    ['fractional time', { ...valid, ev: [{ ...valid.ev[0], t: 1.5 }] }, 422, /\/ev\/0\/t/],
    ['unknown event field', { ...valid, ev: [{ ...valid.ev[0], url: 'x' }] }, 422, /unknown property "url"/],
    ['id over 128 bytes', { ...valid, ev: [{ ...valid.ev[0], id: 'é'.repeat(65) }] }, 422, /128 UTF-8 bytes/],
    ['deeply nested arrays', '['.repeat(30000) + ']'.repeat(30000), 422, /must be object/],
    ['deeply nested event field', JSON.stringify({ ...valid, ev: [{ ...valid.ev[0], id: 'X' }] }).replace('"X"', '['.repeat(20000) + ']'.repeat(20000)), 422, /\/ev\/0\/id/],
    ['list over 64 bytes', { ...valid, ev: [{ ...valid.ev[0], list: 'q'.repeat(65) }] }, 422, /64 UTF-8 bytes/],
  ];
  await withCollector({}, async ({ url }) => {
    for (const [name, body, status, reason] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, status, name);
      assert.match(res.body.error, reason, name);
    }
    assert.equal((await getJson(url, '/api/totals')).events, 0, 'nothing bad was stored');
  });
});

test('bodies over 64 KiB get 413, with or without Content-Length; 64 KiB exactly is fine', async () => {
  await withCollector({}, async ({ url }) => {
    const json = JSON.stringify(batch());
    const exact = json + ' '.repeat(MAX_BODY_BYTES - json.length);
    assert.equal((await post(url, exact)).status, 200);

    const over = json + ' '.repeat(MAX_BODY_BYTES + 1 - json.length);
    const res = await post(url, over);
    assert.equal(res.status, 413);
    assert.match(res.body.error, /larger than 65536/);

    // Chunked: no Content-Length, so the limit is enforced while reading.
    const chunked = await fetch(url + '/collect', {
      method: 'POST', duplex: 'half',
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(20000)));
          controller.close();
        },
      }),
    });
    assert.equal(chunked.status, 413);
    // The server is still healthy afterwards.
    assert.equal((await post(url, batch({ pv: 'after' }))).status, 200);
  });
});

test('random garbage never yields a 5xx', async () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pieces = ['{', '}', '[', ']', '"v"', ':', '1', ',', '"ev"', '"e"', '"imp"', 'null', '-1', '1e999', '"\\u0000"', '"pv"', '\u2028', 'true'];
  await withCollector({ rateLimit: { burst: 1000, perSecond: 1000 } }, async ({ url }) => {
    for (let i = 0; i < 150; i++) {
      let body = '';
      const n = Math.floor(random() * 30);
      for (let j = 0; j < n; j++) body += pieces[Math.floor(random() * pieces.length)];
      if (random() < 0.3) { // mutate a valid batch instead
        const text = JSON.stringify(batch({ pv: 'g' + i }));
        const at = Math.floor(random() * text.length);
        body = text.slice(0, at) + pieces[Math.floor(random() * pieces.length)] + text.slice(at + 1);
      }
      const res = await post(url, body);
      assert.ok([200, 400, 422].includes(res.status), `status ${res.status} for ${JSON.stringify(body)}`);
    }
  });
});

test('wrong methods and unknown endpoints', async () => {
  await withCollector({}, async ({ url }) => {
    const get = await fetch(url + '/collect');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    assert.equal((await fetch(url + '/api/gigs', { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(url + '/api/nope')).status, 404);
    assert.equal((await fetch(url + '/elsewhere')).status, 404);
  });
});

test('CORS: preflight answered, origin echoed', async () => {
  await withCollector({}, async ({ url }) => {
    const pre = await fetch(url + '/collect', { method: 'OPTIONS', headers: {
      Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/i);
    const res = await post(url, batch(), { 'Content-Type': 'text/plain', Origin: 'https://shop.example' });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
  });
});

test('one client flooding gets 429 with Retry-After; others and later requests pass', async () => {
  let clock = 1_000_000;
  const options = {
    now: () => clock,
    rateLimit: { burst: 3, perSecond: 1 },
    clientKey: (req) => String(req.headers['x-client'] ?? 'a'),
  };
  await withCollector(options, async ({ url }) => {
    for (let i = 1; i <= 3; i++) assert.equal((await post(url, batch({ pv: 'f' + i }))).status, 200);
    const flooded = await post(url, batch({ pv: 'f4' }));
    assert.equal(flooded.status, 429);
    assert.equal(flooded.headers.get('retry-after'), '1');
    assert.match(flooded.body.error, /too many/);
    // A bad body from a flooding client is still 429: the limit comes first.
    assert.equal((await post(url, '{')).status, 429);
    // Another client is not affected.
    const other = await post(url, batch({ pv: 'b1' }), { 'Content-Type': 'text/plain', 'X-Client': 'b' });
    assert.equal(other.status, 200);
    // After Retry-After seconds the client may send again.
    clock += 1000;
    assert.equal((await post(url, batch({ pv: 'f4' }))).status, 200);
    assert.equal((await post(url, batch({ pv: 'f5' }))).status, 429);
    const totals = await getJson(url, '/api/totals');
    assert.equal(totals.page_views, 5);
    assert.equal(totals.collector.rejected['429'], 3);
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
      ['bucket=999999999999', 86400000], ["bucket=1000;DROP TABLE events&since=-1", 1000]]) {
      const answer = await getJson(url, `/api/series?${query}`);
      assert.equal(answer.bucket, bucket, query);
      assert.equal(answer.rows.reduce((sum, r) => sum + r.impressions, 0), 2, `${query}: every event counted`);
    }
    assert.deepEqual((await getJson(url, '/api/series?since=99999999999999999999')).rows, []);
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
