// The feed path of the glue (js/page/entries.js, js/page/cards.js) on a fake page with
// the real core: a whole observer callback is fed in order, in chunks, with a card the
// core refuses in the middle reported and the rest still counted; the box of a card is
// read only while it is in view; an entry's time is capped by the clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { entryOf } from './fakes/dom.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';

const impressions = (transport) => transport.events.filter((e) => e.e === 'imp').map((e) => e.id);
const traceLines = (debug, call) => debug.trace().split('\n').filter((l) => l.startsWith(`${call} `));

// An entry whose box counts its reads (boundingClientRect is a getter that builds a
// DOMRect in the browser).
function countingEntry(el, ratio, time, reads) {
  const entry = entryOf(el, ratio, { time }, false);
  Object.defineProperty(entry, 'boundingClientRect', {
    get: () => {
      reads.n++;
      return { width: 300, height: 200 };
    },
  });
  return entry;
}

describe('the observer entries of one callback', () => {
  it('are fed in order; a card the core refuses in the middle is reported and the rest count', async () => {
    const { page, transport, tracker, debug, errors } = await start({ capacity: { items: 2 } });
    const { cards: [a, b, c, d] } = addGrid(page, 4);
    await page.settle();
    const t = page.clock.t;
    // a and b take both handles; c is refused (table full); a leaves, which gives its
    // handle back, so d, later in the same callback, gets it.
    page.io.callback([entryOf(a, 1, { time: t }), entryOf(b, 1, { time: t }), entryOf(c, 1, { time: t }),
      entryOf(a, 0, { time: t }), entryOf(d, 1, { time: t })], page.io);
    assert.equal(errors.length, 1, 'one refusal reported');
    assert.match(errors[0].message, /IMP_ERR_FULL/);
    assert.equal(tracker.stats().active, true, 'a refused card stops nothing');
    tracker.flush();
    assert.deepEqual(impressions(transport), ['gig-1', 'gig-2', 'gig-4']);
    assert.deepEqual(traceLines(debug, 'eobs').map((l) => l.split(' ').slice(2, 4).join(' ')),
      ['0 1', '1 1', '0 0', '0 1'], 'a, b, a leaving, then d on the handle a gave back');
  });

  it('a callback larger than a chunk is fed over several tasks, and a later callback after it', async () => {
    const { page, transport, tracker, debug, errors } = await start();
    const { cards } = addGrid(page, 1200);
    await page.settle();
    const t = page.clock.t;
    page.io.callback(cards.map((card) => entryOf(card, 1, { time: t })), page.io);
    const fedFirst = traceLines(debug, 'eobs').length;
    assert.ok(fedFirst > 0 && fedFirst < 1200, `the first task feeds one chunk, not all (${fedFirst})`);
    // The first card leaves before the rest of the first callback is fed: its entry
    // waits behind them.
    page.io.callback([entryOf(cards[0], 0, { time: t })], page.io);
    assert.equal(traceLines(debug, 'eobs').length, fedFirst, 'nothing fed ahead of the backlog');
    page.advance(0);
    const lines = traceLines(debug, 'eobs');
    assert.equal(lines.length, 1201, 'every entry fed once');
    assert.match(lines.at(-1), /^eobs \S+ 0 0 0$/, 'the later callback last: the first card leaving, no box read');
    tracker.flush();
    assert.deepEqual(impressions(transport), cards.map((_, i) => `gig-${i + 1}`), 'impressions in the order of the entries');
    assert.deepEqual(errors, []);
  });

  it('reads the box of a card only while it is in view', async () => {
    const { page, tracker, debug, errors } = await start();
    const { cards: [card, other] } = addGrid(page, 2);
    await page.settle();
    const reads = { n: 0 };
    const t = page.clock.t;
    page.io.callback([countingEntry(card, 0, t, reads), countingEntry(other, 0, t, reads)], page.io);
    assert.equal(reads.n, 0, 'out of view and never shown: no read, no core call');
    page.io.callback([countingEntry(card, 0.6, t, reads)], page.io);
    assert.equal(reads.n, 1, 'in view: its area');
    page.io.callback([countingEntry(card, 0, t + 10, reads)], page.io);
    assert.equal(reads.n, 1, 'leaving: ratio 0 is out of view whatever its size');
    assert.deepEqual(traceLines(debug, 'eobs').map((l) => l.split(' ').slice(2).join(' ')), ['0 0.6 60000', '0 0 0']);
    assert.equal(traceLines(debug, 'unelem').length, 1, 'and its handle goes back');
    assert.deepEqual(errors, []);
  });

  it('caps an entry time from the future at the clock, and keeps an earlier one', async () => {
    const { page, tracker, debug } = await start();
    const { cards: [card] } = addGrid(page, 1);
    await page.settle();
    const t = page.clock.t;
    page.io.callback([entryOf(card, 1, { time: t - 5 })], page.io);
    page.io.callback([entryOf(card, 0.6, { time: t + 500 })], page.io);
    assert.deepEqual(traceLines(debug, 'eobs').map((l) => Number(l.split(' ')[1])), [t - 5, t]);
  });
});
