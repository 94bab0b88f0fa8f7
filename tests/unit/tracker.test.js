// The glue wired to a fake page, running the real core (js/imp.wasm) through the real
// loader and the module entry (js/index.js): discovery, recycled nodes, the viewable
// rule, clicks, the lifecycle, consent, errors that must never escape, the trace
// switch, and a tracker's own trace replayed (native tool and js/replay.js) to the
// requests it made. Deliveries go to a fake network (fakes/dom.js fakeNetwork).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trackerDebug } from '../../js/debug.js';
import { createTracker } from '../../js/index.js';
import { replay } from '../../js/replay.js';
import { createPage, entryOf, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { noNativeReplay, replayedSends, replayNative, trackingTrace } from './fakes/replay.js';
import { startOnPage as start } from './fakes/tracker.js';

/** A grid: a list container with cards gig-1..gig-n at positions 1..n. */
function grid(page, n, list = 'q1', first = 1) {
  const container = page.el({ 'data-list-id': list });
  const cards = [];
  for (let i = first; i < first + n; i++) {
    const card = page.el({ 'data-gig-id': `gig-${i}`, 'data-position': i });
    card.append(page.el({}, 'A'));
    container.append(card);
    cards.push(card);
  }
  page.document.body.append(container);
  return { container, cards };
}

const kinds = (events) => events.map((e) => `${e.e}:${e.id}`);

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
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    page.advance(600);
    cards[0].setAttribute('data-gig-id', 'gig-9'); // a virtual list shows another card in the node
    await new Promise((resolve) => setImmediate(resolve)); // the mutation callback ran; idle time did not come
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.ms]), [['imp', 'gig-1', undefined], ['vis', 'gig-1', 600]]);
  });

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
});

describe('the viewable rule through the glue', () => {
  it('a card held at 50 % for 1 s is viewable; the core deadline drives the one timer', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 0.6);
    assert.equal(page.clock.timers.length, 1, 'one timer, set for the viewable deadline');
    assert.equal(page.clock.timers[0].at, page.clock.t + 1000);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
    assert.equal(transport.events[1].t - transport.events[0].t, 1000);
  });

  it('a fling past a card is an impression with a visible span but no viewable impression', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 0.8);
    page.advance(300);
    page.intersect(cards[0], 0);
    page.advance(5000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'vis:gig-1']);
    assert.equal(transport.events[1].ms, 300);
  });

  it('a large card needs 30 %; the area comes from the bounding box', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 2);
    await page.settle();
    page.intersect(cards[0], 0.35, { width: 600, height: 500 }); // 300,000 px²
    page.intersect(cards[1], 0.35, { width: 300, height: 200 });
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events.filter((e) => e.e === 'view')), ['view:gig-1']);
  });

  it('sends a batch by itself when the oldest event reaches batch.maxAgeMs', async () => {
    const { page, transport } = await start({ batch: { maxAgeMs: 2000 } });
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 0.1);
    page.advance(1999);
    assert.equal(transport.bodies.length, 0);
    page.advance(1);
    assert.equal(transport.calls.filter((c) => c.kind === 'fetch').length, 1);
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
  });

  describe('occlusion (IntersectionObserver v2)', () => {
    /** A tracker with occlusion on and one card, discovered. */
    async function startWithOneCard() {
      const started = await start({ occlusion: true });
      const { cards } = grid(started.page, 1);
      await started.page.settle();
      return { ...started, card: cards[0] };
    }

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
      assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
      assert.equal(transport.events[1].t - transport.events[0].t, 3000, 'viewable 1 s after it was uncovered');
    });

    it('a fling past a card that v2 never looked at is still an impression (v1 sees every frame)', async () => {
      const { page, transport, tracker, card } = await startWithOneCard();
      page.intersect(card, 1, { v2Looks: false });
      page.advance(50);
      page.intersect(card, 0);
      tracker.flush();
      assert.deepEqual(kinds(transport.events), ['imp:gig-1'], 'an impression; no visible time on a guess');
    });

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
      assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
      assert.equal(transport.events[1].t - transport.events[0].t, 1080, 'viewable 1 s after v2 looked');
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

  it('watches each card with the thresholds of its own rule only', async () => {
    const { page, transport, tracker } = await start({ impressionRatio: 0.1 });
    assert.deepEqual(page.io.options.threshold, [0.1, 0.5], 'small cards: impression and viewable ratios');
    const { cards } = grid(page, 2);
    await page.settle();
    page.intersect(cards[1], 0.35, { width: 1000, height: 500 });
    const large = page.observers.intersection.find((o) => o !== page.io && o.targets.has(cards[1]));
    assert.deepEqual(large?.options.threshold, [0.1, 0.3], 'a large card moves to the observer of the large-card rule');
    assert.equal(page.io.targets.has(cards[1]), false);
    page.intersect(cards[1], 0.35, { width: 1000, height: 500 });
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-2', 'view:gig-2']);
  });

  it('moves a card resized in view across largeArea to the observer of its new rule (a resize alone sends no entry)', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 3);
    await page.settle();
    const big = { width: 1000, height: 500 };
    page.intersect(cards[0], 0.4, big); // large at 40 %: viewable under the 30 % rule
    page.intersect(cards[1], 0.4); // small at 40 %: not viewable
    const large = page.observers.intersection.find((o) => o !== page.io && o.targets.has(cards[0]));
    assert.deepEqual([...page.observers.resize[0].targets], cards.slice(0, 2), 'only the cards in view are watched for size');
    page.advance(500);
    // Resized in place at 40 %, between the thresholds: only an observer that starts
    // watching a card sends an entry, its first.
    page.resize(cards[0], 300, 200);
    page.resize(cards[1], 1000, 500);
    assert.ok(page.io.targets.has(cards[0]) && large.targets.has(cards[1]), 'each card moved to the observer of its new rule');
    page.intersect(cards[0], 0.4);
    page.intersect(cards[1], 0.4, big);
    page.advance(1500);
    page.intersect(cards[1], 0);
    assert.equal(page.observers.resize[0].targets.has(cards[1]), false, 'a card that leaves is no longer watched for size');
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'imp:gig-2', 'vis:gig-1', 'view:gig-2', 'vis:gig-2']);
  });

  it('a size change reported after the card was unobserved or removed watches nothing again', async () => {
    const { page, tracker, errors } = await start();
    const { cards } = grid(page, 2);
    await page.settle();
    page.intersect(cards[0], 1);
    page.intersect(cards[1], 1);
    const sizes = page.observers.resize[0];
    const watching = (el) => page.observers.intersection.filter((o) => o.targets.has(el)).length;
    // Both grew past largeArea in the frame the page let them go; the resize callback
    // with their entries runs after.
    cards[0].getBoundingClientRect = cards[1].getBoundingClientRect = () => ({ width: 1000, height: 500 });
    tracker.unobserve(cards[0]);
    cards[1].remove();
    await page.settle();
    sizes.callback([{ target: cards[0] }, { target: cards[1] }], sizes);
    assert.deepEqual(cards.map(watching), [0, 0], 'no observer watches them');
    page.document.body.append(cards[1]); // back in the document: discovery watches it again, once
    await page.settle();
    assert.equal(watching(cards[1]), 1);
    assert.deepEqual(errors, []);
  });

  it('gives a card a core slot only while in view, and counts it once when it comes back', async () => {
    const { page, transport, tracker, debug, errors } = await start({ capacity: { items: 2 } });
    const { cards } = grid(page, 6);
    await page.settle();
    assert.equal(page.io.targets.size, 6, 'every card is watched');
    assert.equal(debug.trace().split('\n').filter((l) => l.startsWith('item ')).length, 0, 'none registered before it shows');
    // Scroll through all six, two at a time: each pair in view for 1 s, then out.
    for (let i = 0; i < 6; i += 2) {
      const pair = cards.slice(i, i + 2);
      for (const card of pair) page.intersect(card, 1);
      page.advance(1000);
      for (const card of pair) page.intersect(card, 0);
    }
    // Back to the top: the first card again, and a click.
    page.intersect(cards[0], 1);
    page.click(cards[0]);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(transport.events.filter((e) => e.e === 'imp').map((e) => e.id), ['gig-1', 'gig-2', 'gig-3', 'gig-4', 'gig-5', 'gig-6']);
    assert.equal(transport.events.filter((e) => e.e === 'view').length, 6, 'no second viewable impression');
    const click = transport.events.find((e) => e.e === 'click');
    assert.equal(click.seen, 1, 'the click knows the card was viewable before its slot was reused');
    assert.deepEqual(errors, []);
  });

  it('passes each element of an id shown twice to the core, which counts the most visible', async () => {
    const { page, transport, tracker, debug } = await start();
    const a = grid(page, 1, 'sponsored');
    const b = grid(page, 1, 'organic');
    await page.settle();
    page.intersect(a.cards[0], 0.7);
    page.intersect(b.cards[0], 0.2);
    assert.match(trackingTrace(debug.trace()), /^eobs \S+ 0 0.7 \d+\n.*\neobs \S+ 1 0.2 \d+$/m, 'one handle per element');
    page.advance(500);
    a.cards[0].remove();
    await page.settle();
    page.advance(500);
    tracker.flush();
    assert.match(debug.trace(), /^unelem \S+ 0$/m);
    assert.doesNotMatch(debug.trace(), /^unelem \S+ 1$/m, 'the other element stays');
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'vis:gig-1'], 'the span ends when the more visible one leaves');
  });
});

describe('clicks and keyboard activation', () => {
  it('counts a click inside a card, once, with one delegated capture listener', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 2);
    await page.settle();
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

  it('counts a middle click (auxclick, button 1), a ctrl-click and each of two quick clicks; not the context menu', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    page.click(cards[0].children[0], { type: 'auxclick', button: 1 }); // opened in a new tab
    page.click(cards[0], { type: 'auxclick', button: 2 }); // the context menu
    page.click(cards[0], { ctrlKey: true });
    page.click(cards[0]);
    page.click(cards[0], { detail: 2 });
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'click:gig-1', 'click:gig-1', 'click:gig-1', 'click:gig-1']);
  });

  it('ties a click after the card left view (its slot reused) to its first impression, with no second one', async () => {
    const { page, transport, tracker } = await start({ capacity: { items: 1 } });
    const { cards } = grid(page, 2);
    await page.settle();
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

  it('counts Enter and Space on a focused card, not on links inside it, and not the echo click', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    page.key(cards[0], 'Enter');
    page.click(cards[0], { detail: 0 }); // the page's handler calls card.click()
    page.key(cards[0].children[0], 'Enter'); // a link fires its own click
    page.key(cards[0], ' ', { repeat: true });
    page.key(cards[0], 'a');
    page.advance(2000);
    page.key(cards[0], ' ');
    tracker.flush();
    assert.equal(transport.events.filter((e) => e.e === 'click').length, 2);
    assert.equal(transport.events[0].e, 'imp', 'a click without an impression records one first');
  });
});

describe('page lifecycle', () => {
  it('listens in the capture phase on window and never to unload or beforeunload; stop() removes all', async () => {
    const { page, tracker, transport } = await start();
    const types = page.window.listeners.map((l) => l.type).sort();
    assert.deepEqual(types, ['animationend', 'blur', 'focus', 'freeze', 'offline', 'online', 'pagehide', 'pageshow', 'prerenderingchange',
      'resize', 'resume', 'scrollend', 'transitionend', 'visibilitychange']); // animationend, resize, scrollend, transitionend: observer.js
    assert.ok(page.window.listeners.every((l) => l.capture));
    tracker.stop();
    assert.equal(page.window.listeners.length, 0);
    assert.equal(page.document.listeners.length, 0);
    assert.equal(page.observers.mutation.length + page.observers.intersection.length, 0);
    assert.equal(page.clock.timers.length, 0);
    assert.equal(transport.sends.length, 0, 'nothing was queued, nothing sent');
  });

  it('hiding the page flushes once with sendBeacon; pagehide and freeze after it add nothing', async () => {
    const { page, transport } = await start();
    const { cards } = grid(page, 2);
    await page.settle();
    page.intersect(cards[0], 1);
    page.advance(400);
    page.hide();
    page.lifecycle('pagehide', { persisted: false });
    page.lifecycle('freeze');
    assert.deepEqual(transport.calls.map((c) => c.kind), ['beacon']);
    assert.deepEqual(kinds(JSON.parse(transport.bodies[0]).ev), ['imp:gig-1', 'vis:gig-1']);
    page.show();
    assert.equal(transport.calls.length, 1, 'nothing more when shown again');
  });

  it('a back/forward cache restore starts a new page view', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    const firstView = tracker.stats().pageView;
    page.lifecycle('pagehide', { persisted: true });
    page.lifecycle('pageshow', { persisted: true });
    page.intersect(cards[0], 1);
    tracker.flush();
    const pageViews = transport.bodies.map((b) => JSON.parse(b).pv);
    assert.notEqual(tracker.stats().pageView, firstView);
    assert.deepEqual([...new Set(pageViews)], [firstView, tracker.stats().pageView]);
    assert.ok(transport.events.filter((e) => e.e === 'imp').length === 2, 'one impression per page view');
    page.lifecycle('pageshow', { persisted: false });
    assert.equal(tracker.stats().pageView, pageViews.at(-1), 'a first load pageshow is not a restore');
  });

  it('measures nothing while prerendering, and starts on activation', async () => {
    const { page, transport, tracker } = await start({ page: { prerendering: true } });
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    page.advance(3000);
    tracker.flush();
    assert.deepEqual(transport.events, []);
    page.document.prerendering = false;
    page.lifecycle('prerenderingchange');
    page.intersect(cards[0], 1);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
  });

  it('records window focus, ignoring focus events of elements', async () => {
    const { page, transport, tracker } = await start();
    const { cards } = grid(page, 2);
    await page.settle();
    page.lifecycle('blur');
    page.window.listeners.filter((l) => l.type === 'focus').forEach((l) => l.fn({ type: 'focus', target: cards[0] }));
    page.intersect(cards[0], 1);
    page.lifecycle('focus');
    page.intersect(cards[1], 1);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => e.f), [0, 1]);
  });

  it('newPageView() starts a new page view with the path only', async () => {
    const { transport, tracker, debug } = await start();
    tracker.newPageView({ path: '/category/logo-design?ref=home#top' });
    assert.equal(tracker.stats().path, '/category/logo-design');
    assert.match(debug.trace(), /^page \S+ 0 [0-9a-f]{32} \/category\/logo-design$/m);
    assert.equal(transport.bodies.length, 0);
  });
});

describe('consent, privacy flags and the transport seam', () => {
  it('holds batches while consent is pending and sends them to the endpoint once granted', async () => {
    const { page, transport, tracker } = await start({ consent: 'pending', batch: { maxBytes: 8192 } });
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.equal(transport.sends.length, 0, 'nothing sent while pending');
    assert.equal(tracker.stats().transport.consent, 'pending');
    tracker.setConsent(true);
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
    assert.equal(transport.sends[0].url, '/collect');
    tracker.setConsent(false);
    assert.equal(tracker.stats().transport.consent, 'denied');
  });

  it('GPC in deny mode: consent denied from the start, and a grant is ignored', async () => {
    const { page, transport, tracker } = await start({ page: { gpc: true }, gpc: 'deny' });
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.setConsent(true);
    tracker.flush();
    assert.equal(transport.sends.length, 0);
    assert.equal(tracker.stats().transport.dropped.byReason.consent, 1, 'the event is purged and counted');
  });

  it('marks GPC and webdriver in the payload', async () => {
    const { page, transport, tracker } = await start({ page: { gpc: true, webdriver: true } });
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    const batch = JSON.parse(transport.bodies[0]);
    assert.equal(batch.gpc, 1);
    assert.equal(batch.wd, 1);
  });

  it('removes a record of the earlier storage format and reports its events in the next batch', async () => {
    const records = new Map([['impression-tracker:q:1:old', '{"v":1,"n":7,"b":"{}"}'], ['host', 'kept']]);
    const localStorage = {
      get length() { return records.size; },
      key: (i) => [...records.keys()][i] ?? null,
      getItem: (k) => records.get(k) ?? null,
      setItem: (k, v) => records.set(k, String(v)),
      removeItem: (k) => records.delete(k),
    };
    const { page, transport, tracker } = await start({ env: { localStorage } });
    assert.deepEqual([...records.keys()], ['host'], 'removed at the first scan; the host key stays');
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.equal(JSON.parse(transport.bodies[0]).drop, 7);
  });

  it('shows the debug hook every event with its page view', async () => {
    const seen = [];
    const { page, tracker } = await start({ onEvent: (event, batch) => seen.push([event.e, batch.pv.length]) });
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(seen, [['imp', 32], ['view', 32]]);
  });
});

describe('safety', () => {
  it('becomes a no-op and reports through onError when IntersectionObserver is missing', async () => {
    const { tracker, errors, page } = await start({ env: { IntersectionObserver: undefined } });
    assert.equal(tracker.stats().active, false);
    assert.match(String(errors[0]), /IntersectionObserver/);
    assert.doesNotThrow(() => {
      tracker.observe(page.el({ 'data-gig-id': 'x' }));
      tracker.flush();
      tracker.stop();
    });
  });

  it('becomes a no-op when WebAssembly cannot compile (a CSP without wasm-unsafe-eval)', async () => {
    const { tracker, errors } = await start({ wasm: new Uint8Array([0, 97, 115, 109, 9, 9]) });
    assert.equal(tracker.stats().active, false);
    assert.ok(errors[0] instanceof WebAssembly.CompileError);
  });

  it('becomes a no-op when the core refuses the configuration', async () => {
    const { tracker, errors, page } = await start({ viewable: { ratio: 2 } });
    assert.equal(tracker.stats().active, false);
    assert.match(errors[0].message, /start returned IMP_ERR_CONFIG/);
    assert.equal(page.window.listeners.length, 0, 'nothing left registered');
  });

  it('skips a card the core refuses (table full of cards in view) and goes on', async () => {
    const { page, transport, tracker, errors } = await start({ capacity: { items: 2 } });
    const { cards } = grid(page, 3);
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    assert.match(errors[0].message, /IMP_ERR_FULL/);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'imp:gig-2']);
    assert.equal(tracker.stats().active, true);
  });

  it('never lets an exception reach the page: a throwing onError, a broken entry, a broken transport', async () => {
    const page = createPage();
    const transport = fakeNetwork();
    const tracker = await createTracker({
      endpoint: '/collect',
      wasm: wasmBytes(),
      onError: () => {
        throw new Error('the page handler is broken too');
      },
      debug: trackerDebug({
        onDelivery: () => {
          throw new Error('the debug hook is broken');
        },
      }),
      env: {
        ...page.env,
        ...transport.env,
        fetch: () => { throw new Error('boom'); },
        sendBeacon: () => { throw new Error('boom'); },
      },
    });
    const { cards } = grid(page, 1);
    await page.settle();
    const { io } = page;
    page.intersect(cards[0], 1);
    assert.doesNotThrow(() => tracker.flush(), 'fetch throws inside flush');
    assert.equal(tracker.stats().active, true, 'a fetch that throws is a network error: the tracker goes on');
    assert.doesNotThrow(() => io.callback(null), 'a broken entry');
    assert.equal(tracker.stats().active, false, 'a failure stops the tracker');
    assert.doesNotThrow(() => io.callback([{ target: cards[0], time: 1, isIntersecting: true, intersectionRatio: 1 }]));
    assert.doesNotThrow(() => {
      page.hide();
      page.click(cards[0]);
      tracker.flush();
      tracker.stop();
    });
  });

  it('an entry the glue cannot read stops the tracker through onError, not an exception', async () => {
    const { page, tracker, errors } = await start();
    const { cards } = grid(page, 1);
    await page.settle();
    assert.doesNotThrow(() => page.io.callback([{ target: cards[0], time: 1, isIntersecting: true, intersectionRatio: 1 }]));
    assert.equal(errors.length, 1);
    assert.equal(tracker.stats().active, false);
    assert.equal(page.window.listeners.length, 0);
  });

  it('does nothing at import and starts nothing without a call', async () => {
    const page = createPage();
    await import('../../js/index.js');
    await import('../../js/embedded.js').catch(() => {}); // js/imp-embedded.js is generated by make glue
    assert.equal(page.window.listeners.length, 0);
  });
});

describe('entry points', () => {
  it('the embedded entry runs the inlined core (js/imp-embedded.js, made by make glue)', async () => {
    const { createTracker: createEmbedded } = await import('../../js/embedded.js');
    const page = createPage();
    const transport = fakeNetwork();
    const tracker = await createEmbedded({ endpoint: '/c', env: { ...page.env, ...transport.env } });
    assert.equal(tracker.stats().active, true);
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
  });

  it('the embedded entry without DecompressionStream is a no-op that says so, and tracks given the wasm option', async () => {
    const { createTracker: createEmbedded } = await import('../../js/embedded.js');
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'DecompressionStream');
    delete globalThis.DecompressionStream;
    try {
      const errors = [];
      const page = createPage();
      const env = { ...page.env, ...fakeNetwork().env };
      const tracker = await createEmbedded({ endpoint: '/c', env, onError: (e) => errors.push(e.message) });
      assert.equal(tracker.stats().active, false);
      assert.match(errors.join('\n'), /no DecompressionStream to unpack the inlined core: pass the wasm option/);
      assert.equal(page.window.listeners.length, 0, 'nothing left listening');
      const withWasm = await createEmbedded({ endpoint: '/c', env, wasm: wasmBytes() });
      assert.equal(withWasm.stats().active, true);
    } finally {
      Object.defineProperty(globalThis, 'DecompressionStream', saved);
    }
  });

  it('the module entry fetches imp.wasm from beside itself', async () => {
    const page = createPage();
    const asked = [];
    const fetch = async (url) => {
      asked.push(url);
      return new Response(wasmBytes(), { headers: { 'content-type': 'application/wasm' } });
    };
    const tracker = await createTracker({ endpoint: '/c', env: { ...page.env, ...fakeNetwork().env, fetch } });
    assert.equal(tracker.stats().active, true);
    assert.deepEqual(asked, [new URL('../../js/imp.wasm', import.meta.url).href]);
  });
});

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

