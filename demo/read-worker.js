// The dashboard's reads of a SQLite store, off the collector's thread. better-sqlite3
// answers synchronously, so a query over a large table (the per-gig table reads every
// event) run on the thread that answers beacons holds every POST /collect until it ends:
// one client reading /api/gigs in a loop, within its read rate, would delay every beacon
// by the length of a query. Here the queries run in a worker thread on a read-only
// connection of their own (WAL: readers never wait on the writer, and see committed
// batches). It owns that worker: starting it on the first read, passing each query and
// its answer, and stopping it. The export stays on the collector's thread: it reads short
// pages and yields between them (export.js).

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { dashboardQueries } from './store.js';

const ROLE = 'sqlite-dashboard-reads';

/**
 * The dashboard's queries of the SQLite file at `path`, each answered by a promise from a
 * worker thread. A query that fails rejects (the collector answers 503); a worker that
 * dies rejects what it held and is started again by the next read.
 * @param {string} path a database file that the collector's store has already opened
 */
export function openReadWorker(path) {
  let worker = null;
  let nextId = 0;
  /** @type {Map<number, {resolve: (value: any) => void, reject: (error: Error) => void}>} */
  const waiting = new Map();
  const failAll = (error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
    worker = null;
  };
  function start() {
    // No execArgv: a collector started with `node --input-type=module -e` would pass
    // that flag on, and a worker from a file refuses it.
    const started = new Worker(new URL(import.meta.url), { workerData: { role: ROLE, path }, execArgv: [] });
    started.unref(); // the server's sockets keep the process alive, not this worker
    started.on('message', ({ id, result, error }) => {
      const entry = waiting.get(id);
      waiting.delete(id);
      if (error === undefined) entry?.resolve(result);
      else entry?.reject(new Error(error));
    });
    started.on('error', (error) => { if (worker === started) failAll(error); });
    started.on('exit', () => { if (worker === started) failAll(new Error('read worker stopped')); });
    return started;
  }
  const ask = (method) => (query = {}) => new Promise((resolve, reject) => {
    worker ??= start();
    const id = ++nextId;
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, method, query });
  });
  return {
    gigs: ask('gigs'),
    totals: ask('totals'),
    series: ask('series'),
    close() {
      const stopping = worker;
      failAll(new Error('read worker closed'));
      return stopping ? stopping.terminate().then(() => {}) : Promise.resolve();
    },
  };
}

/** In the worker: one read-only connection, one query at a time, in arrival order. */
function serve({ path }) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 2000');
  const queries = dashboardQueries(db);
  parentPort.on('message', ({ id, method, query }) => {
    try {
      parentPort.postMessage({ id, result: queries[method](query) });
    } catch (error) {
      parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

if (!isMainThread && workerData?.role === ROLE) serve(workerData);
