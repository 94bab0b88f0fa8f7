// host.test.js: the tracker inside a page that is odd or hostile to it. Each condition
// is set up by an init script that runs before any script of the page (and so before
// the tracker's import): prototypes polluted or frozen, browser APIs wrapped, replaced
// or missing, a Trusted Types CSP, a <base href>. Whatever the page did, the tracker
// counts the 16 cards in view of a 24-card grid, or says why it cannot, and never
// throws into the page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  "Prototype.js's Array.prototype.toJSON": `
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
};

for (const [name, init] of Object.entries(HOSTS)) {
  test(`${name}: the tracker counts, and nothing reaches the page`, async (t) => {
    const { page, problems } = await open(t, { fixture: 'grid.html?n=24', init: [init] });
    assert.equal(await page.evaluate(() => window.__it.tracker.stats().active), true, JSON.stringify(await page.evaluate(() => window.__it.errors)));
    await assertTracks(page);
    assert.deepEqual(uncaught(problems), []);
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
