// Each asynchronous answer of the browser (a lock granted, a fetch answered) may come
// after the tracker changed state: it must stop nothing, count nothing twice, write
// nothing after a consent purge and lose nothing uncounted. The real core's outbox on a
// fake page, with fake Web Locks whose grants the test holds back (deferGrants) and
// fetches it answers by hand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listRecords } from '../../js/delivery/io.js';
import { fakeNetwork } from './fakes/dom.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';
import { deferGrants, fakeLocks, fakeStorage } from './fakes/delivery.js';
import { CONFIRM_MS, PREFIX, oneImpression, ticks } from './delivery-setup.js';

// A record released by a tab that died a minute ago (with wallNow: WALL_LATER), its
// one impression never sent.
const OLD_RECORD = [`${PREFIX}q:1700000000000:olda:0`,
  'I2 1700000000000 1700000030000 0 -\n{"v":1,"pv":"p","path":"/","at":5,"drop":0,"ev":[{"e":"imp","s":1,"t":1,"id":"a","pos":1,"f":1}]}'];
const WALL_LATER = () => 1700000000000 + 60000;

/** A fetch that records each call in network.calls and waits for the test: answers[i]() lands it (204). */
function handAnsweredFetch(network) {
  const answers = [];
  const fetch = (url, init) => {
    network.calls.push({ kind: 'fetch', url, body: init.body });
    return new Promise((resolve) => answers.push(() => resolve({ status: 204, headers: { get: () => null } })));
  };
  return { fetch, answers };
}

/** A tracker whose fetches wait for the test to answer them (abort or not). */
async function answeredByHand(options = {}) {
  const network = fakeNetwork();
  const { fetch, answers } = handAnsweredFetch(network);
  const storage = fakeStorage();
  const started = await start({ ...options, env: { ...network.env, fetch, localStorage: storage } });
  await oneImpression(started.page, started.tracker);
  assert.equal(answers.length, 1, 'in flight');
  return { ...started, network, answers, storage };
}

describe('late answers', () => {
  it('consent revoked and granted again while the scan waits: two scans queued, the record found is adopted and sent once', async () => {
    const { locks } = fakeLocks();
    const grant = deferGrants(locks, ':scan');
    const storage = fakeStorage();
    const network = fakeNetwork();
    const { page, tracker, errors } = await start({ env: { ...network.env, localStorage: storage, navigator: { locks }, wallNow: WALL_LATER } });
    tracker.setConsent(false);
    tracker.setConsent(true); // a second scan, whose lock request waits behind the first
    storage.setItem(...OLD_RECORD); // written meanwhile by a tab that then died
    grant();
    await ticks(6);
    page.advance(CONFIRM_MS);
    grant();
    await ticks(6);
    assert.deepEqual(errors, []);
    assert.equal(tracker.stats().active, true);
    assert.deepEqual(network.events.map((e) => e.id), ['a'], 'adopted by one scan, sent once');
    assert.deepEqual(listRecords(storage, PREFIX), [], 'and removed once delivered');
  });

  it('a scan lock never granted (the tab holding it hangs): the scan takes it after 5 s, and the stored batch is sent', async () => {
    const { locks } = fakeLocks();
    const grant = deferGrants(locks, ':scan'); // never called: the holder never lets go
    const storage = fakeStorage([OLD_RECORD]);
    const network = fakeNetwork();
    const { page, tracker, errors } = await start({ env: { ...network.env, localStorage: storage, navigator: { locks }, wallNow: WALL_LATER } });
    await ticks(4);
    assert.deepEqual(network.events, [], 'the scan waits for its lock');
    page.advance(4999);
    await ticks(4);
    assert.equal(grant.stolen, 0, 'a lock held for less than 5 s is waited for');
    page.advance(1);
    await ticks(6);
    assert.equal(grant.stolen, 1, 'then taken, once');
    page.advance(CONFIRM_MS + 5000); // the scan that confirms the claim also waits, then takes the lock
    await ticks(6);
    assert.deepEqual(network.events.map((e) => e.id), ['a'], 'the record is adopted and sent');
    assert.deepEqual(listRecords(storage, PREFIX), [], 'and removed once delivered');
    assert.equal(tracker.stats().transport.sent, 1);
    assert.deepEqual(errors, []);
  });

  it('the scan lock granted after the page was hidden: what it adopts is let go unclaimed, and sent once shown again', async () => {
    const { locks } = fakeLocks();
    const grant = deferGrants(locks, ':scan');
    const storage = fakeStorage([OLD_RECORD]);
    const network = fakeNetwork();
    const { page, tracker, errors } = await start({ env: { ...network.env, localStorage: storage, navigator: { locks }, wallNow: WALL_LATER } });
    page.hide();
    grant();
    await ticks(4);
    assert.deepEqual(errors, []);
    assert.deepEqual(network.calls, [], 'a claim not confirmed is not sent');
    assert.deepEqual(listRecords(storage, PREFIX), [OLD_RECORD.map((s, i) => (i ? s : s.slice(PREFIX.length)))], 'its record stays, released');
    assert.equal(tracker.stats().transport.queued, 0, 'and nothing is held');
    page.show();
    grant();
    await ticks(4);
    page.advance(CONFIRM_MS);
    grant();
    await ticks(6);
    assert.deepEqual(network.events.map((e) => e.id), ['a'], 'shown again: adopted, confirmed and sent');
    assert.deepEqual(listRecords(storage, PREFIX), [], 'its record removed');
    assert.equal(tracker.stats().transport.sent, 1);
  });
});

describe('late answers: stop() and the tab lock', () => {
  it('stop() while the scan waits: the late grant reads and writes nothing', async () => {
    const { locks } = fakeLocks();
    const grant = deferGrants(locks, ':scan');
    const storage = fakeStorage([OLD_RECORD]);
    const network = fakeNetwork();
    const { tracker, errors } = await start({ env: { ...network.env, localStorage: storage, navigator: { locks }, wallNow: WALL_LATER } });
    tracker.stop();
    grant();
    await ticks(4);
    assert.deepEqual(errors, []);
    assert.deepEqual(network.calls, []);
    assert.deepEqual(listRecords(storage, PREFIX), [OLD_RECORD].map(([key, value]) => [key.slice(PREFIX.length), value]), 'the record is left for the next tab');
  });

  it('the tab lock granted after the page was hidden is released at once: a hidden tab owns nothing', async () => {
    const { held, locks } = fakeLocks();
    const grant = deferGrants(locks, ':tab:');
    const { page, errors } = await start({ env: { localStorage: fakeStorage(), navigator: { locks } } });
    const tabLocks = () => [...held].filter((name) => name.startsWith(`${PREFIX}tab:`));
    page.hide();
    page.show();
    page.hide();
    grant();
    await ticks(4);
    assert.deepEqual(tabLocks(), [], 'hidden: none held');
    page.show();
    await ticks(2);
    assert.equal(tabLocks().length, 1, 'shown: held');
    assert.deepEqual(errors, []);
  });
});

describe('late answers: fetches', () => {
  it('a fetch that lands after consent was revoked (and granted again): its answer is not heard, nothing is written, the purge counts it', async () => {
    const { page, tracker, answers, storage, errors } = await answeredByHand();
    const written = [];
    const setItem = storage.setItem;
    storage.setItem = (key, value) => written.push(key) && setItem(key, value);
    tracker.setConsent(false);
    answers[0](); // the request was aborted, but the collector had it
    await ticks(2);
    assert.deepEqual(written, [], 'nothing written after the purge');
    tracker.setConsent(true);
    await ticks(2);
    const t = tracker.stats().transport;
    assert.deepEqual([t.sent, t.inFlight, t.dropped.byReason.consent], [0, 0, 1], 'counted once: purged');
    const card = page.el({ 'data-gig-id': 'gig-2' });
    page.document.body.append(card);
    await page.settle();
    page.intersect(card, 1);
    tracker.flush();
    answers[1]();
    await ticks(2);
    assert.equal(tracker.stats().transport.sent, 1, 'a later event is sent and counted');
    assert.deepEqual(errors, []);
  });

  it('requests let go at a hide (every slot in flight) that land after it count as sent', async () => {
    const network = fakeNetwork();
    const { fetch, answers } = handAnsweredFetch(network);
    const storage = fakeStorage();
    const { page, tracker, errors } = await start({ batch: { maxEvents: 1 }, env: { ...network.env, fetch, localStorage: storage } });
    const { cards } = addGrid(page, 24);
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    tracker.flush();
    assert.equal(answers.length, 16, 'every slot in flight');
    page.hide(); // the 8 queued impressions need slots: requests in flight let theirs go
    for (const land of answers.splice(0)) land();
    await ticks(2);
    const t = tracker.stats().transport;
    assert.deepEqual({ sent: t.sent, beaconed: t.beaconed, inFlight: t.inFlight, queued: t.queued }, { sent: 16, beaconed: 8, inFlight: 0, queued: 0 }, 'each impression counted once');
    assert.deepEqual(listRecords(storage, PREFIX), [], 'their released copies removed');
    assert.deepEqual(errors, []);
  });
});

describe('late answers: fetches let go at a hide', () => {
  it('requests let go at a hide and still in flight: no counter negative, none counting an event twice, shown again or not', async () => {
    const network = fakeNetwork();
    const { fetch, answers } = handAnsweredFetch(network);
    const { page, tracker, errors } = await start({ batch: { maxEvents: 1 }, env: { ...network.env, fetch, localStorage: fakeStorage(), navigator: { locks: fakeLocks().locks } } });
    const { cards } = addGrid(page, 24);
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    tracker.flush();
    const sane = (when) => {
      const t = tracker.stats().transport;
      assert.ok(Object.values(t).every((v) => typeof v !== 'number' || v >= 0), `${when}: ${JSON.stringify(t)}`);
      assert.ok(t.queued + t.inFlight + t.sent + t.beaconed + t.dropped.total <= 24, `${when}: no event counted twice: ${JSON.stringify(t)}`);
      return t;
    };
    page.hide(); // the queued impressions need slots: requests in flight let theirs go
    const t0 = sane('hidden');
    assert.deepEqual([t0.queued, t0.beaconed], [0, 8], 'the queued 8 beaconed, nothing waits');
    assert.ok(t0.inFlight < 16, `requests let go stand for their released records: ${t0.inFlight} in flight`);
    for (const card of cards) page.intersect(card, 0); // no new impressions while the claims settle
    page.show(); // the scan adopts the released records again: those events wait here
    await ticks(4);
    sane('shown again');
    page.advance(CONFIRM_MS);
    await ticks(4);
    sane('claims confirmed');
    while (answers.length) {
      for (const land of answers.splice(0)) land();
      await ticks(4);
    }
    const t = sane('every answer in');
    assert.deepEqual({ sent: t.sent, beaconed: t.beaconed, inFlight: t.inFlight, queued: t.queued }, { sent: 16, beaconed: 8, inFlight: 0, queued: 0 }, 'each impression counted once');
    assert.deepEqual(errors, []);
  });

  it('a fetch answered while the page is hidden: its released copy goes, and nothing is sent again when shown', async () => {
    const { page, tracker, network, answers, storage, errors } = await answeredByHand();
    page.hide();
    assert.equal(listRecords(storage, PREFIX).length, 1, 'a released copy while it is in flight');
    answers[0]();
    await ticks(2);
    assert.deepEqual(listRecords(storage, PREFIX), [], 'the answer removes it');
    page.show();
    await ticks(2);
    assert.deepEqual(network.events.map((e) => e.id), ['gig-1'], 'sent once');
    assert.equal(tracker.stats().transport.sent, 1);
    assert.deepEqual(errors, []);
  });
});
