// Collector processes against a real ClickHouse: two collectors writing the same events
// at once (each event counted exactly once), ClickHouse killed during a write burst with
// the collector killed (kill -9) after it or in the middle of it: every acknowledged
// batch is in ClickHouse once a new collector has replayed the spool.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { startTestClickHouse, startCollectorProcess, scalar, batch, post, getJson, waitFor } from './support.mjs';

let clickhouse;
before(async () => { clickhouse = await startTestClickHouse(); });
after(async () => { await clickhouse?.close(); });

/** `pages` page views of `perPage` batches each (4 events a batch, gigs spread over 7 ids). */
function workload(pages, perPage) {
  const batches = [];
  for (let p = 0; p < pages; p++) {
    for (let b = 0; b < perPage; b++) {
      batches.push(batch({ pv: `pv-${p}`, from: 1 + 4 * b, id: `gig-${(p + b) % 7}`, pos: 1 + b }));
    }
  }
  return batches;
}

/** Sends every body with `concurrency` requests in flight; calls onAnswer(i, answer | error). */
async function sendAll(url, bodies, concurrency, onAnswer = () => {}) {
  let next = 0;
  const answers = new Array(bodies.length);
  async function worker() {
    while (next < bodies.length) {
      const i = next++;
      answers[i] = await post(url, bodies[i]).catch((error) => error);
      onAnswer(i, answers[i]);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

test('two collector processes given the same events store each exactly once', async () => {
  const database = clickhouse.database();
  const spool = (name) => join(clickhouse.dir, `${database}-${name}.spool`);
  const a = await startCollectorProcess(clickhouse.storeUrl(database, spool('a'), '&batch_ms=20'));
  const b = await startCollectorProcess(clickhouse.storeUrl(database, spool('b'), '&batch_ms=20'));
  try {
    const bodies = workload(30, 4); // 120 batches, 480 events
    const [toA, toB] = await Promise.all([sendAll(a.url, bodies, 24), sendAll(b.url, bodies, 24)]);
    for (const answer of [...toA, ...toB]) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.spooled, false);
    }
    assert.ok(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.events`) >= 480);
    assert.equal(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.events FINAL`), 480);
    for (const collector of [a, b]) {
      const totals = await getJson(collector.url, '/api/totals');
      assert.deepEqual([totals.events, totals.batches, totals.page_views, totals.impressions], [480, 120, 30, 120]);
    }
    await assert.rejects(startCollectorProcess(clickhouse.storeUrl(database, spool('a'))),
      /in use by process \d+; give each collector its own spool file/, 'a third collector on a\'s spool does not start');
  } finally {
    await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
  }
});

test('ClickHouse killed during a burst, then the collector killed: every acknowledged batch arrives', async () => {
  const database = clickhouse.database();
  const spoolPath = join(clickhouse.dir, `${database}.spool`);
  const store = clickhouse.storeUrl(database, spoolPath, '&batch_ms=20');
  const first = await startCollectorProcess(store);
  const bodies = workload(25, 4); // 100 batches, 400 events
  let acknowledged = 0;
  let stopping = null;
  const answers = await sendAll(first.url, bodies, 4, (i, answer) => {
    if (answer.status === 200 && ++acknowledged === 15) stopping = clickhouse.kill();
  });
  await stopping;
  assert.deepEqual(answers.map((a) => a.status), bodies.map(() => 200), 'the spool took what ClickHouse could not');
  const spooled = answers.filter((a) => a.body.spooled).length;
  assert.ok(spooled > 0 && spooled < bodies.length, `some batches went to the spool (${spooled})`);
  assert.ok(statSync(spoolPath).size > 0);
  await first.kill('SIGKILL');

  await clickhouse.start();
  const second = await startCollectorProcess(store); // takes over the spool and replays it
  try {
    await waitFor(async () => statSync(spoolPath).size === 0, { what: 'the spool to drain' });
    assert.equal(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.events FINAL`), 400);
    assert.equal(await scalar(clickhouse.sql, `SELECT uniqExact(pv, s) FROM ${database}.events`), 400);
    const totals = await getJson(second.url, '/api/totals');
    assert.deepEqual([totals.events, totals.batches, totals.page_views], [400, 100, 25]);
  } finally {
    await second.kill('SIGTERM');
  }
});

test('a collector killed with SIGKILL in the middle of a burst loses no acknowledged batch', async () => {
  const database = clickhouse.database();
  const spoolPath = join(clickhouse.dir, `${database}.spool`);
  const store = clickhouse.storeUrl(database, spoolPath, '&batch_ms=20');
  const first = await startCollectorProcess(store);
  const bodies = workload(50, 4); // 200 batches; the collector dies after 60 answers
  const acknowledged = new Set();
  let stopping = null;
  let killing = null;
  await sendAll(first.url, bodies, 8, (i, answer) => {
    if (answer.status !== 200) return;
    acknowledged.add(i);
    if (acknowledged.size === 10) stopping = clickhouse.kill();
    if (acknowledged.size === 60) killing = first.kill('SIGKILL');
  });
  await Promise.all([stopping, killing]);
  assert.ok(acknowledged.size >= 60 && acknowledged.size < bodies.length, `answered before the kill: ${acknowledged.size}`);

  await clickhouse.start();
  const second = await startCollectorProcess(store);
  try {
    await waitFor(async () => statSync(spoolPath).size === 0, { what: 'the spool to drain' });
    const stored = new Set((await clickhouse.sql.rows(`SELECT pv, s FROM ${database}.events FINAL`))
      .map((row) => `${row.pv}/${row.s}`));
    const missing = [...acknowledged].flatMap((i) => bodies[i].ev.map((ev) => `${bodies[i].pv}/${ev.s}`))
      .filter((key) => !stored.has(key));
    assert.deepEqual(missing, [], 'every acknowledged event is in ClickHouse');
    assert.equal(await scalar(clickhouse.sql, `SELECT count() FROM ${database}.events FINAL`), stored.size);
  } finally {
    await second.kill('SIGTERM');
  }
});
