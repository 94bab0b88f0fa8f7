// The steps of the demo's smoke test (smoke.test.js) in headless Chromium, each a
// function over the page: open the marketplace, fling, scroll slowly, leave; what the
// page reads (the cards in view, whether the tracker reported an event); and the checks
// of the collector's API and the dashboard against the tracker's own events.

import assert from 'node:assert/strict';
import { WAIT_MS, until } from './chromium.js';

/** Collects the Content-Security-Policy violations Chromium reports on `page`'s console. */
export function watchCsp(page) {
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
export function viewportCards() {
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
export async function trackerReported(page, e, ids) {
  return page.evaluate(({ e, ids }) => {
    window.demo.flush();
    const seen = new Set(window.demo.debugLog.filter((ev) => ev.e === e).map((ev) => ev.id));
    return ids.every((id) => seen.has(id));
  }, { e, ids });
}

/** Aggregates per gig from the tracker's own events, the way the collector should. */
export function aggregate(events) {
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

/** Opens the marketplace and waits for its tracker, loaded through the package's public entry point. */
export async function openMarketplace(page, demo) {
  await page.goto(demo.marketplace);
  await page.waitForFunction(() => document.documentElement.dataset.trackerReady, null, { timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => document.documentElement.dataset.trackerReady), 'yes',
    await page.textContent('#tracker-status'));
  // The page loaded the package through its public entry point.
  assert.match(await page.evaluate(() => document.querySelector('script[type=importmap]').textContent),
    /"impression-tracker": "\/node_modules\/impression-tracker\/js\/index\.js"/);
}

/** Fling: scroll ~1600 px in 200 px steps, one per animation frame. The cards only passed by. */
export async function fling(page) {
  const span = await page.evaluate(() => new Promise((resolve) => {
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
  assert.ok(span.end - span.start >= 1000, `fling covered ${span.end - span.start} px`);
  // Cards entirely between the start and end viewports were only passed by.
  const flungPast = await page.evaluate(({ start, end }) => {
    const out = [];
    for (const card of document.querySelectorAll('[data-gig-id]')) {
      const box = card.getBoundingClientRect();
      const top = box.top + window.scrollY;
      if (top >= start + innerHeight && top + box.height <= end) out.push(card.dataset.gigId);
    }
    return out;
  }, span);
  assert.ok(flungPast.length >= 4, `cards flung past: ${flungPast}`);
  return flungPast;
}

/** Scroll on slowly: 300 px at a time, each time waiting until the cards in view are viewable. */
export async function scrollSlowly(page) {
  const slowlySeen = [];
  for (let i = 0; i < 3; i++) {
    await page.evaluate(() => window.scrollBy(0, 300));
    const now = await page.evaluate(viewportCards);
    await until(`viewable impressions after slow step ${i + 1}`, () => trackerReported(page, 'view', now.inView));
    slowlySeen.push(...now.inView);
  }
  return slowlySeen;
}

/** Leave: pagehide makes the tracker end every visible span and send with sendBeacon. */
export async function leave(page, api) {
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
  return { events, totals };
}

/** The dashboard API agrees with the tracker gig by gig, and with what was done. */
export async function checkGigs(api, events, { seen, flungPast, clicked, totals }) {
  const expected = aggregate(events);
  const { gigs } = await api('/api/gigs');
  const byId = new Map(gigs.map((g) => [g.id, g]));
  assert.equal(byId.size, expected.size);
  for (const [id, want] of expected) {
    const got = byId.get(id);
    assert.deepEqual({ impressions: got.impressions, viewable: got.viewable, clicks: got.clicks, visible_ms: got.visible_ms },
      want, `gig ${id}`);
  }
  for (const id of seen) {
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
  return expected.size;
}

/** The dashboard page shows the same numbers; answers its CSP violations. */
export async function checkDashboard(context, demo, { totals, clicked, gigCount, pageErrors }) {
  const dashboard = await context.newPage();
  dashboard.on('pageerror', (error) => pageErrors.push(error.message));
  const dashboardCsp = watchCsp(dashboard);
  await dashboard.goto(demo.dashboard);
  await dashboard.waitForFunction(() => Number(document.body.dataset.updates) >= 1, null, { timeout: WAIT_MS });
  assert.equal(await dashboard.textContent('#t-impressions'), totals.impressions.toLocaleString('en'));
  assert.equal(await dashboard.textContent('#t-viewable'), totals.viewable.toLocaleString('en'));
  assert.equal(await dashboard.textContent('#t-clicks'), '1');
  assert.equal(await dashboard.textContent(`tr[data-gig-id="${clicked}"] td[data-col="clicks"]`), '1');
  assert.equal(await dashboard.locator('#gig-table tbody tr').count(), gigCount);
  assert.equal(await dashboard.locator('#chart-events canvas').count(), 1, 'the uPlot chart is drawn');
  return dashboardCsp;
}
