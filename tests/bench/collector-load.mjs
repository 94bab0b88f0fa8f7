// collector-load.mjs: how the collector answers beacons while exports run. It fills a
// database with EVENTS events (default 328,000, about 67 MB of NDJSON), starts the
// collector in a child process, and measures POST /collect latency one request after
// another: first alone, then while four clients each download GET /export.ndjson at full
// speed. It also samples the child's resident memory (VmRSS, /proc) every 100 ms.
// Measures, never asserts. `make bench-collector`; EVENTS=n to change the size;
// COLLECTOR_DIR=<checkout>/demo to measure another version of the collector.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const EVENTS = Number(process.env.EVENTS ?? 328000);
const EXPORTS = 4;
const BASELINE_POSTS = 200;
const DEMO_DIR = resolve(process.env.COLLECTOR_DIR ?? fileURLToPath(new URL('../../demo', import.meta.url)));
const UNLIMITED = { burst: 1e9, perSecond: 1e9 };

/** A batch of four events as the core writes them, in page view `pv`. */
function batch(pv, at = 5200) {
  return { v: 1, pv, path: '/search', at, drop: 0, ev: [
    { e: 'imp', s: 1, t: 120, id: 'gig-1042', pos: 3, list: 'q-5f2a9c', f: 1 },
    { e: 'view', s: 2, t: 1120, id: 'gig-1042', pos: 3, list: 'q-5f2a9c' },
    { e: 'vis', s: 3, t: 1500, id: 'gig-1042', ms: 1380, max: 1380, n: 1 },
    { e: 'click', s: 4, t: 1600, id: 'gig-1042', pos: 3, list: 'q-5f2a9c', f: 1, since: 1480, seen: 1 },
  ] };
}

async function fill(dbPath) {
  const { openStore } = await import(pathToFileURL(join(DEMO_DIR, 'store.js')).href);
  const store = openStore(dbPath);
  const start = Date.now() - 3600e3;
  for (let i = 0; i < EVENTS / 4; i++) {
    store.addBatch(batch(`${i.toString(36).padStart(8, '0')}-4c1e-9a7b-2f3d6e8a0b1c`), start + i * 10);
  }
  store.close();
}

function startCollector(dbPath) {
  const source = `import { listenCollector } from ${JSON.stringify(pathToFileURL(join(DEMO_DIR, 'collector.js')).href)};
    const c = await listenCollector({ dbPath: ${JSON.stringify(dbPath)}, rateLimit: ${JSON.stringify(UNLIMITED)} });
    console.log(c.url);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveStart, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /http:\/\/\S+/.exec(out);
      if (match) resolveStart({ child, url: match[0] });
    });
    child.once('exit', (code) => reject(new Error(`collector exited (${code})`)));
  });
}

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function postOnce(url, pv) {
  const started = performance.now();
  const res = await fetch(url + '/collect', { method: 'POST', body: JSON.stringify(batch(pv)), headers: { 'Content-Type': 'text/plain' } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`/collect answered ${res.status}`);
  return performance.now() - started;
}

async function exportOnce(url) {
  const started = performance.now();
  const res = await fetch(url + '/export.ndjson');
  let bytes = 0;
  for await (const chunk of res.body) bytes += chunk.length;
  return { status: res.status, bytes, ms: performance.now() - started };
}

function summary(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1],
    over5s: sorted.filter((ms) => ms > 5000).length };
}

const fmt = (s) => `n=${s.n}  p50 ${s.p50.toFixed(1)} ms  p95 ${s.p95.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  max ${s.max.toFixed(1)} ms  over 5 s: ${s.over5s}`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'collector-load-'));
  const dbPath = join(dir, 'events.sqlite');
  let child;
  try {
    console.log(`# collector ${DEMO_DIR}; filling ${EVENTS} events`);
    await fill(dbPath);
    const started = await startCollector(dbPath);
    child = started.child;
    const { url } = started;
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, rssMiB(child.pid)); }, 100);

    const alone = [];
    for (let i = 0; i < BASELINE_POSTS; i++) alone.push(await postOnce(url, `alone-${i}`));
    const idleRss = rssMiB(child.pid);
    peak = idleRss;

    const during = [];
    let running = true;
    const exports = Promise.all(Array.from({ length: EXPORTS }, () => exportOnce(url))).finally(() => { running = false; });
    for (let i = 0; running; i++) during.push(await postOnce(url, `during-${i}`));
    const results = await exports;
    const afterRss = rssMiB(child.pid);
    clearInterval(sampler);

    console.log(`/collect alone:                 ${fmt(summary(alone))}`);
    console.log(`/collect during ${EXPORTS} exports:      ${fmt(summary(during))}`);
    for (const r of results) console.log(`export: HTTP ${r.status}, ${(r.bytes / 1e6).toFixed(1)} MB in ${(r.ms / 1000).toFixed(1)} s`);
    console.log(`collector RSS: ${idleRss.toFixed(0)} MiB before the exports, peak ${peak.toFixed(0)} MiB during, ${afterRss.toFixed(0)} MiB after`);
  } finally {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
