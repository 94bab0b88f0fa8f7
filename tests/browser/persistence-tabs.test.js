// persistence-tabs.test.js: two tabs of one site sharing the bounded localStorage queue
// in a real Chromium: stored batches adopted and none sent twice, a tab reading storage
// late, a tab shown again after another tab delivered its request's released copy, and a
// tab that hangs holding the scan lock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveredEvents, duplicateCount, eventIds, uniqueEvents } from './server.js';
import { useBrowserSuite, trackerReady, waitInPage } from './browser.js';
import { PREFIX, assertDelivered, observeAndFlush, pageEventIds } from './stored.js';

let site;
let collector;
const { open } = useBrowserSuite({ collectorUp: true, recordDebug: true }, (shared) => ({ site, collector } = shared));

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
  assertDelivered(collector, ids);
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
  assertDelivered(collector, ids);
  // The scan request the outbox gave up on is still queued: granted once the taken lock
  // is free, it runs a scan that ends at once. Then the lock is free for good.
  await waitInPage(second, async (p) => (await navigator.locks.query()).held.every((l) => l.name !== `${p}scan`), PREFIX,
    { what: 'the scan lock free once the scans are done' });
});
