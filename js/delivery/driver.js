// driver.js: the I/O driver of the outbox. The core decides delivery (src/outbox.h,
// src/README.md "The outbox"); this loop asks it what to do next, performs the one
// action it answers (fetch, sendBeacon, fetchLater, cancel, localStorage write,
// remove, scan or purge) and reports the outcome back, until the outbox has nothing
// to do before action.deadline, which the tracker's one timer waits for. Fetch
// answers, scans under Web Locks and online/offline arrive later and drive it again.
// The counters of stats().transport are the outbox's, plus what is in flight here.

import {
  A_BATCH, A_BEACONED, A_BODY_BYTES, A_DELIVERED, A_EVENTS, A_FAILURES, A_HELD_EVENTS, A_KIND, A_LOST, A_PURGED,
  A_STORED_EVENTS, A_TICKET, ACT_BEACON, ACT_CANCEL, ACT_FETCH, ACT_LATER, ACT_PURGE, ACT_REMOVE, ACT_SCAN, ACT_STORE,
  BEACON_ACCEPTED, BEACON_THREW, CONSENT, STORE_THREW,
} from '../core/outbox.js';
import { OK } from '../core/abi.js';
import { holdLock, listRecords, removeAll, removeRecord, scanAlone, setRecord } from './io.js';
import { beacon, later, post } from './network.js';
import { scanStorage } from './scan.js';

/**
 * @param {object} d what the driver works with (names are _x, shortened by the build):
 *   _outbox (js/core/outbox.js), _io (io.js), _storage (localStorage or null),
 *   _storageMode (for stats), _consent (0..2), _endpoint, _prefix, _tab, _compress, _now, _guard(fn), _check(status),
 *   _pump() (drives it and re-arms the tracker's timer), _debug(info),
 *   _report(error), _legacyLost(events)
 */
export function createDriver(d) {
  const { _outbox: ob, _io: io } = d;
  const decoder = new TextDecoder();
  const pending = new Map(); // ticket -> {_abort, _events, _later}
  const state = { _consent: d._consent, _storage: d._storageMode, _attempts: 0, _batches: 0 };
  let stopped = false;
  let busy = false;
  let releaseLock = () => {};
  const field = ob._field;
  const random = () => Math.random();
  const track = (ticket, events, isLater) => {
    const controller = io.AbortController ? new io.AbortController() : null;
    pending.set(ticket, { _abort: () => controller?.abort(), _events: events, _later: isLater });
    return controller?.signal;
  };
  // A failure the outbox counted (an answer, or a timeout it found) starts a backoff.
  let failures = 0;
  const noteRetry = (status) => {
    if (field(A_FAILURES) > failures) d._debug({ kind: 'retry', status, delayMs: Math.ceil(ob._retryMs()) });
    failures = field(A_FAILURES);
  };
  const answer = d._guard((ticket, [status, retryAfter]) => {
    if (stopped || !pending.delete(ticket)) return;
    d._check(ob._response(d._now(), ticket, status, retryAfter, random()));
    d._debug({ kind: 'response', ticket, status, retryAfterMs: retryAfter });
    noteRetry(status);
    d._pump();
  });
  const body = () => (d._compress ? ob._body() : decoder.decode(ob._body()));

  const send = (kind, ticket, events) => {
    const bytes = field(A_BODY_BYTES);
    if (kind === ACT_FETCH) {
      state._attempts++;
      d._debug({ kind: 'fetch', ticket, batch: field(A_BATCH), events, bytes });
      post(io, d._endpoint, body(), track(ticket, events, false)).then((result) => answer(ticket, result));
    } else if (kind === ACT_BEACON) {
      const outcome = beacon(io, d._endpoint, body(), d._report);
      d._debug({ kind: 'beacon', ticket, events, bytes, accepted: outcome === BEACON_ACCEPTED, threw: outcome === BEACON_THREW });
      d._check(ob._beacon(d._now(), ticket, outcome));
    } else {
      const registered = io.fetchLater ? later(io, d._endpoint, body(), track(ticket, events, true)) : 0;
      if (!registered) pending.delete(ticket);
      d._debug({ kind: 'fetchLater', ticket, events, bytes, registered: !!registered });
      d._check(ob._later(d._now(), ticket, registered));
    }
  };
  const store = (ticket, name) => {
    const outcome = d._storage ? setRecord(d._storage, name, decoder.decode(ob._body()), d._report) : STORE_THREW;
    if (outcome) state._storage = 'memory';
    d._debug({ kind: 'store', ticket, key: name, events: field(A_EVENTS), outcome });
    d._check(ob._stored(d._now(), ticket, outcome));
  };
  const perform = (kind) => {
    const ticket = field(A_TICKET);
    const name = d._prefix + ob._key();
    state._batches = Math.max(state._batches, field(A_BATCH));
    if (kind <= ACT_LATER) send(kind, ticket, field(A_EVENTS));
    else if (kind === ACT_CANCEL) {
      pending.get(ticket)?._abort();
      pending.delete(ticket);
    } else if (kind === ACT_STORE) store(ticket, name);
    else if (kind === ACT_REMOVE) removeRecord(d._storage, name);
    else if (kind === ACT_SCAN) scan();
    else if (kind === ACT_PURGE && d._storage) removeAll(d._storage, d._prefix);
  };
  // Performs actions until the outbox has none before its deadline.
  const drive = () => {
    if (stopped || busy) return;
    busy = true;
    try {
      for (;;) {
        const status = ob._next(d._now(), random());
        d._check(status);
        noteRetry(0); // a timeout
        if (status !== OK) break;
        perform(field(A_KIND));
      }
    } finally {
      busy = false;
    }
  };
  // Every record of ours goes to the outbox (other tabs' live locks first); it keeps,
  // leaves or removes each. Under Web Locks, one tab scans at a time.
  const scan = () => {
    const run = d._guard((live) => {
      if (stopped) return;
      scanStorage(d, live, listRecords(d._storage, d._prefix));
      d._pump();
    });
    if (io.locks) scanAlone(io.locks, d._prefix, run).catch(() => run([]));
    else run([]);
  };

  return {
    _drive: drive,
    /** Page measuring (holds the tab's Web Lock) or not (releases it: nothing is owned then). */
    _visible(visible) {
      releaseLock();
      releaseLock = visible && io.locks && d._storage ? holdLock(io.locks, `${d._prefix}tab:${d._tab}`) : () => {};
    },
    _online: (online) => d._check(ob._online(d._now(), online ? 1 : 0)),
    /** 1 granted, 2 denied. */
    _consent(consent) {
      state._consent = consent;
      d._check(ob._consent(d._now(), consent));
    },
    _stop() {
      stopped = true;
      releaseLock();
    },
    _stats() {
      let inFlight = 0;
      let deferred = 0;
      for (const p of pending.values()) if (p._later) deferred += p._events; else inFlight += p._events;
      const lost = field(A_LOST);
      const purged = field(A_PURGED);
      return {
        queued: field(A_HELD_EVENTS) - inFlight, inFlight, deferred, persisted: field(A_STORED_EVENTS),
        sent: field(A_DELIVERED), beaconed: field(A_BEACONED), attempts: state._attempts, batches: state._batches,
        dropped: { total: lost + purged, byReason: { lost, consent: purged } },
        consent: CONSENT[state._consent], storage: state._storage, online: io.online(),
        collector: field(A_FAILURES) ? 'failing' : 'ok',
      };
    },
  };
}
