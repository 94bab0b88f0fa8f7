// retention.test.js: cards removed from the page are not kept alive by the tracker, its
// Maps or its observers (an IntersectionObserver or a ResizeObserver still watching a
// removed element keeps it). Rounds of infinite scroll replace the grid's cards: each
// round's cards are shown and counted, then removed. After a forced garbage collection
// the heap is searched for card elements no longer in the document (CDP
// Runtime.queryObjects): with discovery none is left; with `selector: null` and a page
// that never calls unobserve(), at most those added since the tracker last let go of
// the cards that left (it does whenever the cards it watches have doubled).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowserSuite, waitInPage } from './browser.js';

const { open } = useBrowserSuite();
const ROUNDS = 10;
const PER_ROUND = 40; // 4 rows of 10 small cards: all in view at once
const GRID = 'grid.html?n=0&cols=10&w=70&h=50&gap=5';

/** Replaces the grid's cards with round `round`'s; `observe`: the page observes them itself. */
function replaceCards(page, round, observe) {
  return page.evaluate(({ round, n, observe }) => {
    const cards = Array.from({ length: n }, (_, i) => {
      const card = document.createElement('div');
      card.className = 'card';
      card.dataset.gigId = `r${round}-${i}`;
      return card;
    });
    document.getElementById('grid').replaceChildren(...cards);
    if (observe) for (const card of cards) window.__it.tracker.observe(card);
    return cards.map((card) => card.dataset.gigId);
  }, { round, n: PER_ROUND, observe });
}

/** Card elements ([data-gig-id]) alive in the page's heap but not in its document, after a GC. */
async function detachedCards(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const { result: proto } = await cdp.send('Runtime.evaluate', { expression: 'HTMLDivElement.prototype', objectGroup: 'count' });
  const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.objectId, objectGroup: 'count' });
  const { result } = await cdp.send('Runtime.callFunctionOn', {
    objectId: objects.objectId,
    functionDeclaration: 'function () { return this.filter((el) => !el.isConnected && el.hasAttribute("data-gig-id")).length; }',
    returnByValue: true,
  });
  await cdp.send('Runtime.releaseObjectGroup', { objectGroup: 'count' });
  await cdp.detach();
  return result.value;
}

/** ROUNDS rounds of cards shown, each counted once, then all removed. */
async function scrollRounds(page, observe) {
  for (let round = 0; round < ROUNDS; round++) {
    const ids = await replaceCards(page, round, observe);
    await waitInPage(page, (want) => {
      const got = new Set(window.__it.events.filter((e) => e.e === 'imp').map((e) => e.id));
      return want.every((id) => got.has(id));
    }, ids, { what: `the impressions of round ${round}` });
  }
  await page.evaluate(() => document.getElementById('grid').replaceChildren());
}

test('cards removed from the page are not kept alive: with discovery, none', async (t) => {
  const { page, problems } = await open(t, { fixture: GRID });
  await scrollRounds(page, false);
  await waitInPage(page, () => window.__it.tracker.stats().elements === 0, undefined, { what: 'every removed card released' });
  assert.equal(await detachedCards(page), 0);
  const imps = await page.evaluate(() => window.__it.events.filter((e) => e.e === 'imp').length);
  assert.equal(imps, ROUNDS * PER_ROUND, 'each card counted once');
  assert.deepEqual(await page.evaluate(() => window.__it.errors), []);
  assert.deepEqual(problems, []);
});

test('cards the page observes itself and never unobserves are let go (selector: null)', async (t) => {
  const { page, problems } = await open(t, { fixture: GRID, it: { options: { selector: null } } });
  await scrollRounds(page, true);
  const held = await detachedCards(page);
  // Before, every removed card stayed (400); now a new card first lets go of those that
  // left once the cards watched have doubled since the last time (from 64).
  assert.ok(held <= 2 * PER_ROUND + 64, `${held} removed cards still alive`);
  assert.deepEqual(await page.evaluate(() => window.__it.errors), []);
  assert.deepEqual(problems, []);
});
