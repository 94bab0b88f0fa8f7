// transport.js: delivery of the core's batches to the collector (the transport seam).
//
// Owns everything between a finished batch body and the collector: fetch with
// keepalive and retry in normal operation, sendBeacon (and fetchLater where it exists)
// when the page is hidden, the keepalive byte budget, the bounded localStorage queue
// (storage.js), the two-tab claim (claim.js), retry timing (backoff.js), splitting
// (batch-split.js), consent, Global Privacy Control, and the counters of stats().
// The interface is the transport seam that js/tracker.js calls. Every global (fetch,
// sendBeacon, fetchLater, localStorage, navigator, timers, clock) is resolved lazily
// from `env` or globalThis at call time; nothing runs at import; no method throws.
//
// Delivery rules in brief (README "Delivery guarantees" has the full list):
//  - visible page: fetch(endpoint, {method:'POST', body: string, keepalive: true,
//    credentials: 'omit', mode: 'cors'}), 5 s timeout; 2xx = delivered; 408/429/5xx/0
//    and other unexpected statuses are retried with one global backoff (1 s doubling to
//    60 s, jitter, or Retry-After); 400/401/403/410/413/422 drop the batch (onDropped).
//    While the collector is failing, only one request is in flight.
//  - what cannot be sent now (offline, failing collector) is also written to
//    localStorage, owned by this tab with a lease, and removed once delivered.
//  - page hidden: fresh batches go to sendBeacon (true = queued, not delivered), split
//    in halves when refused; batches that already failed, batches over the keepalive
//    budget, everything while offline, and copies of requests still in flight are
//    written to storage released (no owner) for the next page load or another tab.
//  - a batch lost to a bound or the age limit: its event count (plus its own "drop") is
//    added to the "drop" of the oldest batch still held, in memory or storage (same page
//    view first), so the loss reaches the collector with the data; onDropped only when
//    no held batch can take it.
//  - fetchLater (where it exists): each batch not yet confirmed also has a pending
//    deferred request that the browser sends when the document is destroyed (even after
//    a renderer crash); it is aborted as soon as the batch is delivered, dropped or
//    handed to sendBeacon.

import { classifyStatus, backoffDelayMs, parseRetryAfter } from './backoff.js';
import { splitToFit, halveBatch, countEvents, utf8Length, headerOf, addDrop } from './batch-split.js';
import { createBatchStore } from './storage.js';
import { createClaimer } from './claim.js';

// Numeric options and their defaults; a value that is not a positive finite number takes
// the default. maxBodyBytes is then held to 4096 (the core's smallest batch cap: any one
// event, fully escaped, fits) .. 61440, keepaliveBudgetBytes (our share of the 64 KiB
// keepalive quota that the host page and other scripts share) to maxBodyBytes .. 65536,
// deferredBudgetBytes (our share of fetchLater's 64 KiB per-origin quota) to 65536.
const NUMBERS = {
  maxBodyBytes: 16384, keepaliveBudgetBytes: 49152, deferredBudgetBytes: 49152, timeoutMs: 5000,
  leaseMs: 30000, maxAgeMs: 864e5, maxQueuedEvents: 5000, maxQueuedBytes: 1048576,
  maxStoredEvents: 5000, maxStoredBytes: 524288,
};
const MAX_SPLIT_DEPTH = 6;
const READOPT_DELAY_MS = 2000;
const CLAIM_CONFIRM_MS = 250;

/**
 * GPC modes (option `gpc`), applied when navigator.globalPrivacyControl === true:
 *  'memory-only' (default): batches are still sent (the glue marks them "gpc":1) but
 *      nothing is written to or read from localStorage; what cannot be sent before
 *      the page ends is lost (and fetchLater/sendBeacon still try).
 *  'deny': treated as consent denied: nothing is sent or stored.
 *  'ignore': GPC changes nothing in the transport.
 */
const GPC_MODES = ['memory-only', 'deny', 'ignore'];

/**
 * Creates the transport (the seam: send, sendNow, pageHidden, pageShown, setConsent,
 * stats, stop; plus settled() for tests). Options: endpoint, maxBodyBytes (16384;
 * 4096..61440), consent ('granted' | 'pending' | 'denied'), gpc ('memory-only' |
 * 'deny' | 'ignore'), storageKey ('impression-tracker:'), onDropped(count) (events lost
 * that no held batch's "drop" can carry: for the core's next batch), onDebug(info),
 * onError(error), env; and the bounds maxStoredEvents (5000), maxStoredBytes (524288),
 * maxQueuedEvents (5000), maxQueuedBytes (1048576), keepaliveBudgetBytes (49152),
 * deferredBudgetBytes (49152), timeoutMs (5000), leaseMs (30000), maxAgeMs (24 h).
 * env may replace fetch, sendBeacon, fetchLater, localStorage, navigator (onLine,
 * globalPrivacyControl, locks, sendBeacon), addEventListener, removeEventListener,
 * setTimeout, clearTimeout, now (a WALL clock: ms since the epoch, since stored batches
 * are compared across page loads), random, AbortController. null means "absent".
 */
export function createTransport(options) {
  const g = globalThis;
  const opts = options && typeof options === 'object' ? options : {};
  const env = opts.env && typeof opts.env === 'object' ? opts.env : {};
  const endpoint = typeof opts.endpoint === 'string' ? opts.endpoint : '';
  const prefix = typeof opts.storageKey === 'string' && opts.storageKey !== '' ? opts.storageKey : 'impression-tracker:';
  const number = (name) => {
    const v = opts[name];
    return typeof v === 'number' && v > 0 && v < Infinity ? v : NUMBERS[name];
  };
  const maxBodyBytes = Math.max(4096, Math.min(61440, Math.floor(number('maxBodyBytes'))));
  const keepaliveBudget = Math.max(maxBodyBytes, Math.min(65536, Math.floor(number('keepaliveBudgetBytes'))));
  const deferredBudget = Math.min(65536, Math.floor(number('deferredBudgetBytes')));
  const timeoutMs = number('timeoutMs');
  const leaseMs = number('leaseMs');
  const maxAgeMs = number('maxAgeMs');
  const maxQueuedEvents = number('maxQueuedEvents');
  const maxQueuedBytes = number('maxQueuedBytes');
  const gpcMode = GPC_MODES.includes(opts.gpc) ? opts.gpc : GPC_MODES[0];

  // ---- callbacks, never allowed to throw into us ----
  const call = (fn, arg) => {
    try { if (typeof fn === 'function') fn(arg); } catch { /* a host callback must not break delivery */ }
  };
  const onError = (error) => call(opts.onError, error instanceof Error ? error : new Error(String(error)));
  const debug = (info) => call(opts.onDebug, info);
  const guard = (fn) => (...args) => { try { return fn(...args); } catch (error) { onError(error); return undefined; } };
  const abort = (controller) => { try { controller?.abort(); } catch { /* ignore */ } };

  // ---- lazily resolved environment ----
  // An env key that is set wins over the global; null means "absent" (no fallback to the
  // global), undefined means "not given" (use the global).
  const pick = (name) => (env[name] === undefined ? g[name] : env[name]);
  // A function from env, or the global one called on globalThis ("Illegal invocation" otherwise).
  const func = (name) => {
    const v = pick(name);
    return typeof v !== 'function' ? null : env[name] === undefined ? (...a) => g[name](...a) : v;
  };
  const nav = () => { try { return pick('navigator'); } catch { return undefined; } };
  const navIs = (key, value) => { try { const n = nav(); return Boolean(n) && n[key] === value; } catch { return false; } };
  // Wall clock (ms since the epoch): stored batches are compared across page loads.
  const now = () => { try { return Number(env.now ? env.now() : Date.now()); } catch { return Date.now(); } };
  const random = () => { try { return env.random ? env.random() : Math.random(); } catch { return 0.5; } };
  const setTimer = (fn, ms) => { try { return (env.setTimeout || g.setTimeout)(guard(fn), ms); } catch (error) { onError(error); return null; } };
  const clearTimer = (id) => { try { if (id != null) (env.clearTimeout || g.clearTimeout)(id); } catch { /* ignore */ } };
  const isOnline = () => !navIs('onLine', false);
  const beaconFn = () => {
    if (typeof env.sendBeacon === 'function') return env.sendBeacon;
    const n = nav();
    return n && typeof n.sendBeacon === 'function' ? (url, body) => n.sendBeacon(url, body) : null;
  };
  const makeAbortController = () => {
    try {
      const AC = env.AbortController || g.AbortController;
      return AC ? new AC() : null;
    } catch { return null; }
  };
  const post = (body, controller, keepalive) => {
    const init = { method: 'POST', body, credentials: 'omit', mode: 'cors' };
    if (keepalive) init.keepalive = true;
    if (controller) init.signal = controller.signal;
    return init;
  };

  // ---- state ----
  const gpcAtStart = navIs('globalPrivacyControl', true);
  let consent = opts.consent === 'pending' || opts.consent === 'denied' ? opts.consent : 'granted';
  if (gpcAtStart && gpcMode === 'deny') consent = 'denied';
  const storageAllowed = !(gpcAtStart && gpcMode === 'memory-only');
  // A per-document id naming the owner of stored records: crypto randomness where available.
  let tail;
  try {
    const words = g.crypto.getRandomValues(new Uint32Array(2));
    tail = words[0].toString(36) + words[1].toString(36);
  } catch {
    tail = Math.floor(random() * 0x7fffffff).toString(36) + Math.floor(Math.random() * 0x7fffffff).toString(36);
  }
  const tabId = Math.floor(now()).toString(36) + tail;
  const store = createBatchStore({
    getStorage: () => pick('localStorage'),
    prefix,
    maxEvents: number('maxStoredEvents'),
    maxBytes: number('maxStoredBytes'),
    onError,
  });
  const claimer = createClaimer({ getNavigator: nav, prefix, tabId, onError });

  /** @type {Array<object>} batches this tab holds, oldest first */
  let batches = [];
  let seq = 0;
  let hidden = false;
  let stopped = false;
  let failures = 0; // consecutive retryable failures (collector "down" when > 0)
  let failureWave = 0; // bumped at each counted failure; requests started before it do not count again
  let nextAttemptAt = 0;
  let retryTimer = null;
  let leaseTimer = null;
  let readoptTimer = null;
  let inflightBytes = 0;
  let beaconBytes = 0; // bytes handed to sendBeacon since the page was last hidden
  let deferredBytes = 0;
  let adopting = null;
  let adoptAgain = false; // an adoption was asked for while one was running
  let listeners = null; // window 'online' and 'storage'
  /** fetchLater registrations of batches handed to storage at page hide, by storage key */
  const releasedDeferred = new Map();
  const counters = { sent: 0, beaconed: 0, deferred: 0, retried: 0, attempts: 0, persistedWrites: 0 };
  const dropped = {};

  const storageOn = () => storageAllowed && consent === 'granted' && store._usable();

  function countDrop(reason, events, lost) {
    if (!(events > 0)) return;
    dropped[reason] = (dropped[reason] || 0) + events;
    debug({ kind: 'drop', reason, events });
    if (lost) call(opts.onDropped, events);
  }

  function newBatch(body, bytes, events, extra = {}) {
    seq += 1;
    return { id: `${tabId}:${seq}`, body, bytes, events, key: null, _attempts: 0, created: now(), ...extra };
  }

  /** Cuts a body into batches under maxBodyBytes (oversize single events are dropped and counted). */
  function toBatches(body, eventCount) {
    if (typeof body !== 'string' || body === '') { onError(new Error('impression-tracker: batch not a string')); return []; }
    const { pieces, oversize } = splitToFit(body, maxBodyBytes);
    for (const o of oversize) {
      const n = o.events > 0 ? o.events : (Number.isInteger(eventCount) && eventCount > 0 ? eventCount : 1);
      onError(new Error(`impression-tracker: dropped a ${o.bytes} B batch over maxBodyBytes ${maxBodyBytes}`));
      countDrop('tooLarge', n, true);
    }
    if (pieces.length > 1) debug({ kind: 'split', reason: 'maxBodyBytes', pieces: pieces.length });
    return pieces.map((p) => {
      let events = p.events;
      if (events < 0) events = Number.isInteger(eventCount) && eventCount >= 0 ? eventCount : countEvents(p.body);
      return newBatch(p.body, p.bytes, events);
    });
  }

  function queuedTotals() {
    let events = 0; let bytes = 0;
    for (const b of batches) { events += b.events; bytes += b.bytes; }
    return { events, bytes };
  }

  /** Keeps the memory queue within its bounds: the oldest idle batches go first. */
  function enforceMemoryBound() {
    for (let q = queuedTotals(); (q.events > maxQueuedEvents || q.bytes > maxQueuedBytes) && batches.length > 1; q = queuedTotals()) {
      const victim = batches.find((b) => !b._inflight);
      if (!victim || victim === batches[batches.length - 1]) break;
      forget(victim);
      if (victim.key && storageOn() && releaseRecord(victim)) { // still stored: not lost
        parkDeferred(victim);
        continue;
      }
      abortDeferred(victim);
      carryDrop('queueBound', victim);
    }
  }

  /**
   * A batch lost to a bound or the age limit: its events, plus the "drop" it carried, are
   * added to the "drop" of the oldest batch still held (same page view first), in memory
   * and in its stored copy, or in storage only. onDropped only when none can take it.
   */
  function carryDrop(reason, lost) {
    const mine = lost.key && batches.find((b) => b.key === lost.key); // a stored record this tab also holds
    if (mine) { forget(mine); abortDeferred(mine); }
    // A stored copy that holds the batch's fetchLater registration: counted lost now, so
    // the browser must not send it at unload too (a loss counted and delivered).
    const parked = lost.key && releasedDeferred.get(lost.key);
    if (parked) {
      releasedDeferred.delete(lost.key);
      deferredBytes -= parked.bytes;
      counters.deferred -= parked.events;
      abort(parked._controller);
    }
    countDrop(reason, lost.events);
    const head = headerOf(lost.body);
    const count = lost.events + (head.drop || 0);
    const records = storageOn() ? store._list() : [];
    const held = [...batches.filter((b) => !b._inflight), ...records.filter((r) => canEvict(r) && !batches.some((b) => b.key === r.key))]
      .sort((x, y) => x.created - y.created);
    for (const h of [...held.filter((x) => headerOf(x.body).pv === head.pv), ...held]) {
      const body = addDrop(h.body, count);
      const record = records.find((r) => r.key === h.key);
      if (body && utf8Length(body) <= maxBodyBytes && (!record || store._put({ ...record, body }, () => false).ok)) {
        if (h.id) { // held in memory: its fetchLater copy is replaced too
          h.body = body; h.bytes = utf8Length(body);
          abortDeferred(h); registerDeferred(h);
        }
        return;
      }
    }
    call(opts.onDropped, count);
  }

  function forget(b) {
    batches = batches.filter((x) => x !== b);
  }

  /** The batch is finished with (delivered, dropped, beaconed): forget it everywhere. */
  function done(b) {
    forget(b);
    removeRecord(b);
    abortDeferred(b);
  }

  /** Its stored copy takes over the batch's fetchLater registration (until adopted again). */
  function parkDeferred(b) {
    if (b._deferred && b.key) { releasedDeferred.set(b.key, b._deferred); b._deferred = null; }
  }

  // ---- fetchLater: a pending deferred copy of every unconfirmed batch ----
  function registerDeferred(b) {
    if (b._deferred || b._confirmAt || consent !== 'granted' || stopped) return;
    const fl = func('fetchLater');
    if (!fl) return;
    if (deferredBytes + b.bytes > deferredBudget) return;
    const controller = makeAbortController();
    try {
      fl(endpoint, post(b.body, controller));
      b._deferred = { _controller: controller, bytes: b.bytes, events: b.events };
      deferredBytes += b.bytes;
      counters.deferred += b.events;
      debug({ kind: 'fetchLater', action: 'register', id: b.id, bytes: b.bytes, events: b.events });
    } catch (error) {
      debug({ kind: 'fetchLater', action: 'refused', id: b.id, bytes: b.bytes, error: String(error && error.name || error) });
    }
  }

  function abortDeferred(b) {
    if (!b._deferred) return;
    const { _controller: controller, bytes, events } = b._deferred;
    b._deferred = null;
    deferredBytes -= bytes;
    counters.deferred -= events;
    abort(controller);
    debug({ kind: 'fetchLater', action: 'abort', id: b.id });
  }

  // ---- storage records ----
  /** A stored record may be evicted at the bound unless this tab is sending it or another live tab owns it. */
  const canEvict = (record) => {
    if (batches.some((b) => b.key === record.key && b._inflight)) return false;
    return !(record.owner && record.owner !== tabId && record.until > now());
  };

  function writeRecord(b, owner) {
    if (!storageOn()) return false;
    if (owner) claimer._holdTabLock();
    const key = b.key || store._newKey(b.created, tabId, seq += 1);
    const { ok, evicted } = store._put({ key, owner, until: owner ? now() + leaseMs : 0, created: b.created, events: b.events, body: b.body }, canEvict);
    if (ok) {
      b.key = key;
      b._owned = Boolean(owner);
      counters.persistedWrites += b.events;
      debug({ kind: 'persist', id: b.id, key, owner: owner ? 'self' : 'released', events: b.events, bytes: b.bytes });
      if (b._owned) scheduleLeaseRenewal();
    }
    for (const record of evicted) carryDrop('storageBound', record);
    return ok;
  }

  function releaseRecord(b) { return writeRecord(b, ''); }

  /** Removes a batch's stored copy unless another tab has since claimed it. */
  function removeRecord(b) {
    if (!b.key) return;
    const record = store._read(b.key);
    if (!record || !record.owner || record.owner === tabId) store._remove(b.key);
    b.key = null;
    b._owned = false;
  }

  /** Lease mode only (no Web Locks): renews this tab's leases while it is visible. */
  function scheduleLeaseRenewal() {
    if (leaseTimer !== null || stopped || claimer._usesLocks()) return;
    leaseTimer = setTimer(() => {
      leaseTimer = null;
      if (stopped || hidden) return;
      let any = false;
      for (const b of batches) {
        if (!b.key || !b._owned) continue;
        const record = store._read(b.key);
        if (record && record.owner && record.owner !== tabId) { // another tab took it over
          if (!b._inflight) { forget(b); abortDeferred(b); }
          b.key = null; b._owned = false;
          continue;
        }
        any = writeRecord(b, tabId) || any;
      }
      if (any) scheduleLeaseRenewal();
    }, Math.max(1, Math.floor(leaseMs / 3)));
  }

  // ---- normal operation: fetch keepalive with retry ----
  function canSend() {
    return !stopped && !hidden && consent === 'granted' && isOnline() && endpoint !== '';
  }

  function scheduleRetry(at) {
    clearTimer(retryTimer);
    retryTimer = setTimer(() => { retryTimer = null; pump(); }, Math.max(0, at - now()));
  }

  function pump() {
    if (!canSend()) return;
    const t = now();
    if (t < nextAttemptAt) { scheduleRetry(nextAttemptAt); return; }
    let earliestConfirm = Infinity;
    for (const b of [...batches]) {
      if (b._inflight) { if (failures > 0) break; continue; }
      if (b._confirmAt) {
        if (t < b._confirmAt) { earliestConfirm = Math.min(earliestConfirm, b._confirmAt); continue; }
        b._confirmAt = 0;
        const record = store._read(b.key);
        if (!record || record.owner !== tabId) { // lost the claim race: the other tab sends it
          debug({ kind: 'claim', result: 'lost', id: b.id, key: b.key });
          forget(b); abortDeferred(b); b.key = null;
          continue;
        }
        registerDeferred(b);
      }
      if (inflightBytes + b.bytes > keepaliveBudget && inflightBytes > 0) break;
      start(b);
      if (failures > 0) break; // while the collector fails, one request at a time
    }
    if (earliestConfirm < Infinity) scheduleRetry(earliestConfirm);
  }

  function start(b) {
    let f = null;
    try { f = func('fetch'); } catch { f = null; }
    if (!f) { onError(new Error('impression-tracker: no fetch')); return; }
    b._attempts += 1;
    counters.attempts += 1;
    if (b._attempts > 1) counters.retried += 1;
    const controller = makeAbortController();
    const attempt = { _controller: controller, _timer: null, _done: false, _wave: failureWave };
    b._inflight = attempt;
    inflightBytes += b.bytes;
    debug({ kind: 'fetch', id: b.id, attempt: b._attempts, bytes: b.bytes, events: b.events });
    attempt._timer = setTimer(() => {
      attempt._timer = null;
      abort(controller);
      finish(b, attempt, 0, null, 'timeout');
    }, timeoutMs);
    let promise;
    try { promise = Promise.resolve(f(endpoint, post(b.body, controller, true))); } catch (error) { promise = Promise.reject(error); }
    // Chromium counts a keepalive request against the 64 KiB quota until its response
    // body is consumed, even an empty one: read it before the bytes count as free, or
    // the next requests fail with a network error while the quota looks free.
    promise.then((response) => drain(response).then(() => response)).then(
      guard((response) => finish(b, attempt, Number(response && response.status) || 0, response, null)),
      guard((error) => finish(b, attempt, 0, null, error && error.name === 'AbortError' ? 'abort' : 'network')),
    );
  }

  /** Reads and discards a response body; never rejects. */
  function drain(response) {
    try { return Promise.resolve(response && typeof response.arrayBuffer === 'function' ? response.arrayBuffer() : null).catch(() => null); } catch { return Promise.resolve(null); }
  }

  function finish(b, attempt, status, response, failure) {
    if (attempt._done) return;
    attempt._done = true;
    clearTimer(attempt._timer);
    if (b._inflight === attempt) { b._inflight = null; inflightBytes -= b.bytes; }
    const outcome = classifyStatus(status);
    debug({ kind: 'response', id: b.id, attempt: b._attempts, status, outcome, failure: failure || undefined });
    if (b._revoked) return;
    if (outcome === 'ok') {
      counters.sent += b.events;
      done(b);
      const wasDown = failures > 0;
      failures = 0;
      nextAttemptAt = 0;
      if (wasDown) adoptSoon(); // the collector is back: drain what earlier failures stored
      pump();
      return;
    }
    if (outcome === 'drop') {
      done(b);
      countDrop(`http${status}`, b.events, true);
      pump();
      return;
    }
    // retryable
    b._failed = true;
    if (b._handedOff || !batches.includes(b)) { // page was hidden meanwhile: its stored copy stays for later
      forget(b);
      parkDeferred(b);
      pump();
      return;
    }
    if (hidden) { failures += 1; handOff(b); return; } // hidden and not stored: beacon is the last chance
    if (attempt._wave !== failureWave) { // a parallel request of the same outage: one backoff step per outage wave
      if (!b.key) writeRecord(b, tabId);
      scheduleRetry(nextAttemptAt);
      return;
    }
    failures += 1;
    failureWave += 1;
    let retryAfter = null;
    try { retryAfter = response && response.headers && typeof response.headers.get === 'function' ? parseRetryAfter(response.headers.get('Retry-After'), now()) : null; } catch { retryAfter = null; }
    const delay = retryAfter !== null ? retryAfter : backoffDelayMs(failures, random);
    nextAttemptAt = now() + delay;
    debug({ kind: 'retry', id: b.id, status, delayMs: delay, retryAfter: retryAfter !== null });
    if (!b.key) writeRecord(b, tabId);
    if (!stopped) scheduleRetry(nextAttemptAt); // the batch keeps its place: oldest first
  }

  // ---- page hidden: beacon or storage ----
  function beaconPieces(body, bytes, events, depth) {
    const beacon = beaconFn();
    const budgetLeft = keepaliveBudget - inflightBytes - beaconBytes;
    let accepted = false;
    let threw = false;
    if (bytes <= budgetLeft && beacon) {
      try { accepted = beacon(endpoint, body) === true; } catch (error) { threw = true; onError(error); }
    }
    debug({ kind: 'beacon', bytes, events, accepted, overBudget: bytes > budgetLeft, threw });
    if (accepted) { beaconBytes += bytes; counters.beaconed += events; return []; }
    // Over our budget, halving helps only while a half can still fit: otherwise it would
    // store the batch as dozens of tiny records.
    if (threw || !beacon || depth >= MAX_SPLIT_DEPTH || bytes > 2 * budgetLeft) return [{ body, bytes, events }];
    const halves = halveBatch(body);
    if (!halves) return [{ body, bytes, events }];
    debug({ kind: 'split', reason: 'beacon refused', pieces: 2 });
    const first = beaconPieces(halves[0].body, halves[0].bytes, halves[0].events, depth + 1);
    // The first half refused whole too: the browser's quota is gone (it counts requests
    // we no longer see, and the host's). Halving further would only store the batch as
    // dozens of tiny records, so it stays one.
    if (first.length === 1 && first[0].body === halves[0].body) return [{ body, bytes, events }];
    return [...first, ...beaconPieces(halves[1].body, halves[1].bytes, halves[1].events, depth + 1)];
  }

  /** Hands one idle batch over for the page's end: beacon, else storage, else keep in memory. */
  function handOff(b) {
    const useStorage = storageOn();
    const preferStorage = useStorage && (b._failed || failures > 0 || !isOnline());
    let left = [{ body: b.body, bytes: b.bytes, events: b.events }];
    if (!preferStorage && isOnline() && endpoint !== '') {
      if (beaconFn()) {
        left = beaconPieces(b.body, b.bytes, b.events, 0);
      } else if (func('fetch')) { // no sendBeacon: keepalive fetch plus a released stored copy
        if (useStorage) releaseRecord(b);
        b._handedOff = true;
        if (!batches.includes(b)) batches.push(b);
        start(b);
        return;
      }
    }
    if (left.length === 0) { done(b); return; }
    if (left.length === 1 && left[0].body === b.body) {
      if (useStorage && releaseRecord(b)) {
        forget(b);
        parkDeferred(b);
        return;
      }
      if (!batches.includes(b)) { batches.push(b); enforceMemoryBound(); }
      registerDeferred(b);
      return;
    }
    // partly beaconed: the refused pieces replace the batch
    done(b);
    for (const piece of left) {
      const nb = newBatch(piece.body, piece.bytes, piece.events, { _failed: b._failed, created: b.created });
      if (useStorage && releaseRecord(nb)) continue;
      batches.push(nb);
      registerDeferred(nb);
    }
    enforceMemoryBound();
  }

  // ---- adoption of stored batches (page load, online, page shown, consent granted) ----
  function adoptSoon() {
    if (!storageOn() || hidden || stopped) return Promise.resolve();
    if (adopting) { adoptAgain = true; return adopting; }
    adoptAgain = false;
    const usesLocks = claimer._usesLocks();
    let othersLive = 0;
    adopting = claimer._exclusive(async (ownedByLiveTab) => {
      if (hidden || stopped || !storageOn()) return; // the page was hidden (or consent revoked) meanwhile
      try {
        const t = now();
        let { events, bytes } = queuedTotals();
        const expired = [];
        for (const record of store._list()) {
          if (t - record.created > maxAgeMs) {
            if (!ownedByLiveTab(record)) { store._remove(record.key); expired.push(record); }
            continue;
          }
          const mine = batches.find((b) => b.key === record.key);
          if (mine) {
            if (record.owner !== tabId && !ownedByLiveTab(record)) { mine._handedOff = false; writeRecord(mine, tabId); }
            continue;
          }
          if (ownedByLiveTab(record)) { othersLive += 1; continue; }
          const size = utf8Length(record.body);
          if (events + record.events > maxQueuedEvents || bytes + size > maxQueuedBytes) break;
          const b = newBatch(record.body, size, record.events, { key: record.key, created: record.created });
          if (releasedDeferred.has(record.key)) { b._deferred = releasedDeferred.get(record.key); releasedDeferred.delete(record.key); }
          if (!writeRecord(b, tabId)) { b.key = record.key; }
          if (!usesLocks) b._confirmAt = now() + CLAIM_CONFIRM_MS;
          batches.push(b);
          events += b.events; bytes += size;
          debug({ kind: 'adopt', id: b.id, key: record.key, events: b.events, from: record.owner ? 'expired owner' : 'released' });
        }
        for (const record of expired) carryDrop('expired', record); // once the adopted batches are held
      } catch (error) { onError(error); }
    }, now).then(guard((ran) => {
      adopting = null;
      if (adoptAgain && !stopped) adoptSoon();
      if (!ran && !stopped) { // another tab was scanning: look again shortly
        clearTimer(readoptTimer);
        readoptTimer = setTimer(() => { readoptTimer = null; adoptSoon(); }, READOPT_DELAY_MS);
      } else if (othersLive > 0 && readoptTimer === null && !stopped && !hidden) {
        // another live tab owns stored batches: if it dies without hiding (crash), take
        // them over after a lease period
        readoptTimer = setTimer(() => { readoptTimer = null; adoptSoon(); }, leaseMs);
      }
      for (const b of batches) registerDeferred(b);
      pump();
    }), (error) => { adopting = null; onError(error); });
    return adopting;
  }

  function onOnline() {
    if (stopped) return;
    debug({ kind: 'online' });
    nextAttemptAt = Math.min(nextAttemptAt, now());
    adoptSoon();
    pump();
  }

  function activate() {
    if (stopped || consent !== 'granted') return;
    if (storageOn()) claimer._holdTabLock();
    for (const b of batches) registerDeferred(b);
    adoptSoon();
    pump();
  }

  function onStorage(event) {
    if (stopped || hidden || consent !== 'granted') return;
    const key = event && event.key;
    if (typeof key === 'string' && !key.startsWith(prefix)) return; // the host's own keys
    adoptSoon(); // e.g. another tab was hidden and released its batches
  }

  const listen = (method) => {
    const target = env[method] ? env : g;
    for (const type in listeners) target[method](type, listeners[type]);
  };

  function addListeners() {
    if (typeof env.addEventListener !== 'function' && typeof g.addEventListener !== 'function') return; // not a browser
    listeners = { online: guard(onOnline), storage: guard(onStorage) };
    try { listen('addEventListener'); } catch (error) { listeners = null; onError(error); }
  }

  function clearTimers() {
    clearTimer(retryTimer);
    clearTimer(leaseTimer);
    clearTimer(readoptTimer);
    retryTimer = leaseTimer = readoptTimer = null;
  }

  function purgeAll(reason) {
    let events = 0;
    for (const b of batches) {
      b._revoked = true;
      abortDeferred(b);
      if (b._inflight) abort(b._inflight._controller);
      if (!b.key) events += b.events;
    }
    batches = [];
    for (const d of releasedDeferred.values()) {
      deferredBytes -= d.bytes;
      counters.deferred -= d.events;
      abort(d._controller);
    }
    releasedDeferred.clear();
    events += store._purge();
    clearTimers();
    claimer._release();
    countDrop(reason, events, false);
  }

  // ---- start-up (a call, not import time) ----
  try {
    addListeners();
    if (gpcAtStart) debug({ kind: 'gpc', mode: gpcMode });
    if (consent === 'denied') purgeAll('consent');
    else if (consent === 'granted') activate();
  } catch (error) { onError(error); }

  // What send() and sendNow() share: the batches to deliver now, or null (stopped, consent).
  function accept(body, eventCount) {
    if (stopped) return null;
    if (consent === 'denied') { countDrop('consent', Number.isInteger(eventCount) ? eventCount : countEvents(String(body)), false); return null; }
    const list = toBatches(body, eventCount);
    if (consent !== 'pending') return list;
    for (const b of list) batches.push(b);
    enforceMemoryBound();
    return null;
  }

  const transport = {
    send: guard((body, eventCount) => {
      const list = accept(body, eventCount);
      if (!list) return;
      if (hidden) { for (const b of list) handOff(b); return; }
      for (const b of list) { batches.push(b); registerDeferred(b); }
      enforceMemoryBound();
      if (!isOnline()) { for (const b of list) if (batches.includes(b)) writeRecord(b, tabId); }
      pump();
    }),

    sendNow: guard((body, eventCount) => {
      const list = accept(body, eventCount);
      if (!list) return;
      for (const b of list) handOff(b);
      if (!hidden) pump();
    }),

    pageHidden: guard(() => {
      if (stopped || hidden) return;
      hidden = true;
      clearTimer(retryTimer); retryTimer = null;
      if (consent !== 'granted') return;
      for (const b of [...batches]) {
        if (b._inflight) {
          if (storageOn() && releaseRecord(b)) b._handedOff = true;
          continue;
        }
        handOff(b);
      }
      // Everything this tab owned is now released, so it needs no liveness lock while hidden
      // (and holds no Web Lock that a browser could count against the back/forward cache).
      claimer._release();
      debug({ kind: 'hidden', kept: batches.length });
    }),

    pageShown: guard(() => {
      if (stopped || !hidden) return;
      hidden = false;
      beaconBytes = 0;
      if (consent !== 'granted') return;
      nextAttemptAt = Math.min(nextAttemptAt, now());
      if (storageOn()) claimer._holdTabLock();
      adoptSoon();
      pump();
    }),

    setConsent: guard((granted) => {
      if (stopped) return;
      if (granted === true) {
        if (gpcAtStart && gpcMode === 'deny') { debug({ kind: 'consent', ignored: 'gpc deny mode' }); return; }
        if (consent === 'granted') return;
        consent = 'granted';
        debug({ kind: 'consent', consent });
        if (hidden) { for (const b of [...batches]) handOff(b); return; }
        activate();
      } else {
        consent = 'denied';
        debug({ kind: 'consent', consent });
        purgeAll('consent');
      }
    }),

    stats: guard(() => {
      let queued = 0; let inFlight = 0;
      for (const b of batches) { if (b._inflight) inFlight += b.events; else queued += b.events; }
      const storedTotals = storageOn() ? store._totals() : { events: 0, bytes: 0 };
      const total = Object.values(dropped).reduce((a, n) => a + n, 0);
      return {
        queued,
        inFlight,
        ...counters, // sent, beaconed, deferred, retried, attempts, persistedWrites
        persisted: storedTotals.events,
        persistedBytes: storedTotals.bytes,
        dropped: { total, byReason: { ...dropped } },
        consent,
        storage: !storageAllowed ? 'off (gpc)' : store._mode(),
        gpc: gpcAtStart,
        online: isOnline(),
        collector: failures > 0 ? 'failing' : 'ok',
        inflightBytes,
      };
    }),

    stop: guard(() => {
      if (stopped) return;
      if (consent === 'granted') {
        for (const b of [...batches]) if (!b._inflight && storageOn() && releaseRecord(b)) forget(b);
      }
      stopped = true;
      clearTimers();
      try { if (listeners) listen('removeEventListener'); } catch { /* ignore */ }
      listeners = null;
      claimer._release();
    }),

    /** Resolves when a running adoption of stored batches has finished (tests, demos). */
    settled: () => (adopting || Promise.resolve()).then(() => undefined, () => undefined),
  };
  return transport;
}
