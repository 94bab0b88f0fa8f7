// Fakes of the browser's storage and Web Locks, for the tests of delivery
// (delivery.test.js, races.test.js): a localStorage over a Map, locks granted at once,
// and a hold on the grant of some locks until the test lets them go.

export function fakeStorage(entries = []) {
  const records = new Map(entries);
  return {
    records,
    get length() { return records.size; },
    key: (i) => [...records.keys()][i] ?? null,
    getItem: (k) => records.get(k) ?? null,
    setItem: (k, v) => records.set(k, String(v)),
    removeItem: (k) => records.delete(k),
  };
}

/** Web Locks that grant every request at once; `log` gets each release. Options are the API's ({steal}). */
export function fakeLocks(log = []) {
  const held = new Set();
  const locks = {
    request: (name, options, callback = options) => {
      held.add(name);
      return Promise.resolve(callback({ name })).finally(() => {
        held.delete(name);
        log.push(`release ${name}`);
      });
    },
    query: async () => ({ held: [...held].map((name) => ({ name })) }),
  };
  return { held, locks };
}

/**
 * Holds back the grant of every lock whose name contains `suffix` (':scan', or a tab's
 * lock) until the returned function is called: the browser grants a lock later, and
 * anything may happen in between. Later requests queue behind, granted in order; one
 * with `steal` takes the lock at once, as the browser grants it (`stolen` counts them).
 */
export function deferGrants(locks, suffix) {
  let grant;
  const granted = new Promise((resolve) => { grant = resolve; });
  const request = locks.request;
  grant.stolen = 0;
  locks.request = (name, options, callback = options) => {
    if (!name.includes(suffix)) return request(name, callback);
    if (options?.steal) return (grant.stolen++, request(name, callback));
    return granted.then(() => request(name, callback));
  };
  return grant;
}
