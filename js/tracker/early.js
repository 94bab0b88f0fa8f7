// early.js: what the page says before the core is ready. A tracker finds and observes
// its cards and listens for clicks and the page lifecycle while the core's .wasm still
// loads; until the core runs, every input it would pass on (observer entries,
// activations, page state and focus changes) waits here in arrival order with its own
// time, and release() hands each on, in that order and with that time, the moment the
// core is ready. An entry keeps the browser's entry.time. Entries that cannot change
// anything are not kept: an out-of-view entry of a card no kept entry showed in view
// (the first callback reports every observed card once, most of them far away). The
// buffer holds at most EARLY_LIMIT inputs, twice the core's default number of cards in
// view at once (capacity.items, 2,048: a page with more in view overflows the core
// anyway): an input (or an observer callback's entries) that does not fit is dropped
// and counted, and release() reports the count in one onError call. A core that never
// loads takes the buffer with the tracker.

import { entryRatio } from '../page/observer.js';

const EARLY_LIMIT = 4096;

/** An open buffer (_held is null once released) on the clock now(). */
export const createEarly = (now, limit = EARLY_LIMIT) => ({ _now: now, _held: [], _room: limit, _dropped: 0, _shown: new Set() });

/**
 * `fn(t, ...args)` as a listener: while the buffer is open the call waits in it with
 * its time t = now(); afterwards it runs at once. With `entries`, fn's first argument
 * is an observer callback's entries, of which only those that can change something wait.
 */
export function held(early, fn, entries) {
  return (...args) => {
    const t = early._now();
    if (!early._held) return fn(t, ...args);
    let count = 1;
    if (entries) {
      args[0] = entriesThatMatter(early, args[0], args[1]);
      count = args[0].length;
    }
    if (count > early._room) early._dropped += count;
    else if (count) {
      early._room -= count;
      early._held.push([fn, t, args]);
    }
    return undefined;
  };
}

// The entries worth keeping: all of the occlusion observer's, and the geometry
// observer's except those of a card out of view that no kept entry showed in view. A
// kept entry's card is remembered (Set.add returns the set: the entry is kept).
function entriesThatMatter(early, entries, fromOcclusion) {
  const shown = early._shown;
  return entries.filter((entry) => (fromOcclusion || entryRatio(entry) > 0 || shown.has(entry.target)) && shown.add(entry.target));
}

/**
 * Closes the buffer and hands on what it holds, oldest first. `report` hears once how
 * many inputs did not fit.
 */
export function release(early, report) {
  const items = early._held;
  early._held = early._shown = null;
  if (early._dropped) report(new Error(`impression-tracker: ${early._dropped} inputs lost before the core was ready`));
  for (const [fn, t, args] of items) fn(t, ...args);
}
