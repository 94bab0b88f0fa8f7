// delivery.js: the onDelivery hook. It watches the outbox's exports (src/outbox.h) and
// shows one plain object per action the glue performs and per answer it reports:
// {kind: 'fetch' | 'response' | 'beacon' | 'fetchLater' | 'store', ticket, ...}, or
// {kind: 'retry', status, delayMs}.
// An action is shown when the outbox hands it out (fetch) or when the glue reports its
// outcome (beacon, fetchLater, store), a fetch's answer when the glue reports it, and a
// failure the outbox counted (an answer, or a timeout found by imp_outbox_next) as the
// backoff it starts.

import { OK, X_OUTBOX_BEACON, X_OUTBOX_LATER, X_OUTBOX_NEXT, X_OUTBOX_RESPONSE, X_OUTBOX_STORED } from '../core/abi.js';
import {
  A_BATCH, A_BODY_BYTES, A_EVENTS, A_FAILURES, A_KEY_BYTES, A_KIND, A_RETRY_MS, A_TICKET, ACT_FETCH, BEACON_ACCEPTED,
  BEACON_THREW,
} from '../core/outbox.js';
import { decoder } from '../core/core.js';
import { coreViews, wrap } from './watch.js';

/** Shows hook(info) each step of delivery of `core` (a copyCore()). */
export function showDelivery(core, hook) {
  const views = coreViews(core);
  const field = (offset) => views.action().getUint32(offset, true);
  const sizes = (ticket) => ({ ticket, events: field(A_EVENTS), bytes: field(A_BODY_BYTES) });
  let failures = 0;
  const retried = (status) => {
    if (field(A_FAILURES) > failures) {
      hook({ kind: 'retry', status, delayMs: Math.ceil(views.action().getFloat64(A_RETRY_MS, true)) });
    }
    failures = field(A_FAILURES);
  };
  wrap(core, X_OUTBOX_NEXT, (real, ...args) => {
    const status = real(...args);
    retried(0);
    if (status === OK && field(A_KIND) === ACT_FETCH) {
      hook({ kind: 'fetch', ticket: field(A_TICKET), batch: field(A_BATCH), ...sizes(field(A_TICKET)) });
    }
    return status;
  });
  wrap(core, X_OUTBOX_RESPONSE, (real, t, ticket, status, retryAfterMs, jitter) => {
    const told = real(t, ticket, status, retryAfterMs, jitter);
    hook({ kind: 'response', ticket, status, retryAfterMs });
    retried(status);
    return told;
  });
  // The outcome of an action performed at once, before the outbox hears it.
  const outcome = (name, info) => wrap(core, name, (real, t, ticket, result) => {
    hook(info(ticket, result));
    return real(t, ticket, result);
  });
  outcome(X_OUTBOX_BEACON, (ticket, result) => ({
    kind: 'beacon', ...sizes(ticket), accepted: result === BEACON_ACCEPTED, threw: result === BEACON_THREW,
  }));
  outcome(X_OUTBOX_LATER, (ticket, result) => ({ kind: 'fetchLater', ...sizes(ticket), registered: !!result }));
  outcome(X_OUTBOX_STORED, (ticket, result) => ({
    kind: 'store', ticket, key: decoder.decode(views.io().subarray(0, field(A_KEY_BYTES))),
    events: field(A_EVENTS), outcome: result,
  }));
}
