// scan.js: answers the outbox's SCAN action. Under Web Locks one tab scans at a time,
// and the outbox hears which other tabs are alive (their locks). Then it judges each
// stored record of ours: adopted (it holds it now and rewrites it as its own), left
// (another live tab owns it, or no room), or to be removed now (unreadable or
// expired). A record in the older JSON format (a JSON value, not a field line) is
// unreadable to the outbox: it is removed, and its events are counted as lost, so they reach
// the collector in a "drop". The functions work on the tracker's record `w` (driver.js).

import { ERR_STATE, X_OUTBOX_FOUND, X_OUTBOX_SCAN_DONE, X_OUTBOX_TAB_LIVE } from '../core/abi.js';
import { reportDropped } from '../core/core.js';
import { A_FOUND, FOUND_REMOVE } from '../core/outbox.js';
import { tell } from './driver.js';
import { listRecords, removeRecord, scanAlone } from './io.js';

/** Events of a record in the older JSON format ({"n": events, ...}), else 0. */
function legacyEvents(value) {
  if (!value?.startsWith('{')) return 0;
  try {
    const n = JSON.parse(value).n;
    return n > 0 && n < 2 ** 31 ? Math.floor(n) : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs one scan, inside the scan lock when there are Web Locks; `take` (the SCAN
 * action's ticket): the scan before waited too long for it, so it is taken.
 */
export function scan(w, take) {
  let ran = 0;
  const run = w._guard((live) => {
    ran = 1;
    scanStorage(w, live, listRecords(w._storage, w._prefix));
    w._pump();
  });
  if (w._locks) scanAlone(w._locks, w._prefix, take > 0, run).catch(() => ran || run([]));
  else run([]);
}

// live: the other tabs' ids; records: [key without prefix, value].
function scanStorage(w, live, records) {
  const t = w._env.now();
  for (const tab of live) if (tab !== w._tab) w._outbox._call(X_OUTBOX_TAB_LIVE, t, tab); // a malformed id is refused: skipped
  for (const [key, value] of records) {
    const status = w._outbox._call(X_OUTBOX_FOUND, t, key, value ?? '');
    if (status === ERR_STATE) return; // the scan ended meanwhile (consent not granted)
    if (status < 0 || w._outbox._field(A_FOUND) !== FOUND_REMOVE) continue;
    removeRecord(w._storage, w._prefix + key);
    const lost = legacyEvents(value);
    if (lost) w._check(reportDropped(w._core, lost));
  }
  tell(w, X_OUTBOX_SCAN_DONE);
}
