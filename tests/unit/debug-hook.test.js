// The debug hook onEvent (js/debug.js) sees every event as the core queues it
// (imp_peek_event after each call that may queue one), with the page view the event
// belongs to, not when a batch is cut; and the debug option peeks only when it is set.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { activate, createCore, elementAdd, elementObserve, pageBegin, startCore } from '../../js/core/core.js';
import { trackerDebug } from '../../js/debug.js';
import { X_PEEK_EVENT } from '../../js/core/abi.js';
import { loadCore } from '../../js/core/loader.js';
import { wasmBytes } from './fakes/dom.js';
import { addGrid, startOnPage } from './fakes/tracker.js';

/** A tracker whose hook records [event, pageView] pairs. */
async function startWithHook(options = {}) {
  const seen = [];
  const started = await startOnPage({ onEvent: (event, pageView) => seen.push([event, pageView]), ...options });
  return { ...started, seen };
}

const keys = (pairs) => pairs.map(([event, pageView]) => `${pageView.pv}:${event.s}:${event.e}:${event.id}`);
const sentKeys = (transport) => transport.bodies.flatMap((body) => {
  const batch = JSON.parse(body);
  return batch.ev.map((event) => `${batch.pv}:${event.s}:${event.e}:${event.id}`);
});

describe('onEvent, the debug hook', () => {
  it('sees each event as it is queued, before any batch is cut, with its page view', async () => {
    const { page, transport, tracker, seen, errors } = await startWithHook();
    const { cards } = addGrid(page, 2);
    await page.settle();
    page.intersect(cards[0], 1);
    assert.deepEqual(seen.map(([e]) => `${e.e}:${e.id}`), ['imp:gig-1'], 'seen at once');
    assert.equal(transport.bodies.length, 0, 'no batch was cut');
    const [event, pageView] = seen[0];
    assert.deepEqual(event, { e: 'imp', s: 1, t: 0, id: 'gig-1', pos: 1, list: 'q1', f: 1 });
    assert.deepEqual(pageView, { pv: tracker.stats().pageView, path: '/search' });
    page.advance(1000); // the viewable timer
    page.click(cards[1]);
    assert.deepEqual(seen.map(([e]) => `${e.e}:${e.id}`), ['imp:gig-1', 'view:gig-1', 'imp:gig-2', 'click:gig-2']);
    tracker.flush();
    assert.equal(seen.length, 4, 'cutting a batch shows nothing again');
    assert.deepEqual(keys(seen), sentKeys(transport));
    assert.deepEqual(errors, []);
  });

  it('sees a viewable impression that comes due inside flush(), before its timer ran', async () => {
    const { page, transport, tracker, seen } = await startWithHook();
    const { cards } = addGrid(page, 1);
    await page.settle();
    page.intersect(cards[0], 0.6);
    page.clock.t += 1500; // time passes, the timer has not fired yet
    tracker.flush();
    assert.deepEqual(seen.map(([e]) => e.e), ['imp', 'view']);
    assert.deepEqual(keys(seen), sentKeys(transport));
  });

  it('gives events that close the old page view its id, and the new page view its own', async () => {
    const { page, transport, tracker, seen } = await startWithHook({ page: { gpc: true, webdriver: true } });
    const { cards } = addGrid(page, 1);
    await page.settle();
    const first = tracker.stats().pageView;
    page.intersect(cards[0], 1);
    page.advance(300);
    tracker.newPageView({ path: '/next?q=1' }); // one call: the old span ends, the card is seen again
    const second = tracker.stats().pageView;
    assert.deepEqual(seen.map(([e, pv]) => [e.e, e.s, pv.pv, pv.path]), [
      ['imp', 1, first, '/search'],
      ['vis', 2, first, '/search'],
      ['imp', 1, second, '/next'],
    ]);
    assert.deepEqual(seen[2][1], { pv: second, path: '/next', wd: 1, gpc: 1 });
    tracker.flush();
    assert.deepEqual(keys(seen), sentKeys(transport));
  });

  it('after a queue overflow, sees the newest events that are still queued', async () => {
    const { page, tracker, seen } = await startWithHook({ capacity: { queue: 2 }, batch: { maxEvents: 2 } });
    const { cards } = addGrid(page, 2);
    await page.settle();
    page.intersect(cards[0], 1);
    page.intersect(cards[1], 1); // a batch of two is due and taken
    page.advance(100);
    seen.length = 0;
    tracker.newPageView(); // four events in one call: two spans end, two impressions
    assert.deepEqual(seen.map(([e]) => `${e.e}:${e.id}:${e.s}`), ['imp:gig-1:1', 'imp:gig-2:2']);
    assert.equal(tracker.stats().dropped, 2);
  });

  it('an exception in the hook goes to onError and tracking goes on', async () => {
    const errors = [];
    const { page, transport, tracker } = await startOnPage({
      onEvent: () => { throw new Error('hook broke'); },
      onError: (error) => errors.push(error),
    });
    const { cards } = addGrid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.deepEqual(errors.map((e) => e.message), ['hook broke']);
    assert.equal(tracker.stats().active, true);
    assert.deepEqual(transport.events.map((e) => e.e), ['imp']);
  });
});

describe('the debug option and imp_peek_event', () => {
  // The loaded core with imp_peek_event counted, watched by trackerDebug(what).
  async function spiedCore(what) {
    const loaded = await loadCore(wasmBytes(), {});
    const calls = { peek: 0 };
    const exports = { ...loaded.exports, [X_PEEK_EVENT]: (back) => (calls.peek++, loaded.exports[X_PEEK_EVENT](back)) };
    const debug = trackerDebug(what);
    const core = createCore(debug._attach({ ...loaded, exports }, (error) => assert.fail(error)));
    // items, queue, queueBytes, maxEvents, maxBytes, maxAgeMs (the configuration record's order)
    assert.equal(startCore(core, [8, 16, 4096, 16, 4096, 5000]), 0);
    assert.equal(pageBegin(core, 0, 'pv-1', '/p', 0), 0);
    assert.equal(elementAdd(core, 0, 'gig-1', 'q', 1), 0);
    assert.equal(elementObserve(core, 10, 0, 1, 60000), 0);
    assert.equal(activate(core, 20, 0, 0), 0);
    return { debug, calls };
  }

  it('peeks only with onEvent, and never records a peek in the trace', async () => {
    const none = await spiedCore({ trace: true });
    assert.equal(none.calls.peek, 0);
    const shown = [];
    const hooked = await spiedCore({ trace: true, onEvent: (event, pageView) => shown.push([event.e, pageView.pv]) });
    assert.deepEqual(shown, [['imp', 'pv-1'], ['click', 'pv-1']]);
    assert.equal(hooked.calls.peek, 2);
    assert.equal(hooked.debug.trace(), none.debug.trace());
    assert.match(none.debug.trace(), /^# impression-tracker trace v1\nstart 8 16 4096 16 4096 5000 .*\npage 0 0 pv-1 \/p\nelem 0 1 gig-1 q\neobs 10 0 1 60000\nact 20 0 0\n$/);
    assert.doesNotMatch(hooked.debug.trace(), /peek/);
  });

  it('records nothing without trace: true', async () => {
    const { debug } = await spiedCore({});
    assert.equal(debug.trace(), '');
  });
});
