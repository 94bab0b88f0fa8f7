// driver.js: the I/O driver of the outbox. The core decides delivery (src/outbox.h,
// src/README.md "The outbox"); drive() asks it what to do next, performs the one
// action it answers (fetch, sendBeacon, fetchLater, cancel, localStorage write,
// remove, scan or purge) and reports the outcome back, until the outbox has nothing
// to do before action.deadline, which the tracker's one timer waits for. Fetch
// answers and scans under Web Locks arrive later and drive it again (d._pump).
// The functions work on one record `d` (start.js makes it): what the driver uses,
// and the little it keeps itself: the requests awaiting an answer, for aborts and
// for stats().transport, whose other counters are the outbox's.

import { OK } from '../core/abi.js';
import {
  A_BATCH, A_BEACONED, A_BODY_BYTES, A_DELIVERED, A_EVENTS, A_FAILURES, A_HELD_EVENTS, A_KIND, A_LOST, A_PURGED,
  A_STORED_EVENTS, A_TICKET, ACT_BEACON, ACT_CANCEL, ACT_FETCH, ACT_LATER, ACT_PURGE, ACT_REMOVE, ACT_SCAN, ACT_STORE,
  BEACON_ACCEPTED, BEACON_THREW, CONSENT, STORE_THREW,
} from '../core/outbox.js';
import { listRecords, removeAll, removeRecord, scanAlone, setRecord } from './io.js';
import { beacon, later, post } from './network.js';
import { scanStorage } from './scan.js';

const decoder = new TextDecoder();
const random = () => Math.random();

/**
 * Performs the outbox's actions until it has none before its deadline. d holds (names
 * are _x, shortened by the build): _outbox (js/core/outbox.js), _io (io.js), _storage
 * (localStorage or null), _endpoint, _prefix, _tab, _compress, _now, _guard(fn),
 * _check(status), _pump(), _debug(info), _report(error), _legacyLost(events); and
 * _pending (ticket -> {_abort, _events, _later}), _busy, _stopped, _failures,
 * _attempts, _batches, _storageMode, _consent.
 */
export function drive(d) {
  if (d._stopped || d._busy) return;
  d._busy = true;
  try {
    for (;;) {
      const status = d._outbox._next(d._now(), random());
      d._check(status);
      noteRetry(d, 0); // a timeout the outbox found
      if (status !== OK) break;
      perform(d, d._outbox._field(A_KIND));
    }
  } finally {
    d._busy = false;
  }
}

function perform(d, kind) {
  const ob = d._outbox;
  const ticket = ob._field(A_TICKET);
  const name = d._prefix + ob._key();
  d._batches = Math.max(d._batches, ob._field(A_BATCH));
  if (kind === ACT_FETCH) fetchBody(d, ticket);
  else if (kind === ACT_BEACON || kind === ACT_LATER) handOver(d, kind, ticket);
  else if (kind === ACT_CANCEL) {
    d._pending.get(ticket)?._abort();
    d._pending.delete(ticket);
  } else if (kind === ACT_STORE) store(d, ticket, name);
  else if (kind === ACT_REMOVE) removeRecord(d._storage, name);
  else if (kind === ACT_SCAN) scan(d);
  else if (kind === ACT_PURGE && d._storage) removeAll(d._storage, d._prefix);
}

// The action's body as sent: gzip bytes with compress, else the JSON text.
const body = (d) => (d._compress ? d._outbox._body() : decoder.decode(d._outbox._body()));

// A request or registration that can be aborted (CANCEL) and counts in stats.
function track(d, ticket, isLater) {
  const controller = d._io.AbortController ? new d._io.AbortController() : null;
  d._pending.set(ticket, { _abort: () => controller?.abort(), _events: d._outbox._field(A_EVENTS), _later: isLater });
  return controller?.signal;
}

function fetchBody(d, ticket) {
  const ob = d._outbox;
  d._attempts++;
  d._debug({ kind: 'fetch', ticket, batch: ob._field(A_BATCH), events: ob._field(A_EVENTS), bytes: ob._field(A_BODY_BYTES) });
  post(d._io, d._endpoint, body(d), track(d, ticket, false)).then(d._guard((result) => answer(d, ticket, result)));
}

function answer(d, ticket, [status, retryAfter]) {
  if (d._stopped || !d._pending.delete(ticket)) return; // aborted: the outbox expects no answer
  d._check(d._outbox._response(d._now(), ticket, status, retryAfter, random()));
  d._debug({ kind: 'response', ticket, status, retryAfterMs: retryAfter });
  noteRetry(d, status);
  d._pump();
}

// A failure the outbox counted (an answer, or a timeout) starts a backoff: the debug
// hook sees its delay.
function noteRetry(d, status) {
  const failures = d._outbox._field(A_FAILURES);
  if (failures > d._failures) d._debug({ kind: 'retry', status, delayMs: Math.ceil(d._outbox._retryMs()) });
  d._failures = failures;
}

// sendBeacon, or a fetchLater registration: answered at once.
function handOver(d, kind, ticket) {
  const ob = d._outbox;
  const info = { ticket, events: ob._field(A_EVENTS), bytes: ob._field(A_BODY_BYTES) };
  if (kind === ACT_BEACON) {
    const outcome = beacon(d._io, d._endpoint, body(d), d._report);
    d._debug({ kind: 'beacon', ...info, accepted: outcome === BEACON_ACCEPTED, threw: outcome === BEACON_THREW });
    d._check(ob._beacon(d._now(), ticket, outcome));
    return;
  }
  const registered = d._io.fetchLater ? later(d._io, d._endpoint, body(d), track(d, ticket, true)) : 0;
  if (!registered) d._pending.delete(ticket);
  d._debug({ kind: 'fetchLater', ...info, registered: !!registered });
  d._check(ob._later(d._now(), ticket, registered));
}

function store(d, ticket, name) {
  const ob = d._outbox;
  const outcome = d._storage ? setRecord(d._storage, name, decoder.decode(ob._body()), d._report) : STORE_THREW;
  if (outcome) d._storageMode = 'memory';
  d._debug({ kind: 'store', ticket, key: name, events: ob._field(A_EVENTS), outcome });
  d._check(ob._stored(d._now(), ticket, outcome));
}

// Every record of ours goes to the outbox (other tabs' live locks first); it keeps,
// leaves or removes each. Under Web Locks, one tab scans at a time.
function scan(d) {
  const run = d._guard((live) => {
    if (d._stopped) return;
    scanStorage(d, live, listRecords(d._storage, d._prefix));
    d._pump();
  });
  if (d._io.locks) scanAlone(d._io.locks, d._prefix, run).catch(() => run([]));
  else run([]);
}

/** stats().transport: event counts, mostly the outbox's counters. */
export function deliveryStats(d) {
  const field = d._outbox._field;
  let inFlight = 0;
  let deferred = 0;
  for (const p of d._pending.values()) if (p._later) deferred += p._events; else inFlight += p._events;
  const lost = field(A_LOST);
  const purged = field(A_PURGED);
  return {
    queued: field(A_HELD_EVENTS) - inFlight, inFlight, deferred, persisted: field(A_STORED_EVENTS),
    sent: field(A_DELIVERED), beaconed: field(A_BEACONED), attempts: d._attempts, batches: d._batches,
    dropped: { total: lost + purged, byReason: { lost, consent: purged } },
    consent: CONSENT[d._consent], storage: d._storageMode, online: d._io.online(),
    collector: field(A_FAILURES) ? 'failing' : 'ok',
  };
}
