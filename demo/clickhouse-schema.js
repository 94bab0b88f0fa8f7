// The ClickHouse table layout for the collector, as CREATE statements for the server's
// version: Debian's 18.16 and current releases differ in what a column may declare.
//
// Layout (both versions):
// - events and batches are ReplacingMergeTree tables ordered by the event's identity
//   (pv, s) and the batch's (pv, s_first): copies of a resent batch share the key and are
//   folded into one row by background merges, and by FINAL at query time before that.
// - The version column `keep` is bitNot(received): among copies, the one received first
//   wins, as INSERT OR IGNORE does in the SQLite store.
// - Partitions are days of the event time (events) or arrival (batches). A copy resent on
//   another day lands in another partition, which merges never join: FINAL still folds
//   it, so every dashboard query reads with FINAL.
// Current releases (20.1 and newer) add: LowCardinality for path and list (few distinct
// values, long strings), Delta + ZSTD codecs for the time columns (sorted within a page
// view), and an optional TTL that drops rows older than N days. 18.16 has no column
// codecs and no TTL, and its LowCardinality is experimental, so those are left out there
// (the TTL option then drops whole day partitions past the limit instead:
// dropExpiredPartitions, run by the store at start and every hour).

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for releases that have column codecs, TTL and a stable LowCardinality. */
export function isModern(version) {
  return Number.parseInt(String(version).split('.')[0], 10) >= 20;
}

/**
 * @param {{database: string, version: string, ttlDays?: number}} options
 * @returns {string[]} statements to run in order (all idempotent)
 */
export function schemaStatements({ database, version, ttlDays }) {
  if (!NAME.test(database)) throw new Error(`ClickHouse database name "${database}" must be letters, digits and _`);
  const modern = isModern(version);
  const lowCardinality = (type) => (modern ? `LowCardinality(${type})` : type);
  const timeCodec = modern ? ' CODEC(Delta, ZSTD)' : '';
  const ttl = ttlDays !== undefined && modern ? `\nTTL day + INTERVAL ${Math.trunc(ttlDays)} DAY` : '';
  // Every table ends the same way: its day, the version column, engine, partition, key.
  const replacing = (table, columns, dayOf, key) => `CREATE TABLE IF NOT EXISTS ${database}.${table} (
${columns},
  day      Date MATERIALIZED toDate(toDateTime(intDiv(${dayOf}, 1000))),
  keep     UInt64 MATERIALIZED bitNot(received)
) ENGINE = ReplacingMergeTree(keep)
PARTITION BY day
ORDER BY (${key})${ttl}`;
  const events = replacing('events', `  pv       String,
  s        UInt32,
  e        Enum8('imp' = 1, 'view' = 2, 'vis' = 3, 'click' = 4),
  t        UInt64${timeCodec},
  id       String,
  pos      Nullable(UInt32),
  list     ${lowCardinality('Nullable(String)')},
  f        Nullable(UInt8),
  ms       Nullable(UInt64),
  max      Nullable(UInt64),
  n        Nullable(UInt32),
  since    Nullable(UInt64),
  seen     Nullable(UInt8),
  path     ${lowCardinality('String')},
  wd       UInt8,
  gpc      UInt8,
  ts       UInt64${timeCodec},
  received UInt64${timeCodec}`, 'ts', 'pv, s');
  const batches = replacing('batches', `  pv       String,
  s_first  UInt32,
  s_last   UInt32,
  events   UInt32,
  path     ${lowCardinality('String')},
  wd       UInt8,
  gpc      UInt8,
  at       UInt64,
  dropped  UInt64,
  received UInt64${timeCodec}`, 'received', 'pv, s_first');
  return [`CREATE DATABASE IF NOT EXISTS ${database}`, events, batches];
}

/**
 * Retention where TTL is missing: drops the day partitions of both tables older than
 * `ttlDays` days before `now` (partition ids are YYYYMMDD). Resolves to how many.
 */
export async function dropExpiredPartitions(client, { database, ttlDays, now = Date.now() }) {
  const cutoff = new Date(now - ttlDays * 86400000).toISOString().slice(0, 10).replaceAll('-', '');
  const parts = await client.rows(`SELECT DISTINCT table, partition_id FROM system.parts
    WHERE database = '${database}' AND table IN ('events', 'batches') AND active AND partition_id < '${cutoff}'`);
  for (const { table, partition_id: id } of parts) {
    await client.run(`ALTER TABLE ${database}.${table} DROP PARTITION ID '${id}'`);
  }
  return parts.length;
}
