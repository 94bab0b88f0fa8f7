// newcomer.test.js: what a new user meets first, in a real browser. The React binding
// under StrictMode (one tracker, every card counted once per page view, route changes
// as new page views with the new path), the obvious hand-written effect under
// StrictMode (the core shares the live tracker instead of counting twice), the
// script-tag stub that queues calls until the build has loaded, the script tag and a
// module build on one page (the second copy does nothing and says so), the default
// console.warn of a tracker that cannot start, and an esbuild IIFE bundle of the
// default entry (a clear message naming the fixes; with the wasm option it tracks).
// Bundles are built here with the project's esbuild, in memory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { uniqueEvents, waitFor } from './server.js';
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
  assert.equal(await p.evaluate(() => window.__app.consentBeforeLoad), true, 'consent was given before the tracker loaded');
  assert.equal(await p.evaluate(() => window.__app.handle.tracker), null, 'unmounted: the handle lets go');
  assert.deepEqual(problems, []);
});

test('React: cards rendered again as new elements (new keys, same ids) are the same cards: no span ends, viewable once', async (t) => {
  await buildReactApp();
  const { page: p } = await open(t, { fixture: 'react.html', it: { mode: 'provider' }, waitReady: false });
  await flushAfter(p, 13); // the 13 impressions
  await p.evaluate(() => window.__app.remount());
  const ids = (e) => uniqueEvents(collector.records).filter((x) => x.event.e === e).map((x) => x.event.id).sort();
  await waitFor(async () => {
    await p.evaluate(() => window.__app.handle.flush());
    return ids('view').length === 13;
  }, { what: '13 viewable impressions at the collector' });
  assert.deepEqual(ids('imp'), routeIds('a'));
  assert.deepEqual(ids('view'), routeIds('a'));
  assert.deepEqual(ids('vis'), [], 'no visible span ended: the cards never left the screen');
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

// The stub as the README gives it: one line, before the async tag.
const STUB = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').match(/^<script>window\.impressionTracker\|\|.*<\/script>$/m)[0];
const grid = (n) => `<div class="grid" data-list-id="q1">${Array.from({ length: n },
  (_, i) => `<div class="card" data-gig-id="gig-${i + 1}" data-position="${i + 1}">gig ${i + 1}</div>`).join('')}</div>`;

test('script tag with the queue stub: a call made before the build has loaded waits for it', async (t) => {
  // The inline call runs while the parser reaches it; the async build runs only after it
  // has been fetched, so the call is early (the test without the stub proves it).
  site.serve('/fixtures/stub.html', page(`${grid(8)}${STUB}
<script src="/dist/impression-tracker.js" async data-endpoint="${collector.endpoint}" data-consent="pending"></script>
<script>window.__early = typeof impressionTracker.then;
impressionTracker.then(function (tracker) { window.__consented = true; tracker.setConsent(true); tracker.flush(); });</script>`));
  const { page: p, problems } = await open(t, { fixture: 'stub.html', waitReady: false });
  assert.equal(await p.evaluate(() => window.__early), 'function', 'the stub is a promise before the build loads');
  await waitInPage(p, () => window.__consented === true, undefined, { what: 'the queued call ran' });
  await waitInPage(p, () => impressionTracker.then((tracker) => tracker.stats().seq >= 8 && (tracker.flush(), true)), undefined,
    { what: '8 impressions queued' });
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === 8, 10000, '8 impressions');
  assert.equal(await p.evaluate(() => 'resolve' in impressionTracker), false, 'the stub is spent');
  assert.deepEqual(problems, []);
});

test('script tag without the stub: an early call throws, which is what the stub is for', async (t) => {
  site.serve('/fixtures/no-stub.html', page(`${grid(2)}
<script src="/dist/impression-tracker.js" async data-endpoint="${collector.endpoint}"></script>
<script>try { impressionTracker.then(function () {}); window.__early = 'ok'; } catch (e) { window.__early = e.name; }</script>`));
  const { page: p } = await open(t, { fixture: 'no-stub.html', waitReady: false });
  assert.equal(await p.evaluate(() => window.__early), 'ReferenceError');
});

test('the script tag and a module build on one page: the second copy is a no-op that says so, every card counts once', async (t) => {
  site.serve('/fixtures/two-copies.html', page(`${grid(8)}
<script src="/dist/impression-tracker.js" async data-endpoint="${collector.endpoint}"></script>`));
  const { page: p, problems } = await open(t, { fixture: 'two-copies.html', waitReady: false });
  await waitInPage(p, () => window.impressionTracker?.then((tracker) => tracker.stats().seq >= 8), undefined,
    { what: "the script tag's tracker queued 8 impressions" });
  const second = await p.evaluate(async (endpoint) => {
    const { createTracker } = await import('/js/index.js');
    const told = [];
    const tracker = await createTracker({ endpoint, onError: (e) => told.push(e.message) });
    return { active: tracker.stats().active, told };
  }, collector.endpoint);
  assert.equal(second.active, false, 'the module copy does not track');
  assert.match(second.told.join(), /another copy of the package tracks this page/);
  await p.evaluate(() => impressionTracker.then((tracker) => tracker.flush()));
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length >= 8, 10000, '8 impressions');
  const pageViews = new Set(uniqueEvents(collector.records).map((x) => x.pv));
  assert.equal(pageViews.size, 1, 'one tracker sent');
  assert.equal(uniqueEvents(collector.records).filter((x) => x.event.e === 'imp').length, 8);
  assert.deepEqual(uncaught(problems), []);
});

/** An init script that keeps the page's console.warn calls in window.__warnings. */
const RECORD_WARNINGS = `window.__warnings = []; const warn = console.warn;
  console.warn = (...args) => { window.__warnings.push(args.join(' ')); warn.apply(console, args); };`;
const warnings = (p) => p.evaluate(() => window.__warnings);
/** Uncaught errors only: the browser logs the 404 of a missing core itself. */
const uncaught = (problems) => problems.filter((p) => p.startsWith('pageerror'));

test('a tracker that cannot start warns once on the console; with onError it is quiet', async (t) => {
  site.serve('/fixtures/blank.html', page(grid(2)));
  const { page: p, problems } = await open(t, { fixture: 'blank.html', waitReady: false, init: [RECORD_WARNINGS] });
  const active = await p.evaluate(async () => {
    const { createTracker } = await import('/js/index.js');
    const tracker = await createTracker({ endpoint: '/collect', wasm: '/js/missing.wasm' });
    tracker.flush();
    return tracker.stats().active;
  });
  assert.equal(active, false);
  const seen = await warnings(p);
  assert.equal(seen.length, 1, seen.join('\n'));
  assert.match(seen[0], /^impression-tracker is not tracking: core: HTTP 404 from http:\/\/[^ ]+\/js\/missing\.wasm: copy the package's js\/imp\.wasm there, pass the wasm option or import 'impression-tracker\/embedded' \(onError silences this\)$/);
  const reported = await p.evaluate(async () => {
    const { createTracker } = await import('/js/index.js');
    const errors = [];
    await createTracker({ endpoint: '/collect', wasm: '/js/missing.wasm', onError: (e) => errors.push(e.message) });
    return errors;
  });
  assert.equal(reported.length, 1);
  assert.equal((await warnings(p)).length, 1, 'no second warning');
  assert.deepEqual(uncaught(problems), []);
});

test('the default entry in an esbuild IIFE bundle says what to do; with the wasm option it tracks', async (t) => {
  const entry = (options) => ({
    contents: `import { createTracker } from './js/index.js';
      window.__started = createTracker(${options}).then((t) => { window.__tracker = t; return t.stats().active; });`,
    resolveDir: '.', sourcefile: 'iife-entry.js',
  });
  const [plain, withWasm] = await Promise.all([
    bundle(undefined, 'iife', { entryPoints: undefined, stdin: entry(`{ endpoint: ${JSON.stringify(collector.endpoint)} }`) }),
    bundle(undefined, 'iife', { entryPoints: undefined, stdin: entry(`{ endpoint: ${JSON.stringify(collector.endpoint)}, wasm: '/js/imp.wasm' }`) }),
  ]);
  site.serve('/fixtures/iife.js', plain);
  site.serve('/fixtures/iife-wasm.js', withWasm);
  site.serve('/fixtures/iife.html', page(`${grid(4)}<script src="/fixtures/iife.js"></script>`));
  site.serve('/fixtures/iife-wasm.html', page(`${grid(4)}<script src="/fixtures/iife-wasm.js"></script>`));
  const { page: p, problems } = await open(t, { fixture: 'iife.html', waitReady: false, init: [RECORD_WARNINGS] });
  assert.equal(await p.evaluate(() => window.__started), false);
  const seen = await warnings(p);
  assert.equal(seen.length, 1, seen.join('\n'));
  assert.match(seen[0], /no import\.meta\.url .*pass the wasm option or import 'impression-tracker\/embedded'/);
  assert.doesNotMatch(seen[0], /Invalid URL/);
  assert.deepEqual(problems, []);
  const fixed = await open(t, { fixture: 'iife-wasm.html', waitReady: false });
  assert.equal(await fixed.page.evaluate(() => window.__started), true);
  await waitInPage(fixed.page, () => window.__tracker.stats().seq >= 4 && (window.__tracker.flush(), true), undefined, { what: '4 impressions' });
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === 4, 10000, '4 impressions');
});
