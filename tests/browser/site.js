// The browser suite's site: one Node HTTP server on 127.0.0.1, port 0, serving the
// fixture pages (tests/browser/fixtures/) with per-page headers a test chooses (a CSP,
// for example), the package files from js/ and dist/ with the right MIME types, pages a
// test built in memory, and on request a wrong MIME type or a tampered core module.
// A Site record holds what the tests set; the request handler's steps are functions of it.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeHard, listen, track } from './http.js';
import { tamperWasm } from './tamper.js';

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

/** The file a path names under /fixtures/, /js/ or /dist/, or null. */
function fileFor(pathname) {
  if (pathname.startsWith('/fixtures/')) return inside(FIXTURES_DIR, pathname.slice('/fixtures/'.length));
  if (pathname.startsWith('/js/')) return inside(PACKAGE_DIR, pathname.slice('/js/'.length));
  if (pathname.startsWith('/dist/')) return inside(DIST_DIR, pathname.slice('/dist/'.length));
  return null;
}

const notFound = (res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');

/** Answers what needs no file: the favicon, the stalled request, a page built in memory. True if answered. */
function answerWithoutFile(site, req, res, pathname) {
  if (pathname === '/favicon.ico') {
    res.writeHead(204).end();
  } else if (pathname === '/stall') {
    // A request the site never answers (a host page's stalled keepalive fetch).
    site.stalled.push(res);
    req.resume();
  } else if (site.built.has(pathname)) {
    const headers = { 'content-type': MIME[extname(pathname)], 'cache-control': 'no-cache', ...site.headers.get(pathname) };
    res.writeHead(200, headers).end(site.built.get(pathname));
  } else {
    return false;
  }
  return true;
}

/** Serves a file from disk, the core as the test's wasm mode says, with the page's headers. */
async function answerWithFile(site, req, res, pathname) {
  const file = fileFor(pathname);
  if (!file) return notFound(res);
  let body;
  try {
    body = await readFile(file);
  } catch {
    return notFound(res);
  }
  const headers = { 'content-type': MIME[extname(file)] || 'application/octet-stream', 'cache-control': 'no-cache' };
  if (pathname === '/js/imp.wasm') {
    if (site.wasmMode.mime !== undefined) headers['content-type'] = site.wasmMode.mime;
    if (site.wasmMode.tamper) body = tamperWasm(body, site.wasmMode.tamper);
  }
  Object.assign(headers, site.headers.get(pathname));
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
}

async function handleSiteRequest(site, req, res) {
  const { pathname } = new URL(req.url, 'http://x');
  site.requests.push(pathname);
  if (!answerWithoutFile(site, req, res, pathname)) await answerWithFile(site, req, res, pathname);
}

/**
 * The site: fixture pages under /fixtures/, package files under /js/ and /dist/.
 * site.serve(pathname, body) serves a file a test built (kept across reset()).
 * site.setHeaders(pathname, headers) adds headers to one page (until reset());
 * site.wasm = {mime, tamper} changes how /js/imp.wasm is served;
 * site.requests lists every path asked for; POST /stall is never answered (until reset()).
 */
class Site {
  constructor() {
    this.headers = new Map();
    this.wasmMode = {};
    this.requests = [];
    this.stalled = [];
    this.built = new Map();
    this.server = createServer((req, res) => handleSiteRequest(this, req, res));
    this.sockets = track(this.server);
  }
  url(path) {
    return `${this.origin}${path}`;
  }
  setHeaders(pathname, headers) {
    this.headers.set(pathname, headers);
  }
  set wasm(mode) {
    this.wasmMode = mode || {};
  }
  serve(pathname, body) {
    this.built.set(pathname, body);
  }
  reset() {
    this.headers.clear();
    this.wasmMode = {};
    this.requests = [];
    for (const res of this.stalled.splice(0)) res.destroy();
  }
  close() {
    return closeHard(this.server, this.sockets);
  }
}

export async function startSite() {
  const site = new Site();
  site.origin = `http://127.0.0.1:${await listen(site.server)}`;
  return site;
}
