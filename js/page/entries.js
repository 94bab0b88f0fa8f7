// entries.js: the observer entries of a tracker, fed to its cards in chunks. Observer
// callbacks can carry thousands of entries (a page of thousands of cards, a fast
// fling): each callback's list is queued as it came (no copy, no object per entry) and
// fed ENTRY_CHUNK entries per task, so none is a long task. Each entry keeps its own
// time, capped by the clock read once per chunk; a page state change, a new page view
// or a hide feeds what is left first (_feedAll).

import { feedGeometry, feedOcclusion } from './cards.js';

const ENTRY_CHUNK = 500;

/**
 * @param cards the card state (cards.js)
 * @param env resolved environment (setTimeout, clearTimeout, now)
 * @param guard wraps a callback so nothing escapes into the page
 * @param pump () => void: after a chunk, batches and the core's timer
 * @returns {{_push(entries, fromOcclusion): void, _feedAll(): void, _stop(): void}}
 */
export function createEntryFeed(cards, env, guard, pump) {
  const pending = []; // [entries, fromOcclusion] per observer callback, oldest first
  let next = 0; // the first entry of pending[0] not fed yet
  let timer = 0; // the pending chunk's timeout, 0: none
  // The cursor moves past an entry before it is fed: anything reached from inside that
  // feed that feeds them all (a new page view, a page state change) feeds the rest
  // itself, and this loop goes on from where that one stopped.
  const feed = (limit) => {
    const now = env.now();
    for (let callback; limit-- > 0 && (callback = pending[0]);) {
      const entry = callback[0][next++];
      if (next >= callback[0].length) {
        pending.shift();
        next = 0;
      }
      (callback[1] ? feedOcclusion : feedGeometry)(cards, entry, now);
    }
  };
  const feedChunk = guard(() => {
    timer = 0;
    feed(ENTRY_CHUNK);
    if (pending.length) timer = env.setTimeout(feedChunk, 0);
    pump();
  });
  return {
    _push: guard((entries, fromOcclusion) => {
      if (entries.length) pending.push([entries, fromOcclusion]);
      if (!timer) feedChunk();
    }),
    _feedAll: () => feed(Infinity),
    _stop: () => env.clearTimeout(timer), // none set: a no-op
  };
}
