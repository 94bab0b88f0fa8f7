// Smoke test of the whole demo in headless Chromium: the demo server (marketplace, package
// files, collector) on 127.0.0.1:0, a person who looks at the first results, flings past
// a few rows, scrolls on slowly, clicks a gig and leaves the page. Then the collector's
// numbers must be exactly what the tracker emitted, the flung-past gigs must have an
// impression but no viewable impression, and the dashboard page must show the same.
// Gig ids holding markup must show on the dashboard as text.
// Every wait is on a condition (an event in the tracker's debug log, a count at the
// collector), never a fixed sleep.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IN_CHROMIUM, WAIT_MS, openPage, startDemoAndBrowser, until } from './chromium.js';
import {
  checkDashboard, checkGigs, fling, leave, openMarketplace, scrollSlowly, trackerReported, viewportCards, watchCsp,
} from './smoke-steps.js';

test('marketplace -> tracker -> collector -> dashboard, in headless Chromium', IN_CHROMIUM, async (t) => {
  const { demo, browser } = await startDemoAndBrowser(t);
  const { context, page, pageErrors } = await openPage(browser);
  const cspViolations = watchCsp(page);
  const api = async (path) => (await fetch(demo.url + path)).json();
  await openMarketplace(page, demo);

  // 1. Look at the first results: every card well in view becomes viewable.
  const first = await page.evaluate(viewportCards);
  assert.ok(first.inView.length >= 4, `cards in view at load: ${first.inView}`);
  await until('viewable impressions of the first cards', () => trackerReported(page, 'view', first.inView));

  // 2. Fling past a few rows.
  const flungPast = await fling(page);
  const afterFling = await page.evaluate(viewportCards);
  await until('impressions of the flung-past cards', () => trackerReported(page, 'imp', flungPast));
  await until('viewable impressions where the fling stopped', () => trackerReported(page, 'view', afterFling.inView));

  // 3. Scroll on slowly.
  const slowlySeen = await scrollSlowly(page);

  // 4. Click a gig that is in view (its title link; the page shows a toast instead of navigating).
  const clicked = (await page.evaluate(viewportCards)).inView[0];
  await page.click(`[data-gig-id="${clicked}"] .title`);
  await page.waitForSelector('#toast:not([hidden])');
  await until('the click event', () => trackerReported(page, 'click', [clicked]));

  // 5. Leave; the collector holds every event the tracker emitted.
  const { events, totals } = await leave(page, api);
  assert.deepEqual(pageErrors, []);
  const seen = [...first.inView, ...afterFling.inView, ...slowlySeen];
  const gigCount = await checkGigs(api, events, { seen, flungPast, clicked, totals });

  // The export holds the same events.
  const ndjson = (await (await fetch(demo.url + '/export.ndjson')).text()).trim().split('\n');
  assert.equal(ndjson.length, events.length);

  // 6. The dashboard page shows the same numbers.
  const dashboardCsp = await checkDashboard(context, demo, { totals, clicked, gigCount, pageErrors });
  assert.deepEqual(pageErrors, []);
  assert.deepEqual([...cspViolations, ...dashboardCsp], [], 'both pages work within their Content-Security-Policy');
});

test('an unknown category in the URL shows all gigs, labelled as such', IN_CHROMIUM, async (t) => {
  const { demo, browser } = await startDemoAndBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(demo.marketplace + '?category=no-such-category');
  await page.waitForFunction(() => document.documentElement.dataset.trackerReady, null, { timeout: WAIT_MS });
  const label = await page.textContent('#result-count');
  assert.match(label, /^\d+ services in All categories$/);
  assert.equal(await page.getAttribute('#categories button[data-category=""]', 'aria-pressed'), 'true');
});

test('a new search is a new page view and a new list id, as the collector records them', IN_CHROMIUM, async (t) => {
  const { demo, browser } = await startDemoAndBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(demo.marketplace);
  await page.waitForFunction(() => document.documentElement.dataset.trackerReady === 'yes', null, { timeout: WAIT_MS });

  /** The current results page: page view id, list id, and the cards well in view. */
  const current = () => page.evaluate((inViewSource) => {
    // eslint-disable-next-line no-new-func
    const inView = new Function(`return (${inViewSource})()`)().inView;
    return { pv: window.demo.tracker.stats().pageView, list: window.demo.listId, inView,
      lists: [...new Set([...document.querySelectorAll('[data-gig-id]')].map((c) => c.dataset.listId))] };
  }, viewportCards.toString());
  const impressionsIn = (pv, ids) => page.evaluate(({ pv, ids }) => {
    window.demo.flush();
    const seen = new Set(window.demo.debugLog.filter((ev) => ev.e === 'imp' && ev.pv === pv).map((ev) => ev.id));
    return ids.every((id) => seen.has(id));
  }, { pv, ids });

  const pages = [await current()];
  await until('impressions on the first results page', () => impressionsIn(pages[0].pv, pages[0].inView));

  await page.fill('#q', 'logo');
  await page.press('#q', 'Enter');
  await page.waitForFunction((old) => window.demo.listId !== old, pages[0].list);
  assert.match(page.url(), /\?q=logo$/);
  pages.push(await current());
  await until('impressions on the search results', () => impressionsIn(pages[1].pv, pages[1].inView));

  await page.fill('#q', ''); // the chip searches within the query in the box; start from all gigs
  await page.click('#categories button[data-category="video"]');
  await page.waitForFunction((old) => window.demo.listId !== old, pages[1].list);
  assert.match(page.url(), /\?category=video$/);
  pages.push(await current());
  await until('impressions on the category page', () => impressionsIn(pages[2].pv, pages[2].inView));

  assert.equal(new Set(pages.map((p) => p.pv)).size, 3, 'three page views');
  assert.equal(new Set(pages.map((p) => p.list)).size, 3, 'three list ids');
  for (const p of pages) {
    assert.ok(p.inView.length >= 4, `cards in view on page view ${p.pv}`);
    assert.deepEqual(p.lists, [p.list], 'every card carries its page\'s list id');
  }

  const events = await page.evaluate(() => {
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    return window.demo.debugLog;
  });
  await until('every emitted event at the collector', async () =>
    (await (await fetch(demo.url + '/api/totals')).json()).events >= events.length);
  const rows = (await (await fetch(demo.url + '/export.ndjson')).text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, events.length);
  for (const p of pages) {
    const imps = rows.filter((r) => r.pv === p.pv && r.e === 'imp');
    assert.ok(imps.length >= p.inView.length, `impressions stored for page view ${p.pv}`);
    assert.ok(imps.every((r) => r.list === p.list), 'each impression carries its page\'s list id');
    assert.ok(imps.every((r) => r.path === '/'), 'the path only, without the query string');
  }
  // The first card of each page is at position 1 of its own list.
  for (const p of pages) {
    const first = rows.find((r) => r.pv === p.pv && r.e === 'imp' && r.id === p.inView[0]);
    assert.equal(first.pos, 1);
  }
  assert.deepEqual(pageErrors, []);
});

test('cards under the pop-up are not viewable until it closes (occlusion, IntersectionObserver v2)', IN_CHROMIUM, async (t) => {
  const { demo, browser } = await startDemoAndBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(demo.marketplace);
  await page.click('#open-modal'); // before the tracker has watched the cards for a second
  await page.waitForFunction(() => document.documentElement.dataset.trackerReady === 'yes', null, { timeout: WAIT_MS });
  if (!(await page.evaluate(() => 'isVisible' in IntersectionObserverEntry.prototype))) {
    t.skip('this Chromium has no IntersectionObserver v2');
    return;
  }
  const { covered, clear } = await page.evaluate((inViewSource) => {
    const inView = new Function(`return (${inViewSource})()`)().inView;
    const popup = document.querySelector('#promo').getBoundingClientRect();
    // IntersectionObserver v2 counts the pop-up's shadow as covering too: cards within
    // 40 px of its box are in neither list.
    const near = (id, margin) => {
      const box = document.querySelector(`[data-gig-id="${id}"]`).getBoundingClientRect();
      return box.left < popup.right + margin && box.right > popup.left - margin
        && box.top < popup.bottom + margin && box.bottom > popup.top - margin;
    };
    return { covered: inView.filter((id) => near(id, 0)), clear: inView.filter((id) => !near(id, 40)) };
  }, viewportCards.toString());
  assert.ok(covered.length >= 1 && clear.length >= 1, `covered ${covered}, clear ${clear}`);

  await until('viewable impressions of the cards beside the pop-up', () => trackerReported(page, 'view', clear));
  await until('impressions of the covered cards', () => trackerReported(page, 'imp', covered));
  await page.click('#close-modal');
  await until('viewable impressions of the cards once uncovered', () => trackerReported(page, 'view', covered));

  const views = await page.evaluate(() => window.demo.debugLog.filter((ev) => ev.e === 'view'));
  const viewAt = new Map(views.map((ev) => [ev.id, ev.t]));
  const clearSeen = Math.max(...clear.map((id) => viewAt.get(id)));
  for (const id of covered) {
    // The pop-up closed after the clear cards were viewable; a covered card's timer started
    // only then, so its viewable impression came at least a full second later.
    assert.ok(viewAt.get(id) >= clearSeen + 1000, `${id}: viewable at ${viewAt.get(id)} ms, clear cards by ${clearSeen} ms`);
  }
});

test('the dashboard shows hostile gig ids as text: markup, quotes and SQL are not interpreted', IN_CHROMIUM, async (t) => {
  const { demo, browser } = await startDemoAndBrowser(t);
  const ids = ['<img src=x id=injected>', '"><b id=injected>bold</b>', "x' OR '1'='1", 'a"); DROP TABLE events;--',
    '</td></tr><tr><td>row', '&lt;already escaped&gt;'];
  const ev = ids.map((id, i) => ({ e: 'imp', s: i + 1, t: 10, id, pos: i + 1, list: '<i>list</i>', f: 1 }));
  const res = await fetch(demo.url + '/collect', { method: 'POST', body: JSON.stringify({ v: 1, pv: 'pv-hostile', path: '/', at: 100, drop: 0, ev }) });
  assert.equal(res.status, 200);
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(demo.dashboard);
  await page.waitForFunction(() => Number(document.body.dataset.updates) >= 1, null, { timeout: WAIT_MS });
  const rows = await page.$$eval('#gig-table tbody tr', (trs) => trs.map((tr) => ({
    id: tr.dataset.gigId, title: tr.querySelector('.gig-title')?.textContent, cells: tr.children.length })));
  assert.deepEqual(rows.map((row) => row.id).sort(), [...ids].sort());
  for (const row of rows) {
    assert.equal(row.title, row.id, 'an unknown id is its own title, as text');
    assert.equal(row.cells, 9, 'no cell added or cut by an id');
  }
  assert.equal(await page.locator('#injected').count(), 0, 'no element made from an id');
  assert.deepEqual(pageErrors, []);
  await page.close();
});
