// measurement-page.test.js: what is counted, in a real Chromium, as the page moves: fast
// and slow scrolling, clicks, prerendering, window focus, occlusion with
// IntersectionObserver v2 and recycled nodes. Each test asserts the exact events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueEvents } from './server.js';
import {
  clockTo, flushAndRead, inViewObserved, runUntilTrace, useBrowserSuite, traceLines, waitForTrace, waitInPage,
} from './browser.js';
import { discoveredAt, ofType } from './measure.js';

let site;
let collector;
const { open } = useBrowserSuite({}, (shared) => ({ site, collector } = shared));

const ROW = 150; // grid.html by default: 140 px cards and 10 px gaps, 4 per row

/** Scrolls the page to y and waits until the tracker has fed the core the new geometry. */
async function scrollAndObserve(page, y, after) {
  await page.evaluate((top) => window.scrollTo(0, top), y);
  return waitForTrace(page, (f) => f[0] === 'eobs', `observations after scrolling to ${y}`, after);
}

/** The index of the last trace line. */
async function lastIndex(page) {
  return (await traceLines(page)).length - 1;
}

test('a fast fling through 1,000 cards gives 1,000 impressions and no viewable impression', async (t) => {
  // 10 cards of 70 x 60 px per row, 70 px apart: 100 rows, 7,000 px, 12 flicks of a screen.
  const { page } = await open(t, { fixture: 'grid.html?n=1000&cols=10&w=70&h=60', clock: true });
  await page.clock.runFor(1);
  await inViewObserved(page);
  const end = 100 * 70;
  let index = await lastIndex(page);
  for (let y = 600; y < end; y += 600) {
    await page.clock.runFor(16);
    index = (await scrollAndObserve(page, y, index)).index;
    index = await lastIndex(page);
  }
  await page.clock.runFor(16);
  const events = await flushAndRead(page);
  const imps = ofType(events, 'imp');
  assert.equal(imps.length, 1000, 'every card got exactly one impression');
  assert.equal(new Set(imps.map((e) => e.id)).size, 1000);
  assert.deepEqual(ofType(events, 'view'), [], 'no card stayed in view for a second');
});

test('a slow scroll gives every card an impression and a viewable impression', async (t) => {
  const n = 80; // 20 rows
  const { page } = await open(t, { fixture: `grid.html?n=${n}`, clock: true });
  await page.clock.runFor(1);
  await inViewObserved(page);
  let index = await lastIndex(page);
  await page.clock.runFor(1100);
  for (let y = 300; y <= (n / 4) * ROW - 600 + 300; y += 300) {
    index = (await scrollAndObserve(page, y, index)).index;
    index = await lastIndex(page);
    await page.clock.runFor(1100);
  }
  const events = await flushAndRead(page);
  const ids = Array.from({ length: n }, (_, i) => `gig-${i + 1}`);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), [...ids].sort());
  assert.deepEqual(ofType(events, 'view').map((e) => e.id).sort(), [...ids].sort());
});

test('clicks, middle clicks on links and keyboard activations are attributed to the right card and position', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24', clock: true });
  const seen = await discoveredAt(page);
  await clockTo(page, seen.t + 1000); // every card in view is now viewable
  await page.click('[data-gig-id="gig-6"] .seller');
  await page.click('[data-gig-id="gig-7"] button');
  await page.focus('[data-gig-id="gig-8"]');
  await page.keyboard.press('Enter');
  await page.focus('[data-gig-id="gig-9"] a');
  await page.keyboard.press('Enter'); // a link: its own click event is the one activation
  // A middle click on a link opens the card in a new tab (prevented here: no new tab in
  // the test); one that is on no link opens nothing and is no click.
  await page.evaluate(() => document.addEventListener('auxclick', (event) => event.preventDefault()));
  await page.click('[data-gig-id="gig-10"] a', { button: 'middle' }); // counted
  await page.click('[data-gig-id="gig-12"] .seller', { button: 'middle' }); // not counted
  await page.click('[data-gig-id="gig-11"] .seller', { button: 'right' }); // the context menu: not a click
  await page.evaluate(() => document.body.click()); // not on a card
  await page.evaluate(() => document.querySelector('[data-gig-id="gig-24"] .seller').click()); // never seen
  const events = await flushAndRead(page);
  const clicks = ofType(events, 'click').map(({ id, pos, list, seen: v, f }) => ({ id, pos, list, seen: v, f }));
  assert.deepEqual(clicks, [
    { id: 'gig-6', pos: 6, list: 'q1', seen: 1, f: 1 },
    { id: 'gig-7', pos: 7, list: 'q1', seen: 1, f: 1 },
    { id: 'gig-8', pos: 8, list: 'q1', seen: 1, f: 1 },
    { id: 'gig-9', pos: 9, list: 'q1', seen: 1, f: 1 },
    { id: 'gig-10', pos: 10, list: 'q1', seen: 1, f: 1 },
    { id: 'gig-24', pos: 24, list: 'q1', seen: 0, f: 1 },
  ]);
  const click6 = ofType(events, 'click', 'gig-6')[0];
  assert.equal(click6.since, click6.t - ofType(events, 'imp', 'gig-6')[0].t, '"since" counts from the first impression');
  const imp24 = ofType(events, 'imp', 'gig-24');
  assert.equal(imp24.length, 1, 'a click on a card never seen records its impression first');
  assert.ok(imp24[0].s < ofType(events, 'click', 'gig-24')[0].s);
  assert.equal(ofType(events, 'imp').length, 17, '16 cards in view plus the clicked one');
});

test('Space on a focused card scrolls the page and is no click; on a card with role="button" whose handler takes it, it is one', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24', clock: true });
  await discoveredAt(page);
  await page.evaluate(() => {
    const card = document.querySelector('[data-gig-id="gig-9"]');
    card.setAttribute('role', 'button');
    card.addEventListener('keydown', (event) => { if (event.key === ' ') event.preventDefault(); });
  });
  await page.focus('[data-gig-id="gig-9"]');
  await page.keyboard.press(' ');
  assert.equal(await page.evaluate(() => scrollY), 0, 'the role="button" card took the key');
  await page.focus('[data-gig-id="gig-8"]');
  await page.keyboard.press(' ');
  await waitInPage(page, () => scrollY > 0, undefined, { what: 'the page scrolled by Space' });
  const clicks = ofType(await flushAndRead(page), 'click').map((e) => e.id);
  assert.deepEqual(clicks, ['gig-9']);
});

test('a prerendered page measures nothing, sends nothing and stores nothing until activation', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24', it: { prerender: true } });
  await inViewObserved(page);
  const before = await page.evaluate(() => {
    window.__it.tracker.flush();
    return { events: window.__it.events.length, keys: Object.keys(localStorage) };
  });
  assert.deepEqual(before, { events: 0, keys: [] });
  assert.equal(collector.records.length, 0, 'no request before activation');
  const first = (await traceLines(page)).find((l) => l.startsWith('page '));
  assert.equal(Number(first.split(' ')[2]) & 4, 4, 'the page view began with the prerender flag');
  await page.evaluate(() => window.__stubActivate());
  await waitForTrace(page, (f) => f[0] === 'state' && f[2] === '0', 'activation');
  const events = await flushAndRead(page);
  assert.equal(ofType(events, 'imp').length, 16, 'the cards in view count once activated');
  await collector.waitFor((r) => uniqueEvents(r).length === 16, 10000, '16 impressions at the collector');
});

test('impressions made while the window has no focus carry f:0, later ones f:1', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=40', it: { unfocused: true } });
  await inViewObserved(page);
  let events = await flushAndRead(page);
  assert.equal(ofType(events, 'imp').length, 16);
  assert.ok(ofType(events, 'imp').every((e) => e.f === 0), 'unfocused impressions say f:0');
  await page.evaluate(() => window.__stubFocus(true));
  await waitForTrace(page, (f) => f[0] === 'focus' && f[2] === '1', 'focus reaches the core');
  await scrollAndObserve(page, 600, await lastIndex(page));
  events = await flushAndRead(page);
  const later = ofType(events, 'imp').slice(16);
  assert.ok(later.length >= 12, 'the next rows were seen');
  assert.ok(later.every((e) => e.f === 1), 'focused impressions say f:1');
});

test('occlusion: with IntersectionObserver v2 a card under a modal is never viewable until the modal closes', async (t) => {
  const { page } = await open(t, { fixture: 'occlusion.html', clock: true, it: { options: { occlusion: true } } });
  await page.clock.runFor(1);
  const covered = await waitForTrace(page, (f, id) => f[0] === 'cover' && id === 'gig-covered' && f[3] === '1', 'the covered card reported covered');
  await waitForTrace(page, (f, id) => f[0] === 'cover' && id === 'gig-clear' && f[3] === '0', 'the clear card reported clear');
  await clockTo(page, covered.t + 2000);
  let events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-clear', 'gig-covered'], 'both were rendered in the viewport');
  assert.deepEqual(ofType(events, 'view').map((e) => e.id), ['gig-clear'], 'only the uncovered card is viewable');
  await page.evaluate(() => window.__closeModal());
  const uncovered = await waitForTrace(page, (f, id) => f[0] === 'cover' && id === 'gig-covered' && f[3] === '0', 'the card uncovered', covered.index);
  await clockTo(page, uncovered.t + 1000);
  events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id), ['gig-clear', 'gig-covered']);
});

test('occlusion on: a fling of one scroll step per frame still gives every card it showed an impression', async (t) => {
  // v2 looks at a card at most every 100 ms; here a card is on screen for about 3 frames
  // (290 px per frame, 140 px cards, a 600 px viewport), so only the v1 geometry
  // observer, checked every frame, can see them all. Real frames: no fake clock.
  const n = 200; // 4 per row, 150 px apart: 50 rows, 7,500 px; the fling stops at 6,000
  const { page } = await open(t, { fixture: `grid.html?n=${n}`, it: { options: { occlusion: true } } });
  await inViewObserved(page);
  const positions = await page.evaluate(() => new Promise((resolve) => {
    const seen = [window.scrollY];
    const step = () => {
      window.scrollBy(0, 290);
      seen.push(window.scrollY);
      if (window.scrollY >= 6000) resolve(seen); // the last rows stay unseen
      else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }));
  // Every card in the viewport at one of those frames (rows 150 px apart, cards 140 px high).
  const shown = new Set();
  for (let i = 0; i < n; i++) {
    const top = Math.floor(i / 4) * 150;
    if (positions.some((y) => top < y + 600 && top + 140 > y)) shown.add(`gig-${i + 1}`);
  }
  assert.ok(shown.size >= 150 && shown.size < n, `cards shown: ${shown.size}`);
  const imps = await waitInPage(page, (ids) => {
    window.__it.tracker.flush();
    const got = new Set(window.__it.events.filter((e) => e.e === 'imp').map((e) => e.id));
    return ids.every((id) => got.has(id)) && [...got];
  }, [...shown], { what: 'an impression of every card a frame showed' });
  assert.deepEqual(imps.sort(), [...shown].sort(), 'impressions of exactly the cards shown');
});

test('occlusion off (IntersectionObserver v1): a covered card counts as viewable, the documented limit', async (t) => {
  const { page } = await open(t, { fixture: 'occlusion.html', clock: true });
  const seen = await discoveredAt(page, (r) => r === 1);
  await clockTo(page, seen.t + 1000);
  const events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id).sort(), ['gig-clear', 'gig-covered']);
});

test('recycled nodes: state follows the item id, not the element', async (t) => {
  const { page } = await open(t, { fixture: 'recycle.html', clock: true });
  const first = await discoveredAt(page, (r) => r === 1);
  await clockTo(page, first.t + 600);
  await page.evaluate(() => window.__showFrom(9));
  await runUntilTrace(page, (f) => f[0] === 'elem' && f[3] === 'gig-16', 'gig-16 registered');
  const second = await waitForTrace(page, (f, id) => f[0] === 'eobs' && id === 'gig-9' && Number(f[3]) === 1, 'gig-9 observed', first.index);
  await waitForTrace(page, (f, id) => f[0] === 'eobs' && id === 'gig-16' && Number(f[3]) === 1, 'gig-16 observed', first.index);
  await clockTo(page, second.t + 1000);
  let events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id).sort(), ['gig-9', 'gig-10', 'gig-11', 'gig-12', 'gig-13', 'gig-14', 'gig-15', 'gig-16'].sort(),
    'the cards shown for 1000 ms are viewable; the ones replaced after 600 ms are not');
  await page.evaluate(() => window.__showFrom(1));
  await runUntilTrace(page, (f) => f[0] === 'elem' && f[3] === 'gig-8', 'gig-8 registered again', second.index);
  const third = await waitForTrace(page, (f, id) => f[0] === 'eobs' && id === 'gig-1' && Number(f[3]) === 1, 'gig-1 observed again', second.index);
  await clockTo(page, third.t + 999);
  events = await flushAndRead(page);
  assert.equal(ofType(events, 'view').length, 8, 'a new span starts when the card comes back');
  await clockTo(page, third.t + 1000);
  events = await flushAndRead(page);
  const ids = Array.from({ length: 16 }, (_, i) => `gig-${i + 1}`).sort();
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ids, 'one impression per id, even across recycled nodes');
  assert.deepEqual(ofType(events, 'view').map((e) => e.id).sort(), ids, 'one viewable impression per id');
  const imp3 = ofType(events, 'imp', 'gig-3')[0];
  assert.deepEqual({ pos: imp3.pos, list: imp3.list }, { pos: 3, list: 'infinite' });
  const imp11 = ofType(events, 'imp', 'gig-11')[0];
  assert.deepEqual({ pos: imp11.pos, list: imp11.list }, { pos: 11, list: 'infinite' });
});
