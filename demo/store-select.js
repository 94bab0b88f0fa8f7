// Chooses the collector's store from one string (`--store` or STORE):
//
//   (empty) | sqlite           the SQLite file given by --db / DEMO_DB (the default)
//   sqlite:FILE                a SQLite file
//   clickhouse://HOST:PORT/DB  a ClickHouse server's HTTP interface, database DB
//        ?spool=FILE           where this collector spools while ClickHouse is away
//                              (one file per collector process; default demo/data/clickhouse.spool)
//        &batch_rows=N&batch_ms=N   insert grouping (5000 events, 200 ms)
//        &ttl_days=N           drop rows older than N days (a TTL from 20.1 on; on older
//                              releases the store drops expired day partitions hourly)
//   clickhouse                 a private ClickHouse started for the demo, its files in
//                              demo/data/clickhouse/ (stopped with the store)
//
// It owns the parsing of that string and nothing else.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from './store.js';
import { openClickHouseStore } from './store-clickhouse.js';
import { startClickHouse } from './clickhouse-local.js';

const DATA_DIR = fileURLToPath(new URL('data/', import.meta.url));

/** Parses a store string into {kind: 'sqlite', path} or {kind: 'clickhouse', ...options}. */
export function parseStoreSpec(spec, { dbPath }) {
  const text = (spec ?? '').trim();
  if (text === '' || text === 'sqlite') return { kind: 'sqlite', path: dbPath };
  if (text.startsWith('sqlite:')) return { kind: 'sqlite', path: text.slice('sqlite:'.length) };
  if (text === 'clickhouse') return { kind: 'clickhouse-local', dir: join(DATA_DIR, 'clickhouse') };
  if (!text.startsWith('clickhouse://')) {
    throw new Error(`unknown store "${text}": use sqlite:FILE, clickhouse://HOST:PORT/DATABASE or clickhouse`);
  }
  const url = new URL(text.replace(/^clickhouse:/, 'http:'));
  const number = (name) => {
    const value = url.searchParams.get(name);
    if (value === null) return undefined;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`store option ${name} must be a positive integer`);
    return n;
  };
  return {
    kind: 'clickhouse',
    url: `http://${url.host}`,
    database: decodeURIComponent(url.pathname.slice(1)) || 'impressions',
    spoolPath: url.searchParams.get('spool') ?? join(DATA_DIR, 'clickhouse.spool'),
    batchRows: number('batch_rows'),
    batchMs: number('batch_ms'),
    ttlDays: number('ttl_days'),
  };
}

/**
 * Opens the store the string names. Every store has addBatch, totals, gigs, series,
 * exportRows and close; the SQLite one answers synchronously, the ClickHouse one with
 * promises. `label` says where the events go.
 */
export async function openSelectedStore(spec, { dbPath }) {
  const parsed = parseStoreSpec(spec, { dbPath });
  if (parsed.kind === 'sqlite') {
    return Object.assign(openStore(parsed.path), { kind: 'sqlite', label: `SQLite ${parsed.path}` });
  }
  if (parsed.kind === 'clickhouse') {
    const { kind, ...options } = parsed;
    const store = openClickHouseStore(withoutUndefined(options));
    await store.opened(); // a spool owned by another collector stops the start here
    return store;
  }
  const server = await startClickHouse({ dir: parsed.dir });
  const store = openClickHouseStore({ url: server.url, spoolPath: join(parsed.dir, 'collector.spool') });
  const closeStore = store.close;
  return Object.assign(store, {
    label: `${store.label}, server started for the demo (files in ${parsed.dir})`,
    async close() {
      await closeStore();
      await server.stop();
    },
  });
}

function withoutUndefined(record) {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
