// start.test.js: the tracker's start in a real Chromium, with a core that arrives late
// (a `wasm` promise the test resolves only once the page has said things). The cards
// are observed before the core is ready; the cards in view at start are counted at the
// time of the browser's own first entry, and a click and a page hide made before the
// core is ready are delivered, at their times and in order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveredEvents } from './server.js';
import { cardsInView, coreTimes, traceLines, useBrowserSuite, waitInPage } from './browser.js';

let collector;
const { open } = useBrowserSuite({}, (shared) => ({ collector } = shared));

// Before any page script: the time of the first entry the browser gives for each card.
function recordFirstEntries() {
  const Native = window.IntersectionObserver;
  window.__firstEntry = {};
  window.IntersectionObserver = class extends Native {
    constructor(callback, options) {
      super((entries, observer) => {
        for (const e of entries) window.__firstEntry[e.target.getAttribute('data-gig-id')] ??= { time: e.time, in: e.isIntersecting };
        return callback(entries, observer);
      }, options);
    }
  };
}

// Starts the tracker with a core it gets only when window.__giveCore() is called.
async function startWithLateCore(page) {
  await page.evaluate(async () => {
    const { createTracker } = await import('/js/index.js');
    const { trackerDebug } = await import('/js/debug.js');
    const it = window.__it;
    const core = new Promise((resolve) => { window.__giveCore = () => resolve(fetch('/js/imp.wasm')); });
    const { trace, ...options } = it.options;
    const debug = trackerDebug({ trace, onEvent: (event, pv) => it.events.push({ pv: pv.pv, ...event }) });
    it.trace = () => debug.trace();
    it.startAt = performance.now();
    it.starting = createTracker({
      ...options,
      wasm: core,
      onError: (error) => it.errors.push(String(error.message || error)),
      debug,
    }).then((tracker) => { it.tracker = tracker; it.ready = true; });
  });
}

test('a core that arrives late: cards in view count from the first entry; a click and a hide before it arrive', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24', it: { autoStart: false }, init: [recordFirstEntries], waitReady: false });
  const inView = await cardsInView(page);
  assert.ok(inView >= 8, `${inView} cards in view`);
  await startWithLateCore(page);
  // The observer's first callback reports every card, before the core exists.
  const first = await waitInPage(page, (n) => Object.keys(window.__firstEntry).length === n && window.__firstEntry, 24, { what: 'the first entries' });
  assert.equal(await page.evaluate(() => window.__it.ready), undefined, 'the core is not ready yet');
  await page.click('[data-gig-id="gig-2"] .seller');
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  const { startAt, coreAt } = await page.evaluate(() => {
    const it = window.__it;
    it.coreAt = performance.now();
    window.__giveCore();
    return it.starting.then(() => ({ startAt: it.startAt, coreAt: it.coreAt }));
  });
  const events = await page.evaluate(() => window.__it.events);
  const pv = events[0]?.pv;
  const imps = events.filter((e) => e.e === 'imp');
  assert.equal(imps.length, inView, 'every card in view at start has its impression');
  // The trace is the core's input: the page view begins at the start, and each card's
  // first observation carries the browser's entry.time unchanged.
  const timed = coreTimes(await traceLines(page));
  const begin = Number(timed.find((x) => x.call === 'page').line.split(' ')[1]);
  const firstEntryAt = Math.min(...Object.values(first).map((x) => x.time));
  assert.ok(begin >= startAt && begin <= firstEntryAt, 'the page view begins when the tracker starts, before the first entry');
  for (const imp of imps) {
    const seen = timed.find((x) => x.call === 'eobs' && x.id === imp.id);
    assert.ok(first[imp.id].in, `${imp.id} was in view in its first entry`);
    assert.equal(Number(seen.line.split(' ')[1]), first[imp.id].time, `${imp.id} observed at its entry's time`);
    assert.ok(Math.abs(imp.t - (first[imp.id].time - begin)) <= 1, `${imp.id} at ${imp.t} ms, when its entry came`);
    assert.ok(imp.t < coreAt - begin, `${imp.id} at ${imp.t} ms, before the core arrived at ${(coreAt - begin).toFixed(1)} ms`);
  }
  const kinds = events.map((e) => `${e.e}:${e.id}`);
  const click = events.find((e) => e.e === 'click');
  assert.equal(click?.id, 'gig-2', 'the click before the core is counted');
  assert.ok(kinds.indexOf('click:gig-2') > kinds.indexOf('imp:gig-2'), 'after its impression');
  const spans = events.filter((e) => e.e === 'vis');
  assert.equal(spans.length, inView, 'the hide before the core ends every visible span');
  for (const span of spans) assert.ok(span.t >= click.t && span.t < coreAt - begin, `the span of ${span.id} ends at the hide`);
  // The hidden page's flush delivers them.
  await collector.waitFor((records) => deliveredEvents(records).filter((d) => d.pv === pv).length === events.length, 10000, 'the hide flush');
  assert.deepEqual(await page.evaluate(() => window.__it.errors), []);
});

test('a core that never loads: one onError, a tracker that does nothing, the observers gone', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=24', it: { autoStart: false }, waitReady: false });
  const result = await page.evaluate(async () => {
    const { createTracker } = await import('/js/index.js');
    const errors = [];
    const tracker = await createTracker({ ...window.__it.options, wasm: '/no-such.wasm', onError: (e) => errors.push(String(e.message)) });
    return { errors, active: tracker.stats().active };
  });
  assert.equal(result.errors.length, 1, result.errors.join('; '));
  assert.match(result.errors[0], /HTTP 404/);
  assert.equal(result.active, false);
  await page.click('[data-gig-id="gig-1"] .seller'); // nothing left listening, nothing thrown
  assert.equal(collector.records.length, 0);
});
