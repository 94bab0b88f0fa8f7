// Late answers, at random: a tracker on a fake page whose browser answers when the test
// says so (a Web Lock granted, a fetch answered, or aborted, or answered after its abort)
// while the page and the host change state in between (consent revoked and granted,
// hidden and shown, the back/forward cache, offline, a new page view, cards removed,
// unobserved, clicked, flush). Each run is one seed of a small PRNG, so a failure
// names the seed that replays it. After every step: the tracker still runs (no core
// status became an error), nothing is written to storage while consent is revoked, and
// stats() places every event the core made. At the end, the browser answers everything
// and time passes: nothing is left queued, in flight or in storage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fakeNetwork } from './fakes/dom.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';
import { fakeStorage } from './fakes/delivery.js';

const RUNS = Number(process.env.RACE_RUNS) || 100;
const STEPS = 60;

/** A small PRNG (mulberry32): the same seed, the same run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Web Locks that grant a request only when the test says so (grant()), in order per name. */
function manualLocks() {
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
function manualFetch(network) {
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

const ticks = async (n) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Where stats() places the events the core made: each in one place. */
function placed(s) {
  const t = s.transport;
  return s.queuedEvents + s.dropped + t.queued + t.inFlight + t.sent + t.beaconed + t.dropped.total;
}

async function run(seed) {
  const rand = random(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const network = fakeNetwork();
  const requests = manualFetch(network);
  const { fetch, open } = requests;
  const storage = fakeStorage();
  const { locks, waiting, grant } = manualLocks();
  const navigator = { locks, onLine: true };
  let consent = true;
  let uncounted = false;
  const writes = [];
  const setItem = storage.setItem;
  storage.setItem = (key, value) => {
    if (!consent) writes.push(key);
    setItem(key, value);
  };
  const { page, tracker, errors } = await start({ env: { ...network.env, fetch, localStorage: storage, navigator } });
  const cards = addGrid(page, 6).cards;
  await page.settle();
  const log = [];
  const answer = (status) => {
    const request = open.shift();
    if (!request) return;
    if (status < 0) request.reject(new TypeError('Failed to fetch'));
    else request.resolve({ status, headers: { get: () => null } });
  };
  const steps = {
    see: () => {
      const card = pick(cards);
      if (page.observers.intersection.some((o) => o.targets.has(card))) page.intersect(card, pick([0, 0.5, 1]));
    },
    wait: () => page.advance(Math.floor(rand() * 3000)),
    revoke: () => {
      // The copies released to storage at a hide are no tab's: the purge removes them
      // uncounted (stats() counts the purge of what the tab holds), so the places of
      // this run's events are checked no further.
      if (storage.records.size) uncounted = true;
      consent = false;
      tracker.setConsent(false);
    },
    grantConsent: () => {
      tracker.setConsent(true);
      consent = true;
    },
    hide: () => page.hide(),
    show: () => page.show(),
    bfcache: () => {
      page.hide();
      page.lifecycle('pagehide', { persisted: true });
      page.lifecycle('freeze');
      page.clock.t += 10000;
      page.lifecycle('resume');
      page.lifecycle('pageshow', { persisted: true });
      page.show();
    },
    offline: () => {
      navigator.onLine = !navigator.onLine;
      page.lifecycle(navigator.onLine ? 'online' : 'offline');
    },
    lock: () => grant(),
    answer: () => answer(pick([204, 204, 503, 429, -1])),
    abortLate: () => { // an aborted request that reached the collector answers after all
      const request = open.find((r) => r.aborted);
      if (!request) return;
      open.splice(open.indexOf(request), 1);
      request.resolve({ status: 204, headers: { get: () => null } });
    },
    pageView: () => tracker.newPageView(),
    flush: () => tracker.flush(),
    remove: () => pick(cards).remove(),
    restore: () => {
      const card = pick(cards);
      if (!card.isConnected) page.document.body.append(card);
    },
    unobserve: () => tracker.unobserve(pick(cards)),
    click: () => {
      const card = pick(cards);
      if (card.isConnected) page.click(card);
    },
  };
  const names = Object.keys(steps);
  for (let i = 0; i < STEPS; i++) {
    const name = pick(names);
    log.push(name);
    steps[name]();
    await page.settle();
    const s = tracker.stats();
    const where = `seed ${seed}, after ${log.join(' ')}`;
    assert.deepEqual(errors.filter((e) => e.status !== undefined).map((e) => e.message), [], where);
    assert.equal(s.active, true, where);
    assert.deepEqual(writes, [], `written while consent was revoked: ${where}`);
    // A copy released to storage at a hide is no longer this tab's until a scan takes it back.
    if (!storage.records.size && !uncounted) assert.equal(placed(s), s.events + s.queuedEvents, `${where}: ${JSON.stringify(s)}`);
  }
  // The end: consent given, the page shown and online, every lock granted and every
  // request answered, while time passes.
  if (!consent) steps.grantConsent();
  page.show();
  if (!navigator.onLine) steps.offline();
  requests.atOnce = true;
  const held = () => tracker.stats().transport.queued + tracker.stats().transport.inFlight;
  for (let round = 0; round < 200 && (open.length || waiting.length || held()); round++) {
    while (waiting.length) {
      grant();
      await ticks(2);
    }
    while (open.length) answer(204);
    await ticks(2);
    page.advance(2000); // a retry after the backoff is answered before the fetch times out
    await ticks(2);
  }
  const s = tracker.stats();
  const where = `seed ${seed}, after ${log.join(' ')}: ${JSON.stringify(s)}`;
  assert.equal(s.transport.queued + s.transport.inFlight, 0, `nothing held: ${where}`);
  if (!uncounted) assert.equal(placed(s), s.events + s.queuedEvents, where);
  assert.deepEqual(storage.records.size, 0, `nothing stored: ${where}`);
  tracker.stop();
}

describe('late answers at random', () => {
  it(`${RUNS} runs of ${STEPS} steps: nothing stops, every event is placed, nothing written without consent`, async () => {
    for (let seed = 1; seed <= RUNS; seed++) await run(seed);
  });
});
