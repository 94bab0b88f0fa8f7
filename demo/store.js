// The collector's storage: one SQLite file (better-sqlite3), a versioned schema and the
// queries the dashboard and the export need. It owns the table layout and nothing else:
// validation, limits and HTTP live in collector.js.
//
// Invariants:
// - An event is identified by (pv, s). Inserting a batch is one transaction of
//   INSERT OR IGNORE, so a resent batch (at-least-once delivery) changes nothing.
// - The schema version is PRAGMA user_version; MIGRATIONS[i] moves version i to i + 1
//   and runs inside a transaction. Opening a file never downgrades it: a file written by
//   a newer collector is refused with a clear error.
// - "ts" is the collector's estimate of when the event happened (receive time minus the
//   batch's age "at" plus the event's "t", never after the receive time); "received" is
//   when the batch arrived. Both are ms since the Unix epoch.
// - The read side trusts no stored number: rows written before the payload schema
//   bounded every number, or by another writer, may hold anything. Queries clamp each
//   value to what the core can write (a uint32), add with TOTAL() (a float, which cannot
//   overflow as SUM() can) and leave times a Date cannot hold out of the time series.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Schema migrations, in order. Never edit one that has shipped; append a new one. */
export const MIGRATIONS = [
  // 0 -> 1: events (flat, one row per event with its batch header), batches, indexes.
  `CREATE TABLE events (
     pv       TEXT    NOT NULL,            -- page view id
     s        INTEGER NOT NULL,            -- sequence number in the page view
     e        TEXT    NOT NULL CHECK (e IN ('imp','view','vis','click')),
     t        INTEGER NOT NULL,            -- ms since the page view began
     id       TEXT    NOT NULL,            -- item (gig) id
     pos      INTEGER,                     -- 1-based position (imp, view, click)
     list     TEXT,                        -- list id, e.g. search query id
     f        INTEGER,                     -- window focused (imp, click)
     ms       INTEGER,                     -- vis: length of the span
     max      INTEGER,                     -- vis: longest span so far
     n        INTEGER,                     -- vis: span number
     since    INTEGER,                     -- click: ms since first impression
     seen     INTEGER,                     -- click: viewable before the click
     path     TEXT    NOT NULL,            -- batch header: page path
     wd       INTEGER NOT NULL DEFAULT 0,  -- batch header: navigator.webdriver
     gpc      INTEGER NOT NULL DEFAULT 0,  -- batch header: Global Privacy Control
     ts       INTEGER NOT NULL,            -- estimated event time, ms since epoch
     received INTEGER NOT NULL,            -- batch arrival, ms since epoch
     PRIMARY KEY (pv, s)
   ) WITHOUT ROWID;
   CREATE INDEX events_by_id ON events (id, e);
   CREATE INDEX events_by_ts ON events (ts);
   CREATE TABLE batches (
     pv       TEXT    NOT NULL,
     s_first  INTEGER NOT NULL,            -- lowest sequence number in the batch
     s_last   INTEGER NOT NULL,
     events   INTEGER NOT NULL,
     path     TEXT    NOT NULL,
     wd       INTEGER NOT NULL DEFAULT 0,
     gpc      INTEGER NOT NULL DEFAULT 0,
     at       INTEGER NOT NULL,            -- ms since page view start when cut
     dropped  INTEGER NOT NULL DEFAULT 0,  -- the header's "drop"
     received INTEGER NOT NULL,
     PRIMARY KEY (pv, s_first)
   ) WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

const EVENT_COLUMNS = ['pv', 's', 'e', 't', 'id', 'pos', 'list', 'f', 'ms', 'max', 'n',
  'since', 'seen', 'path', 'wd', 'gpc', 'ts', 'received'];

/**
 * When an event happened, as the collector estimates it (ms since the epoch): the batch's
 * arrival minus its age `at` plus the event's `t`, never before the epoch nor after arrival.
 */
export const eventTime = (received, at, t) => Math.min(received, Math.max(0, received - at + t));

/** The largest number the core writes (every number of a batch is a uint32). */
const UINT32_MAX = 4294967295;
/** `column` clamped to [low, UINT32_MAX] in SQL. */
const clamped = (column, low = 0) => `MIN(MAX(${column}, ${low}), ${UINT32_MAX})`;
/** Times a Date can hold (ms since the epoch). */
const VALID_TS = 'ts BETWEEN 0 AND 8640000000000000';
/** Rows per query of the export: each page is a short index range read. */
const EXPORT_PAGE_ROWS = 500;

/**
 * Opens (creating and migrating as needed) the store at `path` (':memory:' works).
 * @param {string} path
 */
export function openStore(path) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 2000');
  migrate(db);
  /** The store's record: the open database and its prepared statements. */
  const store = { db, writes: prepareWrites(db), reads: prepareReads(db) };
  return {
    db,
    path,
    /** Stores one validated batch; returns how many events were new and how many duplicates. */
    addBatch: db.transaction((batch, received) => insertBatch(store, batch, received)),
    /** Per-gig aggregates; `human` leaves out page views flagged as automated (wd). */
    gigs: (query) => gigs(store, query),
    totals: (query) => totals(store, query),
    /** Counts per time bucket (ms), from `since` (ms since epoch). */
    series: (query) => series(store, query),
    /**
     * Iterates every stored event as an object, in estimated event time order. It reads a
     * page of rows at a time and holds nothing open between pages, so the caller may pause
     * as long as it likes; events stored meanwhile may or may not be included.
     */
    exportRows: (query) => exportRows(store, query),
    schemaVersion: () => db.pragma('user_version', { simple: true }),
    close() {
      if (db.open) db.close();
    },
  };
}

/** The statements a batch is written with. */
function prepareWrites(db) {
  return {
    event: db.prepare(
      `INSERT OR IGNORE INTO events (${EVENT_COLUMNS.join(', ')})
       VALUES (${EVENT_COLUMNS.map((c) => '@' + c).join(', ')})`),
    batch: db.prepare(
      `INSERT OR IGNORE INTO batches (pv, s_first, s_last, events, path, wd, gpc, at, dropped, received)
       VALUES (@pv, @s_first, @s_last, @events, @path, @wd, @gpc, @at, @dropped, @received)`),
  };
}

/** Inside the caller's transaction: the batch's events and its row in batches. */
function insertBatch(store, batch, received) {
  let stored = 0;
  let sFirst = Infinity;
  let sLast = 0;
  const header = { pv: batch.pv, path: batch.path, wd: batch.wd ? 1 : 0, gpc: batch.gpc ? 1 : 0 };
  for (const ev of batch.ev) {
    sFirst = Math.min(sFirst, ev.s);
    sLast = Math.max(sLast, ev.s);
    const row = {
      ...header, s: ev.s, e: ev.e, t: ev.t, id: ev.id,
      pos: ev.pos ?? null, list: ev.list ?? null, f: ev.f ?? null,
      ms: ev.ms ?? null, max: ev.max ?? null, n: ev.n ?? null,
      since: ev.since ?? null, seen: ev.seen ?? null,
      ts: eventTime(received, batch.at, ev.t), received,
    };
    stored += store.writes.event.run(row).changes;
  }
  store.writes.batch.run({ ...header, s_first: sFirst, s_last: sLast, events: batch.ev.length,
    at: batch.at, dropped: batch.drop, received });
  return { stored, duplicates: batch.ev.length - stored };
}

/** The read side's statements, each over all events and over the human ones (wd = 0). */
function prepareReads(db) {
  const both = (sql, humanWhere, exact = false) => ({
    all: db.prepare(sql('')).safeIntegers(exact), human: db.prepare(sql(humanWhere)).safeIntegers(exact) });
  return {
    gigs: both(gigsSql, 'WHERE wd = 0'),
    totals: both(totalsSql, 'WHERE wd = 0'),
    batches: both((where) =>
      `SELECT COUNT(*) AS batches, TOTAL(${clamped('dropped')}) AS dropped FROM batches ${where}`, 'WHERE wd = 0'),
    series: both(seriesSql, 'AND wd = 0'),
    // Keyset pages in (ts, pv, s) order, which the events_by_ts index holds (a WITHOUT ROWID
    // index carries the primary key): each page is one range read, no sort, no statement
    // left open between pages. Integers are read exactly (BigInt) so the page boundary is
    // exact whatever is stored.
    exportFirst: both((where) =>
      `SELECT ${EVENT_COLUMNS.join(', ')} FROM events ${where} ORDER BY ts, pv, s LIMIT @limit`, 'WHERE wd = 0', true),
    exportAfter: both((where) =>
      `SELECT ${EVENT_COLUMNS.join(', ')} FROM events WHERE (ts, pv, s) > (@ts, @pv, @s) ${where}
        ORDER BY ts, pv, s LIMIT @limit`, 'AND wd = 0', true),
  };
}

const gigsSql = (where) =>
  `SELECT id,
          SUM(e = 'imp')                              AS impressions,
          SUM(e = 'view')                             AS viewable,
          SUM(e = 'click')                            AS clicks,
          SUM(e = 'click' AND seen = 1)               AS clicks_after_view,
          TOTAL(CASE WHEN e = 'vis' THEN ${clamped('ms')} END) AS visible_ms,
          AVG(CASE WHEN e = 'imp' THEN ${clamped('pos', 1)} END) AS avg_position,
          COUNT(DISTINCT pv)                          AS page_views,
          MAX(CASE WHEN ${VALID_TS} THEN ts END)      AS last_ts
     FROM events ${where}
    GROUP BY id
    ORDER BY impressions DESC, id
    LIMIT @limit`;

const totalsSql = (where) =>
  `SELECT SUM(e = 'imp') AS impressions, SUM(e = 'view') AS viewable, SUM(e = 'click') AS clicks,
          TOTAL(CASE WHEN e = 'vis' THEN ${clamped('ms')} END) AS visible_ms,
          COUNT(*) AS events, COUNT(DISTINCT pv) AS page_views,
          COUNT(DISTINCT CASE WHEN wd = 1 THEN pv END) AS automated_page_views,
          MIN(CASE WHEN ${VALID_TS} THEN ts END) AS first_ts, MAX(CASE WHEN ${VALID_TS} THEN ts END) AS last_ts
     FROM events ${where}`;

const seriesSql = (where) =>
  `SELECT (ts / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS time,
          SUM(e = 'imp') AS impressions, SUM(e = 'view') AS viewable, SUM(e = 'click') AS clicks,
          TOTAL(CASE WHEN e = 'vis' THEN ${clamped('ms')} END) AS visible_ms
     FROM events WHERE ts >= @since AND ${VALID_TS} ${where}
    GROUP BY time ORDER BY time`;

/**
 * The dashboard's queries (gigs, totals, series) on `db`: read-worker.js runs them on a
 * read-only connection of its own, off the thread that answers beacons.
 */
export function dashboardQueries(db) {
  const store = { db, reads: prepareReads(db) };
  return { gigs: (query) => gigs(store, query), totals: (query) => totals(store, query),
    series: (query) => series(store, query) };
}

const pick = (statements, human) => (human ? statements.human : statements.all);

function gigs(store, { human = false, limit = 1000 } = {}) {
  return pick(store.reads.gigs, human).all({ limit }).map(withRates);
}

function totals(store, { human = false } = {}) {
  const t = pick(store.reads.totals, human).get();
  const b = pick(store.reads.batches, human).get();
  return withRates({ ...zeroNulls(t), batches: b.batches, dropped: b.dropped });
}

function series(store, { bucket = 10000, since = 0, human = false } = {}) {
  return pick(store.reads.series, human).all({ bucket, since });
}

function* exportRows(store, { pageRows = EXPORT_PAGE_ROWS, human = false } = {}) {
  const exportFirst = pick(store.reads.exportFirst, human);
  const exportAfter = pick(store.reads.exportAfter, human);
  let page = exportFirst.all({ limit: pageRows });
  while (page.length > 0) {
    for (const row of page) yield withNumbers(row);
    if (page.length < pageRows) return;
    const { ts, pv, s } = page[page.length - 1];
    page = exportAfter.all({ ts, pv, s, limit: pageRows });
  }
}

/** Brings the file to SCHEMA_VERSION, one transaction per migration. */
function migrate(db) {
  const current = db.pragma('user_version', { simple: true });
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this collector (${MIGRATIONS.length})`);
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/** A row read with safeIntegers() with its BigInts as numbers (beyond 2^53, approximate). */
function withNumbers(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}

export function zeroNulls(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) out[k] = v ?? (k.endsWith('_ts') ? null : 0);
  return out;
}

/** Adds the ratios a seller reads: viewable rate, CTRs, average visible time. */
export function withRates(row) {
  const ratio = (a, b) => (b > 0 ? a / b : null);
  return {
    ...row,
    avg_position: row.avg_position == null ? null : Math.round(row.avg_position * 10) / 10,
    viewable_rate: ratio(row.viewable, row.impressions),
    ctr: ratio(row.clicks, row.impressions),
    ctr_viewable: ratio(row.clicks, row.viewable),
    avg_visible_ms: ratio(row.visible_ms, row.impressions),
  };
}
