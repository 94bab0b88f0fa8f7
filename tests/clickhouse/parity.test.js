// The dashboard's numbers from SQLite and from ClickHouse for the same input: totals,
// per-gig table and series (all events and humans only), and the export, read through the
// collector's HTTP endpoints. The input goes to both stores' addBatch with its arrival
// time (the HTTP write path is collector.test.js's). The input mixes gigs, positions, automated page views,
// dropped-event counts, resent and overlapping batches, and arrival times an hour apart.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { listenCollector } from '../../demo/collector.js';
import { openStore } from '../../demo/store.js';
import { openClickHouseStore } from '../../demo/store-clickhouse.js';
import { startTestClickHouse, batch, getJson } from './support.mjs';

let clickhouse;
before(async () => { clickhouse = await startTestClickHouse(); });
after(async () => { await clickhouse?.close(); });

/** The input: [batch, arrival ms] pairs, resends arriving later than their original. */
function input() {
  const start = Date.UTC(2026, 0, 15, 23, 30);
  const sent = [];
  for (let p = 0; p < 12; p++) {
    for (let b = 0; b < 3; b++) {
      const body = batch({ pv: `pv-${p}`, from: 1 + 4 * b, id: `gig-${(p * 3 + b) % 5}`, pos: 1 + ((p + b) % 9),
        wd: p % 4 === 0, drop: b === 2 ? p % 3 : 0, at: 4000 + 100 * b });
      const arrival = start + p * 5 * 60_000 + b * 7_000;
      sent.push([body, arrival]);
      if ((p + b) % 5 === 0) sent.push([body, arrival + 3_600_000]); // resent an hour later
    }
  }
  sent.push([batch({ pv: 'pv-1', from: 3, id: 'gig-1' }), start + 3_000_000]); // overlapping, new s_first
  return sent;
}


const withoutCounters = ({ collector, ...rest }) => rest;
const exportLines = async (url) => (await (await fetch(url + '/export.ndjson')).text()).trim().split('\n')
  .map((line) => JSON.parse(line)).sort((x, y) => `${x.pv}/${x.s}`.localeCompare(`${y.pv}/${y.s}`));

test('SQLite and ClickHouse show the same dashboard for the same input', async () => {
  const database = clickhouse.database();
  const sqlite = await listenCollector({ store: openStore(':memory:') });
  const house = await listenCollector({ store: openClickHouseStore({ url: clickhouse.url, database,
    spoolPath: join(clickhouse.dir, `${database}.spool`) }) });
  try {
    const written = input().map(([body, arrival]) => {
      sqlite.collector.store.addBatch(body, arrival);
      return house.collector.store.addBatch(body, arrival);
    });
    for (const result of await Promise.all(written)) assert.equal(result.spooled, false);
    const since = Date.UTC(2026, 0, 15, 23, 50);
    const paths = ['/api/totals', '/api/totals?human=1', '/api/gigs', '/api/gigs?human=1',
      '/api/series', '/api/series?bucket=60000&human=1', `/api/series?bucket=3600000&since=${since}`];
    for (const path of paths) {
      const [fromSqlite, fromClickHouse] = await Promise.all([getJson(sqlite.url, path), getJson(house.url, path)]);
      assert.deepEqual(withoutCounters(fromClickHouse), withoutCounters(fromSqlite), path);
    }
    const totals = await getJson(house.url, '/api/totals');
    assert.deepEqual([totals.events, totals.batches, totals.automated_page_views], [144, 37, 3]);
    assert.ok(totals.dropped > 0);
    assert.deepEqual(await exportLines(house.url), await exportLines(sqlite.url));
  } finally {
    await sqlite.close();
    await house.close();
  }
});
