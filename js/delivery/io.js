// io.js: the storage and Web Locks primitives of delivery: localStorage
// get/set/remove/list under the tracker's prefix, the tab's liveness lock, the list of
// live tabs, and a lock that lets one tab scan at a time. Nothing here decides anything
// or throws.

import { STORE_FULL, STORE_OK, STORE_THREW } from '../core/outbox.js';

export const unusable = (error) => new Error(`impression-tracker: localStorage unusable (${error?.name || error}); memory only`);

/** Writes a record: STORE_OK, STORE_FULL (QuotaExceededError), STORE_THREW (any other throw; errors to onError). */
export function setRecord(storage, name, value, onError) {
  try {
    storage.setItem(name, value);
    return STORE_OK;
  } catch (error) {
    onError(unusable(error));
    return error?.name === 'QuotaExceededError' || error?.code === 22 ? STORE_FULL : STORE_THREW;
  }
}

/** Removes one key; storage that throws is left as it is. */
export function removeRecord(storage, name) {
  try {
    storage.removeItem(name);
  } catch {
    // nothing more to do: the outbox counts the record as gone
  }
}

/**
 * [key without prefix, value] of every record of ours, oldest first: keys of a record
 * key's shape, `<prefix>q:<13-digit time>:...` (told by the ':' after the 13 characters).
 * A key of the page that starts with `<prefix>q:` otherwise (storageKey 'app', the
 * page's 'appq:settings') is not ours: no scan or purge touches it.
 */
export function listRecords(storage, prefix) {
  const records = [];
  try {
    for (let i = 0; i < storage.length; i++) {
      const name = storage.key(i);
      if (name?.startsWith(`${prefix}q:`) && name[prefix.length + 15] == ':') {
        records.push([name.slice(prefix.length), storage.getItem(name)]);
      }
    }
  } catch {
    // storage that throws holds nothing we can read
  }
  return records.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Removes every record of ours (listRecords: consent revoked); the page's keys stay, under the prefix too. */
export function removeAll(storage, prefix) {
  for (const [key] of listRecords(storage, prefix)) removeRecord(storage, prefix + key);
}

/** Holds the lock `name` until the returned function is called (at once if that comes first). */
export function holdLock(locks, name) {
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  try {
    locks.request(name, () => held).catch(() => {});
  } catch {
    // a failing locks API: leases protect the records instead
  }
  return release;
}

/**
 * Runs scan(liveTabs) inside the lock `<prefix>scan`, one tab at a time; with `steal`,
 * taken from the tab holding it (Web Locks `steal`: granted at once).
 */
export async function scanAlone(locks, prefix, steal, scan) {
  const tabLock = `${prefix}tab:`;
  return locks.request(`${prefix}scan`, { steal }, async () => {
    const snapshot = await locks.query();
    const live = [...(snapshot.held || [])].map((info) => info?.name).filter((name) => name?.startsWith(tabLock));
    scan(live.map((name) => name.slice(tabLock.length)));
  });
}
