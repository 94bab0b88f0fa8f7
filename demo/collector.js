// The collector: HTTP endpoints that receive the tracker's batches and answer the
// dashboard. It owns request handling (body limit, parsing, status codes, CORS, rate
// limiting) and delegates validation to validate.js and storage to store.js.
//
//   POST /collect        one batch (text/plain or application/json body, fetch or beacon)
//                        200 {"stored":n,"duplicates":m} | 400 | 413 | 422 | 429 (+Retry-After)
//   OPTIONS /collect     CORS preflight (204)
//   GET /api/totals      totals over all stored events (+ what the collector rejected)
//   GET /api/gigs        per-gig aggregates
//   GET /api/series      counts per time bucket (?bucket=ms&since=ms)
//   GET /export.ndjson   every stored event, one JSON object per line
// The GET endpoints take ?human=1 to leave out page views flagged as automated (wd).
//
// Bad input never reaches a 5xx: every failure of the client's making is a 4xx with a
// one-line reason in a JSON body {"error": "..."}.

import http from 'node:http';
import { openStore } from './store.js';
import { createValidator } from './validate.js';
import { createRateLimiter } from './rate-limit.js';

export const MAX_BODY_BYTES = 64 * 1024;
/** Past this many bytes of an oversized body we stop draining and close the connection. */
const MAX_DRAIN_BYTES = 1024 * 1024;

/**
 * @param {{dbPath?: string, store?: ReturnType<typeof openStore>, maxBodyBytes?: number,
 *          rateLimit?: {burst?: number, perSecond?: number}, now?: () => number,
 *          clientKey?: (req: http.IncomingMessage) => string}} [options]
 */
export function createCollector(options = {}) {
  const store = options.store ?? openStore(options.dbPath ?? ':memory:');
  const validate = createValidator();
  const now = options.now ?? Date.now;
  const limiter = createRateLimiter({ ...options.rateLimit, now });
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const clientKey = options.clientKey ?? ((req) => req.socket.remoteAddress ?? 'unknown');
  const counters = { requests: 0, accepted: 0, stored: 0, duplicates: 0, rejected: {} };

  function reject(res, status, reason, headers = {}) {
    counters.rejected[status] = (counters.rejected[status] ?? 0) + 1;
    sendJson(res, status, { error: reason }, headers);
  }

  function collect(req, res) {
    counters.requests++;
    const verdict = limiter.take(clientKey(req));
    if (!verdict.ok) {
      req.resume();
      return reject(res, 429, 'too many requests from this client',
        { 'Retry-After': String(verdict.retryAfter) });
    }
    const declared = Number(req.headers['content-length']);
    if (declared > maxBodyBytes) {
      return drainThen(req, res, () => reject(res, 413, `body larger than ${maxBodyBytes} bytes`));
    }
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
      if (size > MAX_DRAIN_BYTES && !res.headersSent) {
        res.setHeader('Connection', 'close');
        res.once('finish', () => req.destroy());
        reject(res, 413, `body larger than ${maxBodyBytes} bytes`);
      }
    });
    req.on('error', () => {}); // client went away: nothing to answer
    req.on('end', () => {
      if (res.headersSent) return;
      if (tooLarge) return reject(res, 413, `body larger than ${maxBodyBytes} bytes`);
      let text;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
      } catch {
        return reject(res, 400, 'unparseable body: not valid UTF-8');
      }
      if (text.trim() === '') return reject(res, 400, 'empty body');
      let batch;
      try {
        batch = JSON.parse(text);
      } catch (error) {
        return reject(res, 400, `unparseable body: ${error instanceof Error ? error.message : 'not JSON'}`);
      }
      const problem = validate(batch);
      if (problem) return reject(res, 422, `schema: ${problem}`);
      // A store may answer later (ClickHouse): 200 only once the batch is durable.
      Promise.resolve().then(() => store.addBatch(batch, now())).then((result) => {
        counters.accepted++;
        counters.stored += result.stored;
        counters.duplicates += result.duplicates;
        sendJson(res, 200, result);
      }, () => sendJson(res, 500, { error: 'storage failed' })); // the server's fault, not the input's
    });
  }

  async function api(url, res) {
    const human = url.searchParams.get('human') === '1';
    switch (url.pathname) {
      case '/api/totals':
        return sendJson(res, 200, { ...(await store.totals({ human })), collector: counters });
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

  async function exportNdjson(res) {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' });
    for await (const row of store.exportRows()) {
      res.write(JSON.stringify({ ...row, ts: new Date(row.ts).toISOString(),
        received: new Date(row.received).toISOString() }) + '\n');
    }
    res.end();
  }

  /**
   * Handles the collector's routes; returns false for any other path so a bigger server
   * (server.js) can serve its own files.
   */
  function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://collector.invalid');
    const isCollect = url.pathname === '/collect';
    const isApi = url.pathname.startsWith('/api/') || url.pathname === '/export.ndjson';
    if (!isCollect && !isApi) return false;
    setCors(req, res);
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Max-Age': '86400' });
        res.end();
      } else if (isCollect && req.method === 'POST') {
        collect(req, res);
      } else if (isCollect) {
        req.resume();
        reject(res, 405, 'use POST', { Allow: 'POST, OPTIONS' });
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        req.resume();
        sendJson(res, 405, { error: 'use GET' }, { Allow: 'GET' });
      } else {
        const answer = url.pathname === '/export.ndjson' ? exportNdjson(res) : api(url, res);
        answer.catch(() => (res.headersSent ? res.destroy() : sendJson(res, 503, { error: 'store unavailable' })));
      }
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
    return true;
  }

  return { handle, store, counters, close: () => store.close() };
}

/**
 * Starts the collector alone on `host:port` (port 0 = any free port). Resolves to
 * {url, server, collector, close()}.
 */
export async function listenCollector({ port = 0, host = '127.0.0.1', ...options } = {}) {
  const collector = createCollector(options);
  const server = http.createServer((req, res) => {
    if (!collector.handle(req, res)) sendJson(res, 404, { error: 'not found' });
  });
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

function setCors(req, res) {
  // Any page may send batches (the endpoint only appends validated events). Echo the
  // origin instead of "*" so a fetch with credentials would work too; no cookies are used.
  const origin = req.headers.origin;
  res.setHeader('Access-Control-Allow-Origin', origin && origin !== 'null' ? origin : '*');
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
}

/** Answers 413 after reading (and discarding) the rest of the body, so the client sees it. */
function drainThen(req, res, respond) {
  let drained = 0;
  req.on('data', (chunk) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES && !res.headersSent) {
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.destroy());
      respond();
    }
  });
  req.on('error', () => {});
  req.on('end', () => { if (!res.headersSent) respond(); });
}

function sendJson(res, status, body, headers = {}) {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function clampInt(text, min, max, fallback) {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}
