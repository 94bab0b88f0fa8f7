// The viewable rule through the glue on a fake page, running the real core: 50 % for
// 1 s (30 % for a large card, the area from the bounding box), the core's deadline as
// the one timer, a batch sent by its age, each card watched with its own rule's
// thresholds and moved when it is resized, a core slot only while in view, and the
// elements of an id shown twice. Occlusion is in tracker-occlusion.test.js.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trackingTrace } from './fakes/replay.js';
import { startOnPage as start } from './fakes/tracker.js';
import { grid, kinds, startWithGrid } from './tracker-setup.js';

describe('the viewable rule through the glue', () => {
  it('a card held at 50 % for 1 s is viewable; the core deadline drives the one timer', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1);
    page.intersect(cards[0], 0.6);
    assert.equal(page.clock.timers.length, 1, 'one timer, set for the viewable deadline');
    assert.equal(page.clock.timers[0].at, page.clock.t + 1000);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
    assert.equal(transport.events[1].t - transport.events[0].t, 1000);
  });

  it('a fling past a card is an impression with a visible span but no viewable impression', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1);
    page.intersect(cards[0], 0.8);
    page.advance(300);
    page.intersect(cards[0], 0);
    page.advance(5000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'vis:gig-1']);
    assert.equal(transport.events[1].ms, 300);
  });

  it('a large card needs 30 %; the area comes from the bounding box', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(2);
    page.intersect(cards[0], 0.35, { width: 600, height: 500 }); // 300,000 px²
    page.intersect(cards[1], 0.35, { width: 300, height: 200 });
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events.filter((e) => e.e === 'view')), ['view:gig-1']);
  });

  it('sends a batch by itself when the oldest event reaches batch.maxAgeMs', async () => {
    const { page, transport, cards } = await startWithGrid(1, { batch: { maxAgeMs: 2000 } });
    page.intersect(cards[0], 0.1);
    page.advance(1999);
    assert.equal(transport.bodies.length, 0);
    page.advance(1);
    assert.equal(transport.calls.filter((c) => c.kind === 'fetch').length, 1);
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
  });
});

describe('the viewable rule: each card\'s rule and size', () => {
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
    const { page, transport, tracker, cards } = await startWithGrid(3);
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
    const { page, tracker, errors, cards } = await startWithGrid(2);
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
});

describe('the viewable rule: core slots and elements of one id', () => {
  it('gives a card a core slot only while in view, and counts it once when it comes back', async () => {
    const { page, transport, tracker, debug, errors, cards } = await startWithGrid(6, { capacity: { items: 2 } });
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
