// The load of `make bench-store`: valid batches as trackers send them (page views of five
// batches of 20 events: impressions, viewables, visible spans, clicks), posted with a fixed
// number of requests in flight to one or more collectors for a fixed time. Also reads a
// process's CPU time from /proc, to state costs per CPU-second on a shared machine.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

export const EVENTS_PER_BATCH = 20;
const BATCHES_PER_PAGE = 5;

/**
 * The k-th batch of a run: page view k / 5 (a random-looking 21-character id, as the
 * tracker makes), sequence numbers continuing within it, gigs spread over 200,000 ids.
 */
export function loadBatch(run, k) {
  const page = Math.floor(k / BATCHES_PER_PAGE);
  const first = 1 + (k % BATCHES_PER_PAGE) * EVENTS_PER_BATCH;
  const pv = createHash('sha256').update(`${run}/${page}`).digest('base64url').slice(0, 21);
  const list = `q${page % 1000}`;
  const ev = [];
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    const s = first + i;
    const id = `gig-${(page * 7919 + i * 104729) % 200000}`;
    const t = 100 * s;
    const kind = i % 10;
    if (kind < 5) ev.push({ e: 'imp', s, t, id, pos: 1 + (i % 48), list, f: 1 });
    else if (kind < 8) ev.push({ e: 'view', s, t, id, pos: 1 + (i % 48), list });
    else if (kind === 8) ev.push({ e: 'vis', s, t, id, ms: 1000 + i, max: 1000 + i, n: 1 });
    else ev.push({ e: 'click', s, t, id, pos: 1 + (i % 48), list, f: 1, since: 900, seen: 1 });
  }
  return JSON.stringify({ v: 1, pv, path: `/search/${page % 50}`, at: 100 * (first + EVENTS_PER_BATCH), drop: 0, ev });
}

/**
 * Posts batches round-robin to `urls` with `concurrency` in flight for `durationMs`.
 * Resolves to {ok, failed, events, elapsedMs, latencies} (latencies in ms, per request).
 */
export async function runLoad({ urls, run, concurrency, durationMs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const started = performance.now();
  const stopAt = started + durationMs;
  let next = 0;
  let ok = 0;
  let failed = 0;
  const latencies = [];
  async function worker() {
    while (performance.now() < stopAt) {
      const k = next++;
      const t0 = performance.now();
      const status = await postOnce(agent, urls[k % urls.length], loadBatch(run, k));
      latencies.push(performance.now() - t0);
      if (status === 200) ok++;
      else failed++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { ok, failed, events: ok * EVENTS_PER_BATCH, elapsedMs, latencies };
}

function postOnce(agent, url, body) {
  return new Promise((resolve) => {
    const req = http.request(url + '/collect', { method: 'POST', agent,
      headers: { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100)
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
