// transport.js: delivery of the core's batches to the collector (the transport seam).
//
// Owns everything between a finished batch body and the collector: fetch with
// keepalive and retry in normal operation, sendBeacon (and fetchLater where it exists)
// when the page is hidden, the keepalive byte budget, the bounded localStorage queue
// (storage.js), the two-tab claim (claim.js), retry timing (backoff.js), splitting
// (batch-split.js), consent, Global Privacy Control, and the counters of stats().
// The interface is the transport seam that js/tracker/tracker.js calls. Every global (fetch,
// sendBeacon, fetchLater, localStorage, navigator, timers, clock) is resolved lazily
// from `env` or globalThis at call time; nothing runs at import; no method throws.
//
// Delivery rules in brief (README "Delivery guarantees" has the full list):
//  - the body: a batch's gzip form (option encode: the core compresses) as a Blob typed
//    text/plain, else its JSON text; neither makes a CORS preflight. Every byte budget
//    counts what is sent.
//  - visible page: fetch(endpoint, {method:'POST', body, keepalive: true, credentials:
//    'omit', mode: 'cors', referrerPolicy: 'no-referrer'}), 5 s timeout; 2xx = delivered; 408/429/5xx/0
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
// gzip of n bytes is at most n + 23 (a stored block and the wrapper): JSON pieces this
// much under maxBodyBytes fit compressed whatever their content.
const GZIP_OVERHEAD = 23;
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
 * 4096..61440; bytes as sent), encode(body) (the gzip form of a JSON body as a
 * Uint8Array, or null to send the text; absent: bodies go as text), consent ('granted' | 'pending' | 'denied'), gpc ('memory-only' |
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
  const opts = Object(options);
  const env = Object(opts.env);
  const endpoint = typeof opts.endpoint === 'string' ? opts.endpoint : '';
  const prefix = (typeof opts.storageKey === 'string' && opts.storageKey) || 'impression-tracker:';
  const number = (name) => {
    const v = opts[name];
    return v > 0 && v < Infinity ? v : NUMBERS[name];
  };
  const maxBodyBytes = Math.max(4096, Math.min(61440, Math.floor(number('maxBodyBytes'))));
  const keepaliveBudget = Math.max(maxBodyBytes, Math.min(65536, Math.floor(number('keepaliveBudgetBytes'))));
  const deferredBudget = Math.min(65536, Math.floor(number('deferredBudgetBytes')));
  const leaseMs = number('leaseMs');
  const maxQueuedEvents = number('maxQueuedEvents');
  const maxQueuedBytes = number('maxQueuedBytes');
  const gpcMode = GPC_MODES.includes(opts.gpc) ? opts.gpc : GPC_MODES[0];

  // ---- callbacks, never allowed to throw into us ----
  const call = (fn, arg) => {
    try { if (typeof fn === 'function') fn(arg); } catch { /* a host callback must not break delivery */ }
  };
  const onError = (error) => call(opts.onError, error instanceof Error ? error : Error(error));
  const fail = (what) => onError('impression-tracker: ' + what);
  const debug = (info) => call(opts.onDebug, info);
  const guard = (fn) => (...args) => { try { return fn(...args); } catch (error) { onError(error); } };
  const abort = (controller) => controller?.abort();

  // ---- lazily resolved environment ----
  // An env key that is set wins over the global; null means "absent" (no fallback to the
  // global), undefined means "not given" (use the global).
  const pick = (name) => (env[name] === undefined ? g[name] : env[name]);
  // A function from env, or the global one called on globalThis ("Illegal invocation" otherwise).
  const func = (name) => {
    const v = pick(name);
    return typeof v !== 'function' ? null : env[name] === undefined ? (...a) => g[name](...a) : v;
  };
  const nav = () => pick('navigator');
  const navIs = (key, value) => { try { return nav()?.[key] === value; } catch { return false; } };
  // Wall clock (ms since the epoch): stored batches are compared across page loads.
  const now = () => +(env.now || Date.now)();
  const setTimer = (fn, ms) => (env.setTimeout || g.setTimeout)(guard(fn), ms);
  const clearTimer = (id) => { if (id != null) (env.clearTimeout || g.clearTimeout)(id); };
  const isOnline = () => !navIs('onLine', false);
  const beaconFn = () => {
    if (typeof env.sendBeacon === 'function') return env.sendBeacon;
    const n = nav();
    return typeof n?.sendBeacon === 'function' ? (url, body) => n.sendBeacon(url, body) : null;
  };
  const makeAbortController = () => {
    const AC = env.AbortController || g.AbortController;
    return AC && new AC();
  };
  // The full referrer would carry the page's query string; the payload already has its path.
  const post = (body, controller, keepalive) => ({
    method: 'POST', body, credentials: 'omit', mode: 'cors', referrerPolicy: 'no-referrer', keepalive, signal: controller?.signal,
  });
  // What is sent for a body: its gzip form when there is one, as a text/plain Blob (a
  // CORS-safelisted type: no preflight), else the JSON text.
  const payload = (b) => {
    if (!b._wire) return b._body;
    const B = env.Blob === undefined ? g.Blob : env.Blob;
    return B ? new B([b._wire], { type: 'text/plain' }) : b._wire;
  };
  const encode = typeof opts.encode === 'function' ? opts.encode : null;
  /** {_wire, _bytes}: a body's gzip form (given, or from encode) and the bytes sent. */
  const wireOf = (body, given) => {
    let gzip = given;
    if (gzip === undefined && encode) {
      try { gzip = encode(body); } catch (error) { onError(error); }
    }
    return gzip instanceof Uint8Array ? { _wire: gzip, _bytes: gzip.length } : { _wire: null, _bytes: utf8Length(body) };
  };

  // ---- state ----
  const gpcAtStart = navIs('globalPrivacyControl', true);
  let consent = opts.consent === 'pending' || opts.consent === 'denied' ? opts.consent : 'granted';
  if (gpcAtStart && gpcMode === 'deny') consent = 'denied';
  const storageAllowed = !(gpcAtStart && gpcMode === 'memory-only');
  // A per-document id naming the owner of stored records: crypto randomness where available.
  let words;
  try { words = g.crypto.getRandomValues(new Uint32Array(2)); } catch { words = [1, 2].map(() => Math.random() * 4e9 >>> 0); }
  const tabId = [Math.floor(now()), ...words].map((n) => n.toString(36)).join('');
  const store = createBatchStore({
    _getStorage: () => pick('localStorage'),
    _prefix: prefix,
    _maxEvents: number('maxStoredEvents'),
    _maxBytes: number('maxStoredBytes'),
    _onError: onError,
  });
  const claimer = createClaimer({ _getNavigator: nav, _prefix: prefix, _tabId: tabId, _onError: onError });

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
  const granted = () => !stopped && consent === 'granted';
  const holds = (b) => batches.includes(b);
  const held = (key) => batches.find((b) => b._key === key);
  const eventsOf = (n, body) => (Number.isInteger(n) && n >= 0 ? n : countEvents(body));

  function countDrop(reason, events, lost) {
    if (!(events > 0)) return;
    dropped[reason] = (dropped[reason] || 0) + events;
    debug({ kind: 'drop', reason, events });
    if (lost) call(opts.onDropped, events);
  }

  function newBatch(body, events, extra, sent = wireOf(body)) {
    return { id: tabId + ':' + ++seq, _body: body, _wire: sent._wire, _bytes: sent._bytes, _events: events, _key: null, _attempts: 0, _created: now(), ...extra };
  }

  /** Cuts a body into batches under maxBodyBytes (oversize single events are dropped and counted). */
  function toBatches(body, eventCount, gzip) {
    if (typeof body !== 'string' || !body) { fail('batch not a string'); return []; }
    const whole = wireOf(body, gzip);
    if (whole._bytes <= maxBodyBytes) return [newBatch(body, eventsOf(eventCount, body), {}, whole)];
    const { _pieces: pieces, _oversize: oversize } = splitToFit(body, maxBodyBytes - (encode ? GZIP_OVERHEAD : 0));
    for (const o of oversize) {
      fail(`dropped a ${o._bytes} B batch over maxBodyBytes ${maxBodyBytes}`);
      countDrop('tooLarge', o._events > 0 ? o._events : eventCount > 0 && eventsOf(eventCount) || 1, true);
    }
    if (pieces[1]) debug({ kind: 'split', reason: 'maxBodyBytes', pieces: pieces.length });
    return pieces.map((p) => newBatch(p._body, p._events < 0 ? eventsOf(eventCount, p._body) : p._events));
  }

  function queuedTotals() {
    let events = 0; let bytes = 0;
    for (const b of batches) { events += b._events; bytes += b._bytes; }
    return { _events: events, _bytes: bytes };
  }

  /** Keeps the memory queue within its bounds: the oldest idle batches go first. */
  function enforceMemoryBound() {
    for (let q = queuedTotals(); (q._events > maxQueuedEvents || q._bytes > maxQueuedBytes) && batches[1]; q = queuedTotals()) {
      const victim = batches.find((b) => !b._inflight);
      if (!victim || victim === batches[batches.length - 1]) break;
      forget(victim);
      if (!(victim._key && keepStored(victim))) { // else still stored: not lost
        abortDeferred(victim);
        carryDrop('queueBound', victim);
      }
    }
  }

  /**
   * A batch lost to a bound or the age limit: its events, plus the "drop" it carried, are
   * added to the "drop" of the oldest batch still held (same page view first), in memory
   * and in its stored copy, or in storage only. onDropped only when none can take it.
   */
  function carryDrop(reason, lost) {
    const key = lost._key;
    const mine = key && held(key); // a stored record this tab also holds
    if (mine) { forget(mine); abortDeferred(mine); }
    // A stored copy that holds the batch's fetchLater registration: counted lost now, so
    // the browser must not send it at unload too (a loss counted and delivered).
    unregister(key && releasedDeferred.get(key));
    releasedDeferred.delete(key);
    countDrop(reason, lost._events);
    const head = headerOf(lost._body);
    const count = lost._events + (head.drop || 0);
    const records = storageOn() ? store._list() : [];
    const candidates = [...batches.filter((b) => !b._inflight), ...records.filter((r) => canEvict(r) && !held(r._key))]
      .sort((x, y) => x._created - y._created);
    for (const h of [...candidates.filter((x) => headerOf(x._body).pv === head.pv), ...candidates]) {
      const body = addDrop(h._body, count);
      const record = records.find((r) => r._key === h._key);
      const sent = body && wireOf(body);
      if (body && sent._bytes <= maxBodyBytes && (!record || store._put({ ...record, _body: body }, () => 0)._ok)) {
        if (h.id) { // held in memory: its fetchLater copy is replaced too
          Object.assign(h, { _body: body }, sent);
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

  /**
   * Writes the batch released (no owner) for a later page or another tab; its stored copy
   * then takes over the batch's fetchLater registration (until adopted again). False
   * when it could not be stored.
   */
  function keepStored(b) {
    return storageOn() && writeRecord(b, '') && !park(b);
  }

  function park(b) {
    if (b._deferred && b._key) { releasedDeferred.set(b._key, b._deferred); b._deferred = null; }
  }

  // ---- fetchLater: a pending deferred copy of every unconfirmed batch ----
  function registerDeferred(b) {
    const fl = func('fetchLater');
    if (b._deferred || b._confirmAt || !granted() || !fl || deferredBytes + b._bytes > deferredBudget) return;
    const controller = makeAbortController();
    try {
      fl(endpoint, post(payload(b), controller));
      b._deferred = { _controller: controller, _bytes: b._bytes, _events: b._events };
      deferredBytes += b._bytes;
      counters.deferred += b._events;
      debug({ kind: 'fetchLater', action: 'register', id: b.id, bytes: b._bytes, events: b._events });
    } catch (error) {
      debug({ kind: 'fetchLater', action: 'refused', id: b.id, bytes: b._bytes, error: String(error?.name || error) });
    }
  }

  /** Cancels a fetchLater registration ({_controller, _bytes, _events}) and its counts. */
  function unregister(d) {
    if (!d) return;
    deferredBytes -= d._bytes;
    counters.deferred -= d._events;
    abort(d._controller);
  }

  function abortDeferred(b) {
    if (!b._deferred) return;
    unregister(b._deferred);
    b._deferred = null;
    debug({ kind: 'fetchLater', action: 'abort', id: b.id });
  }

  // ---- storage records ----
  /** A stored record may be evicted at the bound unless this tab is sending it or another live tab owns it. */
  const canEvict = (record) => !held(record._key)?._inflight && !(record._owner && record._owner !== tabId && record._until > now());

  function writeRecord(b, owner) {
    if (!storageOn()) return false;
    if (owner) claimer._holdTabLock();
    const key = b._key || store._newKey(b._created, tabId, ++seq);
    const { _ok: ok, _evicted: evicted } = store._put({ _key: key, _owner: owner, _until: owner ? now() + leaseMs : 0, _created: b._created, _events: b._events, _body: b._body }, canEvict);
    if (ok) {
      b._key = key;
      b._owned = !!owner;
      counters.persistedWrites += b._events;
      debug({ kind: 'persist', id: b.id, key, owner: owner ? 'self' : 'released', events: b._events, bytes: b._bytes });
      if (owner) scheduleLeaseRenewal();
    }
    for (const record of evicted) carryDrop('storageBound', record);
    return ok;
  }

  /** Removes a batch's stored copy unless another tab has since claimed it. */
  function removeRecord(b) {
    if (!b._key) return;
    const owner = store._read(b._key)?._owner;
    if (!owner || owner === tabId) store._remove(b._key);
    b._key = null;
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
        if (!b._key || !b._owned) continue;
        const owner = store._read(b._key)?._owner;
        if (owner && owner !== tabId) { // another tab took it over
          if (!b._inflight) { forget(b); abortDeferred(b); }
          b._key = null; b._owned = false;
          continue;
        }
        any = writeRecord(b, tabId) || any;
      }
      if (any) scheduleLeaseRenewal();
    }, Math.max(1, Math.floor(leaseMs / 3)));
  }

  // ---- normal operation: fetch keepalive with retry ----
  function scheduleRetry(at) {
    clearTimer(retryTimer);
    retryTimer = setTimer(() => { retryTimer = null; pump(); }, Math.max(0, at - now()));
  }

  function pump() {
    if (!granted() || hidden || !isOnline() || !endpoint) return;
    const t = now();
    if (t < nextAttemptAt) { scheduleRetry(nextAttemptAt); return; }
    let earliestConfirm = Infinity;
    for (const b of [...batches]) {
      if (b._inflight) { if (failures) break; continue; }
      if (b._confirmAt) {
        if (t < b._confirmAt) { earliestConfirm = Math.min(earliestConfirm, b._confirmAt); continue; }
        b._confirmAt = 0;
        if (store._read(b._key)?._owner !== tabId) { // lost the claim race: the other tab sends it
          debug({ kind: 'claim', result: 'lost', id: b.id, key: b._key });
          forget(b); abortDeferred(b); b._key = null;
          continue;
        }
        registerDeferred(b);
      }
      if (inflightBytes && inflightBytes + b._bytes > keepaliveBudget) break;
      start(b);
      if (failures) break; // while the collector fails, one request at a time
    }
    if (earliestConfirm < Infinity) scheduleRetry(earliestConfirm);
  }

  function start(b) {
    const f = func('fetch');
    if (!f) { fail('no fetch'); return; }
    counters.attempts += 1;
    if (b._attempts++) counters.retried += 1;
    const controller = makeAbortController();
    const attempt = { _controller: controller, _wave: failureWave };
    const end = (status, response, failure) => {
      if (attempt._done) return;
      attempt._done = true;
      clearTimer(attempt._timer);
      finish(b, attempt, status, response, failure);
    };
    b._inflight = attempt;
    inflightBytes += b._bytes;
    debug({ kind: 'fetch', id: b.id, attempt: b._attempts, bytes: b._bytes, events: b._events });
    attempt._timer = setTimer(() => { abort(controller); end(0, null, 'timeout'); }, number('timeoutMs'));
    // Chromium counts a keepalive request against the 64 KiB quota until its response
    // body is consumed, even an empty one: read it before the bytes count as free, or
    // the next requests fail with a network error while the quota looks free.
    new Promise((resolve) => resolve(f(endpoint, post(payload(b), controller, true))))
      .then((response) => Promise.resolve(response?.arrayBuffer?.()).catch(() => 0).then(() => response))
      .then(
        guard((response) => end(+response?.status || 0, response)),
        guard((error) => end(0, null, error?.name === 'AbortError' ? 'abort' : 'network')),
      );
  }

  function finish(b, attempt, status, response, failure) {
    if (b._inflight === attempt) { b._inflight = null; inflightBytes -= b._bytes; }
    const outcome = classifyStatus(status);
    debug({ kind: 'response', id: b.id, attempt: b._attempts, status, outcome, failure });
    if (b._revoked) return;
    if (outcome !== 'retry') {
      done(b);
      if (outcome === 'ok') {
        counters.sent += b._events;
        nextAttemptAt = 0;
        if (failures) { failures = 0; adoptSoon(); } // the collector is back: drain what earlier failures stored
      } else countDrop('http' + status, b._events, true);
      pump();
      return;
    }
    b._failed = true;
    if (b._handedOff || !holds(b)) { // page was hidden meanwhile: its stored copy stays for later
      forget(b);
      park(b);
      pump();
      return;
    }
    if (hidden) { failures += 1; handOff(b); return; } // hidden and not stored: beacon is the last chance
    if (attempt._wave === failureWave) { // else a parallel request of the same outage: one backoff step per outage wave
      failures += 1;
      failureWave += 1;
      let retryAfter = null;
      try { retryAfter = parseRetryAfter(response.headers.get('Retry-After'), now()); } catch { /* no header */ }
      const delay = retryAfter ?? backoffDelayMs(failures, env.random || Math.random);
      nextAttemptAt = now() + delay;
      debug({ kind: 'retry', id: b.id, status, delayMs: delay, retryAfter: retryAfter !== null });
    }
    if (!b._key) writeRecord(b, tabId);
    if (!stopped) scheduleRetry(nextAttemptAt); // the batch keeps its place: oldest first
  }

  // ---- page hidden: beacon or storage ----
  // Returns the pieces of the batch that were not accepted ([whole] when nothing was).
  function beaconPieces(piece, depth) {
    if (piece._wire === undefined) Object.assign(piece, wireOf(piece._body)); // a half
    const { _body: body, _bytes: bytes, _events: events } = piece;
    const beacon = beaconFn();
    const budgetLeft = keepaliveBudget - inflightBytes - beaconBytes;
    let accepted = false;
    let threw = false;
    if (bytes <= budgetLeft && beacon) {
      try { accepted = beacon(endpoint, payload(piece)) === true; } catch (error) { threw = true; onError(error); }
    }
    debug({ kind: 'beacon', bytes, events, accepted, overBudget: bytes > budgetLeft, threw });
    if (accepted) { beaconBytes += bytes; counters.beaconed += events; return []; }
    // Over our budget, halving helps only while a half can still fit: otherwise it would
    // store the batch as dozens of tiny records.
    const halves = !threw && beacon && depth < MAX_SPLIT_DEPTH && bytes <= 2 * budgetLeft && halveBatch(body);
    if (!halves) return [piece];
    debug({ kind: 'split', reason: 'beacon refused', pieces: 2 });
    const first = beaconPieces(halves[0], depth + 1);
    // The first half refused whole too: the browser's quota is gone (it counts requests
    // we no longer see, and the host's). Halving further would only store the batch as
    // dozens of tiny records, so it stays one.
    return first[0] === halves[0] ? [piece] : [...first, ...beaconPieces(halves[1], depth + 1)];
  }

  /** Hands one idle batch over for the page's end: beacon, else storage, else keep in memory. */
  function handOff(b) {
    const useStorage = storageOn();
    let left = [b];
    if (!(useStorage && (b._failed || failures)) && isOnline() && endpoint) {
      if (beaconFn()) {
        left = beaconPieces(b, 0);
      } else if (func('fetch')) { // no sendBeacon: keepalive fetch plus a released stored copy
        if (useStorage) writeRecord(b, '');
        b._handedOff = true;
        if (!holds(b)) batches.push(b);
        start(b);
        return;
      }
    }
    if (left[0] === b) {
      if (keepStored(b)) { forget(b); return; }
      if (!holds(b)) { batches.push(b); enforceMemoryBound(); }
      registerDeferred(b);
      return;
    }
    // beaconed, or partly: the refused pieces replace the batch
    done(b);
    if (!left[0]) return;
    for (const piece of left) {
      const nb = newBatch(piece._body, piece._events, { _failed: b._failed, _created: b._created }, piece);
      if (useStorage && writeRecord(nb, '')) continue;
      batches.push(nb);
      registerDeferred(nb);
    }
    enforceMemoryBound();
  }

  // ---- adoption of stored batches (page load, online, page shown, consent granted) ----
  function readoptIn(ms) {
    clearTimer(readoptTimer);
    readoptTimer = setTimer(() => { readoptTimer = null; adoptSoon(); }, ms);
  }

  function adoptSoon() {
    if (!storageOn() || hidden || stopped) return;
    if (adopting) { adoptAgain = true; return; }
    adoptAgain = false;
    const usesLocks = claimer._usesLocks();
    let othersLive = 0;
    adopting = claimer._exclusive(async (ownedByLiveTab) => {
      if (hidden || stopped || !storageOn()) return; // the page was hidden (or consent revoked) meanwhile
      try {
        const t = now();
        let { _events: events, _bytes: bytes } = queuedTotals();
        const expired = [];
        for (const record of store._list()) {
          const live = ownedByLiveTab(record);
          if (t - record._created > number('maxAgeMs')) {
            if (!live) { store._remove(record._key); expired.push(record); }
            continue;
          }
          const mine = held(record._key);
          if (mine) {
            if (record._owner !== tabId && !live) { mine._handedOff = false; writeRecord(mine, tabId); }
            continue;
          }
          if (live) { othersLive += 1; continue; }
          const sent = wireOf(record._body);
          const size = sent._bytes;
          if (events + record._events > maxQueuedEvents || bytes + size > maxQueuedBytes) break;
          const b = newBatch(record._body, record._events, { _key: record._key, _created: record._created, _deferred: releasedDeferred.get(record._key) }, sent);
          releasedDeferred.delete(record._key);
          if (!writeRecord(b, tabId)) b._key = record._key;
          if (!usesLocks) b._confirmAt = now() + CLAIM_CONFIRM_MS;
          batches.push(b);
          events += b._events; bytes += size;
          debug({ kind: 'adopt', id: b.id, key: record._key, events: b._events, from: record._owner ? 'expired owner' : 'released' });
        }
        for (const record of expired) carryDrop('expired', record); // once the adopted batches are held
      } catch (error) { onError(error); }
    }, now).then(guard((ran) => {
      adopting = null;
      if (stopped) return;
      if (adoptAgain) adoptSoon();
      if (!ran) readoptIn(READOPT_DELAY_MS); // another tab was scanning: look again shortly
      // another live tab owns stored batches: if it dies without hiding (crash), take
      // them over after a lease period
      else if (othersLive && readoptTimer === null && !hidden) readoptIn(leaseMs);
      for (const b of batches) registerDeferred(b);
      pump();
    }), (error) => { adopting = null; onError(error); });
  }

  function resume() {
    nextAttemptAt = Math.min(nextAttemptAt, now());
    adoptSoon();
    pump();
  }

  function activate() {
    if (!granted()) return;
    if (storageOn()) claimer._holdTabLock();
    for (const b of batches) registerDeferred(b);
    adoptSoon();
    pump();
  }

  const listen = (method) => {
    const target = env[method] ? env : g;
    for (const type in listeners) target[method](type, listeners[type]);
  };

  function clearTimers() {
    clearTimer(retryTimer);
    clearTimer(leaseTimer);
    clearTimer(readoptTimer);
    retryTimer = leaseTimer = readoptTimer = null;
  }

  function purgeAll() {
    let events = 0;
    for (const b of batches) {
      b._revoked = true;
      abortDeferred(b);
      abort(b._inflight?._controller);
      if (!b._key) events += b._events;
    }
    batches = [];
    releasedDeferred.forEach(unregister);
    releasedDeferred.clear();
    events += store._purge();
    clearTimers();
    claimer._release();
    countDrop('consent', events);
  }

  // ---- start-up (a call, not import time) ----
  try {
    if (env.addEventListener || g.addEventListener) { // a browser
      listeners = {
        online: guard(() => {
          if (stopped) return;
          debug({ kind: 'online' });
          resume();
        }),
        storage: guard((event) => {
          if (!granted() || hidden) return;
          const key = event?.key;
          if (typeof key === 'string' && !key.startsWith(prefix)) return; // the host's own keys
          adoptSoon(); // e.g. another tab was hidden and released its batches
        }),
      };
      try { listen('addEventListener'); } catch (error) { listeners = null; onError(error); }
    }
    if (gpcAtStart) debug({ kind: 'gpc', mode: gpcMode });
    if (consent === 'denied') purgeAll();
    else activate();
  } catch (error) { onError(error); }

  // What send() and sendNow() share: the batches to deliver now, or null (stopped, consent).
  function accept(body, eventCount, gzip) {
    if (stopped) return null;
    if (consent === 'denied') { countDrop('consent', eventsOf(eventCount, String(body))); return null; }
    const list = toBatches(body, eventCount, gzip);
    if (consent !== 'pending') return list;
    batches.push(...list);
    enforceMemoryBound();
    return null;
  }

  return {
    send: guard((body, eventCount, gzip) => {
      const list = accept(body, eventCount, gzip);
      if (!list) return;
      if (hidden) { list.forEach(handOff); return; }
      for (const b of list) { batches.push(b); registerDeferred(b); }
      enforceMemoryBound();
      if (!isOnline()) { for (const b of list) if (holds(b)) writeRecord(b, tabId); }
      pump();
    }),

    sendNow: guard((body, eventCount, gzip) => {
      const list = accept(body, eventCount, gzip);
      if (!list) return;
      list.forEach(handOff);
      if (!hidden) pump();
    }),

    pageHidden: guard(() => {
      if (stopped || hidden) return;
      hidden = true;
      clearTimer(retryTimer); retryTimer = null;
      if (consent !== 'granted') return;
      for (const b of [...batches]) {
        if (!b._inflight) handOff(b);
        else if (storageOn() && writeRecord(b, '')) b._handedOff = true;
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
      if (storageOn()) claimer._holdTabLock();
      resume();
    }),

    setConsent: guard((yes) => {
      if (stopped) return;
      if (yes === true) {
        if (gpcAtStart && gpcMode === 'deny') { debug({ kind: 'consent', ignored: 'gpc deny mode' }); return; }
        if (consent === 'granted') return;
        consent = 'granted';
        debug({ kind: 'consent', consent });
        if (hidden) [...batches].forEach(handOff);
        else activate();
      } else {
        consent = 'denied';
        debug({ kind: 'consent', consent });
        purgeAll();
      }
    }),

    stats: guard(() => {
      let queued = 0; let inFlight = 0; let total = 0;
      for (const b of batches) { if (b._inflight) inFlight += b._events; else queued += b._events; }
      for (const k in dropped) total += dropped[k];
      const storedTotals = storageOn() ? store._totals() : { _events: 0, _bytes: 0 };
      return {
        queued,
        inFlight,
        ...counters, // sent, beaconed, deferred, retried, attempts, persistedWrites
        persisted: storedTotals._events,
        persistedBytes: storedTotals._bytes,
        dropped: { total, byReason: { ...dropped } },
        consent,
        storage: storageAllowed ? store._mode() : 'off (gpc)',
        gpc: gpcAtStart,
        online: isOnline(),
        collector: failures ? 'failing' : 'ok',
        inflightBytes,
      };
    }),

    stop: guard(() => {
      if (stopped) return;
      if (consent === 'granted') {
        for (const b of [...batches]) if (!b._inflight && storageOn() && writeRecord(b, '')) forget(b);
      }
      stopped = true;
      clearTimers();
      try { if (listeners) listen('removeEventListener'); } catch { /* ignore */ }
      listeners = null;
      claimer._release();
    }),

    /** Resolves when a running adoption of stored batches has finished (tests, demos). */
    settled: () => Promise.resolve(adopting).then(() => {}, () => {}),
  };
}
