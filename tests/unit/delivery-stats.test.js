// Delivery's counts with the real core's outbox on a fake page and network: a laptop
// asleep (the wall clock goes on while performance.now() stands still), stats()
// placing every event the core made, and stop() with a fetch in flight.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listRecords } from '../../js/delivery/io.js';
import { fakeNetwork } from './fakes/dom.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';
import { fakeStorage } from './fakes/delivery.js';
import { CONFIRM_MS, PREFIX, oneImpression, ticks } from './delivery-setup.js';

describe('the wall clock', () => {
  it('a laptop asleep (performance.now() stands still, the wall clock goes on): a batch cut before is counted lost past 24 h of wall time, one cut after is dated by the wall clock', async () => {
    const wall = { base: Date.parse('2026-01-01T00:00:00Z'), perf: () => 0 };
    const network = fakeNetwork({ status: 503 });
    const storage = fakeStorage();
    const { page, tracker, errors } = await start({ env: { ...network.env, localStorage: storage, wallNow: () => wall.base + wall.perf() } });
    wall.perf = page.env.now;
    await oneImpression(page, tracker);
    await ticks(4);
    assert.equal(listRecords(storage, PREFIX).length, 1, 'the collector fails: an owned copy is stored');
    const sent = network.bodies.length;
    wall.base += 25 * 3600e3; // asleep for 25 hours
    page.advance(60000); // awake: its retry is due
    await ticks(4);
    const after = network.bodies.slice(sent).map((body) => JSON.parse(body));
    assert.deepEqual(after.flatMap((b) => b.ev).filter((e) => e.e === 'imp'), [], 'cut 25 h ago by the wall clock: not sent again');
    assert.equal(tracker.stats().transport.dropped.byReason.lost, 1, 'but counted lost');
    assert.ok(after.some((b) => b.drop === 1), 'in the drop of a later batch');
    assert.ok(!listRecords(storage, PREFIX).some(([, value]) => value.includes('"e":"imp"')), 'and its record removed');
    const card = page.el({ 'data-gig-id': 'gig-2' });
    page.document.body.append(card);
    await page.settle();
    page.intersect(card, 1);
    tracker.flush();
    await ticks(4);
    const created = listRecords(storage, PREFIX).map(([key]) => Number(key.split(':')[1]));
    assert.equal(created.length, 2, 'the batches cut after the sleep are stored (the viewable impression, gig-2)');
    const now = wall.base + page.env.now();
    for (const ms of created) assert.ok(ms > now - 70000 && ms <= now, `dated by the wall clock: ${new Date(ms).toISOString()}`);
    assert.deepEqual(errors, []);
  });
});

describe('stop() and stats()', () => {
  it('stats() accounts for every event the core made: in its queue, held, in flight, delivered or dropped', async () => {
    const network = fakeNetwork();
    const statuses = [503, 400, 204, 413, 204, 204, 500];
    const fetch = (url, init) => {
      network.calls.push({ kind: 'fetch', body: init.body });
      return Promise.resolve({ status: statuses.shift() ?? 204, headers: { get: () => null } });
    };
    const fetched = new Set();
    const onDelivery = (d) => d.kind === 'fetch' && fetched.add(d.batch);
    const { page, tracker } = await start({ onDelivery, env: { ...network.env, fetch, localStorage: fakeStorage() } });
    const { cards } = addGrid(page, 40);
    await page.settle();
    const balance = (when) => {
      const s = tracker.stats();
      const t = s.transport;
      const made = s.events + s.queuedEvents; // cut from the queue or dropped by it, and still queued
      const places = s.queuedEvents + s.dropped + t.queued + t.inFlight + t.sent + t.beaconed + t.dropped.total;
      assert.equal(places, made, `${when}: ${JSON.stringify({ ...s, transport: { ...t } })}`);
    };
    for (let round = 0; round < 6; round++) {
      for (const card of cards.slice(round * 6, round * 6 + 6)) page.intersect(card, 1);
      balance(`round ${round}, observed`);
      tracker.flush();
      balance(`round ${round}, flushed`);
      await new Promise((resolve) => setImmediate(resolve));
      balance(`round ${round}, answered`);
      page.advance(2000); // viewable impressions, retries
      await new Promise((resolve) => setImmediate(resolve));
      balance(`round ${round}, 2 s later`);
    }
    assert.ok(tracker.stats().transport.dropped.byReason.lost > 0, 'a batch refused for good');
    assert.equal(tracker.stats().batches, fetched.size, 'batches: as many as were sent');
    tracker.setConsent(false);
    for (const card of cards.slice(36)) page.intersect(card, 1);
    tracker.flush();
    balance('consent denied');
    assert.ok(tracker.stats().transport.dropped.byReason.consent > 0, 'events purged');
  });

  it('stop() with a fetch in flight: the batch gets a released copy, its answer is no longer heard, and the next load sends it again', async () => {
    const storage = fakeStorage();
    const answers = [];
    const hanging = () => new Promise((resolve) => answers.push(resolve));
    const { page, tracker } = await start({ env: { localStorage: storage, fetch: hanging } });
    await oneImpression(page, tracker);
    assert.equal(answers.length, 1, 'in flight');
    tracker.stop();
    const records = listRecords(storage, 'impression-tracker:');
    assert.equal(records.length, 1, 'a copy in storage');
    assert.match(records[0][1], /^I2 \d{13} \d{13} 1 -\n/, 'released, for any tab, and marked as sent once');
    answers[0]({ status: 204, headers: { get: () => null } }); // it did land
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(listRecords(storage, 'impression-tracker:').length, 1, 'the answer after stop() changes nothing');

    const network = fakeNetwork();
    const next = await start({ env: { ...network.env, localStorage: storage } });
    await ticks(1);
    next.page.advance(CONFIRM_MS);
    await ticks(1);
    assert.deepEqual(network.events.map((e) => e.id), ['gig-1'], 'the next load sends it again: a duplicate (pv, s) removes');
  });
});
