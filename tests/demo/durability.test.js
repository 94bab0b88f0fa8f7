// The collector's storage under concurrent writers and a crash: many clients sending at
// once, each resending some of its batches whole or overlapping (at-least-once delivery),
// store each event exactly once; a collector killed (SIGKILL) in the middle of a write
// burst leaves a file that passes PRAGMA integrity_check, holds every batch it
// acknowledged, and serves again after a restart on the same file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { batch, withCollector, post, getJson, startCollectorProcess, UNLIMITED } from './support.js';


/** Export lines as "pv/s" keys. */
async function exportedKeys(url) {
  const text = await (await fetch(url + '/export.ndjson')).text();
  return text.trim().split('\n').map((line) => { const o = JSON.parse(line); return `${o.pv}/${o.s}`; });
}

test('concurrent writers with resends: unique events sent = stored = exported', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-writers-'));
  const WRITERS = 16;
  const BATCHES = 40;
  try {
    await withCollector({ dbPath: join(dir, 'events.sqlite'), rateLimit: UNLIMITED }, async ({ url }) => {
      const sent = new Set();
      let duplicatesAcked = 0;
      async function writer(w) {
        let seed = w + 1;
        const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
        let next = 1; // next new sequence number of this writer's page view
        for (let b = 0; b < BATCHES; b++) {
          // Mostly new batches; some whole resends, some overlapping the last one.
          const roll = random();
          const from = roll < 0.15 && next > 1 ? next - 4 : roll < 0.3 && next > 2 ? next - 2 : next;
          const body = batch({ pv: `writer-${w}`, from });
          const res = await post(url, body);
          assert.equal(res.status, 200);
          duplicatesAcked += res.body.duplicates;
          for (const ev of body.ev) sent.add(`writer-${w}/${ev.s}`);
          next = Math.max(next, from + 4);
        }
      }
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      assert.ok(duplicatesAcked > 0, 'the run did resend');
      const totals = await getJson(url, '/api/totals');
      assert.equal(totals.events, sent.size);
      const exported = await exportedKeys(url);
      assert.equal(exported.length, sent.size);
      assert.deepEqual(new Set(exported), sent);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test('SIGKILL during a write burst: the file is intact and every acknowledged batch is in it', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-crash-'));
  const dbPath = join(dir, 'events.sqlite');
  try {
    const first = await startCollectorProcess(dbPath);
    const acknowledged = [];
    let killed = false;
    async function writer(w) {
      for (let b = 0; !killed; b++) {
        const body = batch({ pv: `crash-${w}-${b}` });
        try {
          const res = await post(first.url, body);
          if (res.status === 200) acknowledged.push(body.pv);
        } catch {
          return; // the collector is gone
        }
        if (acknowledged.length >= 300 && !killed) {
          killed = true;
          first.child.kill('SIGKILL'); // other writers are mid-request
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    assert.equal((await first.exited).signal, 'SIGKILL');

    const db = new Database(dbPath);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const count = db.prepare('SELECT COUNT(*) AS n FROM events WHERE pv = ?');
    for (const pv of acknowledged) assert.equal(count.get(pv).n, 4, `acknowledged batch ${pv}`);
    db.close();

    const second = await startCollectorProcess(dbPath);
    try {
      const totals = await getJson(second.url, '/api/totals');
      assert.ok(totals.events >= acknowledged.length * 4);
      assert.deepEqual((await post(second.url, batch({ pv: acknowledged[0] }))).body, { stored: 0, duplicates: 4 });
      assert.equal((await post(second.url, batch({ pv: 'after-restart' }))).status, 200);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
