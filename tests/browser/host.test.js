// host.test.js: the tracker inside a page that is odd or hostile to it. Each condition
// is set up by an init script that runs before any script of the page (and so before
// the tracker's import): prototypes polluted or frozen, browser APIs wrapped, replaced
// or missing, a Trusted Types CSP, a <base href>. Whatever the page did, the tracker
// counts the 16 cards in view of a 24-card grid, or says why it cannot, and never
// throws into the page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildSync } from 'esbuild';
import { uniqueEvents } from './server.js';
import { inViewObserved, useBrowserSuite, waitInPage } from './browser.js';

let site;
let collector;
const { open } = useBrowserSuite({}, (shared) => ({ site, collector } = shared));

const uncaught = (problems) => problems.filter((p) => p.startsWith('pageerror'));
const impressions = (records) => uniqueEvents(records).filter((x) => x.event.e === 'imp');

/** Flushes and waits for the 16 impressions of a 24-card grid at the collector. */
async function assertTracks(page) {
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
  await collector.waitFor((r) => impressions(r).length >= 16, 10000, '16 impressions');
  const seen = impressions(collector.records).map(({ event }) => `${event.id} ${event.list} ${event.pos}`);
  assert.deepEqual(seen.sort(), Array.from({ length: 16 }, (_, i) => `gig-${i + 1} q1 ${i + 1}`).sort(), 'one impression per card in view, as the page says it');
}

// Libraries as a page loads them: zone.js's UMD bundle (its "require" entry), and @sinonjs/fake-timers
// bundled for the browser (window.FakeTimers).
const require = createRequire(import.meta.url);
const ZONE_JS = readFileSync(require.resolve('zone.js'), 'utf8');
const FAKE_TIMERS = buildSync({
  entryPoints: [require.resolve('@sinonjs/fake-timers')], bundle: true, format: 'iife', globalName: 'FakeTimers',
  platform: 'browser', external: ['util'], write: false, logLevel: 'silent',
}).outputFiles[0].text;

// An init script that adds the given members to Object.prototype, not enumerable, as
// a library would with defineProperty ('body': document.body, once there is one).
const polluted = (members) => `for (const [k, v] of Object.entries(${JSON.stringify(members)})) {
  Object.defineProperty(Object.prototype, k, { __proto__: null, configurable: true,
    ...(v === 'body' ? { get: () => document.body } : { value: v, writable: true }) });
}`;

// What the page did before the tracker's import, as an init script.
const HOSTS = {
  'enumerable Object.prototype and Array.prototype additions': `
    Object.prototype.extend = function () {};
    Object.prototype.flag = 1;
    Array.prototype.each = function () {};`,
  // Prototype.js 1.7: Array.from is its $A, which takes no map function.
  "Prototype.js's Array.from and Array.prototype.toJSON": `
    Array.from = function $A(iterable) {
      if (!iterable) return [];
      if ('toArray' in Object(iterable)) return iterable.toArray();
      var length = iterable.length || 0, results = new Array(length);
      while (length--) results[length] = iterable[length];
      return results;
    };
    Array.prototype.toJSON = function () { return 'not an array'; };`,
  // Read by fetch() from its init dictionary: a request the browser refuses.
  "Object.prototype members of fetch's init (cache, priority)": polluted({ cache: 'only-if-cached', priority: 'bogus' }),
  // Read by IntersectionObserver from its init dictionary: another root, no card in view, or a throw.
  "Object.prototype members of IntersectionObserver's init": polluted({ root: 'body', rootMargin: '-500px', scrollMargin: '-500px', trackVisibility: true }),
  // Read from a card's options: every card one item.
  'Object.prototype id, list and position': polluted({ id: 'polluted', list: 'polluted', position: 99 }),
  // Set by the tracker itself, or unused: harmless.
  "Object.prototype members the tracker sets or the browser ignores": polluted({ keepalive: false, credentials: 'include',
    mode: 'no-cors', threshold: [1], delay: 1e6, steal: true, ifAvailable: true, once: true, type: 'x/y', characterData: true, attributeOldValue: true }),
  'Object.prototype get and set (read by property descriptors)': `
    for (const k of ['get', 'set']) {
      Object.defineProperty(Object.prototype, k, { __proto__: null, value() { throw new Error('polluted ' + k); }, writable: true, configurable: true });
    }`,
  'intrinsics frozen (SES-style)': `
    for (const c of [Object, Array, Function, Error, Promise, Map, Set, WeakMap, String, Number, Uint8Array, DataView, RegExp]) {
      Object.freeze(c.prototype);
      Object.freeze(c);
    }
    Object.freeze(Object.getPrototypeOf(Uint8Array.prototype));`,
  'sendBeacon replaced by one that returns undefined': `
    navigator.sendBeacon = function () {};`,
  'localStorage a proxy that throws on every use': `
    Object.defineProperty(window, 'localStorage', { configurable: true, get() {
      return new Proxy({}, { get() { throw new DOMException('blocked', 'SecurityError'); } });
    } });`,
  'localStorage whose setItem silently drops': `
    Storage.prototype.setItem = function () {};`,
  'addEventListener patched to drop its options': `
    const add = EventTarget.prototype.addEventListener;
    const remove = EventTarget.prototype.removeEventListener;
    EventTarget.prototype.addEventListener = function (type, fn) { return add.call(this, type, fn); };
    EventTarget.prototype.removeEventListener = function (type, fn) { return remove.call(this, type, fn); };`,
  'requestIdleCallback missing': `
    delete window.requestIdleCallback;
    delete window.cancelIdleCallback;`,
  'performance.now stands still': `
    performance.now = () => 1000;`,
  // Fetch wrappers as APM and error trackers install them: they read or clone the request.
  'fetch wrapped, the request cloned and read': `
    const fetch0 = window.fetch;
    window.fetch = function (input, init) {
      const request = new Request(input, init);
      request.clone().arrayBuffer();
      if (init && 'method' in init && init.headers) new Headers(init.headers);
      return fetch0.call(this, input, init);
    };`,
  'fetch wrapped, forwarding a Request made of the call': `
    const fetch0 = window.fetch;
    window.fetch = function (input, init) { return fetch0.call(this, new Request(input, init)); };`,
  'zone.js (Angular) loaded first': ZONE_JS,
  'Map, Set, WeakMap and Promise replaced by subclasses (polyfills)': `
    for (const name of ['Map', 'Set', 'WeakMap', 'Promise']) window[name] = class extends window[name] {};`,
  "Object.prototype members of Response's init (status, headers): the embedded entry": `
    window.__it.entry = '/js/embedded.js';
    ${polluted({ status: 500, statusText: 'polluted' })}`,
  'sinon fake timers installed (the clock never moves)': `${FAKE_TIMERS}
    FakeTimers.install();`,
};

for (const [name, init] of Object.entries(HOSTS)) {
  test(`${name}: the tracker counts, and nothing reaches the page`, async (t) => {
    const { page, problems } = await open(t, { fixture: 'grid.html?n=24', init: [init] });
    assert.equal(await page.evaluate(() => window.__it.tracker.stats().active), true, JSON.stringify(await page.evaluate(() => window.__it.errors)));
    await assertTracks(page);
    assert.deepEqual(uncaught(problems), []);
    assert.deepEqual(await page.evaluate(() => window.__it.errors), []);
  });
}

// --- Calls back into the tracker --------------------------------------------------------

test('onError calling flush() while the tracker feeds an observer callback: the tracker goes on', async (t) => {
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24', it: { autoStart: false } });
  await page.evaluate(async (endpoint) => {
    const { createTracker } = await import('/js/index.js');
    const it = window.__it;
    it.errors = [];
    it.tracker = await createTracker({ endpoint, onError: (e) => { it.errors.push(e.message); it.tracker?.flush(); } });
    // Two new cards in one observer callback; the last has no id: its warning comes while
    // its entry, the callback's last, is fed, and the onError's flush feeds what is left.
    for (const id of ['new-1', '']) {
      const el = document.createElement('div');
      el.style.cssText = 'position: fixed; top: 0; left: 0; width: 50px; height: 50px';
      document.body.append(el);
      it.tracker.observe(el, id ? { id } : undefined);
    }
  }, collector.endpoint);
  await waitInPage(page, () => window.__it.errors.length > 0, undefined, { what: 'the warning' });
  await page.evaluate(() => window.__it.tracker.flush());
  assert.deepEqual(await page.evaluate(() => window.__it.errors), ['impression-tracker: a card without data-gig-id (idAttribute) is not counted']);
  assert.equal(await page.evaluate(() => window.__it.tracker.stats().active), true);
  await collector.waitFor((r) => impressions(r).some((x) => x.event.id === 'new-1'), 10000, 'the new card');
  assert.deepEqual(uncaught(problems), []);
});

// A tracker with the debug hooks of `hooks` (the source of an object of onEvent and
// onDelivery, which reach the tracker as window.__it.tracker); onError collects.
async function startWithHooks(page, hooks) {
  await page.evaluate(async ([endpoint, source]) => {
    const { createTracker } = await import('/js/index.js');
    const { trackerDebug } = await import('/js/debug.js');
    const it = window.__it;
    it.errors = [];
    const debug = trackerDebug(new Function('it', `return ${source}`)(it));
    it.tracker = await createTracker({ endpoint, debug, onError: (e) => it.errors.push(e.message) });
  }, [collector.endpoint, hooks]);
}

test('onEvent calling flush() at every impression: every card counts once, the tracker goes on', async (t) => {
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24', it: { autoStart: false } });
  await startWithHooks(page, "{ onEvent: (event) => { if (event.e === 'imp') it.tracker?.flush(); } }");
  await page.evaluate(() => window.scrollBy(0, 300)); // the last row's cards, with a tracker to call
  await collector.waitFor((r) => impressions(r).length === 24, 10000, '24 impressions');
  assert.equal(await page.evaluate(() => window.__it.tracker.stats().active), true, JSON.stringify(await page.evaluate(() => window.__it.errors)));
  assert.deepEqual(await page.evaluate(() => window.__it.errors), []);
  assert.deepEqual(uncaught(problems), []);
});

test('onEvent calling stop(), then every method called after it: nothing thrown, no error', async (t) => {
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24', it: { autoStart: false } });
  await startWithHooks(page, "{ onEvent: (event) => { if (event.e === 'imp') it.tracker?.stop(); } }");
  await page.evaluate(() => window.scrollBy(0, 300));
  await waitInPage(page, () => !window.__it.tracker.stats().active, undefined, { what: 'the tracker stopped' });
  await page.evaluate(() => {
    const { tracker } = window.__it;
    tracker.flush();
    tracker.newPageView();
    tracker.setConsent(false);
    tracker.observe(document.body.firstElementChild);
    tracker.unobserve(document.body.firstElementChild);
    tracker.stop();
    window.__stubVisibilityChange('hidden');
  });
  assert.deepEqual(await page.evaluate(() => window.__it.errors), []);
  assert.deepEqual(uncaught(problems), []);
});

// --- CSP, Trusted Types, <base href> ----------------------------------------------------

// Every Trusted Types sink the page uses goes through this default policy, which
// records it: the fixture's own innerHTML is the only one allowed.
const RECORD_SINKS = `window.__sinks = [];
trustedTypes.createPolicy('default', {
  createHTML: (value, type, sink) => { window.__sinks.push(sink); return value; },
  createScript: (value, type, sink) => { window.__sinks.push(sink); return null; },
  createScriptURL: (value, type, sink) => { window.__sinks.push(sink); return null; },
});`;

for (const entry of ['/js/index.js', '/js/embedded.js']) {
  test(`require-trusted-types-for 'script' (${entry}): the tracker uses no sink`, async (t) => {
    site.setHeaders('/fixtures/grid.html', { 'content-security-policy': "require-trusted-types-for 'script'" });
    const { page, problems } = await open(t, { fixture: 'grid.html?n=24', init: [RECORD_SINKS], it: { entry } });
    assert.equal(await page.evaluate(() => window.__it.tracker.stats().active), true, JSON.stringify(await page.evaluate(() => window.__it.errors)));
    await assertTracks(page);
    await page.evaluate(() => window.__stubVisibilityChange('hidden')); // the hide's paths too
    assert.deepEqual(await page.evaluate(() => window.__sinks), ['Element innerHTML'], 'only the fixture\'s own');
    assert.deepEqual(problems, []);
  });
}

test('<base href> and a relative endpoint: fetch and sendBeacon both reach the collector', async (t) => {
  const url = new URL(collector.endpoint);
  // The <base> goes in before the tracker's module runs (the document is interactive then).
  const base = `document.addEventListener('readystatechange', () => {
    if (document.readyState !== 'interactive') return;
    const base = document.createElement('base');
    base.href = ${JSON.stringify(`${url.origin}/`)};
    document.head.prepend(base);
  });`;
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24', init: [base], it: { options: { endpoint: url.pathname.slice(1) + url.search } } });
  await assertTracks(page); // by fetch
  await page.evaluate(() => window.scrollBy(0, 300));
  await inViewObserved(page, -1, 24); // every card, the scrolled-in row's included, before the hide
  await page.evaluate(() => window.__stubVisibilityChange('hidden')); // by sendBeacon
  await collector.waitFor((r) => impressions(r).length === 24, 10000, 'the other 8 impressions');
  const { sent, beaconed } = await page.evaluate(() => window.__it.tracker.stats().transport);
  assert.ok(sent > 0 && beaconed > 0, `sent ${sent}, beaconed ${beaconed}`);
  assert.deepEqual(uncaught(problems), []);
});

// --- Limits -------------------------------------------------------------------------------

test('Object.prototype.then: every object a promise resolves with hangs; the core load gives up and says so, nothing thrown', async (t) => {
  const then = `Object.defineProperty(Object.prototype, 'then', { __proto__: null, value() {}, writable: true, configurable: true });`;
  // (Playwright's fake clock hangs on such a page too: the load's own 10 s timeout runs.)
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24', init: [then], waitReady: false });
  await waitInPage(page, () => window.__it.errors.length > 0, undefined, { timeoutMs: 20000, what: 'onError' });
  // As a string: Playwright would await an array, a thenable here.
  assert.equal(await page.evaluate(() => JSON.stringify(window.__it.errors)), '["core: not loaded after 10000 ms"]');
  assert.deepEqual(uncaught(problems), []);
  assert.equal(collector.records.length, 0);
});

test("script tag under a strict CSP (script-src 'self' 'wasm-unsafe-eval', Trusted Types, no inline script)", async (t) => {
  const cards = Array.from({ length: 24 }, (_, i) => `<div class="card" data-gig-id="gig-${i + 1}" data-position="${i + 1}"></div>`).join('');
  site.serve('/fixtures/strict.html', `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/fixtures/strict.css"></head>
<body><div class="grid" data-list-id="q1">${cards}</div>
<script src="/dist/impression-tracker.js" data-endpoint="${collector.endpoint}" data-batch-max-age-ms="200"></script></body></html>`);
  site.serve('/fixtures/strict.css', `html, body { margin: 0 } .grid { display: grid; grid-template-columns: repeat(4, 190px);
  grid-auto-rows: 140px; gap: 10px } .card { background: #eef }`);
  site.setHeaders('/fixtures/strict.html', {
    'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http://127.0.0.1:*; require-trusted-types-for 'script'; trusted-types 'none'",
  });
  const { page, problems } = await open(t, { fixture: 'strict.html', waitReady: false });
  await collector.waitFor((r) => impressions(r).length === 16, 10000, '16 impressions');
  assert.equal(await page.evaluate(() => window.impressionTracker.then((tracker) => tracker.stats().active)), true);
  assert.deepEqual(problems, []);
});
