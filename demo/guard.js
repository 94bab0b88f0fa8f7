// The HTTP server both the collector alone and the demo server run on, with the
// protections that belong to the connection rather than to a route: header and request
// timeouts fit for small beacons (a socket that sends nothing is closed by the first), a
// cap on connections per client address and one over all clients (at it, the oldest idle
// connection makes room; when none is idle, a few more are kept only to answer 503 with
// Retry-After, so a tracker retries), a Host check
// (a name that is not the address the server listens on is refused, so DNS rebinding
// cannot turn a page elsewhere into a reader of this server), 400 for a request target
// that is not a URL, and X-Content-Type-Options: nosniff on every response, including
// the ones Node gives before any route runs (a request it cannot parse, headers or a URL
// too large, a request too slow): those too carry a JSON reason.

import http from 'node:http';

export const SERVER_LIMITS = Object.freeze({
  /** All request headers must arrive within this long (Node's default: 60 s). */
  headersTimeoutMs: 5000,
  /** The whole request, body included, must arrive within this long (Node's default: 300 s). */
  requestTimeoutMs: 10000,
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: 5000,
  /** Open connections per client address; more are closed as soon as they are accepted. */
  maxConnectionsPerClient: 128,
  /** Open connections over all clients whose requests are served. */
  maxConnections: 1024,
  /** Connections past maxConnections kept only to answer each request 503; more are closed at once. */
  maxRefusingConnections: 64,
});

/** Seconds a client is told to wait at a cap: connections (guard.js), or batches held at once (collector.js). */
export const BUSY_RETRY_AFTER_S = 1;
const REFUSING = Symbol('refusing');

/**
 * The request's URL, or null when its target is not one (e.g. "http://%zz/").
 * @param {http.IncomingMessage} req
 */
export function requestUrl(req) {
  try {
    return new URL(req.url ?? '/', 'http://server.invalid');
  } catch {
    return null;
  }
}

/**
 * An http.Server running `handle(req, res, url)` behind the protections above.
 * `limits` overrides SERVER_LIMITS; `allowedHosts` adds Host values to accept besides the
 * listening address (e.g. the public name of a collector behind a proxy).
 * @param {(req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void} handle
 * @param {{limits?: Partial<typeof SERVER_LIMITS>, allowedHosts?: string[]}} [options]
 */
export function createGuardedServer(handle, { limits = {}, allowedHosts = [] } = {}) {
  const l = { ...SERVER_LIMITS, ...limits };
  const extraHosts = new Set(allowedHosts.map((host) => host.toLowerCase()));
  const server = http.createServer({
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: Math.max(l.requestTimeoutMs, l.headersTimeoutMs),
    // How often Node looks for connections past those timeouts (its default: 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, l.headersTimeoutMs / 2)),
  }, (req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (/** @type {any} */ (req.socket)[REFUSING]) return answerBusy(req, res);
    const url = requestUrl(req);
    if (!url) return refuse(req, res, 400, 'the request target is not a URL');
    if (!hostAllowed(req, url, extraHosts)) return refuse(req, res, 421, 'the Host header does not name this server');
    try {
      handle(req, res, url);
    } catch {
      if (!res.headersSent) refuse(req, res, 500, 'internal error');
      else res.destroy();
    }
  });
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  // "Expect: 100-continue": the route sees the headers first, and "100 Continue" invites
  // the body only when it has not answered already (a 413 for a Content-Length over the
  // cap, a 429), so a refused upload is never sent.
  server.on('checkContinue', (req, res) => {
    server.emit('request', req, res);
    if (!res.headersSent && !res.writableEnded) res.writeContinue();
  });
  server.on('clientError', answerClientError);
  capConnections(server, l);
  return server;
}

/**
 * Whether the request names this server: its Host (and the authority of an absolute-form
 * target) is the address and port the connection came in on, or localhost on a loopback
 * address, or one of `extraHosts`.
 */
function hostAllowed(req, url, extraHosts) {
  const host = req.headers.host?.toLowerCase();
  if (!host) return false;
  const own = ownHosts(req.socket);
  const ok = (name) => own.includes(name) || extraHosts.has(name);
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? '');
  return ok(host) && (!absolute || ok(url.host.toLowerCase()));
}

/** The Host values that name the local end of `socket`. */
function ownHosts(socket) {
  const port = socket.localPort;
  let address = (socket.localAddress ?? '').toLowerCase();
  if (address.startsWith('::ffff:') && address.includes('.')) address = address.slice(7);
  const hosts = [address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`];
  if (address === '::1' || address.startsWith('127.')) hosts.push(`localhost:${port}`);
  if (port === 80) hosts.push(...hosts.map((h) => h.slice(0, h.lastIndexOf(':'))));
  return hosts;
}

/**
 * Closes each connection beyond `maxConnectionsPerClient` open ones from the same address
 * right away. Past `maxConnections` over all clients, the oldest connection with no
 * request in flight (idle, never used, or its headers still arriving) is closed to make
 * room; when every one has a request in flight, up to `maxRefusingConnections` more are
 * kept to answer 503 and the rest are closed right away.
 * @param {http.Server} server
 * @param {typeof SERVER_LIMITS} limits
 */
function capConnections(server, { maxConnectionsPerClient, maxConnections, maxRefusingConnections }) {
  /** @type {Map<string, number>} */
  const open = new Map();
  /** Served and refusing connections, each in the order they were accepted. */
  const served = new Set();
  const refusing = new Set();
  server.on('connection', (socket) => {
    const client = socket.remoteAddress ?? 'unknown';
    const count = (open.get(client) ?? 0) + 1;
    if (count > maxConnectionsPerClient) return socket.destroy();
    if (served.size >= maxConnections) closeOldestIdle(served);
    const busy = served.size >= maxConnections;
    if (busy && refusing.size >= maxRefusingConnections) return socket.destroy();
    open.set(client, count);
    if (busy) /** @type {any} */ (socket)[REFUSING] = true;
    (busy ? refusing : served).add(socket);
    socket.once('close', () => {
      served.delete(socket);
      refusing.delete(socket);
      const left = (open.get(client) ?? 1) - 1;
      if (left > 0) open.set(client, left);
      else open.delete(client);
    });
  });
}

/** Closes the oldest of `sockets` with no request in flight, if any, and forgets it. */
function closeOldestIdle(sockets) {
  for (const socket of sockets) {
    if (socket._httpMessage) continue;
    sockets.delete(socket);
    socket.destroy();
    return;
  }
}

/**
 * The answer on a connection past the cap: 503 with Retry-After, readable from any page
 * (a tracker's fetch retries it), and the connection closed once it is sent.
 */
function answerBusy(req, res) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
  refuse(req, res, 503, 'the server is at its connection limit; try again shortly',
    { 'Retry-After': String(BUSY_RETRY_AFTER_S) });
}

/** What Node's HTTP parser and timers report, as the status and reason of the refusal. */
const CLIENT_ERRORS = {
  HPE_HEADER_OVERFLOW: [431, 'request headers (the URL included) larger than 16 KiB'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request too slow'],
};

/**
 * Node's own answer to a request it could not read (the 'clientError' event), with the
 * headers and JSON body of every other refusal; the connection is closed as Node does.
 * Nothing is written when a response to this request has already begun.
 * @param {Error & {code?: string}} error
 * @param {import('node:stream').Duplex & {_httpMessage?: http.ServerResponse}} socket
 */
function answerClientError(error, socket) {
  const inFlight = socket._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const [status, reason] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'malformed HTTP request'];
    const text = JSON.stringify({ error: reason });
    socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n' +
      `X-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `Connection: close\r\n\r\n${text}`);
  }
  socket.destroy();
}

function refuse(req, res, status, reason, headers = {}) {
  req.resume();
  const text = JSON.stringify({ error: reason });
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text), Connection: 'close', ...headers });
  res.end(text);
}
