// Late answers, at random: a tracker on a fake page whose browser answers when the test
// says so (its core loaded, a Web Lock granted, a fetch answered, or aborted, or answered
// after its abort, a size entry for a card; fetchLater, in half the runs, registers or
// refuses) while the page and the host change state in between (consent revoked and
// granted, hidden and shown, the back/forward cache, offline, a new page view, cards
// removed, unobserved, clicked, flush, another tab's record found). Each run is one seed
// of a small PRNG, so a failure names the seed that replays it. After every step: the
// tracker still runs (no core status became an error), each card is watched by one
// geometry observer (none once let go), nothing is written to storage while consent is
// revoked, and stats() places every event the core made. At the end, either the browser
// answers everything while time passes (nothing is left queued, in flight or in
// storage), or stop() comes first (what answers after it is not heard: nothing written
// or sent); every click sent is one on that card.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../js/index.js';
import { createPage, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { addGrid } from './fakes/tracker.js';
import { fakeStorage, manualFetch, manualLocks } from './fakes/delivery.js';
import { ticks } from './delivery-setup.js';

const RUNS = Number(process.env.RACE_RUNS) || 300;
const STEPS = Number(process.env.RACE_STEPS) || 60;

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

/** Where stats() places the events the core made: each in one place. */
function placed(s) {
  const t = s.transport;
  return s.queuedEvents + s.dropped + t.queued + t.inFlight + t.sent + t.beaconed + t.dropped.total;
}

// One run's world: the page, its browser (network, storage, locks), the tracker once
// its core has loaded, and what the checks need.
function createWorld(seed) {
  const rand = random(seed);
  const page = createPage();
  const network = fakeNetwork();
  const requests = manualFetch(network);
  const storage = fakeStorage();
  const lockManager = manualLocks();
  const world = {
    seed, rand, page, network, requests, storage, lockManager, pick: (list) => list[Math.floor(rand() * list.length)],
    navigator: { locks: lockManager.locks, onLine: true }, consent: true, uncounted: false, stopped: false,
    writes: [], errors: [], log: [], tracker: null, cards: addGrid(page, 6).cards, unobserved: new Set(), clicked: new Set(), laters: [],
  };
  const setItem = storage.setItem;
  storage.setItem = (key, value) => {
    if (!world.consent || world.stopped) world.writes.push(key);
    setItem(key, value);
  };
  return world;
}

/** Starts the tracker; its core arrives when `give()` is called. */
function startLate(world) {
  let give;
  const wasm = new Promise((resolve) => { give = () => resolve(wasmBytes()); });
  const env = {
    ...world.page.env, ...world.network.env, fetch: world.requests.fetch, localStorage: world.storage, navigator: world.navigator,
    fetchLater: world.rand() < 0.5 ? null : (url, init) => { // registered, or refused (its quota)
      if (world.rand() < 0.2) throw new DOMException('quota', 'QuotaExceededError');
      world.laters.push(init);
    },
  };
  const starting = createTracker({ endpoint: '/collect', wasm, onError: (e) => world.errors.push(e), env });
  return { give, starting };
}

// What the page, the browser and the host may do, as steps. The page's steps run
// before the core has loaded too; the host's need the tracker.
function pageSteps(world) {
  const { page, pick, cards, navigator } = world;
  const { grant } = world.lockManager;
  const { open } = world.requests;
  return {
    see: () => {
      const card = pick(cards);
      if (page.observers.intersection.some((o) => o.targets.has(card))) page.intersect(card, pick([0, 0.5, 1]));
    },
    wait: () => page.advance(Math.floor(world.rand() * 3000)),
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
    answer: () => answerOne(open, pick([204, 204, 503, 429, -1])),
    abortLate: () => { // an aborted request that reached the collector answers after all
      const request = open.find((r) => r.aborted);
      if (!request) return;
      open.splice(open.indexOf(request), 1);
      request.resolve({ status: 204, headers: { get: () => null } });
    },
    remove: () => pick(cards).remove(),
    restore: () => {
      const card = pick(cards);
      if (card.isConnected) return;
      page.document.body.append(card);
      world.unobserved.delete(card); // discovery finds it again
    },
    click: () => {
      const card = pick(cards);
      if (!card.isConnected) return;
      page.click(card);
      world.clicked.add(card.getAttribute('data-gig-id'));
    },
    otherTab: () => { // a tab that died left a released record, its events not this tab's to place
      const created = Date.now() - 60000;
      const n = world.storage.records.size;
      world.storage.records.set(`impression-tracker:q:${created}:other:${n}`, `I2 ${created} ${created + 30000} 0 -\n`
        + `{"v":1,"pv":"other","path":"/","at":5,"drop":0,"ev":[{"e":"imp","s":${n + 1},"t":1,"id":"o${n}","pos":1,"f":1}]}`);
      world.uncounted = true;
    },
    lateResize: () => { // a size entry gathered before the card was let go, or not
      const sizes = page.observers.resize[0];
      const card = pick(cards);
      const box = pick([{ width: 300, height: 200 }, { width: 1000, height: 500 }]);
      card.getBoundingClientRect = () => box;
      sizes?.callback([{ target: card }], sizes);
    },
  };
}

function hostSteps(world) {
  const { pick, cards } = world;
  return {
    revoke: () => {
      // The copies released to storage at a hide are no tab's: the purge removes them
      // uncounted (stats() counts the purge of what the tab holds), so the places of
      // this run's events are checked no further.
      if (world.storage.records.size) world.uncounted = true;
      world.consent = false;
      world.tracker.setConsent(false);
    },
    grantConsent: () => {
      world.tracker.setConsent(true);
      world.consent = true;
    },
    pageView: () => world.tracker.newPageView(),
    flush: () => world.tracker.flush(),
    unobserve: () => {
      const card = pick(cards);
      world.tracker.unobserve(card);
      world.unobserved.add(card);
    },
  };
}

/** Answers the oldest open request: a status, or a network error (-1). */
function answerOne(open, status) {
  const request = open.shift();
  if (!request) return;
  if (status < 0) request.reject(new TypeError('Failed to fetch'));
  else request.resolve({ status, headers: { get: () => null } });
}

async function runSteps(world, steps, n) {
  const names = Object.keys(steps);
  for (let i = 0; i < n; i++) {
    const name = world.pick(names);
    world.log.push(name);
    steps[name]();
    await world.page.settle();
    if (world.tracker) check(world);
  }
}

// After a step: the tracker runs, wrote nothing without consent, and places every event
// (while storage holds no copy released at a hide: it is no longer this tab's until a
// scan takes it back); a card is watched by one geometry observer, none once let go.
function check(world) {
  const s = world.tracker.stats();
  const where = `seed ${world.seed}, after ${world.log.join(' ')}`;
  assert.deepEqual(world.errors.filter((e) => e.status !== undefined).map((e) => e.message), [], where);
  assert.equal(s.active, true, where);
  const geometry = world.page.observers.intersection.filter((o) => !o.options.trackVisibility);
  for (const card of world.cards) {
    const watching = geometry.filter((o) => o.targets.has(card)).length;
    assert.equal(watching, !card.isConnected || world.unobserved.has(card) ? 0 : 1, `${card.getAttribute('data-gig-id')} watched: ${where}`);
  }
  assert.deepEqual(world.writes, [], `written while consent was revoked: ${where}`);
  if (!world.storage.records.size && !world.uncounted) assert.equal(placed(s), s.events + s.queuedEvents, `${where}: ${JSON.stringify(s)}`);
}

// The browser answers everything, while time passes: every lock granted, every request
// answered (new ones at once).
async function answerAll(world, more = () => false) {
  const { open } = world.requests;
  const { waiting, grant } = world.lockManager;
  world.requests.atOnce = true;
  for (let round = 0; round < 200 && (open.length || waiting.length || more()); round++) {
    while (waiting.length) {
      grant();
      await ticks(2);
    }
    while (open.length) answerOne(open, 204);
    await ticks(2);
    world.page.advance(2000); // a retry after the backoff is answered before the fetch times out
    await ticks(2);
  }
}

// The end: consent given, the page shown and online, then everything answered: nothing
// is left held or stored.
async function recover(world) {
  const { tracker, page } = world;
  if (!world.consent) hostSteps(world).grantConsent();
  page.hide();
  page.show(); // shown again, the tab scans storage: another tab's records are found then
  if (!world.navigator.onLine) pageSteps(world).offline();
  const held = () => tracker.stats().transport.queued + tracker.stats().transport.inFlight;
  await answerAll(world, held);
  const s = tracker.stats();
  const where = `seed ${world.seed}, after ${world.log.join(' ')}: ${JSON.stringify(s)}`;
  assert.equal(held(), 0, `nothing held: ${where}`);
  if (!world.uncounted) assert.equal(placed(s), s.events + s.queuedEvents, where);
  assert.equal(world.storage.records.size, 0, `nothing stored: ${where}`);
  clicksOnClickedCards(world, where);
  tracker.stop();
}

/** A click sent is one on that card. */
function clicksOnClickedCards(world, where) {
  for (const e of world.network.events) if (e.e === 'click') assert.ok(world.clicked.has(e.id), `a click on ${e.id}: ${where}`);
}

// Or the end is stop(): what answers after it is not heard, and nothing is written or sent.
async function stopThenAnswer(world) {
  world.tracker.stop();
  world.stopped = true;
  const sends = world.network.sends.length;
  await answerAll(world);
  const where = `seed ${world.seed}, after ${world.log.join(' ')} stop`;
  assert.deepEqual(world.writes, [], `written after stop(): ${where}`);
  assert.equal(world.network.sends.length, sends, `sent after stop(): ${where}`);
  clicksOnClickedCards(world, where);
  assert.deepEqual(world.errors.filter((e) => e.status !== undefined).map((e) => e.message), [], where);
}

/** One run: page steps while the core loads (in half the runs), then any steps, then the end. */
async function run(seed) {
  const world = createWorld(seed);
  const { give, starting } = startLate(world);
  await world.page.settle();
  if (world.rand() < 0.5) {
    const { wait, ...early } = pageSteps(world); // no waiting past the loader's timeout
    await runSteps(world, early, Math.floor(world.rand() * 10));
  }
  world.log.push('core');
  give();
  world.tracker = await starting;
  const steps = { ...pageSteps(world), ...hostSteps(world) };
  if (world.rand() < 0.7) delete steps.otherTab; // most runs place every event of their own
  await runSteps(world, steps, STEPS);
  await (world.rand() < 0.8 ? recover(world) : stopThenAnswer(world));
}

describe('late answers at random', () => {
  it(`${RUNS} runs of ${STEPS} steps: nothing stops, every event is placed, nothing written without consent`, async () => {
    for (let seed = Number(process.env.RACE_FROM) || 1; seed <= RUNS; seed++) await run(seed);
  });
});
