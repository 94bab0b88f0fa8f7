// The collector under more connections and requests than it serves at once: sockets that
// never send anything, the cap over all clients (the oldest idle connection makes room;
// when none is idle, a few connections past it answered 503 with Retry-After, the rest
// closed), and the cap on batches received and stored at once (the slowest body makes
// room; when all are being stored, 503 with Retry-After).
// Each test starts its own collector on 127.0.0.1:0 and waits on socket events and
// statuses; the only times are the short limits it configures. Connections come from
// several loopback addresses (127.0.0.x) where the per-client cap must not be what acts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { openStore } from '../../demo/store.js';
import { batch, withCollector, post, connect, received, statusLine, statusOf, UNLIMITED } from './support.js';

/** A raw connection from the loopback address 127.0.0.`n`; resolves once the server has it. */
async function connectFrom(url, server, n) {
  const accepted = once(server, 'connection');
  const { hostname, port } = new URL(url);
  const socket = net.connect({ port: Number(port), host: hostname, localAddress: `127.0.0.${n}` });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const [serverEnd] = await accepted;
  return { socket, serverEnd };
}

/** The raw text of a POST /collect with `body`, its headers closing the connection afterwards. */
function collectRequest(url, body, headers = '') {
  return `POST /collect HTTP/1.1\r\nHost: ${new URL(url).host}\r\nContent-Type: text/plain\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${headers}\r\n${body}`;
}

test('a socket that never sends anything is answered 408 and closed by the headers timeout', { timeout: 20000 }, async () => {
  await withCollector({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 } }, async ({ url }) => {
    const idle = await connect(url);
    const text = await received(idle);
    assert.equal(statusOf(text), 408, JSON.stringify(text));
    assert.equal((await post(url, batch())).status, 200, 'still serving');
  });
});

/** Sends the headers of a POST /collect and all its body but the last 10 bytes; resolves once it is handled. */
async function slowCollect(url, server, n, pv) {
  const { socket, serverEnd } = await connectFrom(url, server, n);
  const body = JSON.stringify(batch({ pv }));
  const handled = once(server, 'request'); // emitted after the collector's handler ran
  socket.write(collectRequest(url, body).slice(0, -10));
  await handled;
  return { socket, serverEnd, answer: received(socket), finish: () => socket.write(body.slice(-10)) };
}

test('past maxConnections the oldest idle connection makes room', { timeout: 20000 }, async () => {
  await withCollector({ limits: { maxConnections: 3 } }, async ({ url, server }) => {
    const held = [];
    for (let n = 2; n < 5; n++) held.push(await connectFrom(url, server, n));
    const oldestClosed = received(held[0].socket);
    const newcomer = await connectFrom(url, server, 5);
    assert.equal(await oldestClosed, '', 'the oldest idle connection is closed');
    const answer = received(newcomer.socket);
    newcomer.socket.write(collectRequest(url, JSON.stringify(batch({ pv: 'new' }))));
    assert.match(await answer, /^HTTP\/1\.1 200 /);
    for (const { socket } of held) socket.destroy();
  });
});

test('past maxConnections, all with a request in flight: 503 with Retry-After, then closed at once', { timeout: 20000 }, async () => {
  const limits = { maxConnections: 3, maxRefusingConnections: 1 };
  await withCollector({ limits, rateLimit: UNLIMITED }, async ({ url, server }) => {
    const slow = [];
    for (let n = 2; n < 5; n++) slow.push(await slowCollect(url, server, n, `slow-${n}`));
    const over = await connectFrom(url, server, 5);
    const answer = received(over.socket);
    over.socket.write(collectRequest(url, JSON.stringify(batch({ pv: 'over' })), 'Origin: https://shop.example\r\n'));
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 503 /, text);
    assert.match(text, /\r\nretry-after: 1\r\n/i);
    assert.match(text, /\r\naccess-control-allow-origin: \*\r\n/i, 'a page elsewhere can read the status');
    assert.match(text, /\r\naccess-control-expose-headers: retry-after\r\n/i);
    // One refusing connection held open: the next one past the cap is closed at once.
    const refusing = await connectFrom(url, server, 6);
    const closedAtOnce = await connectFrom(url, server, 7);
    assert.equal(await received(closedAtOnce.socket), '');
    // The requests in flight are still answered.
    for (const request of slow) {
      request.finish();
      assert.match(await request.answer, /^HTTP\/1\.1 200 /);
    }
    refusing.socket.destroy();
  });
});

test('past maxCollects, the request receiving its body longest gives its slot to a beacon (408)', { timeout: 20000 }, async () => {
  await withCollector({ maxCollects: 2, rateLimit: UNLIMITED }, async ({ url, server }) => {
    const first = await slowCollect(url, server, 2, 'slow-1');
    const second = await slowCollect(url, server, 3, 'slow-2');
    assert.equal((await post(url, batch({ pv: 'beacon' }))).status, 200);
    const evicted = await first.answer;
    assert.equal(statusOf(evicted), 408, evicted);
    second.finish();
    assert.match(await second.answer, /^HTTP\/1\.1 200 /);
  });
});

test('past maxCollects, all of them being stored: 503 with Retry-After, then 200 once one is stored', { timeout: 20000 }, async () => {
  const store = openStore(':memory:');
  const waiting = [];
  let arrived = () => {};
  // The real store, whose writes wait until the test lets them through.
  const gated = Object.create(store, { addBatch: { value: (b, at) => new Promise((resolve) => {
    waiting.push(() => resolve(store.addBatch(b, at)));
    arrived();
  }) } });
  await withCollector({ store: gated, maxCollects: 2, rateLimit: UNLIMITED }, async ({ url }) => {
    const bothHeld = new Promise((resolve) => { arrived = () => waiting.length === 2 && resolve(); });
    const held = [post(url, batch({ pv: 'a' })), post(url, batch({ pv: 'b' }))];
    await bothHeld;
    const busy = await post(url, batch({ pv: 'busy' }), { 'Content-Type': 'text/plain', Origin: 'https://shop.example' });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '1');
    assert.equal(busy.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(busy.body.error, /try again/);
    for (const release of waiting.splice(0)) release();
    for (const answer of await Promise.all(held)) assert.equal(answer.status, 200);
    arrived = () => waiting.shift()();
    assert.equal((await post(url, batch({ pv: 'busy' }))).status, 200, 'a slot is free again');
  });
});
