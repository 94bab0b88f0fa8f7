// measurement.test.js: what is counted, in a real Chromium: the 50 % and 1000 ms edges of
// the viewable rule (Playwright's fake clock), the 30 % rule of a large card, continuity,
// hidden pages and re-entry. Each test asserts the exact events. Scrolling, clicks,
// prerendering, focus, occlusion and recycled nodes are in measurement-page.test.js.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueEvents } from './server.js';
import { clockTo, flushAndRead, useBrowserSuite, waitForTrace } from './browser.js';
import { discoveredAt, observed, ofType } from './measure.js';

let site;
let collector;
const { open } = useBrowserSuite({}, (shared) => ({ site, collector } = shared));

test('50 % for 999 ms is no viewable impression; 1000 ms is exactly one', async (t) => {
  const { page } = await open(t, { fixture: 'single.html?top=500', clock: true });
  const seen = await discoveredAt(page, (r) => r === 0.5);
  await clockTo(page, seen.t + 999);
  let events = await flushAndRead(page);
  assert.equal(ofType(events, 'imp').length, 1, 'one impression');
  assert.equal(ofType(events, 'view').length, 0, 'no viewable impression at 999 ms');
  await clockTo(page, seen.t + 1000);
  events = await flushAndRead(page);
  const views = ofType(events, 'view');
  assert.equal(views.length, 1, 'one viewable impression at 1000 ms');
  const imp = ofType(events, 'imp')[0];
  assert.equal(views[0].t - imp.t, 1000);
  assert.deepEqual({ id: views[0].id, pos: views[0].pos, list: views[0].list }, { id: 'gig-edge', pos: 1, list: 'edge' });
  await clockTo(page, seen.t + 5000);
  events = await flushAndRead(page);
  assert.equal(ofType(events, 'view').length, 1, 'still one viewable impression later');
});

test('49 % visible for 5 s is an impression and never a viewable impression', async (t) => {
  const { page } = await open(t, { fixture: 'single.html?top=502', clock: true });
  const seen = await discoveredAt(page);
  assert.ok(Math.abs(Number(seen.line.split(' ')[3]) - 0.49) < 1e-6, seen.line);
  await clockTo(page, seen.t + 5000);
  const events = await flushAndRead(page);
  assert.equal(ofType(events, 'imp').length, 1);
  assert.equal(ofType(events, 'view').length, 0);
});

test('a large card (>= 242,500 px²) is viewable at 30 % and not at 29 %', async (t) => {
  // 800 x 400 = 320,000 px²: 120 px in view is 30 %, 116 px is 29 %.
  const at30 = await open(t, { fixture: 'single.html?w=800&h=400&top=480', clock: true });
  const seen30 = await discoveredAt(at30.page);
  await clockTo(at30.page, seen30.t + 1000);
  assert.equal(ofType(await flushAndRead(at30.page), 'view').length, 1, '30 % of a large card is viewable');
  const at29 = await open(t, { fixture: 'single.html?w=800&h=400&top=484', clock: true });
  const seen29 = await discoveredAt(at29.page);
  await clockTo(at29.page, seen29.t + 5000);
  const events = await flushAndRead(at29.page);
  assert.equal(ofType(events, 'imp').length, 1);
  assert.equal(ofType(events, 'view').length, 0, '29 % of a large card is not viewable');
});

test('a large card shrunk in place at 40 % in view leaves the 30 % rule at once, though it crosses no threshold', async (t) => {
  // 800 x 400 = 320,000 px² with 160 px in view: 40 %, viewable under the 30 % rule. Made
  // 300 px wide (120,000 px²) it is still 40 % in view: no IntersectionObserver entry.
  const { page } = await open(t, { fixture: 'single.html?w=800&h=400&top=440', clock: true });
  const seen = await discoveredAt(page, (r) => Math.abs(r - 0.4) < 1e-6);
  await clockTo(page, seen.t + 300);
  await page.evaluate(() => { document.getElementById('card').style.width = '300px'; });
  await waitForTrace(page, (f) => f[0] === 'eobs' && f[2] === '0' && Number(f[4]) === 120000, 'the card measured at its new size', seen.index);
  await clockTo(page, seen.t + 3000);
  const events = await flushAndRead(page);
  assert.deepEqual(events.map((e) => e.e), ['imp', 'vis'], 'no viewable impression: 40 % of a small card');
});

test('continuity: 600 ms in, out, 600 ms in is no viewable impression; 1000 ms after re-entry is one', async (t) => {
  const { page } = await open(t, { fixture: 'single.html?top=0', clock: true });
  const first = await discoveredAt(page, (r) => r === 1);
  await clockTo(page, first.t + 600);
  await page.evaluate(() => window.__place(700));
  const out = await observed(page, 0, (r) => r === 0, 'the card leaving', first.index);
  await clockTo(page, out.t + 100);
  await page.evaluate(() => window.__place(0));
  const back = await observed(page, 0, (r) => r === 1, 'the card back', out.index);
  await clockTo(page, back.t + 600);
  let events = await flushAndRead(page);
  assert.equal(ofType(events, 'imp').length, 1, 'one impression for the whole page view');
  assert.equal(ofType(events, 'view').length, 0, '600 + 600 ms with a gap is not 1000 ms continuous');
  const vis = ofType(events, 'vis');
  assert.equal(vis.length, 1, 'the first visible span was reported when it ended');
  assert.equal(vis[0].ms, 600);
  await clockTo(page, back.t + 1000);
  events = await flushAndRead(page);
  const views = ofType(events, 'view');
  assert.equal(views.length, 1);
  assert.equal(views[0].t - ofType(events, 'imp')[0].t, Math.round(back.t + 1000 - first.t));
});

test('hidden during the dwell restarts the timer', async (t) => {
  const { page } = await open(t, { fixture: 'single.html?top=0', clock: true });
  const seen = await discoveredAt(page, (r) => r === 1);
  await clockTo(page, seen.t + 500);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  await clockTo(page, seen.t + 700);
  await page.evaluate(() => window.__stubVisibilityChange('visible'));
  const shown = await waitForTrace(page, (f) => f[0] === 'state' && f[2] === '0', 'the page shown again', seen.index);
  await clockTo(page, shown.t + 999);
  let events = await flushAndRead(page);
  assert.equal(ofType(events, 'imp').length, 1);
  assert.equal(ofType(events, 'view').length, 0, '500 ms before the hide do not count');
  assert.deepEqual(ofType(events, 'vis').map((e) => e.ms), [500], 'the span ended at the hide');
  await clockTo(page, shown.t + 1000);
  events = await flushAndRead(page);
  assert.equal(ofType(events, 'view').length, 1, 'viewable 1000 ms after the page was shown again');
});

test('re-entry: a card scrolled in and out 10 times has one impression and one viewable impression', async (t) => {
  const { page } = await open(t, { fixture: 'single.html?top=0', clock: true });
  let last = await discoveredAt(page, (r) => r === 1);
  for (let i = 0; i < 10; i++) {
    await clockTo(page, last.t + 1100);
    await page.evaluate(() => window.__place(700));
    const out = await observed(page, 0, (r) => r === 0, `exit ${i + 1}`, last.index);
    await clockTo(page, out.t + 50);
    await page.evaluate(() => window.__place(0));
    last = await observed(page, 0, (r) => r === 1, `entry ${i + 1}`, out.index);
  }
  await clockTo(page, last.t + 100);
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  const events = await flushAndRead(page);
  assert.equal(ofType(events, 'imp').length, 1, 'one impression per page view and item');
  assert.equal(ofType(events, 'view').length, 1, 'one viewable impression per page view and item');
  const vis = ofType(events, 'vis');
  assert.equal(vis.length, 11, 'every visible span is reported');
  assert.deepEqual(vis.map((e) => e.ms), [...Array(10).fill(1100), 100]);
  assert.deepEqual(vis.map((e) => e.n), Array.from({ length: 11 }, (_, i) => i + 1));
  await collector.waitFor((r) => uniqueEvents(r).length === events.length, 10000, 'the hide beacon');
  assert.deepEqual(uniqueEvents(collector.records).map((x) => x.event.s).sort((a, b) => a - b), events.map((e) => e.s).sort((a, b) => a - b));
});
