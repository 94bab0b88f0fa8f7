// early.js: what the page says before the core is ready. A tracker finds and observes
// its cards and listens for clicks and the page lifecycle while the core's .wasm still
// loads; until the core runs, every input it would pass on (observer entries,
// activations, page state and focus changes) waits here in arrival order with its own
// time, and release() hands each on, in that order and with that time, the moment the
// core is ready. An entry keeps the browser's entry.time. Entries that cannot change
// anything are not kept: an out-of-view entry of a card no kept entry showed in view
// (the first callback reports every observed card once, most of them far away). The
// buffer holds at most EARLY_LIMIT inputs: one that finds it full is dropped and
// counted, and release() reports the count in one onError call. A core that never
// loads takes the buffer with it (the tracker's start fails through onError).

import { entryRatio } from '../page/observer.js';

export const EARLY_LIMIT = 1024;

/** An open buffer. */
export function createEarly(limit = EARLY_LIMIT) {
  return { _held: [], _size: 0, _limit: limit, _dropped: 0, _open: true, _shown: new Set() };
}

// Keeps `count` inputs as one item [fn, t, args] when they fit; counts them otherwise.
function keep(early, count, item) {
  if (early._size + count > early._limit) {
    early._dropped += count;
    return false;
  }
  early._size += count;
  early._held.push(item);
  return true;
}

/**
 * `fn(t, ...args)` as a listener: while the buffer is open the call waits in it with
 * its time t = now(); afterwards it runs at once.
 */
export function held(early, now, fn) {
  return (...args) => {
    const t = now();
    if (early._open) keep(early, 1, [fn, t, args]);
    else fn(t, ...args);
  };
}

/**
 * An observer callback `push(entries, fromOcclusion)` that keeps, while the buffer is
 * open, the entries that can change something, as many as still fit.
 */
export function heldEntries(early, push) {
  return (entries, fromOcclusion) => {
    if (!early._open) return push(entries, fromOcclusion);
    const shown = early._shown;
    const kept = [];
    for (const entry of entries) {
      if (!fromOcclusion && !shown.has(entry.target) && !(entryRatio(entry) > 0)) continue;
      shown.add(entry.target);
      kept.push(entry);
    }
    const room = Math.max(0, Math.min(kept.length, early._limit - early._size));
    if (room) keep(early, room, [(t, list) => push(list, fromOcclusion), 0, [kept.slice(0, room)]]);
    early._dropped += kept.length - room;
    return undefined;
  };
}

/**
 * Closes the buffer and hands on what it holds, oldest first. `report` hears once how
 * many inputs did not fit.
 */
export function release(early, report) {
  const items = early._held;
  early._open = false;
  early._held = [];
  early._shown.clear();
  if (early._dropped) {
    report(new Error(`impression-tracker: ${early._dropped} inputs from before the core was ready were dropped (the first ${early._limit} are kept)`));
  }
  for (const [fn, t, args] of items) fn(t, ...args);
}

/** Closes the buffer and forgets what it holds (the core never came). */
export function dropEarly(early) {
  early._open = false;
  early._held = [];
  early._shown.clear();
}
