// servers.mjs: the two local servers of the in-page benchmark, both on 127.0.0.1 and an
// ephemeral port. The site serves the generated grid pages (/grid?n=1000) and the
// tracker bundles measured by size.mjs (/bundles/<name>.js, /bundles/imp.wasm). The
// collector is another origin (the page reaches it as http://collector.test:<port>,
// mapped to 127.0.0.1 by Chromium's host resolver rules, so no cookie of the page is
// sent to it) and records every request as it came over the wire: request line,
// headers and body, byte for byte (a gzip body is kept inflated in `body`, its size on
// the wire in bodyBytes, as the demo collector reads it). It answers CORS preflights the way a production
// collector does (credentials allowed, preflight cached for an hour).

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateGridPage } from './fixture.mjs';
import { decodeBody, isGzip } from '../../demo/inflate.js';

// BENCH_WASM_DELAY_MS: the core's .wasm is answered that much later, as over a network
// (on 127.0.0.1 it arrives at once, so a start that overlaps its download shows nothing).
const WASM_DELAY_MS = Number(process.env.BENCH_WASM_DELAY_MS || 0);

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

export async function startSite(bundleDir) {
  const pages = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://site');
    if (url.pathname === '/grid') {
      const n = Number(url.searchParams.get('n')) || 1000;
      if (!pages.has(n)) pages.set(n, generateGridPage(n));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(pages.get(n));
      return;
    }
    const m = /^\/bundles\/([\w.-]+\.(js|wasm))$/.exec(url.pathname);
    if (m) {
      let body;
      try {
        body = readFileSync(join(bundleDir, m[1]));
      } catch {
        res.writeHead(404).end();
        return;
      }
      const send = () => res.writeHead(200, { 'content-type': m[2] === 'js' ? 'text/javascript' : 'application/wasm' }).end(body);
      if (m[2] === 'wasm' && WASM_DELAY_MS) setTimeout(send, WASM_DELAY_MS);
      else send();
      return;
    }
    if (url.pathname === '/favicon.ico') { res.writeHead(204).end(); return; }
    res.writeHead(404).end();
  });
  const port = await listen(server);
  return { port, origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

export async function startCollector() {
  let requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      head += '\r\n';
      requests.push({
        at: Date.now(), method: req.method, path: new URL(req.url, 'http://c').pathname,
        wireBytes: Buffer.byteLength(head) + body.length, headBytes: Buffer.byteLength(head), bodyBytes: body.length,
        body: decodeBody(body, 1 << 20).bytes?.toString('utf8') ?? '', gzip: isGzip(body),
      });
      const origin = req.headers.origin;
      const cors = origin ? {
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': req.headers['access-control-request-headers'] || 'content-type',
        'access-control-allow-methods': 'POST, GET, OPTIONS',
        'access-control-max-age': '3600',
      } : {};
      res.writeHead(req.method === 'OPTIONS' ? 204 : 200, cors);
      res.end();
    });
  });
  const port = await listen(server);
  return {
    port,
    origin: `http://collector.test:${port}`,
    requests: () => requests,
    reset() { const r = requests; requests = []; return r; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
