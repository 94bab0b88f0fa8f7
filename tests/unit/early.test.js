// The early buffer (js/tracker/early.js) on its own: order, times, what it skips and
// its bound; then a tracker on a fake page whose core arrives late: cards observed,
// clicked and hidden before the core is ready are counted at their own times, in order;
// and a core that never loads drops the buffer through onError.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createEarly, held, release } from '../../js/tracker/early.js';
import { trackerDebug } from '../../js/debug.js';
import { createTracker } from '../../js/index.js';
import { createPage, entryOf, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { addGrid } from './fakes/tracker.js';

const inView = (target, time) => entryOf(target, 1, { time });
const outOfView = (target, time) => entryOf(target, 0, { time });

describe('the early buffer', () => {
  it('holds calls with their times until release, then runs them in order and later ones at once', () => {
    let now = 10;
    const early = createEarly(() => now);
    const calls = [];
    const click = held(early, (t, what) => calls.push(['click', t, what]));
    const state = held(early, (t, what) => calls.push(['state', t, what]));
    click('a');
    now = 20;
    state('hidden');
    now = 30;
    click('b');
    assert.deepEqual(calls, [], 'nothing runs before the core is ready');
    now = 99;
    const reports = [];
    release(early, (error) => reports.push(error));
    assert.deepEqual(calls, [['click', 10, 'a'], ['state', 20, 'hidden'], ['click', 30, 'b']]);
    assert.deepEqual(reports, []);
    click('c');
    assert.deepEqual(calls.at(-1), ['click', 99, 'c']);
  });

  it('keeps the entries that can change something: in view, and whatever follows one in view', () => {
    const early = createEarly(() => 0);
    const pushed = [];
    const push = held(early, (t, entries, fromOcclusion) => pushed.push([entries.map((e) => [e.target, e.time]), fromOcclusion]), true);
    push([outOfView('far', 1), inView('near', 1), outOfView('far2', 1)], false); // the first callback
    push([outOfView('near', 5), outOfView('far', 6)], false);
    push([inView('near', 7)], true); // an occlusion entry
    release(early, () => {});
    assert.deepEqual(pushed, [[[['near', 1]], false], [[['near', 5]], false], [[['near', 7]], true]]);
    push([outOfView('far', 8)], false);
    assert.deepEqual(pushed.at(-1), [[['far', 8]], false], 'after release every entry passes');
  });

  it('when full, drops and counts what does not fit, and reports the count once at release', () => {
    const early = createEarly(() => 0, 4);
    const seen = [];
    const click = held(early, (t, what) => seen.push(what));
    const push = held(early, (t, entries) => seen.push(...entries.map((e) => e.target)), true);
    click('c1');
    push([inView('e1', 0), inView('e2', 0)], false);
    push([inView('e3', 0), inView('e4', 0)], false); // a callback that does not fit whole
    click('c2'); // fills the buffer
    click('c3');
    const reports = [];
    release(early, (error) => reports.push(error.message));
    assert.deepEqual(seen, ['c1', 'e1', 'e2', 'c2']);
    assert.deepEqual(reports, ['impression-tracker: 3 inputs lost before the core was ready']);
    click('c4');
    push([inView('e5', 0)], false);
    assert.deepEqual(seen.slice(4), ['c4', 'e5'], 'nothing is counted or dropped after release');
    assert.equal(reports.length, 1);
  });
});

// A core handed over only when the test says so.
function lateCore() {
  let give;
  const promise = new Promise((resolve) => { give = () => resolve(wasmBytes()); });
  return { promise, give };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('a tracker whose core arrives late', () => {
  it('observes at once and counts what happened before the core, at its own time and in order', async () => {
    const page = createPage();
    const { cards } = addGrid(page, 3);
    const transport = fakeNetwork();
    const errors = [];
    const core = lateCore();
    const debug = trackerDebug({ trace: true });
    const starting = createTracker({
      endpoint: '/collect', wasm: core.promise, debug, onError: (e) => errors.push(e), env: { ...page.env, ...transport.env },
    });
    assert.deepEqual([...page.io.targets], cards, 'the cards are observed before the core is ready');
    page.intersect(cards[0], 1); // at 1000, when the tracker started
    page.intersect(cards[1], 1);
    page.clock.t += 300;
    page.click(cards[1]);
    page.clock.t += 200;
    page.intersect(cards[0], 0); // left after 500 ms
    page.clock.t += 1000;
    page.hide(); // gig-2 in view for 1.5 s: viewable at 1 s
    page.clock.t += 2000; // the core arrives 3.5 s after the start
    core.give();
    const tracker = await starting;
    const events = transport.events.map((e) => [e.e, e.id, e.t, e.ms]);
    assert.deepEqual(events, [
      ['imp', 'gig-1', 0, undefined], ['imp', 'gig-2', 0, undefined], ['click', 'gig-2', 300, undefined],
      ['vis', 'gig-1', 500, 500], ['view', 'gig-2', 1000, undefined], ['vis', 'gig-2', 1500, 1500],
    ], 'each at its own time; the hide before the core is a hide at 1.5 s');
    assert.equal(transport.calls[0].kind, 'beacon');
    assert.match(debug.trace(), /^page 1000 /m, 'the page view began when the tracker started');
    assert.deepEqual(errors, []);
  });

  it('a card seen and removed before the core still counts, then is released', async () => {
    const page = createPage();
    const { cards } = addGrid(page, 2);
    const transport = fakeNetwork();
    const core = lateCore();
    const starting = createTracker({ endpoint: '/collect', wasm: core.promise, debug: trackerDebug({ trace: true }), env: { ...page.env, ...transport.env } });
    page.intersect(cards[0], 1);
    page.clock.t += 200;
    cards[0].remove();
    page.intersect(cards[0], 0); // the browser's entry for a target that left the document
    await page.settle(); // discovery sees the removal
    page.clock.t += 800;
    core.give();
    const tracker = await starting;
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.t, e.ms]), [['imp', 'gig-1', 0, undefined], ['vis', 'gig-1', 200, 200]]);
    assert.equal(tracker.stats().elements, 1, 'the removed card is released once its entries counted');
  });
});

describe('a tracker whose core arrives late: held clicks and a failed core', () => {
  it('a click held while the core loads, on a card let go before it is handed on, stops nothing and counts for no other card', async () => {
    for (const letGo of ['no longer a card', 'removed, then a back/forward cache restore']) {
      const page = createPage();
      const { cards } = addGrid(page, 2);
      const transport = fakeNetwork();
      const errors = [];
      const core = lateCore();
      const starting = createTracker({ endpoint: '/collect', wasm: core.promise, onError: (e) => errors.push(e), env: { ...page.env, ...transport.env } });
      page.intersect(cards[0], 1);
      if (letGo === 'no longer a card') {
        page.click(cards[1]);
        cards[1].removeAttribute('data-gig-id'); // discovery lets it go before the core
      } else {
        page.lifecycle('pagehide', { persisted: true });
        page.lifecycle('pageshow', { persisted: true }); // the new page view releases removed cards
        page.click(cards[1]);
        cards[1].remove();
      }
      await page.settle();
      core.give();
      const tracker = await starting;
      tracker.flush();
      assert.deepEqual(errors.map((e) => e.message), [], letGo);
      assert.equal(tracker.stats().active, true, letGo);
      const counted = transport.events.map((e) => `${e.e}:${e.id}`);
      assert.ok(counted.includes('imp:gig-1'), `${letGo}: the card in view counts: ${counted}`);
      assert.deepEqual(counted.filter((e) => e.startsWith('click')), [], `${letGo}: the click is no card's (never another card's)`);
    }
  });

  it('a core that fails to load drops the buffer: one onError, a no-op tracker, nothing observed', async () => {
    const page = createPage();
    const { cards } = addGrid(page, 1);
    const transport = fakeNetwork();
    const errors = [];
    const starting = createTracker({
      endpoint: '/collect', wasm: Promise.resolve(new Uint8Array([0, 1, 2])), onError: (e) => errors.push(e), env: { ...page.env, ...transport.env },
    });
    page.intersect(cards[0], 1);
    page.click(cards[0]);
    const tracker = await starting;
    await settled();
    assert.equal(errors.length, 1);
    assert.equal(tracker.stats().active, false);
    assert.equal(page.observers.intersection.length + page.observers.mutation.length, 0, 'the observers are gone');
    assert.equal(page.window.listeners.length + page.document.listeners.length, 0);
    assert.equal(transport.calls.length, 0);
  });
});
