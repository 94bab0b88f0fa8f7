// stats.js: what a tracker's stats() reports (the core's counters, the cards watched,
// delivery's figures), and the no-op tracker, given when the real one cannot run, with
// answers of the same shape.

import { R_DROPPED, R_EVENTS, R_QUEUED_BYTES, R_QUEUED_EVENTS, R_SEQ } from '../core/abi.js';
import { resultField } from '../core/core.js';
import { deliveryStats } from '../delivery/driver.js';

/** The figures of the tracker wired in `w` (tracker.js); never throws. */
export function stats(w) {
  const core = w._core;
  try {
    return {
      active: !w._stopped,
      pageView: w._pageView,
      path: w._path,
      elements: w._cards._items.size,
      queuedEvents: resultField(core, R_QUEUED_EVENTS),
      queuedBytes: resultField(core, R_QUEUED_BYTES),
      dropped: resultField(core, R_DROPPED),
      seq: resultField(core, R_SEQ),
      batches: w._batches,
      events: (resultField(core, R_EVENTS) - resultField(core, R_QUEUED_EVENTS)) >>> 0,
      transport: deliveryStats(w),
    };
  } catch (error) {
    w._report(error);
    return noopTracker().stats();
  }
}

/** The tracker given when the real one cannot run: every method does nothing. */
export function noopTracker() {
  const nothing = () => {};
  return {
    observe: nothing,
    unobserve: nothing,
    flush: nothing,
    setConsent: nothing,
    newPageView: nothing,
    stats: () => ({
      active: false, pageView: '', path: '', elements: 0, queuedEvents: 0, queuedBytes: 0,
      dropped: 0, seq: 0, batches: 0, events: 0, transport: undefined,
    }),
    stop: nothing,
  };
}
