// The glue's discovery of cards on a fake page, running the real core (js/imp.wasm)
// through the real loader and the module entry (js/index.js): cards present at start,
// added later and removed, recycled nodes whose attributes change, elements the page
// hands to observe() and unobserve(), a card removed and added again counted once, and
// positions, ids, lists and paths as the core receives them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../js/index.js';
import { createPage, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { trackingTrace } from './fakes/replay.js';
import { startOnPage as start } from './fakes/tracker.js';
import { grid, kinds, startWithGrid } from './tracker-setup.js';

describe('discovery', () => {
  it('observes cards present at start, cards added later, and releases removed ones', async () => {
    const { page, transport, tracker, debug, errors } = await start();
    const first = grid(page, 2);
    await page.settle();
    assert.deepEqual([...page.io.targets], first.cards);
    const later = grid(page, 2, 'q1', 3); // infinite scroll
    await page.settle();
    assert.equal(page.io.targets.size, 4);
    page.intersect(later.cards[1], 1);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.pos, e.list]), [['imp', 'gig-4', 4, 'q1']]);
    later.cards[1].remove();
    await page.settle();
    assert.equal(page.io.targets.has(later.cards[1]), false);
    assert.match(debug.trace(), /^unelem \S+ 0$/m, 'its element handle (the first one given) is given back');
    assert.equal(tracker.stats().elements, 3);
    assert.deepEqual(errors, []);
  });

  it('observes the cards already in the page as soon as it starts', async () => {
    const page = createPage();
    const { cards } = grid(page, 3);
    const tracker = await createTracker({ endpoint: '/c', wasm: wasmBytes(), env: { ...page.env, ...fakeNetwork().env } });
    assert.deepEqual([...page.io.targets], cards);
    assert.equal(tracker.stats().elements, 3);
  });

  it('does no discovery work inside the mutation callback, only in idle time', async () => {
    const { page, tracker } = await start();
    grid(page, 3);
    await new Promise((resolve) => setImmediate(resolve)); // mutation records delivered
    assert.equal(page.io.targets.size, 0);
    assert.equal(page.clock.idle.length, 1, 'one idle callback for the whole batch');
    await page.settle();
    assert.equal(page.io.targets.size, 3);
    tracker.stop();
  });

  it('falls back to a short timer where requestIdleCallback is missing (Safari)', async () => {
    const { page } = await start({ env: { requestIdleCallback: undefined } });
    grid(page, 2);
    await page.settle();
    assert.equal(page.io.targets.size, 0);
    page.advance(50);
    assert.equal(page.io.targets.size, 2);
  });
});

describe('discovery: recycled nodes', () => {
  it('re-keys a recycled node whose id attribute changes, and follows position and list changes', async () => {
    const { page, transport, tracker, debug } = await start();
    const { container, cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    cards[0].setAttribute('data-gig-id', 'gig-9');
    cards[0].setAttribute('data-position', '7');
    await page.settle();
    assert.ok(page.io.targets.has(cards[0]), 'the node is still observed');
    page.advance(10);
    page.intersect(cards[0], 1);
    container.setAttribute('data-list-id', 'q2');
    await page.settle();
    page.advance(10);
    page.click(cards[0]);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.pos, e.list]), [
      ['imp', 'gig-1', 1, 'q1'],
      ['imp', 'gig-9', 7, 'q1'],
      ['click', 'gig-9', 7, 'q2'],
    ]);
    assert.match(trackingTrace(debug.trace()), /^unelem \S+ 0\nelem \S+ 7 gig-9 q1$/m);
  });

  it('ends the old id of a recycled node in view at once, not when discovery next runs in idle time', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1);
    page.intersect(cards[0], 1);
    page.advance(600);
    cards[0].setAttribute('data-gig-id', 'gig-9'); // a virtual list shows another card in the node
    await new Promise((resolve) => setImmediate(resolve)); // the mutation callback ran; idle time did not come
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.ms]), [['imp', 'gig-1', undefined], ['vis', 'gig-1', 600]]);
  });
});

describe('discovery: observe() and unobserve()', () => {
  it('observes elements handed to observe() with their own metadata, and unobserve() releases them', async () => {
    const { page, transport, tracker, debug } = await start({ selector: null });
    const card = page.el({ class: 'card' });
    page.document.body.append(card);
    tracker.observe(card, { id: 'manual-1', position: 2, list: 'home' });
    page.intersect(card, 0.5);
    tracker.unobserve(card);
    await null; // the card's handle goes back when the task ends
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.pos, e.list]), [['imp', 'manual-1', 2, 'home']]);
    assert.equal(page.io.targets.size, 0);
    assert.match(debug.trace(), /^unelem /m);
  });

  it('a card unobserve()d and a new element of its id observe()d in the same task (a re-render) is one card: its span goes on', async () => {
    const { page, transport, tracker, debug } = await start({ selector: null });
    const [old, next] = [page.el({ class: 'card' }), page.el({ class: 'card' })];
    page.document.body.append(old);
    tracker.observe(old, { id: 'card-1', position: 1 });
    page.intersect(old, 1);
    page.advance(600);
    old.remove();
    page.document.body.append(next);
    tracker.unobserve(old);
    tracker.observe(next, { id: 'card-1', position: 2 });
    await null;
    page.intersect(next, 1);
    page.advance(400);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.pos]), [['imp', 'card-1', 1], ['view', 'card-1', 2]], 'one impression, viewable 1 s after it');
    assert.doesNotMatch(debug.trace(), /^unelem /m, 'the handle went to the new element');
  });

  it('keeps the options of a card the page observes itself when discovery finds it again', async () => {
    const { page, transport, tracker } = await start();
    const { container, cards } = grid(page, 2);
    await page.settle();
    tracker.observe(cards[0], { id: 'own-1', position: 5, list: 'mine' });
    container.append(cards[0]); // moved: removed and added again, as a framework reorders
    cards[0].setAttribute('data-position', '2');
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.pos, e.list]), [['imp', 'own-1', 5, 'mine']]);
  });
});

describe('discovery: counts, positions and strings', () => {
  it('counts a card removed and added again (the same node, or a new one with its id) once per page view', async () => {
    const { page, transport, tracker } = await start();
    const { container, cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    page.advance(1000);
    cards[0].remove();
    await page.settle();
    container.append(cards[0]);
    await page.settle();
    page.intersect(cards[0], 1);
    cards[0].remove();
    const copy = page.el({ 'data-gig-id': 'gig-1', 'data-position': 1 });
    container.append(copy);
    await page.settle();
    page.intersect(copy, 1);
    page.advance(2000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events).filter((k) => !k.startsWith('vis')), ['imp:gig-1', 'view:gig-1']);
  });

  it('reads the position attribute as a number: odd values are that number or unknown', async () => {
    const { page, transport, tracker } = await start();
    const values = ['3.5', '-1', '1e3', ' 7 ', '7abc', '0', '', '2147483648'];
    const container = page.el({ 'data-list-id': 'q1' });
    const cards = values.map((p, i) => page.el({ 'data-gig-id': `gig-${i}`, 'data-position': p }));
    container.append(...cards);
    page.document.body.append(container);
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => e.pos), [3, undefined, 1000, 7, undefined, undefined, undefined, undefined]);
  });

  it('cuts ids, lists and paths to the core limits on a UTF-8 character boundary', async () => {
    const { page, transport, tracker } = await start({ selector: null });
    const card = page.el();
    page.document.body.append(card);
    tracker.observe(card, { id: 'é'.repeat(70), list: 'x'.repeat(100) });
    page.intersect(card, 1);
    tracker.newPageView({ path: `/${'€'.repeat(100)}?q=secret#frag` });
    tracker.flush();
    const [batch] = transport.bodies.map((b) => JSON.parse(b));
    assert.equal(batch.ev[0].id, 'é'.repeat(64));
    assert.equal(batch.ev[0].list, 'x'.repeat(64));
    const second = JSON.parse(transport.bodies.at(-1));
    assert.equal(second.path, `/${'€'.repeat(85)}`, '1 + 85 * 3 = 256 bytes, no query string');
  });

  it('writes ASCII, mixed and exactly-at-limit strings byte for byte', async () => {
    const { page, transport, tracker } = await start({ selector: null });
    const cases = [
      { id: 'gig-1', list: 'q1' },
      { id: `g${'a'.repeat(127)}`, list: `l${'b'.repeat(63)}` }, // exactly 128 and 64 bytes
      { id: 'gig-é-2', list: 'liste-ü' }, // ASCII, then a 2-byte character
      { id: 'gig-\u{1F600}', list: '' }, // a 4-byte character at the end; no list
    ];
    for (const meta of cases) {
      const card = page.el();
      page.document.body.append(card);
      tracker.observe(card, meta);
      page.intersect(card, 1);
    }
    tracker.flush();
    const events = transport.events.filter((e) => e.e === 'imp');
    assert.deepEqual(events.map((e) => [e.id, e.list ?? '']), cases.map((c) => [c.id, c.list]));
  });

  it('takes any number of pending mutation records at a new page view (300,000 in one task)', async () => {
    const { page, tracker, errors } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    for (let i = 0; i < 300000; i++) cards[0].setAttribute('data-position', i % 9 + 1); // records pending
    tracker.newPageView();
    assert.equal(tracker.stats().active, true, 'still tracking');
    assert.deepEqual(errors, []);
  });
});
