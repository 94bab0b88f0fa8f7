// The collector and the demo server under hostile requests: request targets that are not
// URLs, other origins and foreign Host names, reads too fast, slow or oversized uploads,
// requests Node cannot read, too many connections, and the headers every response
// carries. hostile-data.test.js has the hostile data. Each test starts its own server on
// 127.0.0.1:0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  batch, withCollector, withDemo, post, getJson, connect, received, statusLine, rawExchange, statusOf,
} from './support.js';

/** GET with an explicit Host header (fetch does not let a caller choose it). */
function getWithHost(url, path, host) {
  return new Promise((resolve, reject) => {
    const req = http.get(url + path, { headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

test('a request target that is not a URL gets 400, never 500', async () => {
  const targets = ['GET http://%zz/ HTTP/1.1', 'POST http://[::1/collect HTTP/1.1', 'GET http://%zz/api/totals HTTP/1.1'];
  await withCollector({}, async ({ url }) => {
    for (const line of targets) {
      const host = new URL(url).host;
      const text = await rawExchange(url, `${line}\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(text), 400, line);
    }
    assert.equal((await post(url, batch())).status, 200, 'still serving');
  });
  await withDemo({}, async (demo) => {
    const host = new URL(demo.url).host;
    for (const line of targets) {
      const text = await rawExchange(demo.url, `${line}\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(text), 400, line);
    }
  });
});

test('only /collect is cross-origin: the export and the dashboard API are same-origin', async () => {
  await withCollector({}, async ({ url }) => {
    await post(url, batch());
    const origin = { Origin: 'https://elsewhere.example' };
    for (const path of ['/export.ndjson', '/api/totals', '/api/gigs', '/api/series']) {
      const res = await fetch(url + path, { headers: origin });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('access-control-allow-origin'), null, path);
      const pre = await fetch(url + path, { method: 'OPTIONS', headers: { ...origin, 'Access-Control-Request-Method': 'GET' } });
      assert.equal(pre.headers.get('access-control-allow-origin'), null, `preflight ${path}`);
    }
    const beacon = await post(url, batch({ pv: 'other' }), { 'Content-Type': 'text/plain', ...origin });
    assert.equal(beacon.status, 200);
    assert.ok(['*', 'https://elsewhere.example'].includes(beacon.headers.get('access-control-allow-origin')));
  });
});

test('a Host that is not the address the server listens on is refused (DNS rebinding)', async () => {
  await withDemo({}, async (demo) => {
    const port = new URL(demo.url).port;
    for (const path of ['/api/totals', '/export.ndjson', '/dashboard', '/']) {
      const foreign = await getWithHost(demo.url, path, `rebind.example:${port}`);
      assert.equal(foreign.status, 421, path);
      assert.equal(foreign.headers['access-control-allow-origin'], undefined, path);
      assert.equal((await getWithHost(demo.url, path, `127.0.0.1:${port}`)).status, 200, path);
      assert.equal((await getWithHost(demo.url, path, `localhost:${port}`)).status, 200, path);
    }
    assert.equal((await getWithHost(demo.url, '/api/totals', `127.0.0.1:${Number(port) + 1}`)).status, 421, 'other port');
  });
});

test('reading the dashboard API too fast gets 429 with Retry-After; /collect is limited apart', async () => {
  let clock = 1_000_000;
  await withCollector({ now: () => clock, readRateLimit: { burst: 3, perSecond: 1 } }, async ({ url }) => {
    for (let i = 0; i < 3; i++) assert.equal((await fetch(url + '/api/totals')).status, 200);
    const flooded = await fetch(url + '/api/gigs');
    assert.equal(flooded.status, 429);
    assert.equal(flooded.headers.get('retry-after'), '1');
    assert.equal((await fetch(url + '/export.ndjson')).status, 429);
    assert.equal((await post(url, batch())).status, 200, 'beacons are not read requests');
    clock += 1000;
    assert.equal((await fetch(url + '/api/series')).status, 200);
  });
});

test('headers that never end are answered 408 and the socket closed', { timeout: 20000 }, async () => {
  const limits = { headersTimeoutMs: 300, requestTimeoutMs: 600 };
  await withCollector({ limits }, async ({ url }) => {
    const socket = await connect(url);
    const closed = received(socket);
    socket.write(`POST /collect HTTP/1.1\r\nHost: ${new URL(url).host}\r\nX-Slow: 1`);
    const text = await closed;
    assert.equal(statusOf(text), 408, JSON.stringify(text));
  });
});

test('a body that stalls is answered 408 and the socket closed', { timeout: 20000 }, async () => {
  const limits = { headersTimeoutMs: 300, requestTimeoutMs: 600 };
  await withCollector({ limits }, async ({ url }) => {
    const socket = await connect(url);
    const closed = received(socket);
    socket.write(`POST /collect HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{"v":1,`);
    const text = await closed;
    assert.equal(statusOf(text), 408, JSON.stringify(text));
    assert.equal((await getJson(url, '/api/totals')).events, 0);
  });
});

test('requests Node cannot read get a JSON reason with nosniff too, and the server stays up', { timeout: 20000 }, async () => {
  const limits = { headersTimeoutMs: 300, requestTimeoutMs: 600 };
  await withCollector({ limits }, async ({ url }) => {
    const host = new URL(url).host;
    const cases = [
      [431, `POST /collect?${'a'.repeat(20000)} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\n\r\n`],
      [400, `POST /collect HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      [400, 'NOT HTTP AT ALL\r\n\r\n'],
    ];
    for (const [status, head] of cases) {
      const text = await rawExchange(url, head);
      assert.equal(statusOf(text), status, JSON.stringify(text.slice(0, 80)));
      assert.match(text, /\r\nx-content-type-options: nosniff\r\n/i);
      assert.ok(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error, text);
    }
    const socket = await connect(url); // a slow body: Node's timer, answered the same way
    const closed = received(socket);
    socket.write(`POST /collect HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\n\r\n{`);
    const slow = await closed;
    assert.equal(statusOf(slow), 408, JSON.stringify(slow));
    assert.match(slow, /\r\n\r\n\{"error":"request too slow"\}$/);
    assert.equal((await post(url, batch())).status, 200, 'still serving');
  });
});

test('a Content-Length over the cap gets 413 before any of the body is read, and without "100 Continue"', { timeout: 20000 }, async () => {
  await withCollector({}, async ({ url }) => {
    const socket = await connect(url);
    const status = statusLine(socket);
    socket.write(`POST /collect HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n{`);
    assert.equal(await status, 413);
    socket.destroy();
    assert.equal((await post(url, batch())).status, 200, 'still serving');
    // With "Expect: 100-continue" the 413 comes instead of "100 Continue": no body is invited.
    const asking = await connect(url);
    const first = statusLine(asking);
    asking.write(`POST /collect HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n`);
    assert.equal(await first, 413);
    asking.destroy();
    // A body within the cap is invited, then stored.
    const body = JSON.stringify(batch({ pv: 'expecting' }));
    const invited = await connect(url);
    const answer = received(invited);
    invited.write(`POST /collect HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
    assert.equal(await statusLine(invited), 100);
    invited.write(body);
    assert.match(await answer, /HTTP\/1\.1 200 OK[^]*"stored":4/);
  });
});

test('one client gets at most maxConnectionsPerClient sockets; the rest are closed at once', { timeout: 20000 }, async () => {
  await withCollector({ limits: { maxConnectionsPerClient: 4 } }, async ({ url, server }) => {
    const serverSide = new Map(); // client port -> the server's end of the connection
    server.on('connection', (socket) => serverSide.set(socket.remotePort, socket));
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await connect(url));
    const extra = await connect(url);
    await received(extra); // closed by the server
    // The four held connections still work.
    const first = held[0];
    const status = statusLine(first);
    first.write(`GET /api/totals HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`);
    assert.equal(await status, 200);
    // Closing one makes room for a new one (once the server has seen it close).
    const end = serverSide.get(held[1].localPort);
    const gone = new Promise((resolve) => end.once('close', resolve));
    held[1].destroy();
    await gone;
    const again = await connect(url);
    const ok = statusLine(again);
    again.write(`GET /api/totals HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`);
    assert.equal(await ok, 200);
    for (const socket of [...held, again]) socket.destroy();
  });
});

test('nosniff on every response; CSP on the pages, framing refused on the dashboard', async () => {
  await withDemo({}, async (demo) => {
    for (const [path, init] of [['/', {}], ['/dashboard', {}], ['/web/market.js', {}], ['/nope', {}],
      ['/api/totals', {}], ['/export.ndjson', {}], ['/collect', { method: 'POST', body: '{' }],
      ['/collect', { method: 'OPTIONS' }], ['/api/nope', {}]]) {
      const res = await fetch(demo.url + path, init);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${init.method ?? 'GET'} ${path}`);
    }
    for (const page of ['/', '/dashboard']) {
      const res = await fetch(demo.url + page);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/, page);
      assert.match(csp, /frame-ancestors 'none'/, page);
      assert.match(csp, /object-src 'none'/, page);
      assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/, page);
      // Every inline script of the page is allowed by its hash, and nothing else inline.
      const html = await res.text();
      const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)];
      assert.ok(inline.length >= 2, page);
      const { createHash } = await import('node:crypto');
      for (const [, body] of inline) {
        const hash = createHash('sha256').update(body).digest('base64');
        assert.ok(csp.includes(`'sha256-${hash}'`), `${page}: inline script allowed by hash`);
      }
    }
    assert.equal((await fetch(demo.dashboard)).headers.get('x-frame-options'), 'DENY');
  });
});
