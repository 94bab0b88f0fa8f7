// claim.js: which tab may send a stored batch (two tabs must not both send it).
//
// Owns the cross-tab protocol. Every stored record names its owner tab and a lease
// expiry ("o" and "u", written with the batch by storage.js). A tab may adopt a record
// that has no owner, that it owns itself, or whose owner is gone:
//  - With Web Locks (navigator.locks): a visible tab that owns records holds the lock
//    `<prefix>tab:<id>`, so an owner is gone exactly when its tab lock is no longer held
//    (navigator.locks.query()); the browser releases it when the tab dies, and the
//    transport releases it when the page is hidden (it releases its records then). Adoption
//    scans run inside the exclusive lock `<prefix>adopt` requested with ifAvailable, so
//    two tabs never check-and-claim at the same time.
//  - Without Web Locks: an owner is gone when its lease has expired; a tab renews the
//    leases of its records while it is visible. The claim is written, then confirmed by
//    re-reading the record a little later (last writer wins) before the first send.
// A duplicate that still gets through (a lost race, a tab killed between a send and
// the removal of its record) is removed at the collector by event id (pv, s).
// Nothing here throws; a failing locks API falls back to the lease rules. Methods are
// named _x (internal; the build shortens them).

/**
 * @param {object} options (names are _x: internal, shortened by the build)
 * @param {() => any} options._getNavigator resolves navigator (may return undefined)
 * @param {string} options._prefix
 * @param {string} options._tabId
 * @param {(error: Error) => void} [options._onError]
 */
export function createClaimer({ _getNavigator: getNavigator, _prefix: prefix, _tabId: tabId, _onError: onError = () => {} }) {
  let tabLockRelease = null;
  let tabLockRequested = false;
  let locksBroken = false;
  const tabLock = prefix + 'tab:';

  function locks() {
    try {
      const l = getNavigator()?.locks;
      return !locksBroken && typeof l?.request === 'function' ? l : null;
    } catch { return null; }
  }

  // A failing locks API: report it (onError must not throw) and use leases from now on.
  function broken(error) {
    locksBroken = true;
    try { onError(error); } catch { /* never throw */ }
  }

  return {
    /** true when Web Locks are used (else leases). */
    _usesLocks: () => !!locks(),

    /** Takes this tab's liveness lock (held until release()); no-op without Web Locks. */
    _holdTabLock() {
      const l = locks();
      if (!l || tabLockRequested) return;
      tabLockRequested = true;
      try {
        Promise.resolve(l.request(tabLock + tabId, () => new Promise((resolve) => { tabLockRelease = resolve; }))).catch(broken);
      } catch (error) { broken(error); }
    },

    /** Releases the tab lock (stop, consent revoked). */
    _release() {
      tabLockRelease?.();
      tabLockRelease = null;
      tabLockRequested = false;
    },

    /**
     * Runs `scan(isOwnerAlive)` alone across tabs. Resolves to true when it ran, false when
     * another tab holds the adoption lock right now (the caller tries again later).
     * isOwnerAlive(record) is true when the record belongs to another live tab.
     */
    async _exclusive(scan, now) {
      // Another tab's record is alive while that tab holds its tab lock (in `held`), or,
      // without a lock snapshot, while its lease runs.
      const run = async (held) => {
        await scan((record) => !!record._owner && record._owner !== tabId && (held ? held.has(record._owner) : record._until > now()));
        return true;
      };
      const l = locks();
      if (!l) return run();
      try {
        return await l.request(prefix + 'adopt', { ifAvailable: true }, async (lock) => {
          if (!lock) return false;
          let held;
          try {
            const snapshot = await l.query();
            held = new Set();
            for (const info of [...(snapshot.held || []), ...(snapshot.pending || [])]) {
              const name = info?.name;
              if (name?.startsWith?.(tabLock)) held.add(name.slice(tabLock.length));
            }
          } catch { held = null; }
          return run(held);
        });
      } catch (error) {
        broken(error);
        return run();
      }
    },
  };
}
