// entries.js: the observer entries of a tracker, fed to its cards in chunks. Observer
// callbacks can carry thousands of entries (a page of thousands of cards, a fast
// fling): they are queued and fed ENTRY_CHUNK per task, so none is a long task. Each
// entry keeps its own time; a page state change, a new page view or a hide feeds what
// is left first (_feedAll). An occlusion (v2) entry is queued as {_occlusion: entry}.

import { feedGeometry, feedOcclusion } from './cards.js';

const ENTRY_CHUNK = 500;

/**
 * @param cards the card state (cards.js)
 * @param env resolved environment (setTimeout, clearTimeout)
 * @param guard wraps a callback so nothing escapes into the page
 * @param pump (t) => void: after a chunk, batches and the core's timer
 * @returns {{_push(entries, fromOcclusion): void, _feedAll(): void, _stop(): void}}
 */
export function createEntryFeed(cards, env, guard, pump) {
  const backlog = [];
  let timer = null;
  const feed = (limit) => {
    for (const item of backlog.splice(0, limit)) {
      const entry = item._occlusion || item;
      const record = cards._items.get(entry.target);
      if (!record) continue;
      if (item._occlusion) feedOcclusion(cards, entry, record);
      else feedGeometry(cards, entry, record);
    }
  };
  const feedChunk = guard(() => {
    timer = null;
    feed(ENTRY_CHUNK);
    if (backlog.length) timer = env.setTimeout(feedChunk, 0);
    pump(env.now());
  });
  return {
    _push: guard((entries, fromOcclusion) => {
      for (const entry of entries) backlog.push(fromOcclusion ? { _occlusion: entry } : entry);
      if (timer === null) feedChunk();
    }),
    _feedAll: () => feed(backlog.length),
    _stop: () => {
      if (timer !== null) env.clearTimeout(timer);
    },
  };
}
