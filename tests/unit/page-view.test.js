// A new page view begun in the same task that removed cards: the glue releases every
// tracked element that left the document before the page view begins, so old cards
// (which the MutationObserver has not reported yet) never count in the new page view.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addGrid, startOnPage } from './fakes/tracker.js';

const placed = (transport, pv) => transport.bodies.map((b) => JSON.parse(b)).filter((b) => b.pv === pv)
  .flatMap((b) => b.ev.map((e) => [e.e, e.id, e.list]));

describe('new page views and removed cards', () => {
  it('cards removed just before newPageView() get nothing in the new page view', async () => {
    const { page, transport, tracker, debug, errors } = await startOnPage();
    const old = addGrid(page, 2, 'q1');
    await page.settle();
    const first = tracker.stats().pageView;
    page.intersect(old.cards[0], 1);
    page.intersect(old.cards[1], 1);
    page.advance(200);
    old.container.remove(); // a new search clears the grid...
    tracker.newPageView(); // ...and starts a page view in the same task
    const second = tracker.stats().pageView;
    assert.equal(tracker.stats().elements, 0, 'the old cards are released at once');
    const fresh = addGrid(page, 2, 'q2'); // the new results show gig-1 again
    await page.settle();
    page.intersect(fresh.cards[0], 1);
    tracker.flush();
    assert.deepEqual(placed(transport, second), [['imp', 'gig-1', 'q2']]);
    assert.deepEqual(placed(transport, first).map(([e, id]) => `${e}:${id}`), ['imp:gig-1', 'imp:gig-2', 'vis:gig-1', 'vis:gig-2']);
    const trace = debug.trace();
    assert.ok(trace.lastIndexOf('\nunelem ') < trace.lastIndexOf('\npage '), 'released before the page view began');
    assert.equal(tracker.stats().elements, 2);
    assert.deepEqual(errors, []);
  });

  it('a card node reused for another card just before newPageView(): only the new card counts in the new page view', async () => {
    const { page, transport, tracker } = await startOnPage();
    const { cards } = addGrid(page, 2, 'q1');
    await page.settle();
    const first = tracker.stats().pageView;
    for (const card of cards) page.intersect(card, 1);
    // A framework renders the next route into the same nodes (keyed by index)...
    cards.forEach((card, i) => card.setAttribute('data-gig-id', `next-${i + 1}`));
    tracker.newPageView(); // ...and the route hook runs after the commit, in the same task
    const second = tracker.stats().pageView;
    for (const card of cards) page.intersect(card, 1); // the observer re-reports re-keyed nodes
    tracker.flush();
    assert.deepEqual(placed(transport, second).filter(([e]) => e === 'imp').map(([, id]) => id), ['next-1', 'next-2']);
    assert.deepEqual(placed(transport, first).filter(([e]) => e === 'imp').map(([, id]) => id), ['gig-1', 'gig-2']);
  });

  it('a back/forward cache restore also releases cards that left the document', async () => {
    const { page, transport, tracker } = await startOnPage();
    const old = addGrid(page, 1, 'q1');
    await page.settle();
    page.intersect(old.cards[0], 1);
    page.lifecycle('pagehide', { persisted: true });
    old.container.remove();
    page.lifecycle('pageshow', { persisted: true });
    tracker.flush();
    assert.deepEqual(placed(transport, tracker.stats().pageView), []);
  });
});
