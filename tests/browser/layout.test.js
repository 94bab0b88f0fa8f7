// layout.test.js: what is counted on the pages a marketplace builds, in a real Chromium,
// against the geometry the test sets up (each page is written by the test into
// fixtures/stage.html before the tracker starts; Playwright's fake clock): cards that
// get or lose their pixels in place (an image loading, a collapsed card), a card
// re-rendered as a new element of the same id, carousels clipped by their scroll
// container, and the documented limits (a card hidden by `visibility`, a sticky header
// over a card, a card in a shadow root or an iframe). Each test asserts the exact events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockTo, flushAndRead, pageNow, runUntilTrace, useBrowserSuite, waitForTrace } from './browser.js';

const { open } = useBrowserSuite();

const ofType = (events, e, id) => events.filter((x) => x.e === e && (id === undefined || x.id === id));

/** Opens stage.html with `html` (and `css`) as its page, starts the tracker and its clock. */
async function stage(t, html, { css = '', options = {} } = {}) {
  const opened = await open(t, { fixture: 'stage.html', clock: true, it: { autoStart: false, options } });
  await opened.page.evaluate(([h, c]) => window.__build(h, c), [html, css]);
  await opened.page.evaluate(() => window.__it.start());
  await opened.page.clock.runFor(1);
  return opened;
}

/** A card: `style` places and sizes it. */
const card = (id, style, position = 1) => `<div data-gig-id="${id}" data-position="${position}" style="${style}"></div>`;

/** Waits for the core's observation of card `id` (after trace line `after`) for which test(ratio, area) holds. */
function observed(page, id, test, what, after = -1) {
  return waitForTrace(page, (f, of) => f[0] === 'eobs' && of === id && test(Number(f[3]), Number(f[4])), what, after);
}

test('a card that gets its pixels in place (0 px tall until its image loads) counts from then; one that collapses stops', async (t) => {
  // Both fully in the viewport all along, so the ratio IntersectionObserver gives stays 1
  // (a target with no area that intersects has ratio 1): only the area changes.
  const { page } = await stage(t, `<div data-list-id="l">${card('gig-grows', 'position:absolute;left:0;width:300px;height:0')}${
    card('gig-collapses', 'position:absolute;left:400px;width:300px;height:300px', 2)}</div>`);
  const flat = await observed(page, 'gig-grows', (r, area) => area === 0, 'the card with no area');
  const whole = await observed(page, 'gig-collapses', (r, area) => r === 1 && area === 90000, 'the card in full');
  await clockTo(page, whole.t + 300);
  await page.evaluate(() => { document.querySelector('[data-gig-id="gig-collapses"]').style.height = '0'; });
  const collapsed = await observed(page, 'gig-collapses', (r, area) => area === 0, 'the card collapsed', whole.index);
  await clockTo(page, Math.max(collapsed.t, flat.t) + 500);
  await page.evaluate(() => { document.querySelector('[data-gig-id="gig-grows"]').style.height = '300px'; });
  const grown = await observed(page, 'gig-grows', (r, area) => r === 1 && area === 90000, 'the card at its new size', flat.index);
  await clockTo(page, grown.t + 999);
  let events = await flushAndRead(page);
  const imp = (id) => ofType(events, 'imp', id)[0];
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-collapses', 'gig-grows']);
  assert.equal(imp('gig-grows').t - imp('gig-collapses').t, grown.t - whole.t, 'no impression before the card has a pixel');
  assert.deepEqual(ofType(events, 'view'), [], 'not viewable before a second with pixels');
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]), [['gig-collapses', collapsed.t - whole.t]], 'visible until it collapsed');
  await clockTo(page, grown.t + 3000);
  events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, e.t - imp('gig-grows').t]), [['gig-grows', 1000]]);
});

test('a list re-rendered with new elements of the same ids (and re-sorted) is the same cards: one impression, the second goes on', async (t) => {
  const row = (id, position) => card(id, 'width:300px;height:100px', position);
  const { page } = await stage(t, `<div id="list" data-list-id="l">${row('gig-a', 1)}${row('gig-b', 2)}</div>`);
  const a = await observed(page, 'gig-a', (r) => r === 1, 'gig-a in view');
  const b = await observed(page, 'gig-b', (r) => r === 1, 'gig-b in view');
  const first = Math.max(a.t, b.t);
  await clockTo(page, first + 600);
  await page.evaluate((html) => { document.getElementById('list').innerHTML = html; }, `${row('gig-b', 1)}${row('gig-a', 2)}`);
  const after = Math.max(a.index, b.index);
  for (const id of ['gig-a', 'gig-b']) {
    const shown = (f, of) => f[0] === 'eobs' && of === id && Number(f[3]) === 1;
    await runUntilTrace(page, shown, `the new ${id} element`, after, Math.floor(first + 999 - await pageNow(page)) - 10);
  }
  await clockTo(page, first + 999);
  let events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-a', 'gig-b'], 'one impression each');
  assert.deepEqual(ofType(events, 'view'), [], 'not viewable before 1 s');
  assert.deepEqual(ofType(events, 'vis'), [], 'no visible span ended at the re-render');
  await clockTo(page, first + 1000);
  events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, e.pos]).sort(), [['gig-a', 2], ['gig-b', 1]],
    'viewable 1 s after they showed, at their new positions');
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  const hidden = await waitForTrace(page, (f) => f[0] === 'state' && f[2] !== '0', 'the hide');
  events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.n]).sort(), [['gig-a', 1], ['gig-b', 1]], 'one span each');
  for (const id of ['gig-a', 'gig-b']) assert.equal(ofType(events, 'vis', id)[0].ms, hidden.t - (id === 'gig-a' ? a.t : b.t));
});
