// Clicks and keyboard activation through the glue on a fake page, running the real
// core: one delegated capture listener, middle and modified clicks, a click after the
// card left view, a card in an open shadow root, Enter and Space (on a role="button")
// on a focused card and not their echo click, and a key press dispatched on the document
// itself, which stops nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOnPage as start } from './fakes/tracker.js';
import { kinds, startWithGrid } from './tracker-setup.js';

describe('clicks and keyboard activation', () => {
  it('counts a click inside a card, once, with one delegated capture listener', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(2);
    assert.deepEqual(page.document.listeners.map((l) => [l.type, l.capture]),
      [['click', true], ['auxclick', true], ['keydown', true]]);
    page.intersect(cards[1], 1);
    page.advance(1500);
    page.click(cards[1].children[0]);
    page.click(page.document.body); // outside any card
    tracker.flush();
    const click = transport.events.find((e) => e.e === 'click');
    assert.deepEqual([click.id, click.pos, click.list, click.since, click.seen], ['gig-2', 2, 'q1', 1500, 1]);
    assert.equal(transport.events.filter((e) => e.e === 'click').length, 1);
  });

  it('counts a middle click on a link (auxclick, button 1), a ctrl-click and each of two quick clicks; not the context menu, not a middle click on no link', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1);
    page.intersect(cards[0], 1);
    cards[0].children[0].href = '/gig-1';
    page.click(cards[0].children[0], { type: 'auxclick', button: 1 }); // opened in a new tab
    page.click(cards[0], { type: 'auxclick', button: 1 }); // on no link: opens nothing
    page.click(cards[0], { type: 'auxclick', button: 2 }); // the context menu
    page.click(cards[0], { ctrlKey: true });
    page.click(cards[0]);
    page.click(cards[0], { detail: 2 });
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'click:gig-1', 'click:gig-1', 'click:gig-1', 'click:gig-1']);
  });

  it('ties a click after the card left view (its slot reused) to its first impression, with no second one', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(2, { capacity: { items: 1 } });
    page.intersect(cards[0], 1);
    page.advance(1000);
    page.intersect(cards[0], 0);
    page.intersect(cards[1], 1); // takes the only slot
    page.intersect(cards[1], 0);
    page.advance(500);
    page.click(cards[0]);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1', 'vis:gig-1', 'imp:gig-2', 'click:gig-1']);
    const click = transport.events.at(-1);
    assert.deepEqual([click.since, click.seen, click.pos], [1500, 1, 1]);
  });

  it('counts a click on a card inside an open shadow root: the card is on the composed path, not above the target', async () => {
    const { page, transport, tracker } = await start({ selector: null });
    const host = page.el();
    const card = page.el();
    host.append(card);
    page.document.body.append(host);
    tracker.observe(card, { id: 'in-shadow' });
    page.intersect(card, 1);
    page.click(card, { target: host }); // a document listener sees the event retargeted to the host
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:in-shadow', 'click:in-shadow']);
  });

  it('counts Enter, and Space on a focused card with role="button", not on links inside it, and not the echo click', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1);
    page.key(cards[0], 'Enter');
    page.click(cards[0], { detail: 0 }); // the page's handler calls card.click()
    page.key(cards[0].children[0], 'Enter'); // a link fires its own click
    page.key(cards[0], ' ', { repeat: true });
    page.key(cards[0], 'a');
    page.advance(2000);
    page.key(cards[0], ' '); // no role: Space scrolls the page
    cards[0].setAttribute('role', 'button');
    page.key(cards[0], ' ');
    tracker.flush();
    assert.equal(transport.events.filter((e) => e.e === 'click').length, 2);
    assert.equal(transport.events[0].e, 'imp', 'a click without an impression records one first');
  });

  it('takes a key press or a right click a script dispatches on the document itself (no element) as nothing, and goes on tracking', async () => {
    const { page, transport, tracker, cards, errors } = await startWithGrid(1);
    // document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'})), as a modal's script does
    page.key(page.document, 'Escape', { composedPath: () => [page.document, page.window] });
    page.click(page.document, { type: 'auxclick', button: 2, composedPath: () => [page.document, page.window] });
    page.key(cards[0], 'Enter');
    tracker.flush();
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.equal(tracker.stats().active, true);
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'click:gig-1']);
  });
});
