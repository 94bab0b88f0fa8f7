// grid-size.test.js: no card goes untracked because the page is large. A grid of 30,000
// cards, scrolled to the end one viewport per frame and back to the top: every card
// that was on screen in some frame gets exactly one impression, and the cards seen
// again at the top get their viewable impression without a second impression. The
// cards on screen are computed in the page, frame by frame, from the grid's geometry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowserSuite, waitInPage } from './browser.js';

let site;
let collector;
const { open } = useBrowserSuite({}, (shared) => ({ site, collector } = shared));

const CARDS = 30000;
const COLS = 10;
const GRID = `grid.html?n=${CARDS}&cols=${COLS}&w=70&h=50&gap=5`;

/** Scrolls one viewport per frame to the end; returns the ids on screen in some frame. */
function scrollToEnd(page) {
  return page.evaluate(async ({ cards, cols }) => {
    const grid = document.getElementById('grid');
    const first = grid.firstElementChild.getBoundingClientRect();
    const rowStep = grid.children[cols].getBoundingClientRect().top - first.top;
    const shown = new Set();
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const end = document.documentElement.scrollHeight - innerHeight;
    for (;;) {
      await frame(); // the position set in the last frame has been rendered
      const top = grid.getBoundingClientRect().top;
      for (let row = Math.max(0, Math.floor(-top / rowStep)); top + row * rowStep < innerHeight; row++) {
        if (top + row * rowStep + first.height <= 0) continue;
        for (let c = 1; c <= cols && row * cols + c <= cards; c++) shown.add(`gig-${row * cols + c}`);
      }
      if (scrollY >= end) break;
      scrollBy(0, innerHeight);
    }
    return [...shown];
  }, { cards: CARDS, cols: COLS });
}

const count = (events, type) => {
  const n = new Map();
  for (const e of events) if (e.e === type) n.set(e.id, (n.get(e.id) || 0) + 1);
  return n;
};

test(`${CARDS.toLocaleString('en-US')} cards, a scroll to the end and back: every card shown gets one impression`, async (t) => {
  const { page, problems } = await open(t, { fixture: GRID });
  const shown = await scrollToEnd(page);
  assert.ok(shown.length > CARDS * 0.99, `the scroll showed nearly every card (${shown.length})`);
  const missing = await waitInPage(page, (ids) => {
    const got = new Set(window.__it.events.filter((e) => e.e === 'imp').map((e) => e.id));
    const left = ids.filter((id) => !got.has(id));
    return left.length === 0 ? [] : (window.__it.errors.length ? left : null);
  }, shown, { timeoutMs: 60000, what: 'an impression for every card shown' });
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} cards shown without an impression`);
  let imps = count(await page.evaluate(() => window.__it.events), 'imp');
  assert.equal(imps.size, shown.length, 'no impression for a card never shown');
  assert.deepEqual([...imps].filter(([, n]) => n > 1), [], 'one impression per card');

  // Back to the top: the first rows come near and into view again and stay 1 s.
  const top = await page.evaluate(() => {
    scrollTo(0, 0);
    return [...document.querySelectorAll('#grid > [data-gig-id]')].slice(0, 40).map((el) => el.dataset.gigId);
  });
  await waitInPage(page, (ids) => {
    const viewed = new Set(window.__it.events.filter((e) => e.e === 'view').map((e) => e.id));
    return ids.every((id) => viewed.has(id));
  }, top, { timeoutMs: 20000, what: 'viewable impressions of the top cards' });
  imps = count(await page.evaluate(() => window.__it.events), 'imp');
  for (const id of top) assert.equal(imps.get(id), 1, `${id}: still one impression`);
  assert.deepEqual(await page.evaluate(() => window.__it.errors), [], 'no onError (no IMP_ERR_FULL)');
  assert.deepEqual(problems, []);
});
