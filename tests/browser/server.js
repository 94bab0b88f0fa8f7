// server.js: the browser suite's two local servers and the helpers that read what they
// recorded. Not a test file (the runner only picks up *.test.js).
//
//  - startSite(): serves the fixture pages (tests/browser/fixtures/) with per-page
//    headers a test chooses (a CSP, for example), the package files from js/ and dist/
//    with the right MIME types, pages a test built in memory (site.serve), and on
//    request a wrong MIME type or a tampered core module.
//  - startCollector(): a recording collector at POST /collect on its own port, so it
//    can go down (the port is closed: connections are refused) and come back on the
//    same port. It records every request (method, url, headers, raw body, arrival
//    time, the status it answered, the fault it applied) and has switchable fault
//    modes: N failures with a chosen status (500/503/429 with Retry-After...), a
//    status for the batches a predicate picks (400/413/422), a delayed answer, a
//    reset in the middle of the body, and no CORS headers.
// Both listen on 127.0.0.1, port 0. Helpers: waitFor(predicate), acceptedBatches,
// eventIds ("pv:s" of every delivered event), duplicateCount.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBody } from '../../demo/inflate.js';
import { ABI_VERSION } from '../../js/core/abi.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES_DIR = join(HERE, 'fixtures');
export const PACKAGE_DIR = join(HERE, '..', '..', 'js');
export const DIST_DIR = join(HERE, '..', '..', 'dist');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

/** Resolves `path` inside `root`, or null when it would leave it. */
function inside(root, path) {
  const full = normalize(join(root, decodeURIComponent(path)));
  return full.startsWith(root + '/') ? full : null;
}

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/** Closes a server and every socket it still holds. */
function closeHard(server, sockets) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  });
}

function track(server) {
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * Flips bytes of the core module. 'corrupt' breaks the binary (compilation fails);
 * 'abi' makes imp_abi_version() return ABI_VERSION + 1 (a well-formed module the loader
 * must refuse).
 */
export function tamperWasm(bytes, how) {
  const copy = Buffer.from(bytes);
  if (how === 'corrupt') {
    copy[copy.length >> 1] ^= 0xff;
    copy[8] = 0x7f; // first section id: not a valid section
    return copy;
  }
  if (how === 'abi') {
    const body = functionBody(copy, 'imp_abi_version');
    // The accessor's body is `i32.const ABI_VERSION; end` (0x41 n 0x0b) after its locals.
    const at = copy.indexOf(Buffer.from([0x41, ABI_VERSION, 0x0b]), body.start);
    if (at < 0 || at >= body.end) throw new Error('tamperWasm: imp_abi_version body not recognised');
    copy[at + 1] = ABI_VERSION + 1;
    return copy;
  }
  throw new Error(`tamperWasm: unknown mode ${how}`);
}

// Minimal wasm reader: finds the byte range of an exported function's body.
function functionBody(bytes, exportName) {
  let p = 8;
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      result |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return result >>> 0;
      shift += 7;
    }
  };
  let importedFunctions = 0;
  let funcIndex = -1;
  let code = null;
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 2) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        p += u32(); p += u32(); // module, name
        const kind = bytes[p++];
        if (kind === 0) { u32(); importedFunctions++; } else if (kind === 1) { p++; const f = u32(); u32(); if (f & 1) u32(); } else if (kind === 2) { const f = u32(); u32(); if (f & 1) u32(); } else { p += 2; }
      }
    } else if (id === 7) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const len = u32();
        const name = bytes.subarray(p, p + len).toString();
        p += len;
        const kind = bytes[p++];
        const index = u32();
        if (kind === 0 && name === exportName) funcIndex = index;
      }
    } else if (id === 10) {
      code = { start: p, end };
    }
    p = end;
  }
  if (funcIndex < 0 || !code) throw new Error(`tamperWasm: export ${exportName} not found`);
  p = code.start;
  const count = u32();
  for (let i = 0; i < count; i++) {
    const size = u32();
    if (i === funcIndex - importedFunctions) return { start: p, end: p + size };
    p += size;
  }
  throw new Error('tamperWasm: function body not found');
}

/**
 * The site: fixture pages under /fixtures/, package files under /js/ and /dist/.
 * site.serve(pathname, body) serves a file a test built (kept across reset()).
 * site.setHeaders(pathname, headers) adds headers to one page (until reset());
 * site.wasm = {mime, tamper} changes how /js/imp.wasm is served;
 * site.requests lists every path asked for; POST /stall is never answered (until reset()).
 */
export async function startSite() {
  const state = { headers: new Map(), wasm: {}, requests: [], stalled: [], built: new Map() };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    state.requests.push(url.pathname);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/stall') {
      // A request the site never answers (a host page's stalled keepalive fetch).
      state.stalled.push(res);
      req.resume();
      return;
    }
    if (state.built.has(url.pathname)) {
      const headers = { 'content-type': MIME[extname(url.pathname)], 'cache-control': 'no-cache', ...state.headers.get(url.pathname) };
      res.writeHead(200, headers).end(state.built.get(url.pathname));
      return;
    }
    let file = null;
    if (url.pathname.startsWith('/fixtures/')) file = inside(FIXTURES_DIR, url.pathname.slice('/fixtures/'.length));
    else if (url.pathname.startsWith('/js/')) file = inside(PACKAGE_DIR, url.pathname.slice('/js/'.length));
    else if (url.pathname.startsWith('/dist/')) file = inside(DIST_DIR, url.pathname.slice('/dist/'.length));
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let body;
    try {
      body = await readFile(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = { 'content-type': MIME[extname(file)] || 'application/octet-stream', 'cache-control': 'no-cache' };
    if (url.pathname === '/js/imp.wasm') {
      if (state.wasm.mime !== undefined) headers['content-type'] = state.wasm.mime;
      if (state.wasm.tamper) body = tamperWasm(body, state.wasm.tamper);
    }
    Object.assign(headers, state.headers.get(url.pathname));
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
  });
  const sockets = track(server);
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    get requests() { return state.requests; },
    setHeaders(pathname, headers) { state.headers.set(pathname, headers); },
    set wasm(mode) { state.wasm = mode || {}; },
    serve(pathname, body) { state.built.set(pathname, body); },
    reset() {
      state.headers.clear();
      state.wasm = {};
      state.requests = [];
      for (const res of state.stalled.splice(0)) res.destroy();
    },
    close: () => closeHard(server, sockets),
  };
}

/**
 * The recording collector. Every request lands in collector.records as
 * {method, url, headers, body, raw, gzip, at (Date.now()), received, status, fault}: body
 * is the JSON text (inflated when raw is gzip, as the demo collector does: gzip true);
 * received
 * is true once the whole body arrived; status is 0 until answered and when reset. Fault modes (consumed in this order for each POST):
 *   rejectWhen(predicate(body), status)  every batch the predicate picks gets status
 *   failNext(n, status, headers)         the next n POSTs get status (500, 503, 429, a 302 to /landing...)
 *   resetNext(n)                          the next n POSTs: socket destroyed mid-body
 *   delayNext(n, ms)                      the next n POSTs are answered after ms
 *   cors = false                          no Access-Control-Allow-Origin header
 *   exposeRetryAfter = false              no Access-Control-Expose-Headers: Retry-After
 *   down() / up()                         close the port (refused) / listen again on it
 */
export async function startCollector() {
  // Each reset() starts a new session: pages opened since then post to
  // /collect?k=<session>, and records, faults and waits only concern that session, so a
  // beacon from a page of an earlier test (closed late) never leaks into the next one.
  let session = 1;
  let records = [];
  const allRecords = [];
  const faults = { queue: [], rules: [], cors: true, exposeRetryAfter: true };
  const waiters = new Set();
  const notify = () => {
    for (const check of waiters) check();
  };
  // Like the demo collector: CORS for any origin, and Retry-After exposed to scripts (a
  // cross-origin fetch cannot read it otherwise). exposeRetryAfter = false drops the latter.
  const corsHeaders = () => {
    if (!faults.cors) return {};
    const headers = { 'access-control-allow-origin': '*' };
    if (faults.exposeRetryAfter) headers['access-control-expose-headers'] = 'Retry-After';
    return headers;
  };

  const handler = (req, res) => {
    const record = {
      method: req.method, url: req.url, headers: req.headers, body: '', raw: Buffer.alloc(0), at: Date.now(), status: 0, fault: null,
    };
    allRecords.push(record);
    const current = new URL(req.url, 'http://x').searchParams.get('k') === String(session);
    if (current) records.push(record);
    if (req.method === 'OPTIONS') {
      record.status = 204;
      res.writeHead(204, {
        ...corsHeaders(),
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type',
      }).end();
      notify();
      return;
    }
    const fault = current && req.method === 'POST' && faults.queue.length ? faults.queue[0] : null;
    if (fault) {
      fault.left -= 1;
      if (fault.left <= 0) faults.queue.shift();
    }
    if (fault?.kind === 'reset') {
      record.fault = 'reset';
      let destroyed = false;
      const destroy = () => {
        if (destroyed) return;
        destroyed = true;
        req.socket.destroy();
        notify();
      };
      req.once('data', (chunk) => {
        record.body += chunk.toString('utf8');
        destroy();
      });
      req.once('end', destroy);
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      record.raw = Buffer.concat(chunks);
      const decoded = decodeBody(record.raw, 1 << 20);
      record.gzip = decoded.gzip === true;
      record.body = (decoded.bytes || record.raw).toString('utf8');
      record.received = true;
      let status = 204;
      let headers = {};
      const path = new URL(req.url, 'http://x').pathname;
      if (path === '/landing') {
        status = 200; // where a redirecting collector sends the request: a 2xx for any method
      } else if (req.method !== 'POST' || path !== '/collect') {
        status = 404;
      } else {
        const rule = current && faults.rules.find((r) => r.predicate(record.body));
        if (rule) {
          status = rule.status;
          record.fault = `reject-${rule.status}`;
        } else if (fault?.kind === 'fail') {
          status = fault.status;
          headers = fault.headers;
          record.fault = `fail-${fault.status}`;
        }
      }
      const answer = () => {
        record.status = status;
        record.answeredAt = Date.now();
        if (!res.destroyed) res.writeHead(status, { ...corsHeaders(), ...headers }).end();
        notify();
      };
      if (fault?.kind === 'delay') {
        record.fault = `delay-${fault.ms}`;
        const timer = setTimeout(answer, fault.ms);
        res.on('close', () => {
          if (!res.writableEnded) {
            clearTimeout(timer);
            record.status = 0;
            record.fault = 'aborted-by-client';
            notify();
          }
        });
      } else {
        answer();
      }
    });
  };

  let server = createServer(handler);
  let sockets = track(server);
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  let isUp = true;

  const collector = {
    origin,
    /** The endpoint for pages of the current session. */
    get endpoint() { return `${origin}/collect?k=${session}`; },
    /** Requests of the current session, oldest first. */
    get records() { return records; },
    /** Every request since the collector started, any session. */
    allRecords,
    /** POSTs to /collect answered 2xx, with their parsed bodies. */
    accepted: () => acceptedBatches(records),
    failNext(n, status = 500, headers = {}) { faults.queue.push({ kind: 'fail', left: n, status, headers }); },
    rateLimitNext(n, retryAfterSeconds) { this.failNext(n, 429, { 'retry-after': String(retryAfterSeconds) }); },
    resetNext(n) { faults.queue.push({ kind: 'reset', left: n }); },
    delayNext(n, ms) { faults.queue.push({ kind: 'delay', left: n, ms }); },
    rejectWhen(predicate, status) { faults.rules.push({ predicate, status }); },
    set cors(on) { faults.cors = on; },
    set exposeRetryAfter(on) { faults.exposeRetryAfter = on; },
    get isUp() { return isUp; },
    /** Closes the port: later connections are refused until up(). */
    async down() {
      if (!isUp) return;
      isUp = false;
      await closeHard(server, sockets);
    },
    /** Listens again on the same port. */
    async up() {
      if (isUp) return;
      server = createServer(handler);
      sockets = track(server);
      await listen(server, port);
      isUp = true;
    },
    /** Forgets records and faults (between tests). */
    reset() {
      session += 1;
      records = [];
      faults.queue.length = 0;
      faults.rules.length = 0;
      faults.cors = true;
      faults.exposeRetryAfter = true;
    },
    /** Resolves when predicate(records) is true; rejects after timeoutMs. */
    waitFor(predicate, timeoutMs = 10000, what = 'collector condition') {
      return waitFor(() => predicate(records), { timeoutMs, what, subscribe: (check) => {
        waiters.add(check);
        return () => waiters.delete(check);
      } });
    },
    async close() {
      if (isUp) await closeHard(server, sockets);
      isUp = false;
    },
  };
  return collector;
}

/**
 * Resolves with predicate()'s value once it is truthy. Checks on every notification
 * from `subscribe` and every intervalMs; rejects with a message naming `what` after
 * timeoutMs. predicate may be async.
 */
export function waitFor(predicate, { timeoutMs = 10000, intervalMs = 25, what = 'condition', subscribe } = {}) {
  return new Promise((resolve, reject) => {
    let done = false;
    let unsubscribe = () => {};
    let interval = null;
    let busy = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(interval);
      unsubscribe();
      fn(value);
    };
    const check = async () => {
      if (done || busy) return;
      busy = true;
      try {
        const value = await predicate();
        if (value) finish(resolve, value);
      } catch (error) {
        finish(reject, error);
      } finally {
        busy = false;
      }
    };
    const timer = setTimeout(() => finish(reject, new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    if (subscribe) unsubscribe = subscribe(check);
    interval = setInterval(check, intervalMs);
    check();
  });
}

/** POSTs to /collect answered 2xx, each {record, batch} with the parsed body. */
export function acceptedBatches(records) {
  const out = [];
  for (const record of records) {
    if (record.method !== 'POST' || !record.url.startsWith('/collect') || record.status < 200 || record.status >= 300) continue;
    out.push({ record, batch: JSON.parse(record.body) });
  }
  return out;
}

/** Every delivered event as a flat list of {pv, event, batch}. */
export function deliveredEvents(records) {
  const out = [];
  for (const { batch } of acceptedBatches(records)) for (const event of batch.ev) out.push({ pv: batch.pv, event, batch });
  return out;
}

/** The set of "pv:s" of every delivered event (the collector's dedup key). */
export function eventIds(records) {
  return new Set(deliveredEvents(records).map(({ pv, event }) => `${pv}:${event.s}`));
}

/** Delivered events minus distinct ids: how many raw duplicates reached the collector. */
export function duplicateCount(records) {
  return deliveredEvents(records).length - eventIds(records).size;
}

/** Delivered events after dedup by (pv, s), in arrival order. */
export function uniqueEvents(records) {
  const seen = new Set();
  const out = [];
  for (const item of deliveredEvents(records)) {
    const id = `${item.pv}:${item.event.s}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(item);
  }
  return out;
}
