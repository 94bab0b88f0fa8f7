// What the persistence tests in a real Chromium share (persistence.test.js,
// persistence-tabs.test.js): the prefix of the tracker's storage keys, the event ids a
// page made, observing and flushing the grid, and the check that every id reached the
// collector in valid batches.

import assert from 'node:assert/strict';
import { eventIds } from './server.js';
import { allBatchProblems } from './payload.js';
import { inViewObserved } from './browser.js';

export const PREFIX = 'impression-tracker:';
export const pageEventIds = (page) => page.evaluate(() => window.__it.events.map((e) => `${e.pv}:${e.s}`));

/** Waits for the first observations of the grid's cards in view and flushes. */
export async function observeAndFlush(page) {
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
}

/** Every id in `ids` reached the collector, in batches that pass the payload checks. */
export function assertDelivered(collector, ids) {
  const delivered = eventIds(collector.records);
  assert.deepEqual(ids.filter((id) => !delivered.has(id)), [], 'no event id missing');
  assert.deepEqual(allBatchProblems(collector.records), []);
}
