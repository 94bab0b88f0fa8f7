// `make bench-store`: what the collector's stores sustain on this machine. Measures, never
// asserts. Scenarios, each BENCH_STORE_SECONDS (default 10) with BENCH_STORE_INFLIGHT (256)
// requests in flight:
// SQLite through one collector process, ClickHouse through one and through two. Then
// ClickHouse alone: insert latency by group size, the spool's append and replay rates,
// and the dashboard's queries (FINAL) on the rows loaded. A private clickhouse-server
// runs in a temporary folder. Results: terminal, and tests/bench/results/store.json.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { startClickHouse } from '../../demo/clickhouse-local.js';
import { createClickHouseClient } from '../../demo/clickhouse-http.js';
import { openClickHouseStore } from '../../demo/store-clickhouse.js';
import { runLoad, loadBatch, cpuSeconds, percentile, EVENTS_PER_BATCH } from './store-load.mjs';

const SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_STORE_INFLIGHT ?? 256); // many browsers at once
const COLLECTOR = fileURLToPath(new URL('store-collector.mjs', import.meta.url));
const RESULTS = fileURLToPath(new URL('results/store.json', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
const clickhouse = await startClickHouse({ dir: join(dir, 'clickhouse') });
const sql = createClickHouseClient({ url: clickhouse.url, timeoutMs: 600000 });
const results = { seconds: SECONDS, concurrency: CONCURRENCY, eventsPerBatch: EVENTS_PER_BATCH };

/** Starts a collector process on `store`; resolves to {url, pid, stop() -> stats}. */
async function startCollector(store, dbPath) {
  const child = spawn(process.execPath, [COLLECTOR, store, dbPath ?? ':memory:'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const { value } = await lines.next();
  const { url } = JSON.parse(value);
  return {
    url, pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      const { value: last } = await lines.next();
      return JSON.parse(last ?? '{}').stats ?? {};
    },
  };
}

async function scenario(name, stores) {
  const collectors = [];
  for (const [store, dbPath] of stores) collectors.push(await startCollector(store, dbPath));
  const pids = [...collectors.map((c) => c.pid), clickhouse.pid()];
  const cpuBefore = pids.map(cpuSeconds);
  const loadCpuBefore = process.cpuUsage();
  const load = await runLoad({ urls: collectors.map((c) => c.url), run: name, concurrency: CONCURRENCY, durationMs: SECONDS * 1000 });
  const cpuAfter = pids.map(cpuSeconds);
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const stats = await Promise.all(collectors.map((c) => c.stop()));
  const collectorCpu = collectors.reduce((sum, _, i) => sum + cpuAfter[i] - cpuBefore[i], 0);
  const clickhouseCpu = cpuAfter.at(-1) - cpuBefore.at(-1);
  const insertMs = stats.flatMap((s) => s.insertMs ?? []);
  const row = {
    eventsPerSecond: Math.round(load.events / (load.elapsedMs / 1000)),
    requests: load.ok, failed: load.failed,
    requestP50Ms: round(percentile(load.latencies, 50)), requestP95Ms: round(percentile(load.latencies, 95)),
    collectorEventsPerCpuSecond: Math.round(load.events / collectorCpu),
    clickhouseCpuSeconds: round(clickhouseCpu), collectorCpuSeconds: round(collectorCpu),
    loadGeneratorCpuSeconds: round((loadCpu.user + loadCpu.system) / 1e6),
    inserts: insertMs.length, insertP50Ms: round(percentile(insertMs, 50)), insertP95Ms: round(percentile(insertMs, 95)),
  };
  results[name] = row;
  console.log(`${name.padEnd(18)} ${String(row.eventsPerSecond).padStart(7)} events/s  request p50 ${row.requestP50Ms} ms p95 ${row.requestP95Ms} ms  ` +
    `${row.collectorEventsPerCpuSecond} events per collector CPU-second  CPU s: collectors ${row.collectorCpuSeconds}, ` +
    `ClickHouse ${row.clickhouseCpuSeconds}, load ${row.loadGeneratorCpuSeconds}  ` +
    `inserts ${row.inserts} (p50 ${row.insertP50Ms} ms, p95 ${row.insertP95Ms} ms)  failed ${row.failed}`);
  return row;
}

/** INSERT latency by group size, straight to ClickHouse (no collector). */
async function insertLatency(database) {
  const store = openClickHouseStore({ url: clickhouse.url, database, spoolPath: join(dir, 'latency.spool') });
  await store.totals(); // creates the tables
  await store.close();
  results.insertLatency = {};
  for (const rows of [1000, 5000, 20000]) {
    const times = [];
    for (let round = 0; round < 8; round++) {
      const events = eventRows(`lat${rows}-${round}`, rows);
      const t0 = performance.now();
      await sql.insert(`${database}.events`, events);
      times.push(performance.now() - t0);
    }
    results.insertLatency[rows] = { p50Ms: round(percentile(times, 50)), maxMs: round(Math.max(...times)) };
    console.log(`insert ${String(rows).padStart(5)} rows   p50 ${results.insertLatency[rows].p50Ms} ms  max ${results.insertLatency[rows].maxMs} ms`);
  }
}

function eventRows(run, count) {
  const rows = [];
  for (let k = 0; rows.length < count; k++) {
    const batch = JSON.parse(loadBatch(run, k));
    for (const ev of batch.ev) rows.push({ pv: batch.pv, path: batch.path, wd: 0, gpc: 0, ...ev, ts: Date.now(), received: Date.now() });
  }
  return rows;
}

/** The spool: append rate with ClickHouse down, replay rate once it is back. */
async function spoolRates(database) {
  const store = openClickHouseStore({ url: clickhouse.url, database, spoolPath: join(dir, 'replay.spool'), log: () => {} });
  await store.totals();
  await clickhouse.kill();
  const batches = 10000;
  const t0 = performance.now();
  const pending = [];
  for (let k = 0; k < batches; k++) {
    pending.push(store.addBatch(JSON.parse(loadBatch('spool', k)), Date.now()));
    if (pending.length === 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const appendSeconds = (performance.now() - t0) / 1000;
  const spoolBytes = statSync(join(dir, 'replay.spool')).size;
  await clickhouse.start();
  const t1 = performance.now();
  await store.spoolDrained();
  const replaySeconds = (performance.now() - t1) / 1000;
  await store.close();
  const events = batches * EVENTS_PER_BATCH;
  results.spool = { events, bytesPerEvent: round(spoolBytes / events), appendEventsPerSecond: Math.round(events / appendSeconds), replayEventsPerSecond: Math.round(events / replaySeconds) };
  console.log(`spool: ${events} events (${results.spool.bytesPerEvent} bytes each) appended at ${results.spool.appendEventsPerSecond}/s (ClickHouse down), replayed at ${results.spool.replayEventsPerSecond}/s`);
}

/** The dashboard's three queries (FINAL) on what the scenarios loaded. */
async function queryTimes(database) {
  const store = openClickHouseStore({ url: clickhouse.url, database, spoolPath: join(dir, 'query.spool') });
  const [{ n }] = await sql.rows(`SELECT count() AS n FROM ${database}.events`);
  const [disk] = await sql.rows(`SELECT sum(rows) AS rows, sum(data_compressed_bytes) AS compressed,
      sum(data_uncompressed_bytes) AS uncompressed FROM system.parts
    WHERE database = '${database}' AND table = 'events' AND active`);
  results.disk = { rows: disk.rows, bytesPerEvent: round(disk.compressed / disk.rows),
    uncompressedBytesPerEvent: round(disk.uncompressed / disk.rows) };
  console.log(`disk: ${results.disk.bytesPerEvent} bytes per event compressed (${results.disk.uncompressedBytesPerEvent} uncompressed), ${disk.rows} rows`);
  const timed = async (run) => { const times = []; for (let i = 0; i < 5; i++) { const t0 = performance.now(); await run(); times.push(performance.now() - t0); } return round(percentile(times, 50)); };
  results.queries = { rows: n, totalsMs: await timed(() => store.totals()), gigsMs: await timed(() => store.gigs()),
    seriesMs: await timed(() => store.series({ bucket: 60000 })) };
  await store.close();
  results.queries.perGigMinute = await perGigMinute(database);
  console.log(`dashboard on ${n} rows (FINAL): totals ${results.queries.totalsMs} ms, gigs ${results.queries.gigsMs} ms, series ${results.queries.seriesMs} ms`);
}

/**
 * What a materialized view per gig and minute would hold (SummingMergeTree fed by every
 * insert, copies included) and how fast the per-gig table reads from it, against FINAL.
 */
async function perGigMinute(database) {
  await sql.run(`CREATE TABLE ${database}.gig_minute (id String, minute UInt64, impressions UInt64,
      viewable UInt64, clicks UInt64, visible_ms UInt64) ENGINE = SummingMergeTree ORDER BY (id, minute)`);
  await sql.run(`INSERT INTO ${database}.gig_minute SELECT id, intDiv(ts, 60000) AS minute,
      countIf(e = 'imp'), countIf(e = 'view'), countIf(e = 'click'), sumIf(ifNull(ms, 0), e = 'vis')
    FROM ${database}.events GROUP BY id, minute`);
  const [{ rows }] = await sql.rows(`SELECT count() AS rows FROM ${database}.gig_minute`);
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await sql.rows(`SELECT id, sum(impressions) AS impressions, sum(viewable), sum(clicks), sum(visible_ms)
      FROM ${database}.gig_minute GROUP BY id ORDER BY impressions DESC, id LIMIT 1000`);
    times.push(performance.now() - t0);
  }
  const result = { rows, gigsMs: round(percentile(times, 50)) };
  console.log(`per gig and minute: ${rows} rows; the per-gig table from it in ${result.gigsMs} ms`);
  return result;
}

const round = (x) => (x == null ? null : Math.round(x * 10) / 10);

try {
  const store = (database, spool) => `clickhouse://127.0.0.1:${clickhouse.port}/${database}?spool=${join(dir, spool)}`;
  console.log(`# ${SECONDS} s per scenario, ${CONCURRENCY} requests in flight, ${EVENTS_PER_BATCH} events a batch; one load generator process`);
  await scenario('sqlite-1', [[`sqlite:${join(dir, 'bench.sqlite')}`]]);
  await scenario('clickhouse-1', [[store('bench', 'one.spool')]]);
  await scenario('clickhouse-2', [[store('bench', 'a.spool')], [store('bench', 'b.spool')]]);
  await queryTimes('bench');
  await insertLatency('latency');
  await spoolRates('replay');
  mkdirSync(join(RESULTS, '..'), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  console.log(`# raw numbers: ${RESULTS}`);
} finally {
  sql.close();
  await clickhouse.kill();
  rmSync(dir, { recursive: true, force: true });
}
