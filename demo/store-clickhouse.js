// The collector's ClickHouse store: the same interface as store.js (addBatch, totals,
// gigs, series, exportRows, close), every method async. It owns batching of inserts, the
// fall-back to a local spool while ClickHouse is unreachable, and the dashboard's queries
// in ClickHouse SQL; the table layout is clickhouse-schema.js.
//
// Invariants:
// - addBatch resolves only once the batch is durable: inserted into ClickHouse, or
//   appended and fsync'd to the spool (spool.js). Then the collector answers 2xx.
// - Batches are grouped: one INSERT per table for up to `batchRows` events or `batchMs`
//   ms, whichever first; one group in flight at a time, so groups reach ClickHouse in
//   the order they were cut.
// - While the spool holds records, new groups go to the spool too, and the spool is
//   replayed in order; a group is never sent directly ahead of older spooled ones.
// - Nothing in memory is needed for correctness: a collector killed at any point has
//   either answered 2xx (the batch is in ClickHouse or the spool) or not (the client
//   resends). Copies from resends and replays are folded by ReplacingMergeTree, and every
//   query reads with FINAL, so a copy never counts twice.

import { createClickHouseClient } from './clickhouse-http.js';
import { schemaStatements, isModern, dropExpiredPartitions } from './clickhouse-schema.js';
import { openSpool } from './spool.js';
import { withRates, zeroNulls } from './store.js';

const COUNTS = `countIf(e = 'imp') AS impressions, countIf(e = 'view') AS viewable,
  countIf(e = 'click') AS clicks, sumIf(ifNull(ms, 0), e = 'vis') AS visible_ms`;
const EXPORT_COLUMNS = 'pv, s, e, t, id, pos, list, f, ms, max, n, since, seen, path, wd, gpc, ts, received';
const REPLAY_RETRY_MS = 500;
const RETENTION_EVERY_MS = 3600_000;

/**
 * @param {{url: string, database?: string, spoolPath: string, batchRows?: number,
 *          batchMs?: number, ttlDays?: number, timeoutMs?: number,
 *          log?: (message: string) => void}} options
 */
export function openClickHouseStore({ url, database = 'impressions', spoolPath, batchRows = 5000,
  batchMs = 200, ttlDays, timeoutMs = 5000, log = (message) => console.error(message) }) {
  const client = createClickHouseClient({ url, timeoutMs });
  const spool = openSpool(spoolPath);
  spool.catch(() => {}); // reported by the first write that needs it
  const schema = schemaKeeper(client, database, ttlDays, log);
  const writer = createGroupWriter({ client, database, spool, schema, batchRows, batchMs, log });
  writer.start();
  const events = `${database}.events FINAL`;
  const human = (on, joiner = 'WHERE') => (on ? `${joiner} wd = 0` : '');
  const query = async (sql) => { await schema.ready(); return client.rows(sql); };

  return {
    kind: 'clickhouse',
    label: `ClickHouse ${url} database ${database} (spool ${spoolPath})`,
    addBatch: (batch, received) => writer.add(toRows(batch, received)),

    async gigs({ human: humanOnly = false, limit = 1000 } = {}) {
      const rows = await query(`SELECT id, ${COUNTS},
          countIf(e = 'click' AND ifNull(seen, 0) = 1) AS clicks_after_view,
          if(countIf(e = 'imp' AND isNotNull(pos)) = 0, NULL, avgIf(ifNull(pos, 0), e = 'imp' AND isNotNull(pos))) AS avg_position,
          uniqExact(pv) AS page_views, max(ts) AS last_ts
        FROM ${events} ${human(humanOnly)}
        GROUP BY id ORDER BY impressions DESC, id LIMIT ${safeInt(limit)}`);
      return rows.map(withRates);
    },

    async totals({ human: humanOnly = false } = {}) {
      const [t] = await query(`SELECT ${COUNTS}, count() AS events, uniqExact(pv) AS page_views,
          uniqExactIf(pv, wd = 1) AS automated_page_views, min(ts) AS first_ts, max(ts) AS last_ts
        FROM ${events} ${human(humanOnly)}`);
      if (t.events === 0) Object.assign(t, { first_ts: null, last_ts: null });
      const [b] = await query(`SELECT count() AS batches, sum(dropped) AS dropped FROM ${database}.batches FINAL`);
      return withRates({ ...zeroNulls(t), batches: b.batches, dropped: b.dropped });
    },

    /** Counts per time bucket (ms), from `since` (ms since epoch). */
    series({ bucket = 10000, since = 0, human: humanOnly = false } = {}) {
      const size = safeInt(bucket);
      return query(`SELECT intDiv(ts, ${size}) * ${size} AS time, ${COUNTS}
        FROM ${events} WHERE ts >= ${safeInt(since)} ${human(humanOnly, 'AND')}
        GROUP BY time ORDER BY time`);
    },

    /** Every stored event (copies folded), oldest batch first, streamed from ClickHouse. */
    async *exportRows() {
      await schema.ready();
      yield* client.lines(`SELECT ${EXPORT_COLUMNS} FROM ${events} ORDER BY received, pv, s`);
    },

    /** Counters of the write path: groups inserted, spooled, replayed; insert latencies. */
    stats: () => writer.stats,
    /** Resolves once the spool is empty (tests and benchmarks wait on it). */
    spoolDrained: () => writer.drained(),

    async close() {
      await writer.close();
      schema.close();
      await (await spool).close();
      client.close();
    },
  };
}

/**
 * Creates the tables once per process (and again after a failure). With a TTL on a
 * release that has none, drops expired day partitions then and every hour after.
 */
function schemaKeeper(client, database, ttlDays, log) {
  let creating = null;
  let retention = null;
  async function create() {
    const version = (await client.run('SELECT version()')).trim();
    for (const statement of schemaStatements({ database, version, ttlDays })) await client.run(statement);
    if (ttlDays === undefined || isModern(version)) return;
    await dropExpiredPartitions(client, { database, ttlDays });
    retention ??= setInterval(() => {
      dropExpiredPartitions(client, { database, ttlDays }).catch((error) => log(`clickhouse store: retention: ${error.message}`));
    }, RETENTION_EVERY_MS).unref();
  }
  return {
    ready() {
      creating ??= create().catch((error) => { creating = null; throw error; });
      return creating;
    },
    close: () => clearInterval(retention),
  };
}

/**
 * Groups rows into inserts and decides, per group, ClickHouse or the spool; replays the
 * spool in the background while it holds records.
 */
function createGroupWriter({ client, database, spool, schema, batchRows, batchMs, log }) {
  let group = emptyGroup();
  let timer = null;
  let due = false; // the open group's time is up
  let flushing = null;
  let replaying = null;
  let replayTimer = null;
  let closed = false;
  let outage = false;
  const stats = { inserted: 0, spooled: 0, replayedRecords: 0, insertMs: [] };

  async function insertGroup(rows) {
    await schema.ready();
    const started = performance.now();
    await Promise.all([
      rows.events.length && client.insert(`${database}.events`, rows.events),
      rows.batches.length && client.insert(`${database}.batches`, rows.batches),
    ]);
    stats.insertMs.push(performance.now() - started);
    if (stats.insertMs.length > 10000) stats.insertMs.splice(0, 5000);
  }

  function noteOutage(now, message) {
    if (now && !outage) log(`clickhouse store: spooling: ${message}`);
    if (!now && outage) log('clickhouse store: ClickHouse reachable again');
    outage = now;
  }

  /** Makes one group durable; returns 'clickhouse' or 'spool'. */
  async function deliver(rows) {
    const opened = await spool;
    if (!opened.pending()) {
      try {
        await insertGroup(rows);
        stats.inserted++;
        noteOutage(false);
        return 'clickhouse';
      } catch (error) {
        noteOutage(true, error.message);
      }
    }
    await opened.append({ events: rows.events, batches: rows.batches });
    stats.spooled++;
    scheduleReplay();
    return 'spool';
  }

  async function flush() {
    const rows = group;
    group = emptyGroup();
    let where = null;
    try {
      where = await deliver(rows);
    } catch (error) {
      log(`clickhouse store: neither ClickHouse nor the spool took a group: ${error.message}`);
      for (const waiter of rows.waiters) waiter.reject(error);
      return;
    }
    for (const waiter of rows.waiters) {
      waiter.resolve({ stored: waiter.count, duplicates: 0, spooled: where === 'spool' });
    }
  }

  /** Starts a flush when the open group is full or due; one flush at a time. */
  function kick() {
    if (flushing || group.waiters.length === 0) return;
    if (!due && !closed && group.events.length < batchRows) {
      timer ??= setTimeout(() => { timer = null; due = true; kick(); }, batchMs);
      return;
    }
    due = false;
    clearTimeout(timer);
    timer = null;
    flushing = flush().finally(() => { flushing = null; kick(); });
  }

  async function replay() {
    const opened = await spool;
    try {
      stats.replayedRecords += await opened.drain((records) => insertGroup(mergeRecords(records)));
      noteOutage(false);
    } catch (error) {
      noteOutage(true, error.message); // still unreachable: the next attempt is scheduled below
    }
  }

  function replayNow() {
    clearTimeout(replayTimer);
    replayTimer = null;
    replaying ??= replay().finally(async () => {
      replaying = null;
      if ((await spool).pending()) scheduleReplay();
    });
    return replaying;
  }

  function scheduleReplay(delayMs = REPLAY_RETRY_MS) {
    if (replaying || replayTimer || closed) return;
    replayTimer = setTimeout(replayNow, delayMs);
  }

  return {
    stats,
    add(rows) {
      if (closed) return Promise.reject(new Error('store closed'));
      return new Promise((resolve, reject) => {
        group.events.push(...rows.events);
        group.batches.push(...rows.batches);
        group.waiters.push({ resolve, reject, count: rows.events.length });
        kick();
      });
    },
    /** Replays until the spool is empty (retrying every REPLAY_RETRY_MS). */
    async drained() {
      const opened = await spool;
      while (opened.pending()) {
        await replayNow();
        if (opened.pending()) await new Promise((resolve) => setTimeout(resolve, REPLAY_RETRY_MS));
      }
    },
    /** Replays what an earlier process left in the spool. */
    start() {
      spool.then((opened) => { if (opened.pending()) scheduleReplay(0); }, () => {});
    },
    async close() {
      closed = true;
      kick();
      while (flushing) await flushing;
      clearTimeout(replayTimer);
      await replaying;
    },
  };
}

function emptyGroup() {
  return { events: [], batches: [], waiters: [] };
}

function mergeRecords(records) {
  return { events: records.flatMap((r) => r.events), batches: records.flatMap((r) => r.batches) };
}

/** One validated batch as rows of the events and batches tables (as store.js computes them). */
function toRows(batch, received) {
  const header = { pv: batch.pv, path: batch.path, wd: batch.wd ? 1 : 0, gpc: batch.gpc ? 1 : 0 };
  let sFirst = Infinity;
  let sLast = 0;
  const events = batch.ev.map((ev) => {
    sFirst = Math.min(sFirst, ev.s);
    sLast = Math.max(sLast, ev.s);
    return {
      ...header, s: ev.s, e: ev.e, t: ev.t, id: ev.id,
      pos: ev.pos ?? null, list: ev.list ?? null, f: ev.f ?? null,
      ms: ev.ms ?? null, max: ev.max ?? null, n: ev.n ?? null,
      since: ev.since ?? null, seen: ev.seen ?? null,
      ts: Math.max(0, received - batch.at + ev.t), received,
    };
  });
  const batchRow = { ...header, s_first: sFirst, s_last: sLast, events: batch.ev.length,
    at: batch.at, dropped: batch.drop, received };
  return { events, batches: [batchRow] };
}

function safeInt(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a non-negative integer: ${value}`);
  return value;
}
