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

/** Collects the Content-Security-Policy violations Chromium reports on `page`'s console. */
function watchCsp(page) {
  const violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

/**
 * In the page: the cards at least half inside the viewport and not under the sticky
 * header (the tracker runs with occlusion on, so a covered card is not viewable), and
 * the cards clearly out of view. Borderline cards (40-60 %) are in neither list.
 */
function viewportCards() {
  const header = document.querySelector('.topbar').getBoundingClientRect();
  const width = document.documentElement.clientWidth;
  const height = document.documentElement.clientHeight;
  const inView = [];
  const outOfView = [];
  for (const card of document.querySelectorAll('[data-gig-id]')) {
    const box = card.getBoundingClientRect();
    const w = Math.min(box.right, width) - Math.max(box.left, 0);
    const h = Math.min(box.bottom, height) - Math.max(box.top, 0);
    const ratio = w > 0 && h > 0 ? (w * h) / (box.width * box.height) : 0;
    const covered = box.top < header.bottom && box.bottom > header.top;
    if (ratio > 0.6 && !covered) inView.push(card.dataset.gigId);
    else if (ratio === 0) outOfView.push(card.dataset.gigId);
  }
  return { inView, outOfView, scrollY: window.scrollY };
}

/** Flushes the tracker, then answers whether every id in `ids` has an event of type `e`. */
async function trackerReported(page, e, ids) {
  return page.evaluate(({ e, ids }) => {
    window.demo.flush();
    const seen = new Set(window.demo.debugLog.filter((ev) => ev.e === e).map((ev) => ev.id));
    return ids.every((id) => seen.has(id));
  }, { e, ids });
}

/** Aggregates per gig from the tracker's own events, the way the collector should. */
function aggregate(events) {
  const gigs = new Map();
  for (const ev of events) {
    const gig = gigs.get(ev.id) ?? { impressions: 0, viewable: 0, clicks: 0, visible_ms: 0 };
    if (ev.e === 'imp') gig.impressions++;
    if (ev.e === 'view') gig.viewable++;
    if (ev.e === 'click') gig.clicks++;
    if (ev.e === 'vis') gig.visible_ms += ev.ms;
    gigs.set(ev.id, gig);
  }
  return gigs;
}

test('marketplace -> tracker -> collector -> dashboard, in headless Chromium', IN_CHROMIUM, async (t) => {
  const { demo, browser } = await startDemoAndBrowser(t);
  const { context, page, pageErrors } = await openPage(browser);
  const cspViolations = watchCsp(page);
  const api = async (path) => (await fetch(demo.url + path)).json();

  await page.goto(demo.marketplace);
  await page.waitForFunction(() => document.documentElement.dataset.trackerReady, null, { timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => document.documentElement.dataset.trackerReady), 'yes',
    await page.textContent('#tracker-status'));
  // The page loaded the package through its public entry point.
  assert.match(await page.evaluate(() => document.querySelector('script[type=importmap]').textContent),
    /"impression-tracker": "\/node_modules\/impression-tracker\/js\/index\.js"/);

  // 1. Look at the first results: every card well in view becomes viewable.
  const first = await page.evaluate(viewportCards);
  assert.ok(first.inView.length >= 4, `cards in view at load: ${first.inView}`);
  await until('viewable impressions of the first cards', () => trackerReported(page, 'view', first.inView));

  // 2. Fling: scroll ~1600 px in 200 px steps, one per animation frame.
  const fling = await page.evaluate(() => new Promise((resolve) => {
    const start = window.scrollY;
    const step = () => {
      window.scrollBy(0, 200);
      if (window.scrollY >= start + 1600 || window.scrollY + innerHeight >= document.documentElement.scrollHeight) {
        resolve({ start, end: window.scrollY });
      } else {
        requestAnimationFrame(step);
      }
    };
    requestAnimationFrame(step);
  }));
  assert.ok(fling.end - fling.start >= 1000, `fling covered ${fling.end - fling.start} px`);
  // Cards entirely between the start and end viewports were only passed by.
  const flungPast = await page.evaluate(({ start, end }) => {
    const out = [];
    for (const card of document.querySelectorAll('[data-gig-id]')) {
      const box = card.getBoundingClientRect();
      const top = box.top + window.scrollY;
      if (top >= start + innerHeight && top + box.height <= end) out.push(card.dataset.gigId);
    }
    return out;
  }, fling);
  assert.ok(flungPast.length >= 4, `cards flung past: ${flungPast}`);
  const afterFling = await page.evaluate(viewportCards);
  await until('impressions of the flung-past cards', () => trackerReported(page, 'imp', flungPast));
  await until('viewable impressions where the fling stopped', () => trackerReported(page, 'view', afterFling.inView));

  // 3. Scroll on slowly: 300 px at a time, each time waiting until the cards in view are viewable.
  const slowlySeen = [];
  for (let i = 0; i < 3; i++) {
    await page.evaluate(() => window.scrollBy(0, 300));
    const now = await page.evaluate(viewportCards);
    await until(`viewable impressions after slow step ${i + 1}`, () => trackerReported(page, 'view', now.inView));
    slowlySeen.push(...now.inView);
  }

  // 4. Click a gig that is in view (its title link; the page shows a toast instead of navigating).
  const clicked = (await page.evaluate(viewportCards)).inView[0];
  await page.click(`[data-gig-id="${clicked}"] .title`);
  await page.waitForSelector('#toast:not([hidden])');
  await until('the click event', () => trackerReported(page, 'click', [clicked]));

  // 5. Leave: pagehide makes the tracker end every visible span and send with sendBeacon.
  const events = await page.evaluate(() => {
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    return window.demo.debugLog;
  });
  assert.ok(events.some((ev) => ev.e === 'vis'), 'page hide ended the visible spans');
  const totals = await until('every emitted event at the collector', async () => {
    const got = await api('/api/totals');
    return got.events >= events.length && got;
  });
  assert.equal(totals.events, events.length, 'no more and no fewer events than the tracker emitted');
  assert.equal(totals.page_views, 1);
  assert.equal(totals.automated_page_views, 1, 'headless Chromium sets navigator.webdriver');
  assert.deepEqual(totals.collector.rejected, {}, 'the collector rejected nothing');
  assert.deepEqual(pageErrors, []);

  // The dashboard API agrees with the tracker, gig by gig.
  const expected = aggregate(events);
  const { gigs } = await api('/api/gigs');
  const byId = new Map(gigs.map((g) => [g.id, g]));
  assert.equal(byId.size, expected.size);
  for (const [id, want] of expected) {
    const got = byId.get(id);
    assert.deepEqual({ impressions: got.impressions, viewable: got.viewable, clicks: got.clicks, visible_ms: got.visible_ms },
      want, `gig ${id}`);
  }
  // ... and with what was done.
  for (const id of [...first.inView, ...afterFling.inView, ...slowlySeen]) {
    assert.equal(byId.get(id).impressions, 1, `${id} seen: one impression`);
    assert.equal(byId.get(id).viewable, 1, `${id} seen: one viewable impression`);
    assert.ok(byId.get(id).visible_ms >= 1000, `${id} seen: at least 1 s visible`);
  }
  for (const id of flungPast) {
    assert.equal(byId.get(id).impressions, 1, `${id} flung past: an impression`);
    assert.equal(byId.get(id).viewable, 0, `${id} flung past: no viewable impression`);
    assert.ok(byId.get(id).visible_ms < 1000, `${id} flung past: under 1 s visible`);
  }
  assert.equal(byId.get(clicked).clicks, 1);
  assert.equal(byId.get(clicked).clicks_after_view, 1, 'the click came after a viewable impression');
  assert.equal(totals.clicks, 1);
  const positions = new Map(events.filter((ev) => ev.e === 'imp').map((ev) => [ev.id, ev.pos]));
  assert.equal(byId.get(clicked).avg_position, positions.get(clicked));

  // The export holds the same events.
  const ndjson = (await (await fetch(demo.url + '/export.ndjson')).text()).trim().split('\n');
  assert.equal(ndjson.length, events.length);

  // 6. The dashboard page shows the same numbers.
  const dashboard = await context.newPage();
  dashboard.on('pageerror', (error) => pageErrors.push(error.message));
  const dashboardCsp = watchCsp(dashboard);
  await dashboard.goto(demo.dashboard);
  await dashboard.waitForFunction(() => Number(document.body.dataset.updates) >= 1, null, { timeout: WAIT_MS });
  assert.equal(await dashboard.textContent('#t-impressions'), totals.impressions.toLocaleString('en'));
  assert.equal(await dashboard.textContent('#t-viewable'), totals.viewable.toLocaleString('en'));
  assert.equal(await dashboard.textContent('#t-clicks'), '1');
  assert.equal(await dashboard.textContent(`tr[data-gig-id="${clicked}"] td[data-col="clicks"]`), '1');
  assert.equal(await dashboard.locator('#gig-table tbody tr').count(), expected.size);
  assert.equal(await dashboard.locator('#chart-events canvas').count(), 1, 'the uPlot chart is drawn');
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
