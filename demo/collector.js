// The collector: HTTP endpoints that receive the tracker's batches and answer the
// dashboard. It owns request handling (body limit, parsing, status codes, CORS, rate
// limiting) and delegates validation to validate.js, storage to store.js, the export's
// streaming to export.js and connection-level protections to guard.js.
//
//   POST /collect        one batch (text/plain or application/json body, fetch or beacon),
//                        JSON text or gzip (inflate.js: magic bytes 1f 8b, capped)
//                        200 {"stored":n,"duplicates":m} | 400 | 413 | 422 | 429, 503 (+Retry-After)
//   OPTIONS /collect     CORS preflight (204)
//   GET /api/totals      totals over all stored events (+ what the collector rejected)
//   GET /api/gigs        per-gig aggregates
//   GET /api/series      counts per time bucket (?bucket=ms&since=ms)
//   GET /export.ndjson   every stored event, one JSON object per line (streamed)
// The GET endpoints take ?human=1 to leave out page views flagged as automated (wd).
//
// Only /collect is cross-origin (beacons come from the shop's pages, wherever they are
// served); the GET endpoints carry no CORS headers, so a page on another origin cannot
// read them. Each client address has one token bucket for beacons and another for reads,
// at most maxCollects batches are received and stored at once (collect-slots.js), and at
// most maxExports exports run at once. A SQLite store's dashboard queries run on a
// worker thread (read-worker.js), so they never hold up a beacon.
//
// Bad input never reaches a 5xx: every failure of the client's making is a 4xx with a
// one-line reason in a JSON body {"error": "..."}.

import { openStore } from './store.js';
import { createValidator } from './validate.js';
import { createRateLimiter } from './rate-limit.js';
import { BUSY_RETRY_AFTER_S, createGuardedServer, requestUrl } from './guard.js';
import { streamExport } from './export.js';
import { decodeBody } from './inflate.js';
import { openReadWorker } from './read-worker.js';
import { createCollectSlots } from './collect-slots.js';

export const MAX_BODY_BYTES = 64 * 1024;
/** Past this many bytes of an oversized body we stop discarding it and close the connection. */
const MAX_DRAIN_BYTES = 1024 * 1024;
/** Reads (GET /api/*, /export.ndjson) per client: a dashboard tab polls 1.5 a second. */
export const READ_RATE_LIMIT = Object.freeze({ burst: 60, perSecond: 10 });
/** Exports streaming at once, over all clients. */
export const MAX_EXPORTS = 4;
/** POST /collect requests between their headers and their answer, over all clients. */
export const MAX_COLLECTS = 256;

/**
 * @param {{dbPath?: string, store?: ReturnType<typeof openStore>, maxBodyBytes?: number,
 *          rateLimit?: {burst?: number, perSecond?: number},
 *          readRateLimit?: {burst?: number, perSecond?: number}, maxExports?: number, maxCollects?: number,
 *          now?: () => number, clientKey?: (req: import('node:http').IncomingMessage) => string}} [options]
 */
export function createCollector(options = {}) {
  const now = options.now ?? Date.now;
  const store = options.store ?? openStore(options.dbPath ?? ':memory:');
  // A SQLite file's dashboard queries run on another thread (read-worker.js), so a long
  // one never holds a beacon; other stores answer asynchronously already.
  const reads = store.path && store.path !== ':memory:' ? openReadWorker(store.path) : store;
  /** The collector's record: what every handler below reads and the counters it keeps. */
  const collector = {
    store,
    reads,
    validate: createValidator(),
    now,
    limiter: createRateLimiter({ ...options.rateLimit, now }),
    readLimiter: createRateLimiter({ ...READ_RATE_LIMIT, ...options.readRateLimit, now }),
    maxExports: options.maxExports ?? MAX_EXPORTS,
    exportsRunning: 0,
    slots: createCollectSlots(options.maxCollects ?? MAX_COLLECTS),
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
    clientKey: options.clientKey ?? ((req) => req.socket.remoteAddress ?? 'unknown'),
    counters: { requests: 0, accepted: 0, gzip: 0, stored: 0, duplicates: 0, rejected: {} },
  };
  return {
    handle: (req, res) => handleRequest(collector, req, res),
    store: collector.store,
    counters: collector.counters,
    close: () => {
      if (reads !== store) reads.close();
      return store.close();
    },
  };
}

/**
 * Handles the collector's routes; returns false for any other path so a bigger server
 * (server.js) can serve its own files.
 */
function handleRequest(collector, req, res) {
  const url = requestUrl(req);
  if (!url) {
    req.resume();
    reject(collector, res, 400, 'the request target is not a URL');
    return true;
  }
  const isCollect = url.pathname === '/collect';
  const isRead = url.pathname.startsWith('/api/') || url.pathname === '/export.ndjson';
  if (!isCollect && !isRead) return false;
  if (isCollect) setCors(req, res);
  try {
    if (req.method === 'OPTIONS' && isCollect) {
      res.writeHead(204, { 'Access-Control-Max-Age': '86400' });
      res.end();
    } else if (isCollect && req.method === 'POST') {
      collect(collector, req, res);
    } else if (isCollect) {
      req.resume();
      reject(collector, res, 405, 'use POST', { Allow: 'POST, OPTIONS' });
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      sendJson(res, 405, { error: 'use GET' }, { Allow: 'GET, HEAD' });
    } else {
      read(collector, req, res, url);
    }
  } catch (error) {
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    else res.destroy();
  }
  return true;
}

/** A refusal of the client's making: counted by status, answered with a one-line reason. */
function reject(collector, res, status, reason, headers = {}) {
  collector.counters.rejected[status] = (collector.counters.rejected[status] ?? 0) + 1;
  sendJson(res, status, { error: reason }, headers);
}

/** POST /collect: the per-client beacon limit, then the body read up to its cap. */
function collect(collector, req, res) {
  collector.counters.requests++;
  const verdict = collector.limiter.take(collector.clientKey(req));
  if (!verdict.ok) {
    req.resume();
    return reject(collector, res, 429, 'too many requests from this client',
      { 'Retry-After': String(verdict.retryAfter) });
  }
  const slot = collector.slots.take(res, () => {
    reject(collector, res, 408, 'body too slow: its slot went to a newer request', { Connection: 'close' });
    res.once('finish', () => req.destroy()); // the rest of its body is not waited for
  });
  if (!slot) {
    req.resume();
    return reject(collector, res, 503, 'the collector is storing as many batches as it holds; try again shortly',
      { 'Retry-After': String(BUSY_RETRY_AFTER_S) });
  }
  const { maxBodyBytes } = collector;
  const tooLarge = () => reject(collector, res, 413, `body larger than ${maxBodyBytes} bytes`);
  // Answered as soon as the size is known to be over the cap; what follows is read and
  // dropped (so the client can read the answer) up to MAX_DRAIN_BYTES, then cut.
  if (Number(req.headers['content-length']) > maxBodyBytes) tooLarge();
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (!res.headersSent && size <= maxBodyBytes) chunks.push(chunk);
    else if (!res.headersSent) tooLarge();
    else if (size > MAX_DRAIN_BYTES) req.destroy();
  });
  req.on('error', () => {}); // client went away: nothing to answer
  req.on('end', () => {
    slot.receiving = false;
    if (!res.headersSent) acceptBody(collector, res, Buffer.concat(chunks));
  });
}

/** A whole body within the cap: decoded, parsed, validated, then stored and answered. */
function acceptBody(collector, res, bytes) {
  // The inflated JSON is held to the same limit as a plain body.
  const body = decodeBody(bytes, collector.maxBodyBytes);
  if (body.error) return reject(collector, res, body.status, body.error);
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body.bytes);
  } catch {
    return reject(collector, res, 400, 'unparseable body: not valid UTF-8');
  }
  if (text.trim() === '') return reject(collector, res, 400, 'empty body');
  let batch;
  try {
    batch = JSON.parse(text);
  } catch (error) {
    return reject(collector, res, 400, `unparseable body: ${error instanceof Error ? error.message : 'not JSON'}`);
  }
  const problem = collector.validate(batch);
  if (problem) return reject(collector, res, 422, `schema: ${problem}`);
  const { counters } = collector;
  // A store may answer later (ClickHouse): 200 only once the batch is durable.
  Promise.resolve().then(() => collector.store.addBatch(batch, collector.now())).then((result) => {
    counters.accepted++;
    if (body.gzip) counters.gzip++;
    counters.stored += result.stored;
    counters.duplicates += result.duplicates;
    sendJson(res, 200, result);
  }, () => sendJson(res, 500, { error: 'storage failed' })); // the server's fault, not the input's
}

/** GET endpoints: the per-client read limit first, then the export or the API. */
function read(collector, req, res, url) {
  const verdict = collector.readLimiter.take(collector.clientKey(req));
  if (!verdict.ok) {
    return sendJson(res, 429, { error: 'too many reads from this client' }, { 'Retry-After': String(verdict.retryAfter) });
  }
  const answer = url.pathname === '/export.ndjson' ? exportNdjson(collector, req, res, url) : api(collector, url, res);
  answer.catch(() => (res.headersSent ? res.destroy() : sendJson(res, 503, { error: 'store unavailable' })));
}

async function api(collector, url, res) {
  const store = collector.reads;
  const human = url.searchParams.get('human') === '1';
  switch (url.pathname) {
    case '/api/totals':
      return sendJson(res, 200, { ...(await store.totals({ human })), collector: collector.counters });
    case '/api/gigs':
      return sendJson(res, 200, { gigs: await store.gigs({ human }) });
    case '/api/series': {
      const bucket = clampInt(url.searchParams.get('bucket'), 1000, 86400000, 10000);
      const since = clampInt(url.searchParams.get('since'), 0, Number.MAX_SAFE_INTEGER, 0);
      return sendJson(res, 200, { bucket, rows: await store.series({ bucket, since, human }) });
    }
    default:
      return sendJson(res, 404, { error: 'no such endpoint' });
  }
}

/** Resolves when the export is over; rejects when the store failed before its first row. */
async function exportNdjson(collector, req, res, url) {
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' });
    return res.end();
  }
  const { maxExports } = collector;
  if (collector.exportsRunning >= maxExports) {
    return sendJson(res, 429, { error: `${maxExports} exports are running; try again shortly` }, { 'Retry-After': '5' });
  }
  collector.exportsRunning++;
  let released = false;
  const release = () => {
    if (!released) collector.exportsRunning--;
    released = true;
  };
  res.once('close', release); // also when the client goes away mid-export
  const human = url.searchParams.get('human') === '1';
  return streamExport(collector.store.exportRows({ human }), res).finally(release);
}

/**
 * Starts the collector alone on `host:port` (port 0 = any free port). Resolves to
 * {url, server, collector, close()}.
 */
export async function listenCollector({ port = 0, host = '127.0.0.1', limits, allowedHosts, ...options } = {}) {
  const collector = createCollector(options);
  const server = createGuardedServer((req, res) => {
    if (!collector.handle(req, res)) sendJson(res, 404, { error: 'not found' });
  }, { limits, allowedHosts });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://${host}:${bound}`,
    server,
    collector,
    close: () => new Promise((resolve) => {
      server.close(() => { collector.close(); resolve(); });
      server.closeAllConnections();
    }),
  };
}

/** CORS for /collect only: any page may send batches (the endpoint only appends validated events). */
function setCors(req, res) {
  // The page's origin is echoed ("*" for none or "null"). No Access-Control-Allow-Credentials:
  // the tracker's fetch omits credentials, and no cookie is set or read (sendBeacon sends
  // them, but reads no answer).
  const origin = req.headers.origin;
  res.setHeader('Access-Control-Allow-Origin', origin && origin !== 'null' ? origin : '*');
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
}

function sendJson(res, status, body, headers = {}) {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * A query parameter as an integer in [min, max]: any JSON-style number ("60000", "6e4",
 * "1.8e12") is truncated and clamped; absent, empty or not a number, `fallback`.
 */
function clampInt(text, min, max, fallback) {
  const n = text == null || text.trim() === '' ? Number.NaN : Number(text);
  return Number.isNaN(n) ? fallback : Math.min(max, Math.max(min, Math.trunc(n)));
}
