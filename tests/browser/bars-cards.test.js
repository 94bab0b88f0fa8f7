// bars-cards.test.js: the page's fixed or sticky elements that hold cards, and a bar
// that comes back over a card in view, in a real Chromium (each page written by the
// test into fixtures/stage.html; Playwright's fake clock): a bottom banner of promoted
// cards and a sticky strip of featured cards are no bars (js/page/bars.js), so their
// cards are in view; a card scrolled under the strip counts by its box, as under any
// element that is no bar, and a card handed over by observe() makes the strip that
// holds it no bar at once. A header the page shows again on a scroll up is measured at
// that scroll's end. Each test asserts the exact events against the geometry it sets
// up, and the roots the geometry observers were made with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockTo, flushAndRead, pageNow, useBrowserSuite, waitInPage } from './browser.js';
import { card, ids, near, observed, ofType, recordRoots, roots, stager } from './stage.js';

const { open } = useBrowserSuite();
const stage = stager(open);

/** Two 200 x 120 cards at the ends of a strip 150 px tall (its middle, where the bars are hit-tested, is the strip). */
const pair = (a, b) => `${card(a, 'position:absolute;left:10px;top:15px;width:200px;height:120px')}${
  card(b, 'position:absolute;right:10px;top:15px;width:200px;height:120px', 2)}`;

test('a fixed bottom banner of promoted cards is no bar: its cards are viewable, the grid card above it too', async (t) => {
  const { page } = await stage(t, `<div data-list-id="promoted" style="position:fixed;left:0;right:0;bottom:0;height:150px;background:#333;z-index:1">${
    pair('gig-p1', 'gig-p2')}</div><div data-list-id="l" style="height:3000px">${card('gig-a', 'width:300px;height:200px')}</div>`,
  { init: [recordRoots] });
  const p1 = await observed(page, 'gig-p1', (r) => r === 1, 'gig-p1 in view');
  const p2 = await observed(page, 'gig-p2', (r) => r === 1, 'gig-p2 in view');
  await clockTo(page, Math.max(p1.t, p2.t) + 1000);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-a', 'gig-p1', 'gig-p2']);
  assert.deepEqual(ids(events, 'view'), ['gig-a', 'gig-p1', 'gig-p2']);
  assert.deepEqual(await roots(page), ['0px 0px 0px 0px']);
});

test('a sticky strip of featured cards is no bar: its cards count while it is stuck; a grid card under it counts by its box', async (t) => {
  // The strip (0 to 150 px) sticks at the top; gig-g at 450 to 650 px in the page is at
  // -50 to 150 px scrolled by 500 px: 75 % in the viewport, all of it under the strip.
  const { page } = await stage(t, `<div data-list-id="featured" style="position:sticky;top:0;height:150px;background:#333;z-index:1">${
    pair('gig-f1', 'gig-f2')}</div><div data-list-id="l" style="height:3000px;padding-top:300px">${card('gig-g', 'width:300px;height:200px')}</div>`,
  { init: [recordRoots] });
  await observed(page, 'gig-f2', (r) => r === 1, 'gig-f2 in view');
  await page.evaluate(() => scrollTo(0, 500));
  const g = await observed(page, 'gig-g', near(0.75), 'gig-g 75 % in the viewport, under the strip');
  await clockTo(page, g.t + 1000);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-f1', 'gig-f2', 'gig-g']);
  const since = (e) => e.t - ofType(events, 'imp', e.id)[0].t;
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, since(e)]).sort(), [['gig-f1', 1000], ['gig-f2', 1000], ['gig-g', 1000]]);
  assert.deepEqual(await roots(page), ['0px 0px 0px 0px']);
});

test('a card handed over by observe() in a sticky strip (no data-* attributes, as useCard): the strip is no bar once it is observed, without a scroll', async (t) => {
  const { page } = await stage(t, `<div style="position:sticky;top:0;height:150px;background:#333;z-index:1">
    <aside id="promo" style="position:absolute;left:10px;top:15px;width:200px;height:120px"></aside></div>
    <div data-list-id="l" style="height:3000px">${card('gig-a', 'width:300px;height:200px')}</div>`, { init: [recordRoots] });
  await page.evaluate(() => window.__it.tracker.observe(document.getElementById('promo'), { id: 'gig-promo', position: 1, list: 'promoted' }));
  const promo = await observed(page, 'gig-promo', (r) => r === 1, 'the promoted card in view');
  await clockTo(page, promo.t + 1000);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-a', 'gig-promo']);
  assert.deepEqual(ids(events, 'view'), ['gig-a', 'gig-promo']);
  assert.deepEqual(await roots(page), ['-150px 0px 0px 0px', '0px 0px 0px 0px'], 'the strip a bar before the card was handed over');
});

test('a header the page shows again on a scroll up, over a card in full view: left out from that scroll\'s end, the card not viewable', async (t) => {
  // A fixed header of 120 px that the page hides on a scroll down and shows on a scroll
  // up. Scrolled to 300 px it hides; scrolled on to 1,000 px, gig-h (1,000 to 1,200 px in
  // the page) is at 0 to 200 px, in full; 600 ms later a scroll up by 10 px shows the
  // header over 110 px of it (45 % uncovered): it was viewable for 600 ms.
  const { page } = await stage(t, `<div id="header" style="position:fixed;top:0;left:0;right:0;height:120px;background:#333;z-index:1"></div>
    <div data-list-id="l" style="position:relative;height:3000px">${card('gig-h', 'position:absolute;top:1000px;width:300px;height:200px')}</div>`,
  { init: [recordRoots] });
  await page.evaluate(() => {
    let last = 0;
    addEventListener('scroll', () => {
      document.getElementById('header').style.transform = scrollY > last ? 'translateY(-100%)' : 'none';
      last = scrollY;
    });
    addEventListener('scrollend', () => { window.__scrollEnded = scrollY; });
  });
  const scrolled = async (y) => {
    await page.evaluate((to) => scrollTo(0, to), y);
    await waitInPage(page, (at) => window.__scrollEnded === at, y, { what: `the scroll to ${y} px ended` });
  };
  await scrolled(300);
  await clockTo(page, (await pageNow(page)) + 1000); // no measurement asked for
  await scrolled(1000);
  const full = await observed(page, 'gig-h', (r) => r === 1, 'gig-h in full, the header hidden');
  await clockTo(page, full.t + 600);
  await scrolled(990);
  const under = await observed(page, 'gig-h', near(0.45), 'gig-h 45 % uncovered, the header shown', full.index);
  await clockTo(page, full.t + 2000);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'view'), []);
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]), [['gig-h', 600]]);
  assert.equal(under.t - full.t, 600, 'left out at the scroll\'s end');
  assert.deepEqual(await roots(page), ['-120px 0px 0px 0px', '0px 0px 0px 0px', '-120px 0px 0px 0px']);
});
