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
 * @param {object} options (names are _x: internal, shortened by the build)
 * @param {() => Storage|null|undefined} options._getStorage resolves localStorage (may throw)
 * @param {string} options._prefix key prefix, e.g. 'impression-tracker:'
 * @param {number} [options._maxEvents]
 * @param {number} [options._maxBytes]
 * @param {(error: Error) => void} [options._onError]
 */
export function createBatchStore({ _getStorage: getStorage, _prefix: prefix, _maxEvents: maxEvents = DEFAULT_MAX_STORED_EVENTS, _maxBytes: maxBytes = DEFAULT_MAX_STORED_BYTES, _onError: onError = () => {} }) {
  const recordPrefix = prefix + 'q:';
  let memoryOnly = false;

  function degrade(why) {
    if (memoryOnly) return;
    memoryOnly = true;
    try { onError(Error(`impression-tracker: localStorage unusable (${why?.name || why}); memory only`)); } catch { /* never throw */ }
  }

  /** The Storage object, or null (and memory-only) when unusable. `force` ignores memory-only. */
  function storage(force) {
    if (memoryOnly && !force) return null;
    try {
      const s = getStorage();
      if (typeof s?.getItem === 'function') return s;
      degrade('missing');
    } catch (error) { degrade(error); }
    return null;
  }

  /** Runs fn(storage) when storage is usable; a throw degrades to memory-only. */
  function use(fn, fallback, force) {
    const s = storage(force);
    try { return s ? fn(s) : fallback; } catch (error) { if (!force) degrade(error); return fallback; }
  }

  function ownKeys(s, keyPrefix) {
    const keys = [];
    for (let i = s.length; i--;) {
      const key = s.key(i);
      if (key?.startsWith?.(keyPrefix)) keys.push(key);
    }
    return keys.sort();
  }

  function decode(key, value) {
    let r;
    try { r = JSON.parse(value); } catch { /* corrupt */ }
    return typeof r?.b === 'string' && Number.isFinite(r.c) && Number.isFinite(r.n)
      ? { _key: key, _owner: typeof r.o === 'string' ? r.o : '', _until: Number.isFinite(r.u) ? r.u : 0, _created: r.c, _events: r.n, _body: r.b, _size: utf8Length(key) + utf8Length(value) }
      : null;
  }

  const sum = (records, value) => records.reduce((n, r) => n + value(r), 0);
  const eventsOf = (r) => r._events;
  const sizeOf = (r) => r._size;

  const store = {
    /** true when localStorage is usable (not memory-only). */
    _usable: () => !!storage(),
    /** 'localStorage' or 'memory' */
    _mode: () => (memoryOnly ? 'memory' : 'localStorage'),

    _newKey: (created, tabId, seq) => `${recordPrefix}${String(Math.max(0, Math.floor(created))).padStart(13, '0')}:${tabId}:${seq}`,

    /** Every stored record, oldest first. Corrupt records of ours are removed. */
    _list: () => use((s) => ownKeys(s, recordPrefix).map((key) => decode(key, s.getItem(key)) || s.removeItem(key)).filter(Boolean), []),

    _read: (key) => use((s) => decode(key, s.getItem(key)), null),

    /**
     * Writes a record, first evicting the oldest records (those `canEvict(record)` allows)
     * until the bounds hold. Returns {ok, evicted: [records]}. ok is false when the bounds
     * cannot be met or the write failed (the store is then memory-only).
     */
    _put(record, canEvict = () => true) {
      const value = JSON.stringify({ o: record._owner || '', u: record._until || 0, c: record._created, n: record._events, b: record._body });
      const size = utf8Length(record._key) + utf8Length(value);
      const evicted = [];
      const failed = { _ok: false, _evicted: evicted };
      return use((s) => {
        if (record._events > maxEvents || size > maxBytes) return failed;
        const others = store._list().filter((r) => r._key !== record._key);
        let events = sum(others, eventsOf) + record._events;
        let bytes = sum(others, sizeOf) + size;
        const victims = [];
        for (const r of others) {
          if (events <= maxEvents && bytes <= maxBytes) break;
          if (!canEvict(r)) continue;
          victims.push(r);
          events -= r._events;
          bytes -= r._size;
        }
        if (events > maxEvents || bytes > maxBytes) return failed;
        for (const r of victims) { s.removeItem(r._key); evicted.push(r); }
        s.setItem(record._key, value);
        return { _ok: true, _evicted: evicted };
      }, failed);
    },

    /** Removes one of our keys; works even in memory-only mode (removal frees space). */
    _remove(key) {
      if (key?.startsWith?.(recordPrefix)) use((s) => s.removeItem(key), 0, true);
    },

    /** Removes every key with our prefix (consent revoked). Returns the events removed. */
    _purge() {
      let events = 0;
      use((s) => {
        for (const key of ownKeys(s, prefix)) {
          if (key.startsWith(recordPrefix)) events += decode(key, s.getItem(key))?._events || 0;
          s.removeItem(key);
        }
      }, 0, true);
      return events;
    },

    /** Events and bytes currently stored. */
    _totals() {
      const records = store._list();
      return { _events: sum(records, eventsOf), _bytes: sum(records, sizeOf) };
    },
  };
  return store;
}
