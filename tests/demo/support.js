// Shared helpers of the collector tests: a valid batch as the core writes it, a collector
// (in this process or a child one) or the demo server started for one test, and raw
// HTTP over a socket (for what fetch cannot send: bad request targets, a foreign Host,
// headers that never end, a body that stalls). Every
// wait is on an event of the socket (a status line, a close), never on a timer.

import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenCollector } from '../../demo/collector.js';
import { startDemoServer } from '../../demo/server.js';

const COLLECTOR_MODULE = fileURLToPath(new URL('../../demo/collector.js', import.meta.url));
/** A rate limit no test reaches. */
export const UNLIMITED = Object.freeze({ burst: 1e9, perSecond: 1e9 });

/** A valid batch as the core emits it: impression, viewable, visible span, click. */
export function batch({ pv = 'pv-1', from = 1, path = '/search', wd = false } = {}) {
  const body = { v: 1, pv, path };
  if (wd) body.wd = 1;
  Object.assign(body, { at: 5200, drop: 0, ev: [
    { e: 'imp', s: from, t: 120, id: 'gig-1', pos: 3, list: 'q1', f: 1 },
    { e: 'view', s: from + 1, t: 1120, id: 'gig-1', pos: 3, list: 'q1' },
    { e: 'vis', s: from + 2, t: 1500, id: 'gig-1', ms: 1380, max: 1380, n: 1 },
    { e: 'click', s: from + 3, t: 1600, id: 'gig-1', pos: 3, list: 'q1', f: 1, since: 1480, seen: 1 },
  ] });
  return body;
}

/** Runs `run(started)` against a collector on 127.0.0.1:0, closed afterwards. */
export async function withCollector(options, run) {
  const started = await listenCollector(options);
  try {
    await run(started);
  } finally {
    await started.close();
  }
}

/** Runs `run(demo)` against the demo server on 127.0.0.1:0 with a fresh database file. */
export async function withDemo(options, run) {
  const dir = mkdtempSync(join(tmpdir(), 'demo-server-'));
  let demo;
  try {
    demo = await startDemoServer({ port: 0, fallback: false, dbPath: join(dir, 'events.sqlite'), ...options });
    await run(demo);
  } finally {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** POST /collect; resolves to {status, headers, body (parsed JSON or null)}. */
export async function post(url, body, headers = { 'Content-Type': 'text/plain;charset=UTF-8' }) {
  const res = await fetch(url + '/collect', {
    method: 'POST', headers, body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

export const getJson = async (url, path) => (await fetch(url + path)).json();

/** A raw TCP connection to the server at `url`; resolves once connected. */
export function connect(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Resolves with everything the server sent once the socket is closed (by either side).
 * Attach before the close can happen.
 */
export function received(socket) {
  let text = '';
  socket.on('data', (chunk) => { text += chunk.toString('latin1'); });
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve(text)));
}

/** Resolves with the status code of the first status line the server sends. */
export function statusLine(socket) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk) => {
      text += chunk.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (match) {
        socket.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed without a status line: ${JSON.stringify(text)}`)));
  });
}

/** Sends `head` (raw request text) on a new connection; resolves to the full response text. */
export async function rawExchange(url, head) {
  const socket = await connect(url);
  const done = received(socket);
  socket.end(head);
  return done;
}

/** The status code of a raw response text (0 when there is none). */
export const statusOf = (text) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);

/**
 * Starts a collector without rate limits in a child process on `dbPath`; resolves to
 * {child, url, exited} once it listens.
 */
export function startCollectorProcess(dbPath) {
  const source = `import { listenCollector } from ${JSON.stringify(COLLECTOR_MODULE)};
    const c = await listenCollector({ dbPath: ${JSON.stringify(dbPath)}, rateLimit: ${JSON.stringify(UNLIMITED)} });
    console.log(c.url);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /http:\/\/\S+/.exec(out);
      if (match) resolve({ child, url: match[0], exited });
    });
    child.once('exit', (code) => reject(new Error(`collector exited (${code}) before listening`)));
  });
}
