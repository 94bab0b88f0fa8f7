// newcomer.test.js: what a new user meets first, in a real browser. The React binding
// under StrictMode (one tracker, every card counted once per page view, route changes
// as new page views with the new path), the obvious hand-written effect under
// StrictMode (the core shares the live tracker instead of counting twice), the
// script-tag stub that queues calls until the build has loaded, the default
// console.warn of a tracker that cannot start, and an esbuild IIFE bundle of the
// default entry (a clear message naming the fixes; with the wasm option it tracks).
// Bundles are built here with the project's esbuild, in memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { uniqueEvents } from './server.js';
import { useBrowserSuite, waitInPage } from './browser.js';

let site;
let collector;
const { open } = useBrowserSuite({}, (shared) => ({ site, collector } = shared));

const GRID_CSS = `html, body { margin: 0 } .grid { display: grid; grid-template-columns: repeat(4, 190px);
  grid-auto-rows: 140px; gap: 10px } .card { background: #eef; border: 1px solid #99c }`;
const page = (body) => `<!doctype html><html><head><meta charset="utf-8"><style>${GRID_CSS}</style></head><body>${body}</body></html>`;

async function bundle(entry, format, extra = {}) {
  const out = await build({
    entryPoints: [entry], bundle: true, format, write: false, target: 'es2020', logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"development"' }, ...extra,
  });
  return out.outputFiles[0].text;
}

// The React app, bundled once (the site keeps what it serves across tests).
let reactBuilt = null;
const buildReactApp = () => (reactBuilt ||= (async () => {
  site.serve('/fixtures/react-app.bundle.js', await bundle('tests/browser/fixtures/react-app.js', 'esm'));
  site.serve('/fixtures/react.html', page('<div id="root"></div><script type="module" src="/fixtures/react-app.bundle.js"></script>'));
})());

/** Impressions that reached the collector, per page view: {pv: {path, ids}}. */
function impressionsByPageView(records) {
  const out = {};
  for (const { pv, event, batch } of uniqueEvents(records)) {
    if (event.e !== 'imp') continue;
    out[pv] ||= { path: batch.path, ids: [] };
    out[pv].ids.push(event.id);
  }
  return out;
}

/** Waits until the tracker has queued `n` events in all, then flushes it. */
async function flushAfter(p, n) {
  await waitInPage(p, (count) => (window.__app.handle?.stats()?.seq ?? 0) >= count && (window.__app.handle.flush(), true), n,
    { what: `${n} events queued` });
}

const routeIds = (route, n = 12) => [...Array.from({ length: n }, (_, i) => `${route}-${i + 1}`), `${route}-ref`].sort();

test('React StrictMode with the provider: one tracker, every card once per route, the route as a new page view', async (t) => {
  await buildReactApp();
  const { page: p, problems } = await open(t, { fixture: 'react.html', it: { mode: 'provider' }, waitReady: false });
  await flushAfter(p, 13);
  await collector.waitFor((r) => Object.keys(impressionsByPageView(r)).length === 1
    && Object.values(impressionsByPageView(r))[0].ids.length >= 13, 10000, 'route a');
  const first = await p.evaluate(() => window.__app.handle.stats().pageView);
  await p.evaluate(() => window.__app.go('b'));
  await waitInPage(p, (pv) => window.__app.handle.stats().pageView !== pv, first, { what: 'page view of route b' });
  await flushAfter(p, 13);
  await collector.waitFor((r) => Object.values(impressionsByPageView(r)).some((v) => v.path === '/route-b' && v.ids.length >= 13),
    10000, 'route b');
  await p.evaluate(() => window.__app.unmount()); // stops the tracker: what is left is sent
  const views = Object.values(impressionsByPageView(collector.records));
  assert.equal(views.length, 2, JSON.stringify(views));
  assert.equal(views[0].path, '/fixtures/react.html');
  assert.deepEqual(views[0].ids.sort(), routeIds('a'));
  assert.equal(views[1].path, '/route-b');
  assert.deepEqual(views[1].ids.sort(), routeIds('b'));
  assert.equal(await p.evaluate(() => window.__app.observers), 1, 'one tracker on the page');
  assert.equal(await p.evaluate(() => window.__app.handle.tracker), null, 'unmounted: the handle lets go');
  assert.deepEqual(problems, []);
});

test('React StrictMode with a hand-written effect: the second createTracker() shares the first, no card counts twice', async (t) => {
  await buildReactApp();
  const { page: p, problems } = await open(t, { fixture: 'react.html', it: { mode: 'hand-written' }, waitReady: false });
  await flushAfter(p, 12);
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length >= 12, 10000, '12 impressions');
  await p.evaluate(() => window.__app.handle.flush());
  const imps = uniqueEvents(collector.records).filter((x) => x.event.e === 'imp').map((x) => x.event.id);
  assert.deepEqual(imps.sort(), routeIds('a').filter((id) => id !== 'a-ref'));
  assert.equal(await p.evaluate(() => window.__app.observers), 1, 'one tracker on the page');
  assert.deepEqual(problems, []);
});
