// delivery-fakes.js: fakes for the transport tests (not a test file itself).
//
// A controllable clock (setTimeout/clearTimeout/now driven by advance()), a fake
// collector that records which event ids (pv, s) it accepted, fake fetch / sendBeacon /
// fetchLater bound to that collector, a fake localStorage (quota, throwing), a fake
// Web Locks manager shared by tabs, and makeBatch() which builds payload-schema-shaped
// bodies. Nothing here uses real timers; flush() yields to pending promise callbacks.

import { setImmediate as realImmediate } from 'node:timers';

/** Lets every pending promise callback run (no time passes on the fake clock). */
export async function flush() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => realImmediate(resolve));
}

export function createClock(start = 1_764_000_000_000) {
  let t = start;
  let nextId = 1;
  const timers = new Map();
  const clock = {
    now: () => t,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.set(id, { at: t + Math.max(0, Number(ms) || 0), fn, id });
      return id;
    },
    clearTimeout: (id) => { timers.delete(id); },
    pending: () => timers.size,
    /** Advances the clock by ms, firing due timers in order and letting promises settle. */
    async advance(ms) {
      const target = t + ms;
      await flush();
      for (;;) {
        let next = null;
        for (const timer of timers.values()) if (timer.at <= target && (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id))) next = timer;
        if (!next) break;
        timers.delete(next.id);
        t = next.at;
        next.fn();
        await flush();
      }
      t = target;
      await flush();
    },
  };
  return clock;
}

/** Parses a body and returns its "pv:s" ids (throws on a malformed body: tests want that). */
export function idsOf(body) {
  const batch = JSON.parse(body);
  return batch.ev.map((e) => `${batch.pv}:${e.s}`);
}

/**
 * Builds a realistic batch body: events s = from..from+count-1 of page view pv,
 * cycling imp / view / vis / click, key order as the core writes it.
 */
export function makeBatch(pv, from, count, { drop = 0, path = '/search', gpc = false, wd = false, idBytes = 8 } = {}) {
  const ev = [];
  const ids = [];
  for (let i = 0; i < count; i++) {
    const s = from + i;
    const id = `gig-${String(s).padStart(Math.max(1, idBytes - 4), '0')}`;
    const t = 100 * s;
    const kind = i % 4;
    let e;
    if (kind === 0) e = { e: 'imp', s, t, id, pos: (s % 48) + 1, list: 'q1', f: 1 };
    else if (kind === 1) e = { e: 'view', s, t, id, pos: (s % 48) + 1, list: 'q1' };
    else if (kind === 2) e = { e: 'vis', s, t, id, ms: 1200, max: 1200, n: 1 };
    else e = { e: 'click', s, t, id, pos: (s % 48) + 1, list: 'q1', f: 1, since: 900, seen: 1 };
    ev.push(e);
    ids.push(`${pv}:${s}`);
  }
  const head = { v: 1, pv, path };
  if (wd) head.wd = 1;
  if (gpc) head.gpc = 1;
  head.at = 100 * (from + count);
  head.drop = drop;
  return { body: JSON.stringify({ ...head, ev }), ids, count };
}

/**
 * The fake collector. Every accepted body's ids are recorded (duplicates kept).
 * `policy(request)` decides each fetch: a number (status), {status, headers},
 * 'network' (rejects with TypeError), 'hang' (never answers until aborted) or
 * {hang: true, processed: true} (the server stored it but the answer never comes).
 */
export function createCollector() {
  const accepted = [];
  const requests = [];
  let policy = () => 204;
  const collector = {
    requests,
    accepted,
    setPolicy(fn) { policy = fn; },
    accept(body, via) { for (const id of idsOf(body)) accepted.push(id); requests.push({ via, body, accepted: true }); },
    /** Sorted unique ids. */
    ids() { return [...new Set(accepted)].sort(); },
    /** "drop" of each accepted batch, keyed "pv:s of its first event" (a resent copy counted once). */
    drops() {
      const out = {};
      for (const r of requests) {
        if (!r.accepted) continue;
        const batch = JSON.parse(r.body);
        const key = `${batch.pv}:${batch.ev[0].s}`;
        if (!(key in out)) out[key] = batch.drop;
      }
      return out;
    },
    /** Ids that arrived more than once. */
    duplicates() {
      const seen = new Set(); const dup = new Set();
      for (const id of accepted) { if (seen.has(id)) dup.add(id); seen.add(id); }
      return [...dup].sort();
    },
    fetchCalls: [],
    bodiesRead: 0,
    bodyGate: null,
    /** A fetch bound to this collector. */
    fetch: (url, init) => {
      const call = { url, init, at: null };
      collector.fetchCalls.push(call);
      const decision = policy({ url, init, body: init.body, n: collector.fetchCalls.length });
      return new Promise((resolve, reject) => {
        const onAbort = () => { const e = new Error('aborted'); e.name = 'AbortError'; reject(e); };
        if (decision === 'network') { reject(new TypeError('Failed to fetch')); return; }
        if (decision === 'hang' || (decision && decision.hang)) {
          if (decision.processed) collector.accept(init.body, 'fetch-hung');
          if (init.signal) init.signal.addEventListener('abort', onAbort);
          return;
        }
        const status = typeof decision === 'number' ? decision : decision.status;
        const headers = new Map(Object.entries((decision && decision.headers) || {}).map(([k, v]) => [k.toLowerCase(), v]));
        if (status >= 200 && status < 300) collector.accept(init.body, 'fetch');
        else requests.push({ via: 'fetch', body: init.body, accepted: false, status });
        resolve({
          status,
          ok: status >= 200 && status < 300,
          headers: { get: (k) => (headers.has(k.toLowerCase()) ? headers.get(k.toLowerCase()) : null) },
          // Like Chromium, a keepalive request holds its quota until its body is read:
          // collector.bodyGate (a promise) holds the read back.
          arrayBuffer: () => { collector.bodiesRead += 1; return Promise.resolve(collector.bodyGate).then(() => new ArrayBuffer(0)); },
        });
      });
    },
  };
  return collector;
}

/**
 * A fake sendBeacon sharing a 64 KiB keepalive quota with `hostInflightBytes` the host
 * page holds. Accepted beacons are delivered to the collector when deliver() runs
 * (or at once with {deliverNow: true}) unless `lose` is set (collector down: queued but lost).
 */
export function createBeacon(collector, { quota = 65536, hostInflightBytes = 0, perBeaconLimit = Infinity, deliverNow = true } = {}) {
  const queued = [];
  const beacon = {
    calls: [],
    hostInflightBytes,
    lose: false,
    inflightBytes: 0,
    maxInflightSeen: 0,
    sendBeacon: (url, body) => {
      if (typeof body !== 'string') throw new TypeError('test wants a string body');
      const bytes = Buffer.byteLength(body);
      const ok = bytes <= perBeaconLimit && beacon.hostInflightBytes + beacon.inflightBytes + bytes <= quota;
      beacon.calls.push({ url, body, bytes, ok });
      if (!ok) return false;
      beacon.inflightBytes += bytes;
      beacon.maxInflightSeen = Math.max(beacon.maxInflightSeen, beacon.hostInflightBytes + beacon.inflightBytes);
      queued.push({ body, bytes });
      if (deliverNow) beacon.deliver();
      return true;
    },
    /** Completes queued beacons (they reach the collector unless lose is set). */
    deliver() {
      while (queued.length) {
        const { body, bytes } = queued.shift();
        beacon.inflightBytes -= bytes;
        if (!beacon.lose) collector.accept(body, 'beacon');
      }
    },
  };
  return beacon;
}

/** A fake fetchLater: registrations are sent to the collector when the page is destroyed. */
export function createFetchLater(collector, { quota = 65536 } = {}) {
  const registrations = [];
  const fl = {
    registrations,
    fetchLater: (url, init) => {
      const bytes = Buffer.byteLength(init.body);
      const used = registrations.filter((r) => !r.aborted && !r.sent).reduce((n, r) => n + r.bytes, 0);
      if (used + bytes > quota) { const e = new Error('quota'); e.name = 'QuotaExceededError'; throw e; }
      const r = { url, body: init.body, bytes, aborted: false, sent: false };
      if (init.signal) init.signal.addEventListener('abort', () => { r.aborted = true; });
      registrations.push(r);
      return { activated: false };
    },
    active() { return registrations.filter((r) => !r.aborted && !r.sent); },
    /** The document is destroyed: the browser sends every pending deferred request. */
    destroy({ deliver = true } = {}) {
      for (const r of fl.active()) { r.sent = true; if (deliver) collector.accept(r.body, 'fetchLater'); }
    },
  };
  return fl;
}

/** A localStorage look-alike; quotaChars bounds keys + values (UTF-16 code units). */
export function createStorage({ quotaChars = 5_000_000 } = {}) {
  const map = new Map();
  const log = { set: 0, get: 0, remove: 0, key: 0 };
  const used = () => { let n = 0; for (const [k, v] of map) n += k.length + v.length; return n; };
  const storage = {
    map,
    log,
    quotaChars,
    get length() { return map.size; },
    key(i) { log.key++; return [...map.keys()][i] ?? null; },
    getItem(k) { log.get++; return map.has(k) ? map.get(k) : null; },
    setItem(k, v) {
      log.set++;
      const value = String(v);
      const old = map.has(k) ? k.length + map.get(k).length : 0;
      if (used() - old + k.length + value.length > storage.quotaChars) {
        const e = new Error('The quota has been exceeded.'); e.name = 'QuotaExceededError'; throw e;
      }
      map.set(k, value);
    },
    removeItem(k) { log.remove++; map.delete(k); },
    clear() { map.clear(); },
    ownKeys(prefix = 'impression-tracker:') { return [...map.keys()].filter((k) => k.startsWith(prefix)); },
  };
  return storage;
}

/** A Web Locks manager shared by fake tabs; forTab(name) gives one tab's navigator.locks. */
export function createLockManager() {
  const held = new Map(); // name -> tab
  const waiting = []; // {name, tab, grant}
  const releasers = new Map(); // tab -> Set of release functions
  function grantWaiting() {
    for (let i = 0; i < waiting.length; i++) {
      const w = waiting[i];
      if (!held.has(w.name)) { waiting.splice(i, 1); i--; w.grant(); }
    }
  }
  return {
    held,
    forTab(tab) {
      return {
        request(name, options, callback) {
          if (typeof options === 'function') { callback = options; options = {}; }
          return new Promise((resolve, reject) => {
            const run = () => {
              held.set(name, tab);
              let released = false;
              const release = () => { if (released) return; released = true; if (held.get(name) === tab) held.delete(name); releasers.get(tab)?.delete(release); grantWaiting(); };
              if (!releasers.has(tab)) releasers.set(tab, new Set());
              releasers.get(tab).add(release);
              Promise.resolve().then(() => callback({ name, mode: 'exclusive' })).then((v) => { release(); resolve(v); }, (e) => { release(); reject(e); });
            };
            if (!held.has(name)) run();
            else if (options && options.ifAvailable) Promise.resolve().then(() => callback(null)).then(resolve, reject);
            else waiting.push({ name, tab, grant: run });
          });
        },
        async query() {
          return { held: [...held.keys()].map((name) => ({ name })), pending: waiting.map((w) => ({ name: w.name })) };
        },
      };
    },
    /** The tab died: the browser releases every lock it held. */
    kill(tab) {
      for (const release of [...(releasers.get(tab) || [])]) release();
      for (let i = waiting.length - 1; i >= 0; i--) if (waiting[i].tab === tab) waiting.splice(i, 1);
    },
  };
}

/**
 * One fake tab: navigator (onLine, globalPrivacyControl, locks), window listeners,
 * and the env object for createTransport. Pieces not given are absent (undefined
 * sendBeacon etc. are replaced by `null` so the transport does not fall back to globals).
 */
export function createTab({ clock, collector, beacon = null, fetchLater = null, storage = null, locks = null, name = 'tab', online = true, gpc = undefined, random = () => 0.5 } = {}) {
  const listeners = new Map();
  const timerIds = new Set();
  let crashed = false;
  const navigator = { onLine: online, globalPrivacyControl: gpc, locks: locks ? locks.forTab(name) : undefined };
  const env = {
    fetch: collector ? collector.fetch : null,
    sendBeacon: beacon ? beacon.sendBeacon : null,
    fetchLater: fetchLater ? fetchLater.fetchLater : null,
    localStorage: storage,
    navigator,
    addEventListener: (type, fn) => { if (!listeners.has(type)) listeners.set(type, new Set()); listeners.get(type).add(fn); },
    removeEventListener: (type, fn) => { listeners.get(type)?.delete(fn); },
    setTimeout: (fn, ms) => { if (crashed) return 0; const id = clock.setTimeout(fn, ms); timerIds.add(id); return id; },
    clearTimeout: (id) => { timerIds.delete(id); clock.clearTimeout(id); },
    now: clock.now,
    random,
  };
  return {
    env,
    navigator,
    listeners,
    fire(type) { for (const fn of [...(listeners.get(type) || [])]) fn({ type }); },
    /** The renderer dies: no more timers, no more requests, its locks are released by the caller. */
    crash() {
      crashed = true;
      for (const id of timerIds) clock.clearTimeout(id);
      timerIds.clear();
      env.fetch = () => new Promise(() => {});
      listeners.clear();
    },
    goOffline() { navigator.onLine = false; },
    goOnline() { navigator.onLine = true; this.fire('online'); },
  };
}
