// visual-viewport.test.js: cards in the layout viewport but outside the visual one (the
// part of the page a pinch-zoomed user sees), in a real Chromium (each page written by
// the test into fixtures/stage.html; Playwright's fake clock). The page is zoomed with
// the DevTools protocol (Emulation.setPageScaleFactor) and panned with a synthetic
// wheel scroll, which moves the visual viewport alone: the page does not scroll, and only
// visualViewport hears it. A card counts by the part of it in the visual viewport
// (js/page/bars.js); each test checks the ratio the core got against the card's fraction
// in the visual viewport computed in the page, and asserts the exact events and the
// roots the geometry observers were made with. One test opens stage.html without its
// doctype (quirks mode) in a phone's context (a 390x844 screen at device scale 3, no
// viewport meta: a 980 px layout viewport at scale 0.4), not zoomed; one opens it with
// a viewport meta (width=device-width, initial-scale=1) and content wider than the
// screen, which makes the layout viewport, the observers' root, larger than the screen.

import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockTo, flushAndRead, pageNow, useBrowserSuite, waitInPage } from './browser.js';
import { countMeasurements, ids, measured, near, observed, ofType, placed, recordRoots, roots } from './stage.js';

const stage = readFileSync(new URL('fixtures/stage.html', import.meta.url), 'utf8');
const { open } = useBrowserSuite({}, ({ site }) => {
  site.serve('/fixtures/quirks.html', stage.replace('<!doctype html>', ''));
  site.serve('/fixtures/phone.html', stage.replace('<head>', '<head><meta name="viewport" content="width=device-width, initial-scale=1">'));
});
const PHONE = { isMobile: true, hasTouch: true, deviceScaleFactor: 3, viewport: { width: 390, height: 844 } };

/** Cards of 200x150 placed absolutely in a container 3,000 px tall: [[id, top, left]]. */
const cards = (list) => placed(list, 3000, [200, 150]);


/**
 * Opens stage.html with `html`, zoomed to `scale` (the visual viewport at the top left)
 * before the tracker starts, and starts it (init: more init scripts). Returns {page, cdp}.
 */
async function zoomed(t, html, scale, init = []) {
  const { context, page } = await open(t, { fixture: 'stage.html', clock: true, it: { autoStart: false }, init: [recordRoots, ...init] });
  const cdp = await context.newCDPSession(page);
  await zoom(page, cdp, scale);
  await page.evaluate((h) => window.__build(h), html);
  await page.evaluate(() => window.__it.start());
  await page.clock.runFor(1);
  return { page, cdp };
}

/** Sets the page's scale and waits until the visual viewport has it. */
async function zoom(page, cdp, scale) {
  await cdp.send('Emulation.setPageScaleFactor', { pageScaleFactor: scale });
  await waitInPage(page, (s) => visualViewport.scale === s, scale, { what: `the page at scale ${scale}` });
}

/**
 * Pans the visual viewport by [x, y] px with a wheel scroll (which moves the visual
 * viewport before the page) and waits until it has moved that far.
 */
async function pan(page, cdp, [x, y]) {
  const to = await page.evaluate(([dx, dy]) => [visualViewport.offsetLeft + dx, visualViewport.offsetTop + dy], [x, y]);
  await cdp.send('Input.synthesizeScrollGesture', { x: 50, y: 50, xDistance: -x, yDistance: -y, speed: 5000, gestureSourceType: 'mouse' });
  await waitInPage(page, ([l, t]) => visualViewport.offsetLeft === l && visualViewport.offsetTop === t, to,
    { what: `the visual viewport panned by ${x}, ${y}` });
}

/** The fraction of card `id` inside the visual viewport, computed in the page. */
const truth = (page, id) => page.evaluate((of) => {
  const box = document.querySelector(`[data-gig-id="${of}"]`).getBoundingClientRect();
  const { offsetLeft: l, offsetTop: t, width: w, height: h } = visualViewport;
  const across = Math.max(0, Math.min(box.right, l + w) - Math.max(box.left, l));
  const down = Math.max(0, Math.min(box.bottom, t + h) - Math.max(box.top, t));
  return (across * down) / (box.width * box.height);
}, id);

test('zoomed x4 at the top left: a card outside the visual viewport gets no impression until a pan brings it in', async (t) => {
  // The viewport is 800x600, the visual one 200x150 at (0, 0): gig-in at (0, 0) is all of
  // it, gig-out at (500, 400) is in the layout viewport but not in the visual one. A pan
  // by (500, 400) shows gig-out in full and leaves gig-in out.
  const { page, cdp } = await zoomed(t, cards([['gig-in', 0, 0], ['gig-out', 400, 500]]), 4);
  assert.deepEqual([await truth(page, 'gig-in'), await truth(page, 'gig-out')], [1, 0]);
  const seen = await observed(page, 'gig-in', (r) => r === 1, 'gig-in in the visual viewport');
  await clockTo(page, seen.t + 1500);
  let events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-in'], 'gig-out, out of sight, has no impression');
  assert.deepEqual(ids(events, 'view'), ['gig-in']);
  await pan(page, cdp, [500, 400]);
  assert.deepEqual([await truth(page, 'gig-in'), await truth(page, 'gig-out')], [0, 1]);
  assert.deepEqual(await page.evaluate(() => [scrollX, scrollY]), [0, 0], 'the page did not scroll');
  // The pan's first step was measured at once (wherever the visual viewport was then),
  // the rest 500 ms later.
  await clockTo(page, (await pageNow(page)) + 500);
  const out = await observed(page, 'gig-out', (r) => r === 1, 'gig-out in the visual viewport', seen.index);
  const gone = await observed(page, 'gig-in', (r) => r < 0.5, 'gig-in less than half in it', seen.index);
  await observed(page, 'gig-in', (r) => r === 0, 'gig-in out of it', seen.index);
  await clockTo(page, out.t + 1000);
  events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-in', 'gig-out']);
  assert.deepEqual(ids(events, 'view'), ['gig-in', 'gig-out']);
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]), [['gig-in', gone.t - seen.t]]);
  const made = await roots(page);
  assert.ok(made.length <= 3, 'one root at the start, at most two for the pan');
  assert.deepEqual([made[0], made.at(-1)], ['0px -600px -450px 0px', '-400px -100px -50px -500px']);
});

test('zoomed x2: a card two thirds out of the visual viewport is not viewable; zoomed back to 1 it is', async (t) => {
  // The visual viewport is 400x300 at (0, 0): 150 of gig-a's 200 px across are in it
  // (75 %), 50 of gig-b's 150 px down (33 %). At scale 1 both are in full.
  const { page, cdp } = await zoomed(t, cards([['gig-a', 0, 250], ['gig-b', 250, 0]]), 2);
  assert.deepEqual([await truth(page, 'gig-a'), await truth(page, 'gig-b')], [0.75, 1 / 3]);
  const a = await observed(page, 'gig-a', near(0.75), 'gig-a 75 % in the visual viewport');
  const b = await observed(page, 'gig-b', near(1 / 3), 'gig-b 33 % in it');
  await clockTo(page, Math.max(a.t, b.t) + 1500);
  let events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-a', 'gig-b']);
  assert.deepEqual(ids(events, 'view'), ['gig-a'], 'gig-b, two thirds out of sight, is not viewable');
  await zoom(page, cdp, 1);
  const whole = await observed(page, 'gig-b', (r) => r === 1, 'gig-b in full at scale 1', b.index);
  await clockTo(page, whole.t + 1000);
  events = await flushAndRead(page);
  const imp = ofType(events, 'imp', 'gig-b')[0];
  assert.deepEqual(ofType(events, 'view', 'gig-b').map((e) => e.t - imp.t), [whole.t - b.t + 1000], 'viewable 1 s after the zoom out');
  assert.deepEqual(await roots(page), ['0px -400px -300px 0px', '0px 0px 0px 0px']);
});

test('not zoomed: the root is the whole viewport, and a scroll of the page is measured at its end alone', async (t) => {
  // gig-c at 560 to 710 px: 40 of its 150 px in view; scrolled by 200 px, in full. The
  // bars are measured at the start and at the scroll's end (bars.test.js), not at its
  // steps: a scroll of the page moves no visual viewport.
  const { page } = await zoomed(t, cards([['gig-c', 560, 0]]), 1, [countMeasurements]);
  const c = await observed(page, 'gig-c', near(40 / 150), 'gig-c 40 of 150 px in view');
  await page.evaluate(() => {
    addEventListener('scrollend', () => { window.__scrollEnded = scrollY; });
    scrollTo(0, 200);
  });
  await waitInPage(page, () => window.__scrollEnded === 200, undefined, { what: 'the scroll ended' });
  await observed(page, 'gig-c', (r) => r === 1, 'gig-c in full', c.index);
  await clockTo(page, (await pageNow(page)) + 2000);
  assert.equal(await measured(page), 2, 'at the start and at the scroll\'s end');
  assert.deepEqual(await roots(page), ['0px 0px 0px 0px']);
});

test('a phone, not zoomed, a page in quirks mode: the root is the whole viewport, a card in full at its bottom has ratio 1', async (t) => {
  // The visual viewport is the layout viewport, 980x2121 px at scale 0.4. In quirks mode
  // the root element's clientHeight is the page's height (3,000 px), not the viewport's:
  // the viewport is the body's. gig-low at 1900 to 2050 px is in full, gig-edge at 2050
  // to 2200 px about 47 % in.
  const { page } = await open(t, { fixture: 'quirks.html', clock: true, it: { autoStart: false }, init: [recordRoots], context: PHONE });
  await page.evaluate((h) => window.__build(h), cards([['gig-low', 1900, 0], ['gig-edge', 2050, 700]]));
  await page.evaluate(() => window.__it.start());
  await page.clock.runFor(1);
  assert.deepEqual(await page.evaluate(() => [document.compatMode, document.documentElement.clientHeight > innerHeight]), ['BackCompat', true]);
  const edge = await truth(page, 'gig-edge');
  assert.deepEqual([await truth(page, 'gig-low'), edge > 0.4 && edge < 0.5], [1, true]);
  await observed(page, 'gig-low', (r) => r === 1, 'gig-low in full');
  await observed(page, 'gig-edge', near(edge), 'gig-edge partly in view');
  assert.deepEqual(await roots(page), ['0px 0px 0px 0px']);
});

test('a phone page wider than the screen at scale 1: cards in the layout viewport but off the screen get no impression', async (t) => {
  // A 1,200 px element on a 390x844 screen: the layout viewport is 1200x2597 px, the
  // user sees 390x844 at (0, 0). gig-in at (0, 0) is in full; gig-right at (0, 600) and
  // gig-below at (1200, 0) are in the layout viewport, out of sight. A pan by 600 px
  // across (the visual viewport alone: the page is as wide as the layout viewport)
  // shows gig-right in full.
  const { page, context } = await open(t, { fixture: 'phone.html', clock: true, it: { autoStart: false }, init: [recordRoots], context: PHONE });
  const wide = '<div id="wide" style="width: 1200px; height: 1px"></div>';
  await page.evaluate((h) => window.__build(h), wide + cards([['gig-in', 0, 0], ['gig-right', 0, 600], ['gig-below', 1200, 0]]));
  await page.evaluate(() => window.__it.start());
  await page.clock.runFor(1);
  assert.deepEqual(await page.evaluate(() => [innerWidth, innerHeight, visualViewport.width, visualViewport.height, visualViewport.scale]),
    [1200, 2597, 390, 844, 1], 'the layout viewport is larger than the screen, at scale 1');
  assert.deepEqual([await truth(page, 'gig-in'), await truth(page, 'gig-right'), await truth(page, 'gig-below')], [1, 0, 0]);
  const seen = await observed(page, 'gig-in', (r) => r === 1, 'gig-in on the screen');
  await clockTo(page, seen.t + 1500);
  let events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-in'], 'gig-right and gig-below, off the screen, have no impression');
  assert.deepEqual(ids(events, 'view'), ['gig-in']);
  assert.deepEqual((await roots(page)).at(-1), '0px -810px -1753px 0px', 'the root is cut to the screen');
  await pan(page, await context.newCDPSession(page), [600, 0]);
  assert.equal(await truth(page, 'gig-right'), 1);
  await clockTo(page, (await pageNow(page)) + 500);
  const right = await observed(page, 'gig-right', (r) => r === 1, 'gig-right on the screen after the pan');
  await clockTo(page, right.t + 1000);
  events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-in', 'gig-right'], 'gig-below has none still');
  assert.deepEqual(ids(events, 'view'), ['gig-in', 'gig-right']);
  // The wide element and gig-right removed: the layout viewport is the screen again,
  // and the root cut for the wide page would be empty. gig-in is on the screen.
  await page.evaluate(() => ['wide', 'gig-right'].forEach((id) => document.querySelector(`#${id}, [data-gig-id="${id}"]`).remove()));
  await waitInPage(page, () => innerWidth === 390 && visualViewport.offsetLeft === 0, undefined, { what: 'the page as wide as the screen' });
  await clockTo(page, (await pageNow(page)) + 500);
  await observed(page, 'gig-in', (r) => r === 1, 'gig-in on the screen of the narrow page', right.index);
  assert.equal((await roots(page)).at(-1), '0px 0px 0px 0px');
});
