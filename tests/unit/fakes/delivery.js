// Fakes of the browser's storage, Web Locks and fetch, for the tests of delivery
// (delivery-*.test.js, races.test.js): a localStorage over a Map, locks granted at once,
// a hold on the grant of some locks until the test lets them go, and locks and a fetch
// that answer only when the test says so.

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

/** Web Locks that grant a request only when the test says so (grant()), in order per name. */
export function manualLocks() {
  const held = new Set();
  const waiting = [];
  const locks = {
    request: (name, callback) => new Promise((resolve, reject) => waiting.push({ name, callback, resolve, reject })),
    query: async () => ({ held: [...held].map((name) => ({ name })) }),
  };
  const grant = () => {
    const i = waiting.findIndex((r) => !held.has(r.name));
    if (i < 0) return;
    const [r] = waiting.splice(i, 1);
    held.add(r.name);
    Promise.resolve().then(() => r.callback({ name: r.name })).finally(() => held.delete(r.name)).then(r.resolve, r.reject);
  };
  return { locks, waiting, grant };
}

/**
 * fetch whose answers wait: each request can be answered, or aborted and maybe answered
 * after; once `atOnce` is set, a new request is answered 204 at once.
 */
export function manualFetch(network) {
  const open = [];
  const answers = { open, atOnce: false };
  answers.fetch = (url, init) => {
    network.calls.push({ kind: 'fetch', url, body: init.body });
    if (answers.atOnce) return Promise.resolve({ status: 204, headers: { get: () => null } });
    return new Promise((resolve, reject) => {
      const request = { resolve, reject, body: init.body, aborted: false };
      init.signal?.addEventListener('abort', () => {
        request.aborted = true;
      });
      open.push(request);
    });
  };
  return answers;
}
