// Shared set-up for the ClickHouse suites: a private ClickHouse server per test file
// (throw-away folder, free port), batches as the core emits them, HTTP helpers, SQL
// counts read straight from the tables, and a poll with a deadline.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClickHouse } from '../../demo/clickhouse-local.js';
import { createClickHouseClient } from '../../demo/clickhouse-http.js';

const SERVER_JS = fileURLToPath(new URL('../../demo/server.js', import.meta.url));

/** Starts ClickHouse in a temporary folder; `after` hooks stop it and remove the folder. */
export async function startTestClickHouse() {
  const dir = mkdtempSync(join(tmpdir(), 'clickhouse-test-'));
  const server = await startClickHouse({ dir: join(dir, 'server') });
  const sql = createClickHouseClient({ url: server.url });
  let databases = 0;
  return {
    ...server,
    dir,
    sql,
    /** A fresh database name, so tests in one file never see each other's rows. */
    database: () => `t${process.pid}_${++databases}`,
    /** clickhouse://... store string for a collector process. */
    storeUrl: (database, spool, extra = '') => `clickhouse://127.0.0.1:${server.port}/${database}?spool=${encodeURIComponent(spool)}${extra}`,
    async close() {
      sql.close();
      await server.kill(); // the folder is thrown away; a clean stop takes seconds

      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One number from a SELECT (e.g. a count), read directly from ClickHouse. */
export async function scalar(sql, query) {
  const [row] = await sql.rows(query);
  return Object.values(row)[0];
}

/** A valid batch: impression, viewable, visible span, click of one gig, from sequence `from`. */
export function batch({ pv = 'pv-1', from = 1, path = '/search', wd = false, id = 'gig-1', pos = 3, drop = 0, at = 5200 } = {}) {
  const body = { v: 1, pv, path };
  if (wd) body.wd = 1;
  Object.assign(body, { at, drop, ev: [
    { e: 'imp', s: from, t: 120, id, pos, list: 'q1', f: 1 },
    { e: 'view', s: from + 1, t: 1120, id, pos, list: 'q1' },
    { e: 'vis', s: from + 2, t: 1500, id, ms: 1380 + from, max: 1380 + from, n: 1 },
    { e: 'click', s: from + 3, t: 1600, id, pos, list: 'q1', f: 1, since: 1480, seen: from % 2 },
  ] });
  return body;
}

export async function post(url, body) {
  const res = await fetch(url + '/collect', {
    method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export const getJson = async (url, path) => (await fetch(url + path)).json();

/** Calls `probe` until it returns true or `deadlineMs` passes; returns the last value. */
export async function waitFor(probe, { deadlineMs = 30000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    let last;
    try {
      last = await probe();
    } catch (error) {
      last = error;
    }
    if (last === true) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Starts `node demo/server.js --port 0 --store STORE` as its own process; resolves once
 * it prints its collector URL. Returns {url, child, kill(signal)}; kill resolves on exit.
 */
export async function startCollectorProcess(store) {
  const child = spawn(process.execPath, [SERVER_JS, '--port', '0', '--store', store], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.once('exit', () => child.kill('SIGKILL')); // none outlives a failed test
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /collector\s+(http:\/\/127\.0\.0\.1:\d+)\/collect/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.once('exit', (code) => reject(new Error(`collector exited with ${code}: ${output}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    url, child,
    output: () => output,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
