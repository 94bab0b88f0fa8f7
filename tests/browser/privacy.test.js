// privacy.test.js: the README's privacy claims, checked on what leaves the browser and
// what stays on the device, never on the tracker's own counters: consent pending,
// revoked and granted again against a record an earlier visit stored; each Global
// Privacy Control mode; cookies and the Referer at a collector on the page's own origin
// (where the browser sends the most); no query string or fragment of the page URL in a
// body, a trace or a storage record after history.pushState and newPageView(); hostile
// ids escaped and cut in storage as on the wire. The host page's side: host-failures.test.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventIds, uniqueEvents, waitFor } from './server.js';
import { useBrowserSuite, waitInPage } from './browser.js';
import { PREFIX, observeAndFlush, pageEventIds } from './stored.js';
import { startSameOrigin } from './same-origin.js';

let browser;
let collector;
const { open } = useBrowserSuite({ collectorUp: true }, (shared) => ({ browser, collector } = shared));

// Every localStorage call of the page after the init scripts, in window.__storageLog.
const STORAGE_LOG = () => {
  window.__storageLog = [];
  const proto = Storage.prototype;
  for (const name of ['getItem', 'setItem', 'removeItem', 'key', 'clear']) {
    const real = proto[name];
    proto[name] = function (...args) {
      window.__storageLog.push(`${name} ${args[0]}`);
      return real.apply(this, args);
    };
  }
  const length = Object.getOwnPropertyDescriptor(proto, 'length');
  Object.defineProperty(proto, 'length', { configurable: true, get() { window.__storageLog.push('length'); return length.get.call(this); } });
};
const GPC = 'Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { configurable: true, get: () => true });';
// A batch an earlier visit stored (released, due now), and a key of the host's own.
const SEED_PV = '0123456789abcdef0123456789abcdef';
const SEED_KEY = `${PREFIX}q:1700000000000:seedtab00000:0`;
const SEED = (key) => {
  if (localStorage.getItem('host-key') !== null) return;
  const now = Date.now();
  localStorage.setItem('host-key', 'kept');
  localStorage.setItem(key, `I2 ${now} ${now} 0 -\n{"v":1,"pv":"0123456789abcdef0123456789abcdef","path":"/earlier","at":5,"drop":0,`
    + '"ev":[{"e":"imp","s":1,"t":4,"id":"seed-1","pos":1,"list":"q1","f":1}]}');
};
const seed = `(${SEED})(${JSON.stringify(SEED_KEY)});`;
const storage = (page) => page.evaluate(() => Object.fromEntries(Object.keys(localStorage).sort().map((k) => [k, localStorage.getItem(k)])));
const ours = (page) => storage(page).then((s) => Object.keys(s).filter((k) => k.startsWith(PREFIX)));
const pvs = () => new Set(uniqueEvents(collector.records).map((x) => x.pv));

/** Waits until a fresh page of another user (its own context) is delivered: what `page` sent before is in. */
async function sentinel(t) {
  const other = await open(t, { fixture: 'grid.html?n=1' });
  await observeAndFlush(other.page);
  const pv = await other.page.evaluate(() => window.__it.tracker.stats().pageView);
  await collector.waitFor(() => pvs().has(pv), 10000, 'the sentinel page');
  return pv;
}

test('consent pending: localStorage never called and nothing sent; granting sends what was held and the earlier visit\'s record', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=8', init: [seed, STORAGE_LOG], it: { options: { consent: 'pending' } } });
  await observeAndFlush(page);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await page.evaluate(() => window.__stubVisibilityChange('visible'));
  const pv = await page.evaluate(() => window.__it.tracker.stats().pageView);
  await sentinel(t);
  assert.ok(!pvs().has(pv) && !pvs().has(SEED_PV), 'nothing sent while pending');
  assert.deepEqual(await page.evaluate(() => window.__storageLog), [], 'localStorage neither read nor written');
  const ids = await pageEventIds(page);
  await page.evaluate(() => window.__it.tracker.setConsent(true));
  await collector.waitFor(() => [...ids, `${SEED_PV}:1`].every((id) => eventIds(collector.records).has(id)), 10000, 'held and stored events');
  await waitInPage(page, (k) => localStorage.getItem(k) === null, SEED_KEY, { what: 'the delivered record removed' });
  assert.equal(await page.evaluate(() => localStorage.getItem('host-key')), 'kept');
});

test('consent pending to the end of the page: no beacon and no fetchLater copy leave as it goes', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=8', it: { options: { consent: 'pending' } } });
  await observeAndFlush(page);
  const pv = await page.evaluate(() => window.__it.tracker.stats().pageView);
  await page.goto('about:blank');
  await sentinel(t);
  assert.ok(!pvs().has(pv), 'nothing of the pending page arrived');
});

test('pending then revoked: the held events and the earlier record are gone, nothing is sent, then granting sends only later events', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=8', init: [seed], it: { options: { consent: 'pending' } } });
  await observeAndFlush(page);
  const held = await pageEventIds(page);
  await page.evaluate(() => window.__it.tracker.setConsent(false));
  assert.deepEqual(await ours(page), [], 'the earlier visit\'s record purged');
  assert.equal(await page.evaluate(() => localStorage.getItem('host-key')), 'kept');
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await page.evaluate(() => window.__stubVisibilityChange('visible'));
  const pv = await page.evaluate(() => window.__it.tracker.stats().pageView);
  await sentinel(t);
  assert.ok(!pvs().has(pv) && !pvs().has(SEED_PV), 'nothing sent after the revoke');
  await page.evaluate(() => window.__it.tracker.setConsent(true));
  await page.evaluate(() => window.__it.tracker.newPageView());
  await observeAndFlush(page);
  const pv2 = await page.evaluate(() => window.__it.tracker.stats().pageView);
  await collector.waitFor(() => pvs().has(pv2), 10000, 'the page view after the grant');
  const sent = eventIds(collector.records);
  assert.deepEqual(held.filter((id) => sent.has(id)), [], 'no event purged by the revoke is sent after the grant');
  assert.ok(!pvs().has(SEED_PV), 'the purged record is not sent');
});

test('consent denied at start: the earlier record removed, nothing written, nothing sent', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=8', init: [seed, STORAGE_LOG], it: { options: { consent: 'denied' } } });
  await observeAndFlush(page);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  const pv = await page.evaluate(() => window.__it.tracker.stats().pageView);
  await sentinel(t);
  assert.ok(!pvs().has(pv) && !pvs().has(SEED_PV), 'nothing sent');
  assert.deepEqual(await ours(page), [], 'the earlier record removed');
  assert.deepEqual((await page.evaluate(() => window.__storageLog)).filter((c) => c.startsWith('setItem')), [], 'nothing written');
  assert.equal(await page.evaluate(() => localStorage.getItem('host-key')), 'kept');
});

for (const mode of ['memory-only', 'deny', 'ignore']) {
  test(`Global Privacy Control, gpc: '${mode}': storage, sending and the gpc flag as documented`, async (t) => {
    await collector.down();
    const { page } = await open(t, { fixture: 'grid.html?n=8', init: [GPC, seed, STORAGE_LOG], it: { options: { gpc: mode } } });
    await observeAndFlush(page);
    if (mode === 'ignore') await waitInPage(page, (p) => Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`) && !k.includes('seedtab')), PREFIX, { what: 'a batch stored' });
    const log = await page.evaluate(() => window.__storageLog);
    if (mode === 'memory-only') assert.deepEqual(log, [], 'localStorage neither read nor written');
    if (mode === 'deny') assert.deepEqual(log.filter((c) => c.startsWith('setItem')), [], 'nothing written');
    await collector.up();
    await page.evaluate(() => window.__it.tracker.setConsent(true)); // overrides nothing in 'deny'
    await page.evaluate(() => window.__it.tracker.flush());
    const pv = await page.evaluate(() => window.__it.tracker.stats().pageView);
    if (mode === 'deny') {
      await page.evaluate(() => window.__stubVisibilityChange('hidden'));
      await sentinel(t);
      assert.ok(!pvs().has(pv), 'nothing sent, setConsent(true) included');
      assert.deepEqual(await ours(page), [], 'the earlier visit\'s record removed, as at consent denied');
    } else {
      const ids = await pageEventIds(page);
      await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 15000, 'every event');
      const batches = collector.records.filter((r) => r.status === 204 && JSON.parse(r.body).pv === pv);
      assert.ok(batches.every((r) => JSON.parse(r.body).gpc === 1), 'every batch carries "gpc":1');
      if (mode === 'memory-only') assert.deepEqual(await ours(page), [SEED_KEY], 'the earlier record left alone, nothing written');
    }
    assert.equal(await page.evaluate(() => localStorage.getItem('host-key')), 'kept');
  });
}

/** A page of the same-origin server in its own context, with a host cookie, tracking; returns {context, page}. */
async function openSameOrigin(t, server, path) {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  t.after(() => context.close());
  await context.addInitScript(`window.__it = ${JSON.stringify({ options: { endpoint: '/collect', trace: true } })};`);
  await context.addInitScript(COOKIE_LOG);
  const page = await context.newPage();
  await page.goto(server.url(path));
  await page.evaluate(() => { document.cookie = 'session=host-cookie; path=/'; });
  await waitInPage(page, () => window.__it && window.__it.ready);
  return { context, page };
}

// Every document.cookie read or write made from the package's files, in window.__cookieLog.
const COOKIE_LOG = () => {
  window.__cookieLog = [];
  const real = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  const ours = () => /\/js\//.test(new Error().stack);
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get() { if (ours()) window.__cookieLog.push('get'); return real.get.call(this); },
    set(v) { if (ours()) window.__cookieLog.push('set'); real.set.call(this, v); },
  });
};

/** The fetch requests' headers: no cookie, no Referer. */
function assertFetchesBare(records) {
  const fetches = records.filter((r) => r.kind === 'fetch');
  assert.ok(fetches.length > 0);
  for (const r of fetches) assert.deepEqual([r.headers.cookie, r.headers.referer], [undefined, undefined], 'no cookie, no Referer');
}

const assertCookieUntouched = async (page) => assert.deepEqual(await page.evaluate(() => window.__cookieLog), [], 'document.cookie untouched');

test('same-origin collector: no cookie or Referer with fetch, no query string or fragment in a body or the trace, after pushState and newPageView', async (t) => {
  const server = await startSameOrigin();
  t.after(() => server.close());
  const { context, page } = await openSameOrigin(t, server, '/fixtures/grid.html?n=24&email=someone%40example.com#token=secret');
  await observeAndFlush(page);
  await waitInPage(page, () => window.__it.tracker.stats().transport.sent > 0, undefined, { what: 'a fetch delivered' });
  await page.evaluate(() => history.pushState(null, '', '/fixtures/search?q=secret-query#frag-secret'));
  await page.evaluate(() => window.scrollTo(0, 300));
  await page.evaluate(() => window.__it.tracker.newPageView());
  await observeAndFlush(page);
  await page.evaluate(() => window.__it.tracker.newPageView({ path: '/fixtures/route?user=secret-meta#x' }));
  await observeAndFlush(page);
  await waitInPage(page, () => window.__it.tracker.stats().transport.sent >= 3, undefined, { what: 'three page views delivered' });
  const trace = await page.evaluate(() => window.__it.trace());
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  // sendBeacon accepted is neither the request arrived nor its answer's cookie stored: wait for both.
  const beacon = await waitFor(() => server.records.find((r) => r.kind === 'beacon'), { what: 'the beacon at the collector' });
  const cookies = await waitFor(async () => {
    const names = (await context.cookies()).map((c) => c.name);
    return names.includes('by-beacon') && names;
  }, { what: 'the Set-Cookie answering the beacon stored' });
  const paths = server.records.map((r) => JSON.parse(r.body).path);
  assert.deepEqual([...new Set(paths)].sort(), ['/fixtures/grid.html', '/fixtures/route', '/fixtures/search']);
  assert.doesNotMatch(trace, /secret|email|frag|\?/, 'no query string or fragment in the trace');
  for (const r of server.records) assert.doesNotMatch(r.body, /secret|email|token|frag|\?/, 'no query string or fragment in a body');
  assertFetchesBare(server.records);
  await assertCookieUntouched(page);
  assert.ok(!cookies.includes('by-fetch'), 'the Set-Cookie answering a fetch is not stored');
  // What js/README.md "Privacy in full" says of sendBeacon: it sends the cookies, stores
  // the answer's (waited for above), and its Referer is the page's policy's: on the page's
  // own origin, under the default policy, the full URL with its query string.
  assert.equal(beacon.headers.cookie, 'session=host-cookie');
  assert.equal(beacon.headers.referer, server.url('/fixtures/search?q=secret-query'));
});

test('same-origin collector under Referrer-Policy: strict-origin: the beacon\'s Referer is the origin alone', async (t) => {
  const server = await startSameOrigin({ pageHeaders: { 'referrer-policy': 'strict-origin' } });
  t.after(() => server.close());
  const { page } = await openSameOrigin(t, server, '/fixtures/grid.html?n=8&q=secret-query');
  await observeAndFlush(page);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await waitInPage(page, () => window.__it.tracker.stats().transport.beaconed > 0, undefined, { what: 'a beacon' });
  const beacon = await waitFor(() => server.records.find((r) => r.kind === 'beacon'), { what: 'the beacon at the collector' });
  assert.equal(beacon.headers.referer, server.url('/'));
});

test('fetchLater: the deferred copy of an unanswered fetch, sent as the document goes, carries no cookie and no Referer', async (t) => {
  const server = await startSameOrigin({ stallFetches: true });
  t.after(() => server.close());
  const { page } = await openSameOrigin(t, server, '/fixtures/grid.html?n=8&q=secret-query');
  await observeAndFlush(page);
  await waitInPage(page, () => window.__it.tracker.stats().transport.inFlight > 0, undefined, { what: 'a fetch in flight' });
  const pv = await page.evaluate(() => window.__it.tracker.stats().pageView);
  await page.goto('about:blank');
  await waitFor(() => server.records.filter((r) => r.kind === 'fetch' && JSON.parse(r.body).pv === pv).length >= 2, { what: 'the fetchLater copy' });
  assertFetchesBare(server.records);
});

test('stored records: hostile ids escaped and cut as in a body, no query string or fragment of the page URL', async (t) => {
  await collector.down();
  const { page } = await open(t, { fixture: 'hostile.html?secret=1#frag-secret' });
  await page.evaluate(() => history.pushState(null, '', '/fixtures/hostile.html?q=secret-too#frag'));
  await page.evaluate(() => window.__it.tracker.newPageView());
  const count = await page.evaluate(() => window.__hostileIds.length);
  await waitInPage(page, (n) => window.__it.events.filter((e) => e.e === 'imp').length >= n, count, { what: 'an impression per card' });
  await page.evaluate(() => window.__it.tracker.flush());
  await waitInPage(page, (p) => Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`)), PREFIX, { what: 'a batch stored' });
  const records = Object.entries(await storage(page)).filter(([k]) => k.startsWith(`${PREFIX}q:`)).map(([, v]) => v);
  const stored = records.flatMap((value) => {
    assert.doesNotMatch(value, /secret|frag|\?/, 'no query string or fragment in a record');
    assert.doesNotMatch(value.slice(value.indexOf('\n') + 1), /[\0-\x1f]/, 'control characters escaped');
    const batch = JSON.parse(value.slice(value.indexOf('\n') + 1));
    return batch.ev.map((e) => ({ ...e, key: `${batch.pv}:${e.s}` }));
  }).filter((e) => e.e === 'imp');
  assert.equal(stored.length, 2 * count, 'both page views\' impressions stored');
  for (const e of stored) {
    assert.ok(Buffer.byteLength(e.id) <= 128 && Buffer.byteLength(e.list) <= 64, `capped: ${e.id.length} chars`);
    assert.ok(e.id.isWellFormed() && e.list.isWellFormed(), 'no lone surrogate');
  }
  await collector.up();
  await collector.waitFor(() => stored.every((e) => eventIds(collector.records).has(e.key)), 15000, 'the stored events');
  const sent = new Map(uniqueEvents(collector.records).map((x) => [`${x.pv}:${x.event.s}`, x.event.id]));
  assert.deepEqual(stored.map((e) => e.id), stored.map((e) => sent.get(e.key)), 'the record holds what the collector gets');
});
