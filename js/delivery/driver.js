// driver.js: the I/O driver of the outbox. The core decides delivery (src/outbox.h,
// src/README.md "The outbox"); drive() asks it what to do next, performs the one
// action it answers (fetch, sendBeacon, fetchLater, cancel, localStorage write,
// remove, scan or purge) and tells it the outcome, until the outbox has nothing to do
// before action.deadline, which the tracker's one timer waits for. Fetch answers and
// scans under Web Locks arrive later and drive it again (w._pump).
// The functions work on the tracker's record `w` (tracker.js; start.js adds delivery's
// fields): the little the driver keeps itself is the requests awaiting an answer, for
// aborts and for stats().transport, whose other counters are the outbox's.

import {
  OK, X_OUTBOX_BEACON, X_OUTBOX_LATER, X_OUTBOX_NEXT, X_OUTBOX_RESPONSE, X_OUTBOX_STORED, X_OUTBOX_WALL,
} from '../core/abi.js';
import {
  A_BATCH, A_BEACONED, A_DELIVERED, A_EVENTS, A_FAILURES, A_HELD_EVENTS, A_INFLIGHT_EVENTS, A_KIND, A_LOST, A_PURGED, A_STORED_EVENTS,
  A_TICKET, CONSENT,
} from '../core/outbox.js';
import { removeAll, removeRecord, setRecord } from './io.js';
import { beacon, later, post } from './network.js';
import { scan } from './scan.js';

// The action's body as sent: gzip bytes with compress, else the JSON text.
const body = (w) => w._outbox._body(!w._o.compress);

// What each action kind does, (w, ticket, key), indexed by the kind (outbox.js ACT_*,
// in their order: an array costs less than an object keyed by the constants); an
// outcome known at once (beacon, fetchLater, store) is told to the outbox now.
// Storage actions come only when the outbox was told there is storage (OB_STORAGE).
const PERFORM = [
  /* ACT_NONE: never performed */ ,
  /* ACT_FETCH */ (w, ticket) => {
    w._attempts++;
    post(w._env, w._o.endpoint, body(w), track(w, ticket, 0)).then(w._guard((answer) => {
      if (!w._pending.delete(ticket)) return; // aborted: the outbox expects no answer
      tell(w, X_OUTBOX_RESPONSE, ticket, ...answer, Math.random());
      sayCollectorTrouble(w, answer[0]);
      w._pump();
    }));
  },
  /* ACT_BEACON */ (w, ticket) => tell(w, X_OUTBOX_BEACON, ticket, beacon(w._env, w._o.endpoint, body(w), w._report)),
  /* ACT_LATER */ (w, ticket) => tell(w, X_OUTBOX_LATER, ticket,
    later(w._env, w._o.endpoint, body(w), track(w, ticket, w._outbox._field(A_EVENTS))) || (w._pending.delete(ticket), 0)),
  /* ACT_CANCEL */ (w, ticket) => {
    w._pending.get(ticket)?._controller?.abort();
    w._pending.delete(ticket);
  },
  /* ACT_STORE */ (w, ticket, key) => {
    const outcome = setRecord(w._storage, key, w._outbox._body(true), w._report);
    if (outcome) w._storageMode = 'memory';
    tell(w, X_OUTBOX_STORED, ticket, outcome);
  },
  /* ACT_REMOVE */ (w, ticket, key) => removeRecord(w._storage, key),
  /* ACT_SCAN */ scan,
  /* ACT_PURGE */ (w) => removeAll(w._storage, w._prefix),
];
// Said once per tracker each (onError, or console.warn), so a new setup does not fail
// in silence: a 4xx other than 408, 413 and 429 (a wrong endpoint, or a collector that
// refuses every batch), and a third network error in a row while the browser is online
// (a wrong host, no CORS header, a CSP connect-src without the collector). The outbox's
// rules for the answers are unchanged.
function sayCollectorTrouble(w, status) {
  const unreachable = !status && w._outbox._field(A_FAILURES) > 2 && w._env.navigator?.onLine !== false;
  const trouble = unreachable ? 2 : /^4(?!08|13|29)/.test(status) ? 1 : 0; // bits of w._said
  if (trouble & ~w._said) {
    w._said |= trouble;
    w._report._warn(`endpoint ${w._o.endpoint} ${unreachable
      ? 'unreachable 3 times in a row: check its host, CORS and CSP connect-src'
      : `answered HTTP ${status}: check it and the collector`}`);
  }
}

/**
 * Tells the outbox something: its export `name` (abi.js X_OUTBOX_*) with (now, ...args).
 * Returns its status, checked; an error names the export as the .wasm does.
 */
export function tell(w, name, ...args) {
  const status = w._outbox._call(name, w._env.now(), ...args);
  w._check(status, `outbox export ${name}`);
  return status;
}

/**
 * Performs the outbox's actions until it has none before its deadline. First, when the
 * wall clock has moved apart from performance.now() (which stands still while the
 * device sleeps) by over a second, the outbox hears it: it ages batches by wall time.
 */
export function drive(w) {
  if (w._stopped || w._busy) return;
  w._busy = true;
  try {
    const epoch = w._env.wallNow() - w._env.now(); // the wall clock at performance.now() 0
    if (Math.abs(epoch - w._epoch) > 1000) tell(w, X_OUTBOX_WALL, (w._epoch = epoch));
    const ob = w._outbox;
    while (tell(w, X_OUTBOX_NEXT, Math.random()) === OK) {
      w._batches = Math.max(w._batches, ob._field(A_BATCH));
      PERFORM[ob._field(A_KIND)](w, ob._field(A_TICKET), w._prefix + ob._key());
    }
  } finally {
    w._busy = false;
  }
}

// A request or registration that can be aborted (CANCEL); a registration's events count
// in stats().transport.deferred.
function track(w, ticket, deferred) {
  const Controller = w._env.AbortController;
  const controller = Controller && new Controller();
  w._pending.set(ticket, { _controller: controller, _deferred: deferred });
  return controller?.signal;
}

/**
 * stats().transport: event counts, mostly the outbox's counters. In flight: the events
 * of held batches a fetch carries (a request let go at a hide stands for a released
 * record, as uncounted as the others until its answer counts it sent).
 */
export function deliveryStats(w) {
  const field = w._outbox._field;
  const inFlight = field(A_INFLIGHT_EVENTS);
  let deferred = 0;
  for (const p of w._pending.values()) deferred += p._deferred;
  const lost = field(A_LOST);
  const purged = field(A_PURGED);
  return {
    queued: field(A_HELD_EVENTS) - inFlight, inFlight, deferred, persisted: field(A_STORED_EVENTS),
    sent: field(A_DELIVERED), beaconed: field(A_BEACONED), attempts: w._attempts, batches: w._batches,
    dropped: { total: lost + purged, byReason: { lost, consent: purged } },
    consent: CONSENT[w._consent], storage: w._storageMode, online: w._env.navigator?.onLine !== false,
    collector: field(A_FAILURES) ? 'failing' : 'ok',
  };
}
