// persistence.test.js: the bounded localStorage queue in a real Chromium. Storage full
// or throwing, the storage bound with drop counting, two tabs racing for stored
// batches, a tab shown again after another tab delivered its request's released copy,
// a renderer crash then reopen, consent pending, granted and revoked, and a tab that
// hangs holding the scan lock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deliveredEvents, duplicateCount, eventIds, uniqueEvents,
} from './server.js';
import { allBatchProblems } from './payload.js';
import {
  inViewObserved, openPage, useBrowserSuite, trackerReady, transportIdle, waitForTrace, waitInPage,
} from './browser.js';

let browser;
let site;
let collector;
const { open } = useBrowserSuite({ collectorUp: true, recordDebug: true }, (shared) => ({ browser, site, collector } = shared));

const PREFIX = 'impression-tracker:';
// The outbox's storage bounds (src/outbox.h, imp_outbox_config defaults).
const DEFAULT_MAX_STORED_EVENTS = 5000;
const DEFAULT_MAX_STORED_BYTES = 524288;
const storedKeys = (page) => page.evaluate((p) => Object.keys(localStorage).filter((k) => k.startsWith(p)), PREFIX);
const pageEventIds = (page) => page.evaluate(() => window.__it.events.map((e) => `${e.pv}:${e.s}`));

/** Waits for the first observations of the grid's cards in view and flushes. */
async function observeAndFlush(page) {
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
}

function assertDelivered(ids) {
  const delivered = eventIds(collector.records);
  assert.deepEqual(ids.filter((id) => !delivered.has(id)), [], 'no event id missing');
  assert.deepEqual(allBatchProblems(collector.records), []);
}

test('localStorage full: memory-only mode, host keys untouched, events still delivered', async (t) => {
  await collector.down();
  const { page, problems } = await open(t, {
    fixture: 'grid.html?n=24',
    init: [() => {
      if (localStorage.getItem('host:0') !== null) return;
      let chunk = 'h'.repeat(1 << 20);
      for (let i = 0; chunk.length > 8; i++) {
        try { localStorage.setItem(`host:${i}`, chunk); } catch { chunk = chunk.slice(0, chunk.length >> 1); }
      }
    }],
  });
  const hostBefore = await page.evaluate(() => Object.keys(localStorage).sort().map((k) => [k, localStorage.getItem(k).length]));
  await observeAndFlush(page);
  await waitInPage(page, () => window.__it.errors.some((e) => /QuotaExceeded/.test(e)), undefined, { what: 'the quota error reported' });
  assert.equal((await page.evaluate(() => window.__it.tracker.stats().transport.storage)), 'memory');
  await collector.up();
  const ids = await pageEventIds(page);
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 15000, 'delivery from memory');
  assertDelivered(ids);
  const hostAfter = await page.evaluate(() => Object.keys(localStorage).sort().map((k) => [k, localStorage.getItem(k).length]));
  assert.deepEqual(hostAfter, hostBefore, 'the host keys are untouched');
  assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
});

test('localStorage throwing SecurityError: nothing escapes, events still delivered', async (t) => {
  await collector.down();
  const { page, problems } = await open(t, {
    fixture: 'grid.html?n=24',
    init: [() => Object.defineProperty(window, 'localStorage', {
      configurable: true,
      get() { throw new DOMException('The operation is insecure.', 'SecurityError'); },
    })],
  });
  await observeAndFlush(page);
  await waitInPage(page, () => window.__it.errors.some((e) => /SecurityError/.test(e)), undefined, { what: 'the storage error reported' });
  await collector.up();
  const ids = await pageEventIds(page);
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 15000, 'delivery from memory');
  assertDelivered(ids);
  // (The browser itself logs the refused connections to the console; those are not ours.)
  assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
});

test('storage bound: what is stored stays under the bound, and every event is delivered or counted in "drop"', async (t) => {
  // 3,000 cards of 12 x 11 px fill the viewport: with the collector down, their
  // impressions and visible spans are more than the stored bound holds.
  await collector.down();
  // fetchLater off: its copies, sent when the page goes away, can land after the collector
  // is back and add (documented) duplicates; this test is about the storage bound.
  const { page } = await open(t, { fixture: 'grid.html?n=3000&cols=60&w=12&h=11&gap=1', init: [() => { window.fetchLater = undefined; }] });
  await waitInPage(page, () => window.__it.tracker.stats().seq >= 3000, undefined, { what: '3,000 impressions', timeoutMs: 20000 });
  await page.evaluate(() => window.__it.tracker.flush());
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  const { pv, seq } = await page.evaluate(() => ({ pv: window.__it.tracker.stats().pageView, seq: window.__it.tracker.stats().seq }));
  assert.ok(seq > DEFAULT_MAX_STORED_EVENTS, `${seq} events, more than the bound of ${DEFAULT_MAX_STORED_EVENTS}`);
  const stored = await page.evaluate((p) => {
    let events = 0;
    let bytes = 0;
    for (const k of Object.keys(localStorage)) {
      if (!k.startsWith(`${p}q:`)) continue;
      const v = localStorage.getItem(k);
      const json = v.slice(v.indexOf('\n') + 1); // after the field line, the batch's JSON
      if (json.startsWith('{')) events += JSON.parse(json).ev.length; // (else a drop-only record)
      bytes += new TextEncoder().encode(k + v).length;
    }
    return { events, bytes };
  }, PREFIX);
  // The bound holds this tab's own copies; the hide adds what memory held (16 slots and
  // the hide's spare, at most 200 events each by default), released for the next load.
  const held = 17 * 200;
  assert.ok(stored.events <= DEFAULT_MAX_STORED_EVENTS + held, `${stored.events} events stored (bound ${DEFAULT_MAX_STORED_EVENTS} + ${held})`);
  assert.ok(stored.bytes <= DEFAULT_MAX_STORED_BYTES + held * 64, `${stored.bytes} bytes stored`);
  await page.goto(site.url('/fixtures/other.html'));
  await collector.up();
  await page.goto(site.url('/fixtures/grid.html?n=1'));
  await trackerReady(page);
  const delivered = () => uniqueEvents(collector.records).filter((x) => x.pv === pv);
  const drops = () => collector.accepted().filter(({ batch }) => batch.pv === pv).reduce((sum, { batch }) => sum + batch.drop, 0);
  // The next page adopts as many stored batches as its memory holds and scans again as
  // slots free: wait until no record is left, then until nothing is held.
  await waitInPage(page, (p) => !Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`)), PREFIX, { what: 'every stored record adopted', timeoutMs: 30000 });
  await transportIdle(page);
  assert.equal(duplicateCount(collector.records), 0);
  assert.equal(delivered().length + drops(), seq, `${delivered().length} delivered + ${drops()} reported in "drop" = ${seq} events`);
  const s = delivered().map((x) => x.event.s).sort((a, b) => a - b);
  assert.equal(s[s.length - 1], seq, 'the newest events are the ones kept');
});

/**
 * With the collector down, a tab of 24 cards stores its batch, is hidden and goes to another
 * page of the site; returns that tab and the ids of its events.
 */
async function storeABatchAndLeave(t) {
  await collector.down();
  const first = await open(t, { fixture: 'grid.html?n=24' });
  await observeAndFlush(first.page);
  await waitInPage(first.page, (p) => Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`)), PREFIX, { what: 'the batch stored' });
  await first.page.evaluate(() => window.__stubVisibilityChange('hidden'));
  const ids = await pageEventIds(first.page);
  await first.page.goto(site.url('/fixtures/other.html'));
  return { first, ids };
}

/**
 * Waits for the stored events at the collector and for every tab idle with nothing
 * stored, so that every copy that was going to be sent was sent; then checks them all
 * delivered.
 */
async function deliveredByIdleTabs(ids, tabs) {
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 15000, 'the stored events');
  for (const page of tabs) {
    await waitInPage(page, () => {
      const s = window.__it.tracker.stats().transport;
      return s.queued === 0 && s.inFlight === 0;
    }, undefined, { what: 'the tab idle' });
  }
  await waitInPage(tabs[0], (p) => !Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`)), PREFIX, { what: 'storage empty' });
  assertDelivered(ids);
}

test('two tabs adopt stored batches without sending any twice', async (t) => {
  const { first, ids } = await storeABatchAndLeave(t);
  await collector.up();
  // Two tabs of the same site open at once and both find the stored batch.
  const [b, c] = await Promise.all([first.context.newPage(), first.context.newPage()]);
  await Promise.all([b.goto(site.url('/fixtures/grid.html?n=1')), c.goto(site.url('/fixtures/grid.html?n=1'))]);
  await Promise.all([trackerReady(b), trackerReady(c)]);
  await deliveredByIdleTabs(ids, [b, c]);
  const copies = uniqueEvents(collector.records).length;
  assert.equal(duplicateCount(collector.records), 0, `raw duplicates over ${copies} distinct events`);
});

/**
 * An init script for the pages opened with "stale" in their query: their localStorage
 * shows the tracker's records as `records` held them (plus the page's own writes)
 * until window.__freshStorage() is called, as a renderer whose copy of the storage
 * has not yet heard of another tab's writes.
 */
function staleStorage({ records, prefix }) {
  if (!location.search.includes('stale')) return;
  const real = window.localStorage;
  const view = new Map(records);
  let stale = true;
  window.__freshStorage = () => { stale = false; };
  const ours = (key) => stale && key.startsWith(`${prefix}q:`);
  const keys = () => (stale ? [...Object.keys(real).filter((k) => !ours(k)), ...view.keys()] : Object.keys(real));
  const storage = {
    getItem: (key) => (ours(key) ? view.get(key) ?? null : real.getItem(key)),
    setItem: (key, value) => { if (ours(key)) view.set(key, String(value)); real.setItem(key, value); },
    removeItem: (key) => { view.delete(key); real.removeItem(key); },
    key: (i) => keys()[i] ?? null,
    get length() { return keys().length; },
  };
  Object.defineProperty(window, 'localStorage', { configurable: true, get: () => storage });
}

test('two tabs, one reading storage late: a record both tabs claim is sent once', async (t) => {
  const { first, ids } = await storeABatchAndLeave(t);
  const records = await first.page.evaluate((p) => Object.entries(localStorage).filter(([k]) => k.startsWith(`${p}q:`)), PREFIX);
  assert.ok(records.length > 0 && records.every(([, v]) => / -\n/.test(v)), 'released records');
  // A context on the test's clock, whose storage holds those records.
  const { context, page: seed } = await open(t, { fixture: 'other.html', clock: true, waitReady: false });
  await seed.evaluate((entries) => { for (const [k, v] of entries) localStorage.setItem(k, v); }, records);
  await context.addInitScript(staleStorage, { records, prefix: PREFIX });
  await collector.up();
  const ownerOf = (page) => page.evaluate((p) => Object.entries(localStorage).filter(([k]) => k.startsWith(`${p}q:`))
    .map(([, v]) => v.slice(0, v.indexOf('\n')).split(' ').pop()), PREFIX);
  // Tab B adopts the records and claims them.
  const b = await context.newPage();
  await b.goto(site.url('/fixtures/grid.html?n=1'));
  await trackerReady(b);
  await waitInPage(b, (p) => Object.entries(localStorage).some(([k, v]) => k.startsWith(`${p}q:`) && !/ -\n/.test(v)), PREFIX, { what: 'B claims' });
  const claimedByB = await ownerOf(b);
  // Tab C still sees them released: it adopts and claims them too (its writes land last).
  const c = await context.newPage();
  await c.goto(site.url('/fixtures/grid.html?n=1&stale'));
  await trackerReady(c);
  await waitInPage(b, ([p, owners]) => Object.entries(localStorage).some(([k, v]) => k.startsWith(`${p}q:`)
    && !owners.some((o) => v.startsWith(`I2`) && v.slice(0, v.indexOf('\n')).endsWith(` ${o}`))), [PREFIX, claimedByB], { what: 'C claims' });
  await c.evaluate(() => window.__freshStorage()); // C's copy of the storage catches up
  await c.clock.runFor(1500); // the scans that check the claims
  await deliveredByIdleTabs(ids, [b, c]);
  assert.equal(duplicateCount(collector.records), 0, 'each stored event sent once');
});

test('a request in flight at a hide whose released copy another tab delivers: shown again, the tab forgets its batch and never sends it again', async (t) => {
  collector.delayNext(1, 20000); // the first request hangs
  const { page: a, context } = await open(t, { fixture: 'grid.html?n=24', clock: true });
  await a.clock.runFor(1);
  await observeAndFlush(a);
  await waitInPage(a, () => window.__it.tracker.stats().transport.inFlight > 0, undefined, { what: 'a request in flight' });
  await a.evaluate(() => window.__stubVisibilityChange('hidden'));
  await waitInPage(a, (p) => Object.entries(localStorage).some(([k, v]) => k.startsWith(`${p}q:`) && / -\n/.test(v)), PREFIX,
    { what: 'its released copy stored' });
  const ids = await pageEventIds(a);
  // Tab B adopts the released copy, confirms its claim a second later, delivers it and removes it.
  const b = await context.newPage();
  await b.goto(site.url('/fixtures/grid.html?n=1'));
  await trackerReady(b);
  await waitInPage(b, (p) => Object.entries(localStorage).some(([k, v]) => k.startsWith(`${p}q:`) && !/ -\n/.test(v)), PREFIX, { what: 'B claims' });
  await b.clock.runFor(1500); // the scan that confirms the claim
  await deliveredByIdleTabs(ids, [b]);
  await waitInPage(a, (p) => !Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`)), PREFIX, { what: 'A sees the record gone' });
  // Shown again, A's scan finds the record gone: its batch is forgotten, the request goes on alone.
  await a.evaluate(() => window.__stubVisibilityChange('visible'));
  await waitInPage(a, () => {
    const s = window.__it.tracker.stats().transport;
    return s.queued === 0 && s.inFlight === 0;
  }, undefined, { what: 'A holds nothing' });
  await a.clock.runFor(60000); // past the request's timeout and any backoff
  const fetches = await a.evaluate(() => window.__it.debug.filter((d) => d.kind === 'fetch').map((d) => d.batch));
  assert.equal(fetches.filter((batch) => batch === fetches[0]).length, 1, `the first batch sent once: ${fetches}`);
  // (A's later batches time out on the fast clock and go again: only B's events count here.)
  const copies = deliveredEvents(collector.records).filter(({ pv, event }) => ids.includes(`${pv}:${event.s}`));
  assert.equal(copies.length, ids.length, 'each event of the hidden request delivered once, by B');
});

test('renderer crash: stored events are delivered when the site is opened again', async (t) => {
  await collector.down();
  const { page, context } = await open(t, { fixture: 'grid.html?n=24' });
  await observeAndFlush(page);
  await waitInPage(page, (p) => Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`)), PREFIX, { what: 'the batch stored' });
  const ids = await pageEventIds(page);
  const crashed = new Promise((resolve) => page.once('crash', resolve));
  const cdp = await context.newCDPSession(page);
  cdp.send('Page.crash').catch(() => {});
  await crashed;
  await collector.up();
  const reopened = await context.newPage();
  await reopened.goto(site.url('/fixtures/grid.html?n=1'));
  await trackerReady(reopened);
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 40000, 'the stored events after the crash');
  await transportIdle(reopened);
  assertDelivered(ids);
  // At least once: the crashed page's pending fetchLater copy (sent by the browser when
  // the document died) and the stored copy adopted by the new page may both arrive.
  const copies = new Map();
  for (const { pv, event } of deliveredEvents(collector.records)) copies.set(`${pv}:${event.s}`, (copies.get(`${pv}:${event.s}`) || 0) + 1);
  assert.ok([...copies.values()].every((n) => n <= 2), `at most two copies of an event: ${JSON.stringify([...copies.values()])}`);
});

test('consent pending: nothing sent or stored, no cookie; granting sends what was held', async (t) => {
  const { page, context } = await open(t, { fixture: 'grid.html?n=24', it: { options: { consent: 'pending' } } });
  await observeAndFlush(page);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await page.evaluate(() => window.__stubVisibilityChange('visible'));
  assert.deepEqual(await storedKeys(page), [], 'nothing stored');
  assert.deepEqual(await context.cookies(), [], 'no cookie');
  assert.equal(collector.records.length, 0, 'nothing sent');
  const ids = await pageEventIds(page);
  assert.ok(ids.length >= 16);
  await page.evaluate(() => window.__it.tracker.setConsent(true));
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 10000, 'the held events');
  assertDelivered(ids);
});

test('consent revoked: stored batches purged, host keys kept, nothing sent afterwards', async (t) => {
  await collector.down();
  const { page, context } = await open(t, { fixture: 'grid.html?n=32', init: [() => localStorage.setItem('host-key', 'kept')] });
  await observeAndFlush(page);
  await waitInPage(page, (p) => Object.keys(localStorage).some((k) => k.startsWith(`${p}q:`)), PREFIX, { what: 'the batch stored' });
  await page.evaluate(() => window.__it.tracker.setConsent(false));
  assert.deepEqual(await storedKeys(page), [], 'every key of ours purged');
  assert.equal(await page.evaluate(() => localStorage.getItem('host-key')), 'kept');
  await collector.up();
  await page.evaluate(() => window.scrollTo(0, 600));
  await waitForTrace(page, (f, id) => f[0] === 'eobs' && id === 'gig-32' && Number(f[3]) > 0, 'the next rows');
  await page.evaluate(() => window.__it.tracker.flush());
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await page.goto(site.url('/fixtures/other.html'));
  // A sentinel: a fresh page of another site user (its own context) is delivered; the
  // revoked page's requests, had there been any, were sent before it.
  const sentinel = await openPage(browser, site, collector, { fixture: 'grid.html?n=1' });
  t.after(() => sentinel.context.close());
  await observeAndFlush(sentinel.page);
  const sentinelPv = await sentinel.page.evaluate(() => window.__it.tracker.stats().pageView);
  await collector.waitFor(() => uniqueEvents(collector.records).some((x) => x.pv === sentinelPv), 10000, 'the sentinel');
  assert.deepEqual([...new Set(uniqueEvents(collector.records).map((x) => x.pv))], [sentinelPv], 'nothing from the revoked page');
  assert.deepEqual(await context.cookies(), []);
});

test('a tab that holds the scan lock and hangs: after 5 s another tab takes the lock, and the stored batch is delivered', async (t) => {
  const { first, ids } = await storeABatchAndLeave(t);
  // This tab takes the scan lock and never lets it go, as a tab that hangs while it scans.
  await first.page.evaluate((p) => new Promise((held) => {
    navigator.locks.request(`${p}scan`, () => (held(), new Promise(() => {})));
  }), PREFIX);
  await collector.up();
  const second = await first.context.newPage();
  await second.goto(site.url('/fixtures/grid.html?n=1'));
  await trackerReady(second);
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 20000, 'the stored events');
  assertDelivered(ids);
  // The scan request the outbox gave up on is still queued: granted once the taken lock
  // is free, it runs a scan that ends at once. Then the lock is free for good.
  await waitInPage(second, async (p) => (await navigator.locks.query()).held.every((l) => l.name !== `${p}scan`), PREFIX,
    { what: 'the scan lock free once the scans are done' });
});
