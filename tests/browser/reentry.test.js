// reentry.test.js: the page's hooks calling back into the tracker. onEvent (the debug
// option's) and onError run while the tracker is in the middle of a step (a batch of
// observer entries, a timer, a page view); a tracker method called from them is taken
// once that step has ended, so it neither loops inside the step nor gives a card's core
// handle back twice. A 24-card grid under the fake clock: 16 cards in view, whose first
// observer delivery is handled before createTracker() resolves (no tracker for the hooks
// to call yet); a scroll of 300 px then takes gig-1 to gig-8 out and brings gig-17 to
// gig-24 in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueEvents } from './server.js';
import { useBrowserSuite, waitInPage } from './browser.js';

let collector;
const { open } = useBrowserSuite({}, (shared) => ({ collector } = shared));

const uncaught = (problems) => problems.filter((p) => p.startsWith('pageerror'));

/**
 * Opens the grid and starts the tracker with onEvent(it, event) run at every event the
 * debug option's onEvent sees, onError(it, message) at every error (sources of function
 * bodies; it.events and it.errors keep what they saw), and `extra` options (a source
 * evaluated in the page, so it can hold functions); before(it) runs before the start.
 */
async function startWithHooks(t, { onEvent = '', onError = '', extra = '({})', before = '' }) {
  const opened = await open(t, { fixture: 'grid.html?n=24', clock: true, it: { autoStart: false } });
  await opened.page.evaluate((sources) => {
    const it = window.__it;
    const hooked = (source) => {
      const hook = new Function('it', 'x', source);
      const seen = [];
      seen.push = (x) => {
        Array.prototype.push.call(seen, x);
        hook(it, x);
        return seen.length;
      };
      return seen;
    };
    it.events = hooked(sources.onEvent);
    it.errors = hooked(sources.onError);
    new Function('it', sources.before)(it);
    return it.start(new Function(`return ${sources.extra}`)());
  }, { onEvent, onError, extra, before });
  return opened;
}

const pageViews = (page) => page.evaluate(() => new Set(window.__it.events.map((x) => x.pv)).size);
const eventsOfType = (page, e) => page.evaluate((type) => window.__it.events.filter((x) => x.e === type), e);
const state = (page) => page.evaluate(() => ({ active: window.__it.tracker.stats().active, errors: [...window.__it.errors] }));
const scroll = (page) => page.evaluate(() => window.scrollBy(0, 300));
const waitForEvents = (page, e, n, what) => waitInPage(page, ([type, count]) => window.__it.events.filter((x) => x.e === type).length >= count, [e, n], { what });

test('onEvent calling newPageView() at every impression: one page view per observer delivery, never a loop', async (t) => {
  const { page, problems } = await startWithHooks(t, { onEvent: "if (x.e === 'imp') it.tracker?.newPageView();" });
  await waitForEvents(page, 'imp', 16, 'the first 16 impressions');
  // The scroll's delivery: 8 impressions, whose calls make one page view once it has
  // been handled; the calls its own impressions make are that page view.
  await scroll(page);
  await waitForEvents(page, 'imp', 24 + 16, 'the impressions of the last rows and of a new page view');
  // The scroll's entries come in one delivery, or in two or three on a busy machine: a
  // page view per delivery, where a loop made hundreds.
  const first = await pageViews(page);
  assert.ok(first >= 2 && first <= 4, `page views after the scroll: ${first}`);
  // The viewable timers: one step, no impression, no more page views.
  await page.clock.runFor(1100);
  await waitForEvents(page, 'view', 16, 'the viewable impressions');
  const later = await pageViews(page);
  assert.ok(later <= 4, `page views after the viewable timers: ${later}`);
  assert.deepEqual(await state(page), { active: true, errors: [] });
  assert.deepEqual(uncaught(problems), []);
});

const unobserveAt = (e) => `if (x.e === '${e}') it.tracker.unobserve(document.querySelector('[data-gig-id="' + x.id + '"]'));`;
const delivered = (e) => uniqueEvents(collector.records).filter((x) => x.event.e === e).map((x) => x.event.id).sort();
const gigs = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => `gig-${from + i}`).sort();

/**
 * Starts with a hook that lets each card go at its `e` event, lets the first 16 cards be
 * seen for a second (a span of no time ends with no vis event), scrolls the top rows out
 * and checks the cards let go (`letGo`: their ids) and the `watched` rest; then flushes.
 */
async function letCardsGoAt(t, e, { extra, letGo, watched }) {
  const { page, problems } = await startWithHooks(t, { onEvent: unobserveAt(e), extra });
  await waitForEvents(page, 'imp', 16, 'the first 16 impressions');
  await page.clock.runFor(1100);
  await scroll(page);
  await waitForEvents(page, 'imp', 24, 'the impressions of the last rows');
  assert.deepEqual((await eventsOfType(page, e)).map((x) => x.id).sort(), letGo);
  assert.deepEqual(await state(page), { active: true, errors: [] });
  assert.equal(await page.evaluate(() => window.__it.tracker.stats().elements), watched, `the ${letGo.length} cards let go are not watched`);
  await page.evaluate(() => window.__it.tracker.flush());
  return { page, problems };
}

test('onEvent calling unobserve() of the card at its vis event (it left view): released once, the tracker goes on', async (t) => {
  const { page, problems } = await letCardsGoAt(t, 'vis', { letGo: gigs(1, 8), watched: 16 });
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === 24, 10000, '24 impressions');
  assert.deepEqual(delivered('vis'), gigs(1, 8));
  assert.deepEqual(await state(page), { active: true, errors: [] });
  assert.deepEqual(uncaught(problems), []);
});

// The tracker's timers run 5 s late (a busy main thread): the cards' viewable second has
// passed, unseen, when the scroll takes the top rows out of view, so the core says all
// 16 cards viewable in the call that takes gig-1 out, and the hook lets each one go.
const LATE_TIMERS = '({ env: { setTimeout: (fn, ms) => setTimeout(fn, ms + 5000), clearTimeout } })';

test('onEvent calling unobserve() of the card at its view event: released once, the tracker goes on', async (t) => {
  const { page, problems } = await letCardsGoAt(t, 'view', { extra: LATE_TIMERS, letGo: gigs(1, 16), watched: 8 });
  await page.clock.runFor(6000); // the late timers
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === 24, 10000, '24 impressions');
  assert.deepEqual(delivered('view'), gigs(1, 16));
  assert.deepEqual(delivered('vis'), gigs(1, 16), 'each card let go ends its span once');
  assert.deepEqual(await state(page), { active: true, errors: [] });
  assert.deepEqual(uncaught(problems), []);
});

test('onEvent calling setConsent(false), then stop(), at impressions: nothing thrown, nothing sent', async (t) => {
  const { page, problems } = await startWithHooks(t, {
    onEvent: `if (x.e !== 'imp' || !it.armed) return;
      it.tracker.setConsent(false);
      if ((it.calls = (it.calls || 0) + 1) === 3) it.tracker.stop();`,
  });
  await waitForEvents(page, 'imp', 16, 'the first 16 impressions');
  // Armed for the scroll's impressions only: the first 16 may come before or after
  // createTracker() resolves, as the machine's load has it.
  await page.evaluate(() => { window.__it.armed = true; });
  await scroll(page);
  await waitInPage(page, () => !window.__it.tracker.stats().active, undefined, { what: 'the tracker stopped' });
  assert.deepEqual(await page.evaluate(() => [...window.__it.errors]), []);
  assert.equal((await eventsOfType(page, 'imp')).length, 24, 'the delivery being handled was handled in full');
  await page.clock.runFor(20000);
  assert.deepEqual(collector.records, [], 'consent was withdrawn before anything was sent');
  assert.deepEqual(uncaught(problems), []);
});

test('onEvent calling flush() and onError calling newPageView(): every card counts once per page view', async (t) => {
  // With selector '.card', gig-20 has no id: the tracker says so through onError while
  // it handles the scroll's delivery.
  const { page, problems } = await startWithHooks(t, {
    onEvent: "if (x.e === 'imp') it.tracker?.flush();",
    onError: 'it.tracker.newPageView();',
    extra: "({ selector: '.card' })",
    before: "document.querySelector('[data-gig-id=\"gig-20\"]').removeAttribute('data-gig-id');",
  });
  await waitForEvents(page, 'imp', 16, 'the first 16 impressions');
  await scroll(page);
  await waitForEvents(page, 'imp', 23 + 15, 'the impressions of the last rows and of a new page view');
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === 38, 10000, '38 impressions');
  const byPageView = new Map();
  for (const { pv, event } of uniqueEvents(collector.records)) {
    if (event.e === 'imp') byPageView.set(pv, [...(byPageView.get(pv) || []), event.id]);
  }
  assert.deepEqual([...byPageView.values()].map((ids) => new Set(ids).size), [23, 15]);
  const { active, errors } = await state(page);
  assert.equal(active, true);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.deepEqual(uncaught(problems), []);
});

test('a hook that throws: reported through onError, the step goes on', async (t) => {
  const { page, problems } = await startWithHooks(t, { onEvent: "if (x.id === 'gig-1') throw new Error('hook failed');" });
  await waitForEvents(page, 'imp', 16, 'the 16 impressions');
  assert.deepEqual(await state(page), { active: true, errors: ['hook failed'] });
  await page.evaluate(() => window.__it.tracker.flush());
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === 16, 10000, '16 impressions');
  assert.deepEqual(uncaught(problems), []);
});
