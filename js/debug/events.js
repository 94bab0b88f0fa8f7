// events.js: the onEvent hook. After each tracking call that may queue events it peeks
// at the new ones (imp_peek_event, which changes no state, through the core's text
// buffer, never the batch buffer) and shows each to the hook with the page view it
// belongs to, oldest first (js/debug.js makes a timer the core has passed fire before
// a batch is cut, so the hook sees its events first).

import {
  FLAG_GPC, FLAG_WEBDRIVER, OK, R_EVENTS, R_QUEUED_EVENTS, R_SEQ, R_TEXT_BYTES, X_ACTIVATE, X_ELEMENT_ADD,
  X_ELEMENT_COVER, X_ELEMENT_OBSERVE, X_ELEMENT_REMOVE, X_ITEM_REGISTER, X_PAGE_BEGIN, X_PAGE_END, X_PAGE_FOCUS,
  X_PAGE_STATE, X_PEEK_EVENT, X_REPORT_DROPPED, X_TEXT_PTR, X_TICK,
} from '../core/abi.js';
import { decoder } from '../core/core.js';
import { coreViews, wrap } from './watch.js';

const QUEUING = [
  X_ELEMENT_REMOVE, X_ELEMENT_OBSERVE, X_ELEMENT_COVER, X_ACTIVATE, X_PAGE_STATE,
  X_PAGE_FOCUS, X_PAGE_END, X_TICK, X_REPORT_DROPPED, X_ITEM_REGISTER, X_ELEMENT_ADD,
];

/** Shows hook(event, pageView) every event `core` (a copyCore()) queues. */
export function showEvents(core, hook) {
  const x = core.exports;
  const views = coreViews(core);
  const field = (offset) => views.result().getUint32(offset, true);
  let pageView = null; // {pv, path, wd?, gpc?} of the open page view
  let shown = 0; // result.events when the hook last looked
  // The events queued since then; the newest `ownNew` belong to the page view just
  // begun, the rest to `before`. All are peeked before the hook runs: it may call the tracker.
  const show = (before = pageView, ownNew = 0) => {
    let n = Math.min((field(R_EVENTS) - shown) >>> 0, field(R_QUEUED_EVENTS)); // older ones were dropped
    shown = field(R_EVENTS);
    const events = [];
    while (n--) {
      if (x[X_PEEK_EVENT](n) !== OK) continue;
      const text = decoder.decode(core.memoryView(x[X_TEXT_PTR](), field(R_TEXT_BYTES)));
      events.push([JSON.parse(text), n < ownNew ? pageView : before]);
    }
    for (const [event, where] of events) hook(event, where);
  };
  for (const name of QUEUING) {
    wrap(core, name, (real, ...args) => {
      const status = real(...args);
      show();
      return status;
    });
  }
  // One call can close the old page view's spans and make impressions in the new one:
  // the new page view's events are the newest result.seq of them.
  wrap(core, X_PAGE_BEGIN, (real, t, la, lb, flags) => {
    const status = real(t, la, lb, flags);
    if (status !== OK) return status;
    const before = pageView;
    const input = views.input();
    pageView = Object.freeze({
      pv: decoder.decode(input.subarray(0, la)),
      path: decoder.decode(input.subarray(la, la + lb)),
      ...(flags & FLAG_WEBDRIVER ? { wd: 1 } : {}),
      ...(flags & FLAG_GPC ? { gpc: 1 } : {}),
    });
    show(before, field(R_SEQ));
    return status;
  });
}
