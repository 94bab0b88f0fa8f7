// The browser suite's recording collector: POST /collect on 127.0.0.1, on its own port so
// it can go down (the port is closed: connections are refused) and come back on the same
// port. It records every request (method, url, headers, raw body, arrival time, the
// status it answered, the fault it applied) and has switchable fault modes: N failures
// with a chosen status (500/503/429 with Retry-After...), a status for the batches a
// predicate picks (400/413/422), a delayed answer, a reset in the middle of the body, and
// no CORS headers. A RecordingCollector record holds the session, the records and the
// faults; the request handler's steps are functions of it.

import { createServer } from 'node:http';
import { decodeBody } from '../../demo/inflate.js';
import { closeHard, listen, track } from './http.js';
import { acceptedBatches, waitFor } from './records.js';

// Like the demo collector: CORS for any origin, and Retry-After exposed to scripts (a
// cross-origin fetch cannot read it otherwise). exposeRetryAfter = false drops the latter.
function corsHeaders(faults) {
  if (!faults.cors) return {};
  const headers = { 'access-control-allow-origin': '*' };
  if (faults.exposeRetryAfter) headers['access-control-expose-headers'] = 'Retry-After';
  return headers;
}

function answerPreflight(collector, record, res) {
  record.status = 204;
  res.writeHead(204, {
    ...corsHeaders(collector.faults),
    'access-control-allow-methods': 'POST',
    'access-control-allow-headers': 'content-type',
  }).end();
  collector.notify();
}

/** The queued fault this request takes (a POST of the current session), counted down. */
function takeFault(collector, req, current) {
  const { queue } = collector.faults;
  const fault = current && req.method === 'POST' && queue.length ? queue[0] : null;
  if (fault) {
    fault.left -= 1;
    if (fault.left <= 0) queue.shift();
  }
  return fault;
}

/** The 'reset' fault: the socket destroyed once the first bytes of the body arrive. */
function resetMidBody(collector, req, record) {
  record.fault = 'reset';
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    req.socket.destroy();
    collector.notify();
  };
  req.once('data', (chunk) => {
    record.body += chunk.toString('utf8');
    destroy();
  });
  req.once('end', destroy);
}

/** The status and headers for a received request: a rule's, a fail fault's, or 204. */
function chooseAnswer(collector, req, record, current, fault) {
  const path = new URL(req.url, 'http://x').pathname;
  // /landing: where a redirecting collector sends the request, a 2xx for any method.
  if (path === '/landing') return { status: 200, headers: {} };
  if (req.method !== 'POST' || path !== '/collect') return { status: 404, headers: {} };
  const rule = current && collector.faults.rules.find((r) => r.predicate(record.body));
  if (rule) {
    record.fault = `reject-${rule.status}`;
    return { status: rule.status, headers: {} };
  }
  if (fault?.kind === 'fail') {
    record.fault = `fail-${fault.status}`;
    return { status: fault.status, headers: fault.headers };
  }
  return { status: 204, headers: {} };
}

/** Sends the answer now, or after the delay fault's ms (unless the client gives up first). */
function answer(collector, res, record, { status, headers }, fault) {
  const send = () => {
    record.status = status;
    record.answeredAt = Date.now();
    if (!res.destroyed) res.writeHead(status, { ...corsHeaders(collector.faults), ...headers }).end();
    collector.notify();
  };
  if (fault?.kind !== 'delay') return send();
  record.fault = `delay-${fault.ms}`;
  const timer = setTimeout(send, fault.ms);
  res.on('close', () => {
    if (res.writableEnded) return;
    clearTimeout(timer);
    record.status = 0;
    record.fault = 'aborted-by-client';
    collector.notify();
  });
}

function handleCollect(collector, req, res) {
  const record = {
    method: req.method, url: req.url, headers: req.headers, body: '', raw: Buffer.alloc(0), at: Date.now(), status: 0, fault: null,
  };
  collector.allRecords.push(record);
  const current = new URL(req.url, 'http://x').searchParams.get('k') === String(collector.session);
  if (current) collector.records.push(record);
  if (req.method === 'OPTIONS') return answerPreflight(collector, record, res);
  const fault = takeFault(collector, req, current);
  if (fault?.kind === 'reset') return resetMidBody(collector, req, record);
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    record.raw = Buffer.concat(chunks);
    const decoded = decodeBody(record.raw, 1 << 20);
    record.gzip = decoded.gzip === true;
    record.body = (decoded.bytes || record.raw).toString('utf8');
    record.received = true;
    answer(collector, res, record, chooseAnswer(collector, req, record, current, fault), fault);
  });
}

/**
 * The recording collector. Every request lands in collector.records as
 * {method, url, headers, body, raw, gzip, at (Date.now()), received, status, fault}: body
 * is the JSON text (inflated when raw is gzip, as the demo collector does: gzip true);
 * received is true once the whole body arrived; status is 0 until answered and when
 * reset. Fault modes (consumed in this order for each POST):
 *   rejectWhen(predicate(body), status)  every batch the predicate picks gets status
 *   failNext(n, status, headers)         the next n POSTs get status (500, 503, 429, a 302 to /landing...)
 *   resetNext(n)                          the next n POSTs: socket destroyed mid-body
 *   delayNext(n, ms)                      the next n POSTs are answered after ms
 *   cors = false                          no Access-Control-Allow-Origin header
 *   exposeRetryAfter = false              no Access-Control-Expose-Headers: Retry-After
 *   down() / up()                         close the port (refused) / listen again on it
 * Each reset() starts a new session: pages opened since then post to
 * /collect?k=<session>, and records, faults and waits only concern that session, so a
 * beacon from a page of an earlier test (closed late) never leaks into the next one.
 */
class RecordingCollector {
  constructor() {
    this.session = 1;
    /** Requests of the current session, oldest first. */
    this.records = [];
    /** Every request since the collector started, any session. */
    this.allRecords = [];
    this.faults = { queue: [], rules: [], cors: true, exposeRetryAfter: true };
    this.waiters = new Set();
    this.isUp = false;
  }
  notify() {
    for (const check of this.waiters) check();
  }
  /** The endpoint for pages of the current session. */
  get endpoint() {
    return `${this.origin}/collect?k=${this.session}`;
  }
  /** POSTs to /collect answered 2xx, with their parsed bodies. */
  accepted() {
    return acceptedBatches(this.records);
  }
  failNext(n, status = 500, headers = {}) {
    this.faults.queue.push({ kind: 'fail', left: n, status, headers });
  }
  rateLimitNext(n, retryAfterSeconds) {
    this.failNext(n, 429, { 'retry-after': String(retryAfterSeconds) });
  }
  resetNext(n) {
    this.faults.queue.push({ kind: 'reset', left: n });
  }
  delayNext(n, ms) {
    this.faults.queue.push({ kind: 'delay', left: n, ms });
  }
  rejectWhen(predicate, status) {
    this.faults.rules.push({ predicate, status });
  }
  set cors(on) {
    this.faults.cors = on;
  }
  set exposeRetryAfter(on) {
    this.faults.exposeRetryAfter = on;
  }
  /** Listens on the collector's port (a free one the first time). */
  async up() {
    if (this.isUp) return;
    this.server = createServer((req, res) => handleCollect(this, req, res));
    this.sockets = track(this.server);
    this.port = await listen(this.server, this.port);
    this.origin = `http://127.0.0.1:${this.port}`;
    this.isUp = true;
  }
  /** Closes the port: later connections are refused until up(). */
  async down() {
    if (!this.isUp) return;
    this.isUp = false;
    await closeHard(this.server, this.sockets);
  }
  /** Forgets records and faults (between tests). */
  reset() {
    this.session += 1;
    this.records = [];
    this.faults = { queue: [], rules: [], cors: true, exposeRetryAfter: true };
  }
  /** Resolves when predicate(records) is true; rejects after timeoutMs. */
  waitFor(predicate, timeoutMs = 10000, what = 'collector condition') {
    return waitFor(() => predicate(this.records), { timeoutMs, what, subscribe: (check) => {
      this.waiters.add(check);
      return () => this.waiters.delete(check);
    } });
  }
  async close() {
    if (this.isUp) await closeHard(this.server, this.sockets);
    this.isUp = false;
  }
}

export async function startCollector() {
  const collector = new RecordingCollector();
  await collector.up();
  return collector;
}
