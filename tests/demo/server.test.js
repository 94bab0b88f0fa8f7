// Demo server tests: what it serves (pages with the import map from package.json, the
// package laid out as node_modules holds it, uPlot), what it refuses (paths outside its
// roots, the database, its own source), the collector mounted on it, and the fallback
// to a free port when the requested one is taken.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { withDemo } from './support.js';

/** GET with a raw path (fetch would normalise "/../"). */
function rawGet(url, path) {
  return new Promise((resolve, reject) => {
    http.get(url + path, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
}

test('serves the pages, the package as node_modules lays it out, and uPlot', async () => {
  await withDemo({}, async (demo) => {
    const page = await fetch(demo.marketplace);
    assert.equal(page.status, 200);
    const html = await page.text();
    const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(html)[1]);
    assert.equal(map.imports['impression-tracker'], '/node_modules/impression-tracker/js/index.js');

    const entry = await fetch(demo.url + map.imports['impression-tracker']);
    assert.equal(entry.status, 200);
    assert.match(entry.headers.get('content-type'), /^text\/javascript/);
    assert.match(await entry.text(), /export function createTracker/);
    const pkg = await (await fetch(demo.url + '/node_modules/impression-tracker/package.json')).json();
    assert.equal(pkg.name, 'impression-tracker');
    if (existsSync(new URL('../../js/imp.wasm', import.meta.url))) {
      const wasm = await fetch(demo.url + '/node_modules/impression-tracker/js/imp.wasm');
      assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    }
    assert.equal((await fetch(demo.url + '/node_modules/uplot/dist/uPlot.esm.js')).status, 200);
    const dashboard = await fetch(demo.dashboard);
    assert.equal(dashboard.status, 200);
    assert.match(await dashboard.text(), /Impressions explained/);
    assert.equal((await fetch(demo.url + '/web/market.js')).status, 200);
  });
});

test('refuses everything outside its roots', async () => {
  await withDemo({}, async (demo) => {
    for (const path of ['/web/../server.js', '/web/%2e%2e/server.js', '/web/..%2fstore.js', '/server.js',
      '/collector.js', '/data/events.sqlite', '/node_modules/impression-tracker/js/../Makefile',
      '/node_modules/impression-tracker/src/imp.h', '/node_modules/better-sqlite3/package.json', '/web/%E0%A4%A']) {
      assert.equal(await rawGet(demo.url, path), 404, path);
    }
    assert.equal((await fetch(demo.marketplace, { method: 'POST' })).status, 405);
  });
});

test('the collector is mounted on the same server', async () => {
  await withDemo({}, async (demo) => {
    const body = JSON.stringify({ v: 1, pv: 'p', path: '/', at: 10, drop: 0,
      ev: [{ e: 'imp', s: 1, t: 5, id: 'gig-1001', pos: 1, list: 'q-1', f: 1 }] });
    const res = await fetch(demo.url + '/collect', { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
    assert.equal(res.status, 200);
    assert.equal((await (await fetch(demo.url + '/api/totals')).json()).impressions, 1);
  });
});

test('a taken port falls back to a free one, unless told not to', async () => {
  const blocker = http.createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const taken = blocker.address().port;
  try {
    await withDemo({ port: taken, fallback: true }, async (demo) => {
      assert.notEqual(new URL(demo.url).port, String(taken));
      assert.equal((await fetch(demo.marketplace)).status, 200);
    });
    await assert.rejects(withDemo({ port: taken, fallback: false }, async () => {}), { code: 'EADDRINUSE' });
  } finally {
    blocker.close();
  }
});
