// The demo server: one Node HTTP server on 127.0.0.1 that serves the marketplace page,
// the seller dashboard, the package files laid out as a consumer's node_modules would
// have them, uPlot, and the collector (collector.js). `node demo/server.js [--port N]
// [--db FILE]`; PORT and DEMO_DB work too. When the port is taken it falls back to a
// free one and prints the URLs it got.
//
// It owns routing, static files and the pages' security headers. Static files come from
// fixed roots and an allow-list of extensions; nothing outside them (demo/data/, the
// server's own source) is served. The two pages carry a Content-Security-Policy that
// allows scripts from this origin and the pages' own inline scripts by hash, and refuses
// framing. Timeouts, connection caps and the Host check come from guard.js.

import { createHash } from 'node:crypto';
import { readFileSync, createReadStream, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join, normalize, extname, sep } from 'node:path';
import { createCollector } from './collector.js';
import { openSelectedStore } from './store-select.js';
import { createGuardedServer } from './guard.js';

const DEMO_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_DB = join(DEMO_DIR, 'data', 'events.sqlite');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * URL prefix -> directory. /node_modules/impression-tracker/ is the repository as the
 * published package lays it out (package.json + js/), so the page resolves the bare
 * specifier 'impression-tracker' exactly as a bundler would, through package.json exports.
 */
const ROOTS = [
  ['/node_modules/impression-tracker/js/', join(REPO_DIR, 'js')],
  ['/node_modules/uplot/dist/', join(REPO_DIR, 'node_modules', 'uplot', 'dist')],
  ['/web/', join(DEMO_DIR, 'web')],
];
const PAGES = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/dashboard': 'dashboard.html',
  '/dashboard.html': 'dashboard.html',
  '/screenshot.png': 'screenshot.png',
};

/** Resolves the package's browser entry from package.json "exports" (default: js/index.js). */
export function packageEntry() {
  let entry = './js/index.js';
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8'));
    let target = pkg.exports?.['.'] ?? pkg.exports ?? pkg.module ?? pkg.main;
    while (target && typeof target === 'object') {
      target = target.browser ?? target.import ?? target.default ?? null;
    }
    if (typeof target === 'string' && target.startsWith('./js/')) entry = target;
  } catch {
    // no package.json exports yet: the documented entry point
  }
  return '/node_modules/impression-tracker/' + entry.slice(2);
}

function importMap() {
  return JSON.stringify({ imports: {
    'impression-tracker': packageEntry(),
    'impression-tracker/debug': '/node_modules/impression-tracker/js/debug.js',
    uplot: '/node_modules/uplot/dist/uPlot.esm.js',
  } }, null, 2);
}

/**
 * The pages' policy: everything from this origin, the inline scripts (import map, entry)
 * by hash, WebAssembly compilation for the tracker's core, no plugins, no framing.
 */
function pageSecurityHeaders(html) {
  const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
    .map(([, body]) => `'sha256-${createHash('sha256').update(body).digest('base64')}'`);
  const policy = ["default-src 'self'", `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`,
    "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"];
  return { 'Content-Security-Policy': policy.join('; '), 'X-Frame-Options': 'DENY' };
}

/** Serves an HTML page with the import map rewritten and its security headers. */
function sendPage(req, res, file) {
  const html = readFileSync(file, 'utf8').replace(
    /<script type="importmap">[\s\S]*?<\/script>/, `<script type="importmap">\n${importMap()}\n</script>`);
  res.writeHead(200, { 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-cache',
    'Content-Length': Buffer.byteLength(html), ...pageSecurityHeaders(html) });
  res.end(req.method === 'HEAD' ? undefined : html);
}

function sendFile(req, res, file) {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    stat = null;
  }
  const type = TYPES[extname(file)];
  if (!stat?.isFile() || !type) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    return res.end('not found\n');
  }
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache', 'Content-Length': stat.size });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/** Maps a URL path under one of ROOTS to a file, refusing anything that escapes it. */
function resolveStatic(pathname) {
  if (pathname === '/node_modules/impression-tracker/package.json') return join(REPO_DIR, 'package.json');
  for (const [prefix, dir] of ROOTS) {
    if (!pathname.startsWith(prefix)) continue;
    let rest;
    try {
      rest = decodeURIComponent(pathname.slice(prefix.length));
    } catch {
      return null;
    }
    const file = normalize(join(dir, rest));
    return file.startsWith(dir + sep) ? file : null;
  }
  return null;
}

/**
 * Creates the demo's request handler and collector. The handler expects the request's
 * parsed URL (guard.js parses it, and answers 400 when the target is not one).
 * @param {{dbPath?: string, rateLimit?: object}} [options]
 */
export function createDemoHandler({ dbPath = DEFAULT_DB, ...collectorOptions } = {}) {
  const collector = createCollector({ dbPath, ...collectorOptions });

  function handle(req, res, { pathname }) {
    if (collector.handle(req, res)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' });
      return res.end();
    }
    const page = PAGES[pathname];
    if (page?.endsWith('.html')) return sendPage(req, res, join(DEMO_DIR, page));
    if (page) return sendFile(req, res, join(DEMO_DIR, page));
    const file = resolveStatic(pathname);
    if (file) return sendFile(req, res, file);
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }
  return { handle, collector };
}

/**
 * Starts the demo server. Resolves to {url, marketplace, dashboard, server, collector, close()}.
 * With `fallback`, a taken port is replaced by a free one.
 */
export async function startDemoServer({
  port = 8080, host = '127.0.0.1', fallback = true, limits, allowedHosts, ...options
} = {}) {
  // --store (store-select.js): SQLite by default, or ClickHouse.
  if (options.storeSpec) options.store = await openSelectedStore(options.storeSpec, { dbPath: options.dbPath ?? DEFAULT_DB });
  const { handle, collector } = createDemoHandler(options);
  const server = createGuardedServer(handle, { limits, allowedHosts });
  const listen = (p) => new Promise((resolve, reject) => {
    const onError = (error) => reject(error);
    server.once('error', onError);
    server.listen(p, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  try {
    await listen(port);
  } catch (error) {
    if (error.code !== 'EADDRINUSE' || !fallback) {
      await collector.close();
      throw error;
    }
    await listen(0);
  }
  const bound = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  const url = `http://${host}:${bound}`;
  return {
    url,
    marketplace: url + '/',
    dashboard: url + '/dashboard',
    requestedPort: port,
    server,
    collector,
    close: () => new Promise((resolve) => {
      server.close(() => Promise.resolve(collector.close()).then(resolve));
      server.closeAllConnections();
    }),
  };
}

function parseArgs(argv, env) {
  const options = { port: Number(env.PORT ?? 8080), dbPath: env.DEMO_DB ?? DEFAULT_DB, storeSpec: env.STORE };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--port') options.port = Number(value());
    else if (flag === '--db') options.dbPath = value();
    else if (flag === '--store') options.storeSpec = value();
    else if (flag === '--help' || flag === '-h') options.help = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error('--port must be an integer from 0 to 65535');
  }
  return options;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exit(2);
  }
  if (options.help) {
    console.log('usage: node demo/server.js [--port 8080] [--db demo/data/events.sqlite] [--store sqlite|clickhouse|clickhouse://HOST:PORT/DB]  (env: PORT, DEMO_DB, STORE; demo/README.md)');
    return;
  }
  const demo = await startDemoServer(options);
  if (demo.requestedPort && !demo.url.endsWith(':' + demo.requestedPort)) {
    console.log(`port ${demo.requestedPort} is taken; using a free one instead`);
  }
  console.log(`impression-tracker demo
  marketplace  ${demo.marketplace}
  dashboard    ${demo.dashboard}
  collector    ${demo.url}/collect   (export: ${demo.url}/export.ndjson)
  store        ${demo.collector.store.label ?? options.dbPath}
Open the marketplace, scroll, then watch the dashboard in another tab. Ctrl-C stops.`);
  const stop = () => demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
