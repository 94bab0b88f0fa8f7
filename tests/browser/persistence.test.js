// persistence.test.js: the bounded localStorage queue in a real Chromium. Storage full
// or throwing, the storage bound with drop counting, a renderer crash then reopen, and
// consent pending, granted and revoked. Two tabs sharing storage are in
// persistence-tabs.test.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveredEvents, duplicateCount, eventIds, uniqueEvents } from './server.js';
import { openPage, useBrowserSuite, trackerReady, transportIdle, waitForTrace, waitInPage } from './browser.js';
import { PREFIX, assertDelivered, observeAndFlush, pageEventIds } from './stored.js';

let browser;
let site;
let collector;
const { open } = useBrowserSuite({ collectorUp: true, recordDebug: true }, (shared) => ({ browser, site, collector } = shared));

// The outbox's storage bounds (src/outbox.h, imp_outbox_config defaults).
const DEFAULT_MAX_STORED_EVENTS = 5000;
const DEFAULT_MAX_STORED_BYTES = 524288;
const storedKeys = (page) => page.evaluate((p) => Object.keys(localStorage).filter((k) => k.startsWith(p)), PREFIX);

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
  assertDelivered(collector, ids);
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
  assertDelivered(collector, ids);
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
  assertDelivered(collector, ids);
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
  assertDelivered(collector, ids);
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
