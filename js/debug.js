// debug.js: the package's debug entry ('impression-tracker/debug'), kept out of the
// module entry so a tracker that is not being debugged does not ship it.
// trackerDebug({trace, onEvent, onDelivery}) makes the value of the tracker's `debug`
// option. The tracker hands it the loaded core before the core starts, and it watches
// the core's exports from outside (debug/watch.js): the trace recorder (debug/record.js;
// trace() returns the trace), onEvent(event, pageView) for each event the moment the
// core queues it (debug/events.js), and onDelivery(info) for each step of delivery
// (debug/delivery.js). An exception in a hook goes to the tracker's onError. Given to
// another tracker later, it starts a new trace. Nothing runs at import.

import { showDelivery } from './debug/delivery.js';
import { showEvents } from './debug/events.js';
import { recordTrace } from './debug/record.js';
import { coreViews, copyCore, safeHook, wrap } from './debug/watch.js';
import { X_OUTBOX_FLUSH, X_OUTBOX_NEXT, X_TAKE_BATCH, X_TICK } from './core/abi.js';

// A viewable timer the core has passed fires (imp_tick) before the outbox cuts batches
// or a take: the trace has the tick (a replay cuts the same batches) and onEvent sees
// the events before a batch takes them.
function tickBeforeCuts(core) {
  const result = coreViews(core).result;
  const due = () => result().getFloat64(0, true);
  for (const name of [X_OUTBOX_NEXT, X_OUTBOX_FLUSH, X_TAKE_BATCH]) {
    wrap(core, name, (real, t, ...args) => {
      if (due() >= 0 && due() <= t) core.exports[X_TICK](t);
      return real(t, ...args);
    });
  }
}

/**
 * @param {{trace?: boolean, onEvent?: Function, onDelivery?: Function}} [what]
 * @returns {{trace: () => string}} the `debug` option; trace() gives the trace recorded so far
 */
export function trackerDebug({ trace = false, onEvent, onDelivery } = {}) {
  let lines = [];
  return {
    trace: () => (lines.length ? `${lines.join('\n')}\n` : ''),
    /** The tracker's call: the loaded core it will use instead of `loaded`. */
    _attach(loaded, report) {
      const core = copyCore(loaded);
      lines = [];
      if (trace) recordTrace(core, lines);
      if (onEvent) showEvents(core, safeHook(onEvent, report));
      if (onDelivery) showDelivery(core, safeHook(onDelivery, report));
      tickBeforeCuts(core);
      return core;
    },
  };
}
