// A page that lives for hours, on the fake page and clock with the real core: 50,000
// cards through add, in view, out of view and removed (infinite scroll), 500 page
// views of a single-page app, and an hour of collector outage. What must stay bounded
// is asserted as the sizes of what the tracker holds (its cards, the observers'
// targets, timers, listeners, requests awaiting an answer), never heap bytes or time;
// what must stay right is every card counted once per page view and every event
// delivered or counted in a "drop". Each scenario is a function of its own; the
// describe at the end gives each its promise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bodyText } from './fakes/dom.js';
import { fakeLocks, fakeStorage } from './fakes/delivery.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';

/** Reads the bodies sent since the last call: () => the events of the new ones. */
function eventReader(transport) {
  let read = 0;
  return () => {
    const sends = transport.sends;
    const batches = sends.slice(read).map((c) => JSON.parse(bodyText(c.body)));
    read = sends.length;
    return batches.flatMap((b) => b.ev.map((e) => ({ ...e, pv: b.pv, drop: b.drop })));
  };
}

/** What the tracker holds that a long-lived page could make grow. */
function holdings(page, tracker) {
  const targets = (list) => list.reduce((n, o) => n + o.targets.size, 0);
  return {
    elements: tracker.stats().elements,
    observed: targets(page.observers.intersection.filter((o) => !o.options.trackVisibility)),
    occlusion: targets(page.observers.intersection.filter((o) => o.options.trackVisibility)),
    resized: targets(page.observers.resize),
    timers: page.clock.timers.length,
    idle: page.clock.idle.length,
    listeners: page.window.listeners.length + page.document.listeners.length,
    awaiting: tracker.stats().transport.inFlight + tracker.stats().transport.deferred, // events
  };
}

async function infiniteScroll() {
  let registered = 0; // fetchLater copies: each batch has one until it is confirmed
  const fetchLater = () => registered++;
  const { page, transport, tracker, errors } = await start({ debug: undefined, env: { fetchLater } });
  const newEvents = eventReader(transport);
  const before = holdings(page, tracker);
  const perPage = 50;
  const kept = 3; // pages of cards the page keeps; older ones are removed
  const grids = [];
  const counts = new Map(); // `${e}:${id}` -> times sent
  const count = () => {
    for (const e of newEvents()) counts.set(`${e.e}:${e.id}`, (counts.get(`${e.e}:${e.id}`) || 0) + 1);
  };
  for (let first = 1; first <= 50000; first += perPage) {
    const { cards } = addGrid(page, perPage, 'feed', first);
    grids.push(cards[0].parentNode);
    if (grids.length > kept) grids.shift().remove();
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    page.advance(1100); // viewable: 50 % for 1 s
    for (const card of cards) page.intersect(card, 0);
    if (first % 5000 === 1) page.click(cards[7]);
    await page.settle(); // fetch answers
    count();
    assert.ok(tracker.stats().elements <= kept * perPage + perPage, `cards held after ${first}`);
  }
  tracker.flush();
  await page.settle();
  count();
  for (let i = 1; i <= 50000; i += 997) {
    assert.equal(counts.get(`imp:gig-${i}`), 1, `imp:gig-${i}`);
    assert.equal(counts.get(`view:gig-${i}`), 1, `view:gig-${i}`);
  }
  const kinds = { imp: 0, view: 0, click: 0 };
  for (const [key, n] of counts) kinds[key.split(':')[0]] += n;
  assert.deepEqual([kinds.imp, kinds.view, kinds.click], [50000, 50000, 10]);
  assert.equal(counts.size - [...counts.keys()].filter((k) => k.startsWith('vis:')).length, 100010, 'each once');
  const after = holdings(page, tracker);
  assert.deepEqual(after, { ...before, elements: kept * perPage, observed: kept * perPage, timers: after.timers });
  assert.ok(after.timers <= 1, 'the one timer');
  assert.ok(registered > 500, 'fetchLater copies made, and cancelled once their batch was delivered');
  assert.equal(tracker.stats().dropped, 0);
  assert.deepEqual(errors, []);
}

async function singlePageApp() {
  let draw = 0; // distinct page view ids: the fake page's repeat after 256
  const getRandomValues = (array) => array.map((_, i) => (i < 4 ? (draw + 1) >> (8 * i) : i));
  const { page, transport, tracker, errors } = await start({ debug: undefined, occlusion: true, env: { getRandomValues: (a) => (draw++, getRandomValues(a)) } });
  const newEvents = eventReader(transport);
  const before = holdings(page, tracker);
  let grid = null;
  const views = [];
  for (let route = 0; route < 500; route++) {
    grid?.remove();
    // Routes show overlapping products: ids recur across page views.
    const { container, cards } = addGrid(page, 20, `r${route % 7}`, 1 + (route * 13) % 200);
    grid = container;
    tracker.newPageView({ path: `/route/${route}` });
    for (const card of cards) page.intersect(card, 1);
    page.click(cards[route % 20]);
    await page.settle();
    if (route % 50 === 24) page.hide(), page.show(); // tabs hidden and shown
    views.push([tracker.stats().pageView, cards.map((c) => c.getAttribute('data-gig-id')), cards[route % 20].getAttribute('data-gig-id')]);
    if (route % 50 === 49) { // a back/forward cache round trip: a page view of its own
      page.lifecycle('pagehide', { persisted: true });
      page.lifecycle('pageshow', { persisted: true });
      for (const card of cards) page.intersect(card, 0), page.intersect(card, 1);
      views.push([tracker.stats().pageView, views.at(-1)[1], undefined]);
    }
  }
  tracker.flush();
  await page.settle();
  const byView = new Map();
  for (const e of newEvents()) {
    if (!byView.has(e.pv)) byView.set(e.pv, { imp: [], click: [] });
    byView.get(e.pv)[e.e]?.push(e.id);
  }
  for (const [pv, ids, clicked] of views) {
    const got = byView.get(pv);
    assert.deepEqual(got?.imp.sort(), [...ids].sort(), `impressions of ${pv}`);
    assert.deepEqual(got.click, clicked ? [clicked] : [], `click of ${pv}`);
  }
  assert.equal(byView.size, 510, 'the first page view (before any route) has no cards; 10 restores');
  assert.deepEqual(holdings(page, tracker), { ...before, elements: 20, observed: 20, occlusion: 20, resized: 20, timers: holdings(page, tracker).timers });
  assert.ok(page.clock.timers.length <= 2, 'the one timer and the early newPageView() check');
  assert.deepEqual(errors, []);
}

async function hourOfOutage() {
  const storage = fakeStorage();
  let registered = 0;
  const env = { localStorage: storage, fetchLater: () => registered++ };
  const { page, transport, tracker, errors } = await start({ debug: undefined, env });
  const newEvents = eventReader(transport);
  transport.status = 503;
  let most = { requests: 0, bytes: 0 };
  let n = 0;
  let shown = [];
  let sent = 0;
  for (let second = 0; second < 3600; second++) {
    if (second % 10 === 0) { // 20 cards every 10 s, in view for 2 s
      shown = addGrid(page, 20, 'feed', n + 1).cards;
      n += 20;
      await page.settle();
      for (const card of shown) page.intersect(card, 1);
    }
    if (second % 10 === 2) for (const card of shown) page.intersect(card, 0);
    if (second % 600 === 300) page.hide(); // hidden for a minute every 10 minutes
    if (second % 600 === 360) page.show();
    page.advance(1000);
    most.requests = Math.max(most.requests, transport.sends.length - sent); // answered below
    await page.settle();
    sent = transport.sends.length;
    most.bytes = Math.max(most.bytes, [...storage.records].reduce((sum, [k, v]) => sum + k.length + v.length, 0));
  }
  const attempts = transport.sends.length;
  assert.ok(most.requests <= 1, 'one request at a time while the collector fails');
  assert.ok(attempts < 3600 / 48 + 10, `backoff: ${attempts} attempts in an hour`);
  // This tab's copies (512 KiB) and the records a scan leaves for want of a slot (as
  // much again); hide after hide they piled up before (1.15 MB after five hides).
  assert.ok(most.bytes <= 2 * 524288, `storage: ${most.bytes} B at most`);
  newEvents(); // the refused ones
  transport.status = 204;
  for (let second = 0; second < 120; second++) {
    page.advance(1000);
    await page.settle();
  }
  tracker.flush();
  await page.settle();
  const seen = new Set();
  const drops = new Map(); // a collector counts a batch's drop once: by its first event
  for (const body of transport.bodies.slice(attempts)) {
    const batch = JSON.parse(body);
    drops.set(batch.ev[0].s, batch.drop);
    for (const e of batch.ev) seen.add(e.s);
  }
  const drop = [...drops.values()].reduce((a, b) => a + b, 0);
  const stats = tracker.stats();
  assert.equal(seen.size + drop, stats.seq, 'every event delivered or counted in a drop');
  assert.ok(seen.size > 0 && drop > 0, 'the bounds held: some events could not wait an hour, and are counted');
  assert.ok(registered > 0);
  assert.deepEqual([stats.queuedEvents, stats.transport.queued, stats.transport.persisted, storage.records.size], [0, 0, 0, 0]);
  assert.ok(holdings(page, tracker).awaiting === 0 && page.clock.timers.length <= 1);
  assert.deepEqual(errors, []);
}

async function cardsRemovedWithoutUnobserve() {
  const { page, transport, tracker, errors } = await start({ debug: undefined, selector: null });
  const newEvents = eventReader(transport);
  const before = holdings(page, tracker);
  let grid = null;
  let imps = 0;
  let most = 0;
  for (let first = 1; first <= 10000; first += 50) {
    grid?.remove(); // a framework replacing its list, never calling unobserve()
    const { container, cards } = addGrid(page, 50, 'feed', first);
    grid = container;
    for (const card of cards) tracker.observe(card);
    for (const card of cards.slice(0, 5)) page.intersect(card, 1), page.intersect(card, 0);
    tracker.flush();
    await page.settle();
    imps += newEvents().filter((e) => e.e === 'imp').length;
    most = Math.max(most, tracker.stats().elements);
  }
  assert.equal(imps, 1000, 'five cards of each list counted');
  assert.ok(most <= 2 * 50 + 64, `cards held: at most ${most}`);
  const after = holdings(page, tracker);
  assert.ok(after.observed <= 2 * 50 + 64 && after.elements === after.observed, `observed: ${after.observed}`);
  assert.equal(after.listeners, before.listeners);
  assert.deepEqual(errors, []);
}

async function pageViewPastCapacity() {
  const { page, transport, tracker, errors } = await start({ debug: undefined });
  const newEvents = eventReader(transport);
  const grids = [];
  const scroll = async (from, to) => {
    for (let first = from; first < to; first += 50) {
      const { cards } = addGrid(page, 50, 'feed', first);
      grids.push(cards[0].parentNode);
      if (grids.length > 3) grids.shift().remove();
      await page.settle();
      for (const card of cards) page.intersect(card, 1), page.intersect(card, 0);
      for (const card of cards.slice(0, 5)) page.intersect(card, 1), page.intersect(card, 0); // seen again
    }
    tracker.flush();
    await page.settle();
    return newEvents().filter((e) => e.e === 'imp').length;
  };
  const counted = await scroll(1, 60001);
  assert.ok(counted > 49152 && counted < 60000, `${counted} cards counted before the core was full`);
  assert.deepEqual(errors.map((e) => e.message), ['impression-tracker: elem returned IMP_ERR_FULL'], 'said once');
  tracker.newPageView();
  assert.equal(await scroll(60001, 61001), 1000, 'a new page view counts every card again');
  assert.equal(errors.length, 1);
}

async function twoTabsWithFetchLater() {
  const storage = fakeStorage();
  const { locks } = fakeLocks();
  const env = (tab) => ({ localStorage: storage, navigator: { locks }, fetchLater: () => registered[tab]++ });
  const registered = { a: 0, b: 0 };
  const a = await start({ debug: undefined, env: env('a') });
  a.transport.status = 503;
  let n = 0;
  for (let round = 0; round < 6; round++) {
    for (let second = 0; second < 40; second++) { // a's collector fails: its batches wait, with fetchLater copies
      const { cards } = addGrid(a.page, 1, 'a', ++n);
      await a.page.settle();
      a.page.intersect(cards[0], 1);
      a.page.advance(1000);
      await a.page.settle();
    }
    a.page.hide(); // released to storage: their fetchLater copies stay with the browser
    await a.page.settle();
    const b = await start({ debug: undefined, env: env('b') }); // adopts and delivers them
    for (let second = 0; second < 30; second++) b.page.advance(1000), await b.page.settle();
    b.tracker.stop();
    a.page.show(); // its scan finds nothing left: the copies parked at the hide are cancelled
    await a.page.settle();
    a.page.advance(1000);
    await a.page.settle();
    assert.equal(a.tracker.stats().transport.deferred, 0, `round ${round}: no copy left waiting`);
  }
  assert.ok(registered.a > 0);
  assert.deepEqual([a.errors, storage.records.size], [[], 0]);
}

describe('a page that lives for hours', () => {
  it('infinite scroll of 50,000 cards: every card counted once, the tracker holds only the cards in the page', infiniteScroll);
  it('500 page views of a single-page app: each card once per page view, each click with its impression', singlePageApp);
  it('an hour of collector outage with steady traffic: bounded requests and storage, then everything delivered', hourOfOutage);
  it('cards the page observes itself and removes without unobserve() are let go (no discovery to see them leave)', cardsRemovedWithoutUnobserve);
  it('a page view past what the core can hold says so once, not once per card, and the next page view counts again', pageViewPastCapacity);
  it('two tabs, one hidden while the other takes its stored batches: no fetchLater copy is left waiting', twoTabsWithFetchLater);
});

