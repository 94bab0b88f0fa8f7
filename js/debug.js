// debug.js: the package's debug entry ('impression-tracker/debug'), kept out of the
// module entry so a tracker that does not debug delivery does not ship it.
// deliveryDebug(onDebug) makes the value of the `debug` option: the delivery driver
// (js/delivery/driver.js) calls it after each action it performs and each answer it
// gets, with the outbox's action record, and it calls onDebug with one plain object
// per step: {kind: 'fetch' | 'response' | 'retry' | 'beacon' | 'fetchLater' | 'store',
// ticket, ...}. Nothing runs at import.

import {
  A_BATCH, A_BODY_BYTES, A_EVENTS, A_FAILURES, A_RETRY_MS, ACT_BEACON, ACT_FETCH, ACT_LATER, ACT_NONE, ACT_STORE,
  BEACON_ACCEPTED, BEACON_THREW,
} from './core/outbox.js';

/**
 * @param {(info: {kind: string, [key: string]: unknown}) => void} onDebug
 * @returns {(kind: number, ticket?: number, outcome?: unknown, key?: string, action?: DataView) => void}
 *   the `debug` option: kind is the outbox's action kind (ACT_NONE after each
 *   imp_outbox_next); for a fetch, outcome is undefined when it is sent and
 *   [status, Retry-After ms] when it is answered
 */
export function deliveryDebug(onDebug) {
  let failures = 0;
  return (kind, ticket, outcome, key, action) => {
    const field = (offset) => action.getUint32(offset, true);
    const sizes = { ticket, events: field(A_EVENTS), bytes: field(A_BODY_BYTES) };
    const answered = kind === ACT_FETCH && outcome !== undefined;
    if (kind === ACT_FETCH && !answered) onDebug({ kind: 'fetch', ticket, batch: field(A_BATCH), ...sizes });
    else if (answered) onDebug({ kind: 'response', ticket, status: outcome[0], retryAfterMs: outcome[1] });
    else if (kind === ACT_BEACON) {
      onDebug({ kind: 'beacon', ...sizes, accepted: outcome === BEACON_ACCEPTED, threw: outcome === BEACON_THREW });
    } else if (kind === ACT_LATER) onDebug({ kind: 'fetchLater', ...sizes, registered: !!outcome });
    else if (kind === ACT_STORE) onDebug({ kind: 'store', ticket, key, events: sizes.events, outcome });
    if (kind !== ACT_NONE && !answered) return;
    // A failure the outbox counted (an answer, or a timeout found by next) starts a backoff.
    if (field(A_FAILURES) > failures) {
      onDebug({ kind: 'retry', status: answered ? outcome[0] : 0, delayMs: Math.ceil(action.getFloat64(A_RETRY_MS, true)) });
    }
    failures = field(A_FAILURES);
  };
}
