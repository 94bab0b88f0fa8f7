// The collector's ClickHouse store: the same interface as store.js (addBatch, totals,
// gigs, series, exportRows, close), every method async. It owns the grouping of batches
// into inserts and the dashboard's queries in ClickHouse SQL; making a group durable
// (ClickHouse or the spool) is clickhouse-delivery.js, the table layout clickhouse-schema.js.
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
import { createDelivery } from './clickhouse-delivery.js';
import { withRates, zeroNulls, eventTime } from './store.js';

const COUNTS = `countIf(e = 'imp') AS impressions, countIf(e = 'view') AS viewable,
  countIf(e = 'click') AS clicks, sumIf(ifNull(ms, 0), e = 'vis') AS visible_ms`;
const EXPORT_COLUMNS = 'pv, s, e, t, id, pos, list, f, ms, max, n, since, seen, path, wd, gpc, ts, received';
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
  const delivery = createDelivery({ client, database, spool, schema, log });
  delivery.start();
  const grouper = createGrouper({ batchRows, batchMs, deliver: delivery.deliver, log });
  const events = `${database}.events FINAL`;
  const human = (on, joiner = 'WHERE') => (on ? `${joiner} wd = 0` : '');
  const query = async (sql) => { await schema.ready(); return client.rows(sql); };

  return {
    kind: 'clickhouse',
    label: `ClickHouse ${url} database ${database} (spool ${spoolPath})`,
    addBatch: (batch, received) => grouper.add(toRows(batch, received)),

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
      const [b] = await query(`SELECT count() AS batches, sum(dropped) AS dropped
        FROM ${database}.batches FINAL ${human(humanOnly)}`);
      return withRates({ ...zeroNulls(t), batches: b.batches, dropped: b.dropped });
    },

    /** Counts per time bucket (ms), from `since` (ms since epoch). */
    series({ bucket = 10000, since = 0, human: humanOnly = false } = {}) {
      const size = safeInt(bucket);
      return query(`SELECT intDiv(ts, ${size}) * ${size} AS time, ${COUNTS}
        FROM ${events} WHERE ts >= ${safeInt(since)} ${human(humanOnly, 'AND')}
        GROUP BY time ORDER BY time`);
    },

    /** Every stored event (copies folded), in estimated event time order, streamed from ClickHouse. */
    async *exportRows({ human: humanOnly = false } = {}) {
      await schema.ready();
      yield* client.lines(`SELECT ${EXPORT_COLUMNS} FROM ${events} ${human(humanOnly)} ORDER BY ts, pv, s`);
    },

    /** Resolves once the spool is open; rejects if it cannot be (e.g. another process owns it). */
    opened: () => spool.then(() => {}),
    /** Counters of the write path: groups inserted, spooled, replayed; insert latencies. */
    stats: () => delivery.stats,
    /** Resolves once the spool is empty (tests and benchmarks wait on it). */
    spoolDrained: () => delivery.drained(),

    async close() {
      await grouper.close();
      await delivery.close();
      schema.close();
      await spool.then((opened) => opened.close(), () => {});
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
 * Collects the rows of many batches into groups, cut at `batchRows` events or `batchMs`
 * ms, and hands each to `deliver`, one at a time; each batch's promise settles with its
 * group.
 */
function createGrouper({ batchRows, batchMs, deliver, log }) {
  let group = emptyGroup();
  let timer = null;
  let due = false; // the open group's time is up
  let flushing = null;
  let closed = false;

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

  return {
    add(rows) {
      if (closed) return Promise.reject(new Error('store closed'));
      return new Promise((resolve, reject) => {
        group.events.push(...rows.events);
        group.batches.push(...rows.batches);
        group.waiters.push({ resolve, reject, count: rows.events.length });
        kick();
      });
    },
    /** Flushes what is open, then resolves. */
    async close() {
      closed = true;
      kick();
      while (flushing) await flushing;
    },
  };
}

function emptyGroup() {
  return { events: [], batches: [], waiters: [] };
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
      ts: eventTime(received, batch.at, ev.t), received,
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
