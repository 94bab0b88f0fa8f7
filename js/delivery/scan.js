// scan.js: answers the outbox's SCAN action. The outbox hears which other tabs are
// alive (their Web Locks), then judges each stored record of ours: adopted (it holds
// it now and rewrites it as its own), left (another live tab owns it, or no room), or
// to be removed now (unreadable or expired). A record in the format written before
// the outbox existed (a JSON value) is unreadable to it: it is removed, and its
// events are counted as lost, so they reach the collector in a "drop".

import { ERR_STATE } from '../core/abi.js';
import { A_FOUND, FOUND_REMOVE } from '../core/outbox.js';
import { removeRecord } from './io.js';

/** Events of a record in the earlier JSON format ({"n": events, ...}), else 0. */
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
 * One scan: live is the other tabs' ids, records [key without prefix, value].
 * d is the driver's context (driver.js).
 */
export function scanStorage(d, live, records) {
  const ob = d._outbox;
  const t = d._now();
  for (const tab of live) if (tab !== d._tab) ob._tabLive(t, tab); // a malformed id is refused: skipped
  for (const [key, value] of records) {
    const status = ob._found(t, key, value ?? '');
    if (status === ERR_STATE) return; // the scan ended meanwhile (consent revoked)
    if (status < 0 || ob._field(A_FOUND) !== FOUND_REMOVE) continue;
    removeRecord(d._storage, d._prefix + key);
    const lost = legacyEvents(value);
    if (lost) d._legacyLost(lost);
  }
  d._check(ob._scanDone(t));
}
