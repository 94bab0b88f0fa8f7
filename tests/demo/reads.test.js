// The dashboard's queries and the beacons: on a SQLite file, /api/gigs reads every event,
// and it runs on a worker thread (demo/read-worker.js), so POST /collect keeps being
// answered while one runs. The collector runs in a child process so this test's own
// requests are not held by it either. Structural check only: it counts the beacons answered
// while one read is outstanding, and asserts nothing about how fast anything is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../demo/store.js';
import { batch, post, getJson, startCollectorProcess } from './support.js';

/** Beacons answered while one /api/gigs is outstanding; on the collector's thread, at most 1 or 2. */
const WHILE_READING = 8;

/** Fills a store file with `pageViews` page views of 100 impressions over 5,000 gigs. */
function fill(dbPath, pageViews) {
  const store = openStore(dbPath);
  const received = Date.now();
  let gig = 0;
  for (let p = 0; p < pageViews; p++) {
    const ev = [];
    for (let s = 1; s <= 100; s++) ev.push({ e: 'imp', s, t: s, id: `gig-${(gig = (gig + 7919) % 5000)}`, pos: s, f: 1 });
    store.addBatch({ v: 1, pv: `pv-${p}`, path: '/search', at: 100, drop: 0, ev }, received);
  }
  store.close();
}


test('beacons are answered while a dashboard query runs on a large SQLite file', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-reads-'));
  const dbPath = join(dir, 'events.sqlite');
  let child;
  try {
    fill(dbPath, 1000);
    const started = await startCollectorProcess(dbPath);
    child = started.child;
    const { url } = started;
    assert.equal((await post(url, batch({ pv: 'warm-up' }))).status, 200);
    let gigsAnswered = false;
    const reading = getJson(url, '/api/gigs').then((answer) => {
      gigsAnswered = true;
      return answer;
    });
    let beacons = 0;
    let sent = 0;
    while (!gigsAnswered) {
      const res = await post(url, batch({ pv: `while-reading-${sent++}` }));
      assert.equal(res.status, 200);
      if (!gigsAnswered) beacons++;
    }
    const answer = await reading;
    assert.equal(answer.gigs?.length, 1000, `the query read the whole table: ${JSON.stringify(answer).slice(0, 200)}`);
    assert.ok(beacons >= WHILE_READING, `${beacons} beacons answered while /api/gigs was outstanding`);
    const totals = await getJson(url, '/api/totals');
    assert.equal(totals.events, 100000 + 4 * (sent + 1), 'the reads see what the beacons stored');
  } finally {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
