// Occlusion through the glue on a fake page (IntersectionObserver v2), running the real
// core: geometry from a v1 observer, a v2 observer for the cards in view only, a covered
// card an impression but not viewable, a card covered until v2 has looked, a late v2
// entry after the card left, and a browser without v2.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { entryOf } from './fakes/dom.js';
import { trackingTrace } from './fakes/replay.js';
import { startOnPage as start } from './fakes/tracker.js';
import { grid, kinds, startWithGrid } from './tracker-setup.js';

/** A tracker with occlusion on and one card, discovered. */
async function startWithOneCard() {
  const started = await startWithGrid(1, { occlusion: true });
  return { ...started, card: started.cards[0] };
}

/** The card's impression, then its viewable impression `ms` later, were sent. */
function assertViewableAfter(transport, ms, message) {
  assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
  assert.equal(transport.events[1].t - transport.events[0].t, ms, message);
}

describe('occlusion (IntersectionObserver v2)', () => {
  it('geometry comes from a v1 observer; a v2 observer watches only the cards in view', async () => {
    const { page } = await start({ occlusion: true });
    assert.equal(page.io.options.trackVisibility, undefined, 'the geometry observer is v1: every frame');
    assert.deepEqual({ ...page.occlusionIo.options }, { threshold: [0], trackVisibility: true, delay: 100 });
    assert.equal(Object.getPrototypeOf(page.occlusionIo.options), null, 'no member read from the page\'s Object.prototype');
    const { cards } = grid(page, 3);
    await page.settle();
    assert.equal(page.io.targets.size, 3);
    assert.equal(page.occlusionIo.targets.size, 0, 'nothing in view yet');
    page.intersect(cards[1], 0.5);
    assert.deepEqual([...page.occlusionIo.targets], [cards[1]]);
    page.intersect(cards[1], 0);
    assert.equal(page.occlusionIo.targets.size, 0, 'a card that left is no longer watched');
  });

  it('a covered card gets an impression but is not viewable until it is uncovered', async () => {
    const { page, transport, tracker, debug, card } = await startWithOneCard();
    page.intersect(card, 1, { isVisible: false });
    page.advance(2000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
    assert.match(trackingTrace(debug.trace()), /^eobs \S+ 0 1 60000\ncover \S+ 0 1$/m, 'v1 and v2 facts, as they came');
    page.occlude(card, false);
    page.advance(1000);
    tracker.flush();
    assertViewableAfter(transport, 3000, 'viewable 1 s after it was uncovered');
  });

  it('a fling past a card that v2 never looked at is still an impression (v1 sees every frame)', async () => {
    const { page, transport, tracker, card } = await startWithOneCard();
    page.intersect(card, 1, { v2Looks: false });
    page.advance(50);
    page.intersect(card, 0);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1'], 'an impression; no visible time on a guess');
  });
});

describe('occlusion (IntersectionObserver v2): before v2 looks, late, or missing', () => {
  it('a card counts as covered until v2 has looked at it', async () => {
    const { page, transport, tracker, card } = await startWithOneCard();
    page.intersect(card, 1, { v2Looks: false });
    page.advance(80);
    page.occlude(card, false);
    page.advance(999);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
    page.advance(1);
    tracker.flush();
    assertViewableAfter(transport, 1080, 'viewable 1 s after v2 looked');
  });

  it('a late v2 entry never brings back a card the geometry says has left', async () => {
    const { page, transport, tracker, card } = await startWithOneCard();
    page.intersect(card, 1);
    const v2 = page.occlusionIo;
    page.advance(100);
    page.intersect(card, 0);
    // An entry v2 computed before the card left, delivered after.
    v2.callback([entryOf(card, 1, { time: page.clock.t - 10 }, true)], v2);
    page.advance(2000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'vis:gig-1']);
    assert.equal(transport.events[1].ms, 100);
    // Nor does it count as v2's look when the card comes back: covered until v2 looks again.
    page.intersect(card, 1, { v2Looks: false });
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'vis:gig-1']);
  });

  it('where the browser has no v2, occlusion on makes no second observer and cards are viewable', async () => {
    const { page, transport, tracker } = await start({ occlusion: true, page: { v2: false } });
    assert.equal(page.observers.intersection.length, 1);
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
  });
});
