// same-origin.js: a site and a collector on one origin, for privacy.test.js: the fixture
// pages and the package files, and POST /collect recorded (headers, the body inflated,
// `kind` 'beacon' for a no-cors request, which is what sendBeacon of a text/plain Blob
// makes, else 'fetch') and answered 204 with a Set-Cookie named after the kind (`by-fetch`,
// `by-beacon`), which a request without credentials must not store. Where the collector shares the page's origin the browser
// sends it the most: cookies, and a full Referer under the default referrer policy.
// Not a test file.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { decodeBody } from '../../demo/inflate.js';
import { closeHard, listen, track } from './http.js';
import { FIXTURES_DIR, PACKAGE_DIR } from './site.js';

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

function collect(records, options, req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const kind = req.headers['sec-fetch-mode'] === 'no-cors' ? 'beacon' : 'fetch';
    records.push({ kind, headers: req.headers, body: String(decodeBody(Buffer.concat(chunks), 65536).bytes) });
    if (kind === 'fetch' && options.stallFetches) return;
    res.writeHead(204, { 'set-cookie': `by-${kind}=1; Path=/` }).end();
  });
}

async function serveFile(options, req, res, pathname) {
  const [root, rest] = pathname.startsWith('/fixtures/') ? [FIXTURES_DIR, pathname.slice(10)]
    : pathname.startsWith('/js/') ? [PACKAGE_DIR, pathname.slice(4)] : [null, ''];
  if (!root || rest.includes('..')) return res.writeHead(404).end();
  try {
    const body = await readFile(`${root}/${decodeURIComponent(rest)}`);
    const headers = { 'content-type': MIME[extname(rest)] || 'application/octet-stream' };
    res.writeHead(200, rest.endsWith('.html') ? { ...headers, ...options.pageHeaders } : headers).end(body);
  } catch {
    res.writeHead(404).end();
  }
}

/**
 * Starts the server: {url(path), records, close()}. pageHeaders: added to every page;
 * stallFetches: a fetch is recorded and never answered (a beacon still is).
 */
export async function startSameOrigin(options = {}) {
  const records = [];
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (req.method === 'POST' && pathname === '/collect') collect(records, options, req, res);
    else serveFile(options, req, res, pathname);
  });
  const sockets = track(server);
  const origin = `http://127.0.0.1:${await listen(server)}`;
  return { url: (path) => origin + path, records, close: () => closeHard(server, sockets) };
}
