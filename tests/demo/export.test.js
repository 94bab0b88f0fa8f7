// The NDJSON export on a dataset much larger than the socket buffers: it streams (the
// first lines arrive before it is complete), waits for a slow reader instead of
// buffering the rest in memory, leaves /collect answered meanwhile, and runs at most
// maxExports at a time. Structural checks only: no assertion on how fast anything is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../demo/store.js';
import { batch, withCollector, post, connect, received, statusLine } from './support.js';

const EVENTS = 60000;
const BOUND = 1024 * 1024; // what the server may hold for one export, far below the export's size

/** Fills a store file with `count` impressions (about 450 bytes each in the export). */
function fill(dbPath, count) {
  const store = openStore(dbPath);
  const per = 1000;
  const received = Date.now();
  for (let first = 0; first < count; first += per) {
    const ev = [];
    for (let i = 0; i < per; i++) {
      ev.push({ e: 'imp', s: i + 1, t: i, id: `gig-${String(i % 360).padStart(96, '0')}`, pos: i + 1, list: 'q-1', f: 1 });
    }
    store.addBatch({ v: 1, pv: `pv-${first}`, path: '/search/' + 'p'.repeat(100), at: per, drop: 0, ev }, received);
  }
  store.close();
}

/** Polls `probe` (a cheap property read) until it is true; the test's timeout bounds it. */
async function until(probe) {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('the export streams with backpressure in bounded memory; /collect is answered meanwhile', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-export-'));
  const dbPath = join(dir, 'events.sqlite');
  try {
    fill(dbPath, EVENTS);
    await withCollector({ dbPath, maxExports: 1 }, async ({ url, server }) => {
      /** @type {import('node:http').ServerResponse | undefined} */
      let exporting;
      server.on('request', (req, res) => { if (req.url === '/export.ndjson' && !exporting) exporting = res; });

      // HTTP/1.0: the body is not chunked and ends when the connection closes.
      const reader = await connect(url);
      const status = statusLine(reader);
      const response = received(reader);
      reader.write(`GET /export.ndjson HTTP/1.0\r\nHost: ${new URL(url).host}\r\n\r\n`);
      assert.equal(await status, 200);
      reader.pause(); // a slow reader: the socket buffers fill up, then the server must wait

      // Either the server waits for the reader (streaming) or it has written everything.
      await until(() => exporting && (exporting.writableNeedDrain || exporting.writableEnded));
      assert.ok(exporting.writableLength < BOUND, `held ${exporting.writableLength} bytes for a slow reader`);
      assert.equal(exporting.writableEnded, false, 'the first lines arrived before the export was complete');

      // While it waits, the server answers beacons, and refuses a second export.
      assert.equal((await post(url, batch({ pv: 'during' }))).status, 200);
      const second = await fetch(url + '/export.ndjson');
      assert.equal(second.status, 429);
      assert.ok(Number(second.headers.get('retry-after')) >= 1);
      await second.text();
      assert.ok(exporting.writableLength < BOUND);

      // Reading on delivers every stored event, once.
      reader.resume();
      const text = Buffer.from(await response, 'latin1').toString('utf8');
      const lines = text.slice(text.indexOf('\r\n\r\n') + 4).trim().split('\n');
      const keys = new Set(lines.map((line) => { const o = JSON.parse(line); return `${o.pv}/${o.s}`; }));
      assert.equal(keys.size, lines.length, 'no event twice');
      assert.ok(lines.length >= EVENTS, `${lines.length} lines`);
      assert.equal((await fetch(url + '/export.ndjson')).status, 200, 'the next export may start');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that goes away mid-export frees its place', { timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'collector-export-'));
  const dbPath = join(dir, 'events.sqlite');
  try {
    fill(dbPath, 20000);
    await withCollector({ dbPath, maxExports: 1 }, async ({ url, server }) => {
      let exporting;
      server.on('request', (req, res) => { if (req.url === '/export.ndjson' && !exporting) exporting = res; });
      const reader = await connect(url);
      const status = statusLine(reader);
      reader.write(`GET /export.ndjson HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`);
      assert.equal(await status, 200);
      reader.destroy();
      await new Promise((resolve) => (exporting.closed ? resolve() : exporting.once('close', resolve)));
      const next = await fetch(url + '/export.ndjson');
      assert.equal(next.status, 200);
      assert.equal((await next.text()).trim().split('\n').length, 20000);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
