// storage.js: the bounded localStorage queue of batches that could not be sent yet.
//
// Owns every localStorage access of the tracker. Each stored batch is one key,
// `<prefix>q:<13-digit created ms>:<tab id>:<n>` (so key order is age order), whose value
// is JSON {"o":owner tab id or "", "u":lease-until ms, "c":created ms, "n":events, "b":body}.
// Only keys that start with the prefix are ever read, written or removed; the host
// page's own keys are never touched. Bounds (events and bytes, key + value in UTF-8)
// are enforced by evicting the oldest records the caller allows to evict.
// Every call is fallible: when localStorage is missing, throws (SecurityError in a
// sandboxed iframe or with storage blocked) or is full (QuotaExceededError), the
// store switches to memory-only for the rest of the page (reported once through
// onError) and its methods quietly do nothing. Nothing here ever throws. Methods are
// named _x (internal; the build shortens them).

import { utf8Length } from './batch-split.js';

export const DEFAULT_MAX_STORED_EVENTS = 5000;
export const DEFAULT_MAX_STORED_BYTES = 524288; // 512 KiB: about a tenth of the usual 5 MB origin quota

/**
 * @param {object} options
 * @param {() => Storage|null|undefined} options.getStorage resolves localStorage (may throw)
 * @param {string} options.prefix key prefix, e.g. 'impression-tracker:'
 * @param {number} [options.maxEvents]
 * @param {number} [options.maxBytes]
 * @param {(error: Error) => void} [options.onError]
 */
export function createBatchStore({ getStorage, prefix, maxEvents = DEFAULT_MAX_STORED_EVENTS, maxBytes = DEFAULT_MAX_STORED_BYTES, onError = () => {} }) {
  const recordPrefix = `${prefix}q:`;
  let memoryOnly = false;

  function degrade(why) {
    if (memoryOnly) return;
    memoryOnly = true;
    try { onError(new Error(`impression-tracker: localStorage unusable (${why && why.name ? why.name : why}); memory only`)); } catch { /* never throw */ }
  }

  /** The Storage object, or null (and memory-only) when unusable. `force` ignores memory-only. */
  function storage(force = false) {
    if (memoryOnly && !force) return null;
    let s;
    try { s = getStorage(); } catch (error) { degrade(error); return null; }
    if (!s || typeof s.getItem !== 'function') { degrade('missing'); return null; }
    return s;
  }

  function ownKeys(s, keyPrefix) {
    const keys = [];
    const length = s.length;
    for (let i = 0; i < length; i++) {
      const key = s.key(i);
      if (typeof key === 'string' && key.startsWith(keyPrefix)) keys.push(key);
    }
    return keys.sort();
  }

  function decode(key, value) {
    if (typeof value !== 'string') return null;
    let r;
    try { r = JSON.parse(value); } catch { return null; }
    if (!r || typeof r.b !== 'string' || !Number.isFinite(r.c) || !Number.isFinite(r.n)) return null;
    return { key, owner: typeof r.o === 'string' ? r.o : '', until: Number.isFinite(r.u) ? r.u : 0, created: r.c, events: r.n, body: r.b, size: utf8Length(key) + utf8Length(value) };
  }

  function encode(record) {
    return JSON.stringify({ o: record.owner || '', u: record.until || 0, c: record.created, n: record.events, b: record.body });
  }

  return {
    /** true when localStorage is usable (not memory-only). */
    _usable() { return storage() !== null; },
    /** 'localStorage' or 'memory' */
    _mode() { return memoryOnly ? 'memory' : 'localStorage'; },

    _newKey(created, tabId, seq) {
      return `${recordPrefix}${String(Math.max(0, Math.floor(created))).padStart(13, '0')}:${tabId}:${seq}`;
    },

    /** Every stored record, oldest first. Corrupt records of ours are removed. */
    _list() {
      const s = storage();
      if (!s) return [];
      try {
        const records = [];
        for (const key of ownKeys(s, recordPrefix)) {
          const record = decode(key, s.getItem(key));
          if (record) records.push(record);
          else s.removeItem(key);
        }
        return records;
      } catch (error) {
        degrade(error);
        return [];
      }
    },

    _read(key) {
      const s = storage();
      if (!s) return null;
      try { return decode(key, s.getItem(key)); } catch (error) { degrade(error); return null; }
    },

    /**
     * Writes a record, first evicting the oldest records (those `canEvict(record)` allows)
     * until the bounds hold. Returns {ok, evicted: [records]}. ok is false when the bounds
     * cannot be met or the write failed (the store is then memory-only).
     */
    _put(record, canEvict = () => true) {
      const s = storage();
      if (!s) return { ok: false, evicted: [] };
      const value = encode(record);
      const size = utf8Length(record.key) + utf8Length(value);
      if (record.events > maxEvents || size > maxBytes) return { ok: false, evicted: [] };
      const evicted = [];
      try {
        const others = this._list().filter((r) => r.key !== record.key);
        let events = others.reduce((sum, r) => sum + r.events, 0) + record.events;
        let bytes = others.reduce((sum, r) => sum + r.size, 0) + size;
        const victims = [];
        for (const r of others) {
          if (events <= maxEvents && bytes <= maxBytes) break;
          if (!canEvict(r)) continue;
          victims.push(r);
          events -= r.events;
          bytes -= r.size;
        }
        if (events > maxEvents || bytes > maxBytes) return { ok: false, evicted: [] };
        for (const r of victims) { s.removeItem(r.key); evicted.push(r); }
        s.setItem(record.key, value);
        return { ok: true, evicted };
      } catch (error) {
        degrade(error);
        return { ok: false, evicted };
      }
    },

    /** Removes one of our keys; works even in memory-only mode (removal frees space). */
    _remove(key) {
      if (typeof key !== 'string' || !key.startsWith(recordPrefix)) return;
      const s = storage(true);
      if (!s) return;
      try { s.removeItem(key); } catch { /* ignore */ }
    },

    /** Removes every key with our prefix (consent revoked). Returns the events removed. */
    _purge() {
      const s = storage(true);
      if (!s) return 0;
      let events = 0;
      try {
        for (const key of ownKeys(s, prefix)) {
          if (key.startsWith(recordPrefix)) {
            const record = decode(key, s.getItem(key));
            if (record) events += record.events;
          }
          s.removeItem(key);
        }
      } catch { /* ignore */ }
      return events;
    },

    /** Events and bytes currently stored. */
    _totals() {
      const records = this._list();
      return { events: records.reduce((n, r) => n + r.events, 0), bytes: records.reduce((n, r) => n + r.size, 0) };
    },
  };
}
