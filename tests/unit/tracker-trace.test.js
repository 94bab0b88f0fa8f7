// The trace of the debug option (js/debug.js): off unless asked for, and a tracker's own
// trace replayed (native tool and js/replay.js) to the very requests it made on a fake
// page with the real core.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trackerDebug } from '../../js/debug.js';
import { replay } from '../../js/replay.js';
import { wasmBytes } from './fakes/dom.js';
import { noNativeReplay, replayedSends, replayNative } from './fakes/replay.js';
import { startOnPage as start } from './fakes/tracker.js';
import { grid } from './tracker-setup.js';

describe('trace', () => {
  it('is off unless asked for', async () => {
    const { debug } = await start({ debug: trackerDebug({}) });
    assert.equal(debug.trace(), '');
    const { tracker } = await start({ debug: undefined });
    assert.equal('trace' in tracker, false, 'the tracker keeps no trace: the debug option records it');
  });

  // The trace holds the outbox's calls too, so its replay asks for the same requests.
  // Events with their page view (a batch holds one page view's events).
  const eventsOf = (bodies) => bodies.flatMap((body) => JSON.parse(body).ev.map((event) => ({ pv: JSON.parse(body).pv, ...event })));

  it('replayed natively and by js/replay.js asks for exactly the requests the tracker made (occlusion, an id shown twice, a key press and its echo)', { skip: noNativeReplay }, async () => {
    const { page, transport, tracker, debug, errors } = await start({ batch: { maxEvents: 3 }, occlusion: true });
    const { cards } = grid(page, 6);
    const twin = grid(page, 1, 'featured', 4).cards[0]; // gig-4 shown twice: two elements, one id
    await page.settle();
    for (const [i, card] of cards.entries()) {
      page.advance(37.25);
      page.intersect(card, 0.1 * (i + 3), { width: 250 + i, height: 333.5, isVisible: false });
    }
    page.intersect(twin, 1);
    page.advance(100);
    page.occlude(cards[5], false);
    page.occlude(cards[3], false);
    page.advance(1200);
    page.click(cards[2].children[0]);
    page.key(cards[3], 'Enter');
    page.click(cards[3], { detail: 0 }); // the echo of the key press: not counted
    page.intersect(twin, 0);
    cards[4].setAttribute('data-gig-id', 'recycled');
    await page.settle();
    page.intersect(cards[4], 0.9);
    page.lifecycle('blur');
    page.hide();
    page.lifecycle('pageshow', { persisted: true });
    page.show();
    page.intersect(cards[1], 1);
    page.advance(6000);
    tracker.stop();
    assert.deepEqual(errors, []);

    const trace = debug.trace();
    for (const call of ['elem', 'eobs', 'cover', 'act', 'unelem', 'outbox', 'next', 'fetched']) {
      assert.match(trace, new RegExp(`^${call} `, 'm'), `the trace has ${call} lines`);
    }
    const native = replayNative(trace).toString('utf8');
    assert.doesNotMatch(native, /^! /m, 'every traced call is read and accepted');
    assert.equal(Buffer.from(await replay(trace, wasmBytes())).toString('utf8'), native, 'js/replay.js = native');
    // The replay asks for the very requests the tracker made, in order, body for body.
    assert.deepEqual(replayedSends(native), transport.bodies);

    // At least once: fetches still unanswered at the hide went again by beacon. The
    // collector keeps the first copy of each (pv, s); every copy is the same event.
    const delivered = [];
    const copies = new Map();
    for (const event of eventsOf(transport.bodies)) {
      const key = `${event.pv} ${event.s}`;
      if (copies.has(key)) assert.deepEqual(event, copies.get(key), `copies of ${key} differ`);
      else delivered.push(copies.set(key, event).get(key));
    }
    // What the scenario is about reached the collector: both elements of gig-4, the cover
    // rule, one click for the key press and none for its echo.
    const clicks = delivered.filter((e) => e.e === 'click').map((e) => e.id);
    assert.deepEqual(clicks.sort(), ['gig-3', 'gig-4']);
    assert.ok(delivered.some((e) => e.e === 'view' && e.id === 'gig-4'), 'gig-4 viewable');
    assert.ok(!delivered.some((e) => e.e === 'view' && e.id === 'gig-1' && e.pv === delivered[0].pv), 'gig-1, covered all along, not viewable');
  });
});
