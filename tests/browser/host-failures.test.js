// host-failures.test.js: the host page's side of the privacy audit. Its own window
// 'error' and 'unhandledrejection' listeners stay silent with every delivery API failing
// at once, and with IntersectionObserver, MutationObserver or WebAssembly missing. With
// a storageKey of its choosing, every key and Web Lock of the tracker is under it, and
// a purge leaves the host's keys (the default prefix's included) as they were; with a
// prefix without a separator, a page key that starts with `<storageKey>q:` but is no
// record key stays too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowserSuite, waitInPage } from './browser.js';
import { observeAndFlush } from './stored.js';
import { eventIds } from './records.js';

let collector;
const { open } = useBrowserSuite({ collectorUp: true }, (shared) => ({ collector } = shared));

const storage = (page) => page.evaluate(() => Object.fromEntries(Object.keys(localStorage).sort().map((k) => [k, localStorage.getItem(k)])));

// The host page's own listeners: window 'error' and 'unhandledrejection' (Playwright's
// pageerror aside), with every delivery API failing at once.
const HOST_LISTENERS = () => {
  window.__hostErrors = [];
  window.addEventListener('error', (e) => window.__hostErrors.push(`error ${e.message}`));
  window.addEventListener('unhandledrejection', (e) => window.__hostErrors.push(`rejection ${e.reason}`));
};
const BROKEN_APIS = () => {
  const fail = (name) => () => { throw new DOMException(`${name} blocked`, 'SecurityError'); };
  Object.defineProperty(window, 'localStorage', { configurable: true, get: fail('localStorage') });
  Navigator.prototype.sendBeacon = fail('sendBeacon');
  window.fetchLater = fail('fetchLater');
  Object.defineProperty(Navigator.prototype, 'locks', { configurable: true, get: fail('locks') });
};

test('every delivery API failing: the host\'s error listeners stay silent through flush, hide, consent and stop', async (t) => {
  await collector.down();
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24', init: [HOST_LISTENERS, BROKEN_APIS] });
  await observeAndFlush(page);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await page.evaluate(() => window.__stubVisibilityChange('visible'));
  await page.evaluate(() => window.__it.tracker.setConsent(false));
  await page.evaluate(() => window.__it.tracker.setConsent(true));
  await page.evaluate(() => window.__it.tracker.stop());
  await waitInPage(page, () => window.__it.errors.length >= 2, undefined, { what: 'the failures reported to onError' });
  assert.deepEqual(await page.evaluate(() => window.__hostErrors), []);
  assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
});

for (const name of ['IntersectionObserver', 'MutationObserver', 'WebAssembly']) {
  const remove = `delete window.${name};`;
  test(`${name} missing: a no-op tracker that says so, the host's error listeners silent`, async (t) => {
    const { page } = await open(t, { fixture: 'grid.html?n=8', init: [HOST_LISTENERS, remove] });
    await waitInPage(page, () => window.__it.errors.length > 0, undefined, { what: 'onError' });
    await page.evaluate(() => window.__it.tracker?.flush());
    await page.evaluate(() => window.__stubVisibilityChange('hidden'));
    assert.deepEqual(await page.evaluate(() => window.__hostErrors), []);
    assert.equal(collector.records.length, 0);
  });
}

test('storageKey: every key and Web Lock of the tracker under it; the host\'s keys, the default prefix\'s included, kept through a purge', async (t) => {
  await collector.down();
  const hostKeys = () => {
    if (localStorage.getItem('app:other') !== null) return;
    for (const k of ['app:other', 'impression-tracker:q:host', 'app:trackerq', 'app:tracker']) localStorage.setItem(k, 'host');
  };
  const { page } = await open(t, { fixture: 'grid.html?n=8', init: [hostKeys], it: { options: { storageKey: 'app:tracker:' } } });
  await observeAndFlush(page);
  await waitInPage(page, () => Object.keys(localStorage).some((k) => k.startsWith('app:tracker:q:')), undefined, { what: 'a batch stored' });
  const names = await page.evaluate(async () => {
    const { held, pending } = await navigator.locks.query();
    return [...held, ...pending].map((l) => l.name);
  });
  assert.ok(names.length > 0 && names.every((n) => n.startsWith('app:tracker:')), `lock names: ${names}`);
  const keysNow = Object.keys(await storage(page));
  assert.deepEqual(keysNow.filter((k) => !k.startsWith('app:tracker:')).sort(), ['app:other', 'app:tracker', 'app:trackerq', 'impression-tracker:q:host']);
  await page.evaluate(() => window.__it.tracker.setConsent(false));
  assert.deepEqual(await storage(page), { 'app:other': 'host', 'app:tracker': 'host', 'app:trackerq': 'host', 'impression-tracker:q:host': 'host' });
});

test('storageKey without a separator: a page key that starts with <storageKey>q: but is no record key stays through a scan and a purge; a record of an earlier load beside it is sent', async (t) => {
  const hostKeys = () => {
    if (sessionStorage.getItem('seeded')) return;
    sessionStorage.setItem('seeded', '1');
    const now = Date.now();
    localStorage.setItem('appq:settings', '{"theme":"dark"}');
    localStorage.setItem('appq:1700000000000:earlier:0', `I2 ${now} ${now} 0 -\n{"v":1,"pv":"0123456789abcdef0123456789abcdef",`
      + '"path":"/earlier","at":5,"drop":0,"ev":[{"e":"imp","s":1,"t":4,"id":"seed-1","pos":1,"f":1}]}');
  };
  const { page } = await open(t, { fixture: 'grid.html?n=8', init: [hostKeys], it: { options: { storageKey: 'app' } } });
  await observeAndFlush(page);
  // The scan that found the page's keys also found the record: it is delivered, then removed.
  await collector.waitFor(() => eventIds(collector.records).has('0123456789abcdef0123456789abcdef:1'), 10000, 'the earlier record');
  await waitInPage(page, () => localStorage.getItem('appq:1700000000000:earlier:0') === null, undefined, { what: 'the record removed' });
  assert.equal(await page.evaluate(() => localStorage.getItem('appq:settings')), '{"theme":"dark"}', 'the page key stays');
  await page.evaluate(() => window.__it.tracker.setConsent(false));
  assert.equal(await page.evaluate(() => localStorage.getItem('appq:settings')), '{"theme":"dark"}', 'a purge leaves it too');
});
