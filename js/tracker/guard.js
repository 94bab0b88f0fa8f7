// guard.js: what happens when something goes wrong in a tracker (the record `w` of
// tracker.js). Every callback the page can run is guarded: after a stop it does
// nothing, and an exception becomes an onError call and a failure, which ends the
// page view (the outbox hands what it holds to a beacon or storage) and stops the
// tracker, never an exception in the host page. A call the page makes into the tracker
// while it runs (from a hook) waits for the step to end. Every core status is checked: a
// refused card is reported and skipped, any other error throws (and fails).

import { ERR_CONFIG, ERR_FULL, ERR_ID, ERR_TOO_LONG } from '../core/abi.js';
import { configField, pageEnd, statusName } from '../core/core.js';
import { drive } from '../delivery/driver.js';
import { CONFIG_OPTIONS } from './options.js';

// Statuses that refuse one card (bad id, too long, table full): the card is skipped and
// the tracker goes on. Any other negative status means the glue or the core is wrong.
const CARD_ERRORS = [ERR_ID, ERR_TOO_LONG, ERR_FULL];

/** Stops everything the tracker started; it does nothing more. */
export function teardown(w) {
  w._stopped = true;
  w._cancelCheck?.();
  w._env.clearTimeout(w._timer); // none set: a no-op
  w._entries?._stop();
  for (const stop of w._stops.splice(0)) {
    try {
      stop();
    } catch (error) {
      w._report(error);
    }
  }
}

function fail(w, error) {
  if (w._stopped) return;
  w._report._loud(error);
  try {
    // The page stops measuring: the outbox hands what it holds to a beacon or storage
    // (no core yet: nothing was measured).
    if (w._core) pageEnd(w._core, w._env.now());
    if (w._pending) drive(w); // delivery has started
  } catch (e) {
    w._report(e);
  }
  teardown(w);
}

/**
 * fn, made safe for the page: nothing after a stop, and an exception stops the tracker.
 * The outermost guarded call is a step of the tracker: when it ends, it runs the calls
 * the page made into the tracker meanwhile (w._later: from onError or a debug hook,
 * which run in the middle of the step), in order, and those they make in turn.
 */
export function guard(w, fn) {
  return (...args) => {
    if (w._stopped) return undefined;
    try {
      w._depth++;
      return fn(...args);
    } catch (error) {
      return fail(w, error);
    } finally {
      if (w._depth < 2) while (w._later.length) w._later.shift()();
      w._depth--;
    }
  };
}

/**
 * true for IMP_OK / IMP_NONE; false (after onError) for a refused card; throws otherwise.
 * name: the call, for the message (default: the core's last call, by its trace name).
 */
export function check(w, status, name = w._core._last) {
  if (status >= 0) return true;
  const option = status === ERR_CONFIG ? ` (option ${CONFIG_OPTIONS[configField(w._core) - 1] || '?'})` : '';
  const error = Object.assign(new Error(`impression-tracker: ${name} returned ${statusName(w._core, status)}${option}`), { status });
  if (!CARD_ERRORS.includes(status)) throw error;
  // A full core refuses every new card until the next page view: said once per page
  // view (w._full: said in this one; a new page view clears it).
  if (status === ERR_FULL) {
    if (w._full) return false;
    w._full = true;
  }
  w._report(error);
  return false;
}
