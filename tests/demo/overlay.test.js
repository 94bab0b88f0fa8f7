// The marketplace's "tracker's view" overlay in headless Chromium: switched on by
// ?overlay=1, it paints on each card what the tracker reported through its debug hook
// (impression, viewable) and nothing the tracker did not report; switched off, it hides.
// Every wait is on a condition in the page, never a fixed sleep.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IN_CHROMIUM, WAIT_MS, openPage, startDemoAndBrowser, until } from './chromium.js';

/** In the page: per card, the overlay's record of it and what its panel shows. */
function cardsAsPainted() {
  const reported = window.demo.overlay.snapshot();
  return [...document.querySelectorAll('[data-gig-id]')].map((card) => {
    const panel = card.querySelector(':scope > .trk');
    return {
      id: card.dataset.gigId,
      reported: reported[card.dataset.gigId] ?? { imp: false, view: false },
      imp: Boolean(panel?.classList.contains('is-imp')),
      view: Boolean(panel?.classList.contains('is-view')),
      seen: card.classList.contains('trk-seen'),
      label: panel?.querySelector('.trk-label').textContent ?? null,
    };
  });
}

test('the overlay shows what the tracker reported about each card, and hides when switched off', IN_CHROMIUM, async (t) => {
  const { demo, browser } = await startDemoAndBrowser(t);
  const { page, pageErrors } = await openPage(browser);
  const url = new URL(demo.marketplace);
  url.searchParams.set('overlay', '1');
  await page.goto(url.href);
  await page.waitForFunction(() => document.documentElement.dataset.trackerReady, null, { timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => window.demo.overlay.enabled), true, '?overlay=1 switches it on');
  assert.equal(await page.evaluate(() => document.querySelector('#grid').classList.contains('show-trk')), true);

  // At every look, from the first impressions to the first viewable one, each panel shows
  // exactly what the tracker reported about its card.
  const cards = await until('a card the tracker reported viewable', async () => {
    const painted = await page.evaluate(cardsAsPainted);
    for (const card of painted) {
      assert.equal(card.imp, card.reported.imp, `${card.id}: impression painted as reported`);
      assert.equal(card.view, card.reported.view, `${card.id}: viewable painted as reported`);
      assert.equal(card.seen, card.reported.view, `${card.id}: the card marked seen as reported`);
      if (card.view) assert.equal(card.label, 'viewable ✓', card.id);
    }
    return painted.some((card) => card.reported.view) && painted;
  });
  const unseen = cards.find((card) => !card.reported.imp && card.label !== null);
  assert.ok(unseen, 'a card the tracker has not reported yet has a panel');
  assert.ok(!unseen.imp && !unseen.view && !unseen.seen, `${unseen.id}: nothing painted`);

  await page.evaluate(() => window.demo.overlay.setEnabled(false));
  assert.equal(await page.evaluate(() => window.demo.overlay.enabled), false);
  assert.equal(await page.evaluate(() => document.querySelector('#grid').classList.contains('show-trk')), false);
  assert.deepEqual(pageErrors, []);
});
