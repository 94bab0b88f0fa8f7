// faults.test.js: the collector misbehaves and the tracker copes. 500/503 for a few
// attempts, 404 (a wrong endpoint, reported once), 429 with Retry-After, a poison batch (400/413/422), a slow collector, a
// collector that is down until the next page load, a reset in the middle of the body,
// a redirect, offline then online, and no CORS headers. Retry timing runs on Playwright's fake
// clock; every test checks what arrived after dedup by (pv, s). The trace of a failing
// session replays to the very attempts the collector saw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateCount, eventIds, uniqueEvents } from './server.js';
import { allBatchProblems } from './payload.js';
import { noNativeReplay, replayedSends, replayNative, replayWasm } from '../unit/fakes/replay.js';
import {
  fetchAttempts, followRetries, inViewObserved, useBrowserSuite, trackerReady, waitForTrace, waitInPage,
} from './browser.js';

let site;
let collector;
const { open } = useBrowserSuite({ collectorUp: true, recordDebug: true }, (shared) => ({ site, collector } = shared));

/** Opens a 24-card grid, waits for its observations and flushes: one batch of 16 impressions. */
async function openAndFlush(t, options = {}) {
  const opened = await open(t, { fixture: 'grid.html?n=24', ...options });
  if (options.clock) await opened.page.clock.runFor(1);
  await inViewObserved(opened.page);
  const events = await opened.page.evaluate(() => {
    window.__it.tracker.flush();
    return window.__it.events;
  });
  return { ...opened, ids: new Set(events.map((e) => `${e.pv}:${e.s}`)) };
}

/** Every event the page created is at the collector, once after dedup. */
function assertAllDelivered(ids) {
  const delivered = eventIds(collector.records);
  assert.deepEqual([...ids].filter((id) => !delivered.has(id)), [], 'no event id missing');
  assert.deepEqual(allBatchProblems(collector.records), []);
}

const accepted = () => collector.records.filter((r) => r.status >= 200 && r.status < 300).length;
const within = (ms, base) => ms >= base * 0.8 && ms <= Math.min(60000, base * 1.2);

test('500, 500, 503 then success: retried after ~1 s, 2 s, 4 s; nothing lost, nothing twice', async (t) => {
  collector.failNext(2, 500);
  collector.failNext(1, 503);
  const { page, ids } = await openAndFlush(t, { clock: true });
  const delays = await followRetries(page, 3);
  [1000, 2000, 4000].forEach((base, i) => assert.ok(within(delays[i], base), `retry ${i + 1} after ${delays[i]} ms`));
  await collector.waitFor(() => accepted() >= 1, 10000, 'the fourth attempt accepted');
  // (Later batches, such as the viewable impressions due while the clock ran, may follow.)
  assert.deepEqual(collector.records.slice(0, 4).map((r) => r.status), [500, 500, 503, 204]);
  assert.equal(new Set(collector.records.slice(0, 4).map((r) => r.body)).size, 1, 'the same batch each time');
  assertAllDelivered(ids);
  assert.equal(duplicateCount(collector.records), 0);
});

test('404 (a wrong endpoint): onError hears it once, naming the endpoint; the batch is kept, retried and arrives once the collector answers', async (t) => {
  collector.failNext(2, 404);
  const { page, ids } = await openAndFlush(t, { clock: true });
  await followRetries(page, 2);
  await collector.waitFor(() => accepted() >= 1, 10000, 'the third attempt accepted');
  assert.deepEqual(collector.records.slice(0, 3).map((r) => r.status), [404, 404, 204]);
  const errors = await page.evaluate(() => window.__it.errors);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0], /^impression-tracker: endpoint \S+ answered HTTP 404: check it and the collector$/);
  assertAllDelivered(ids);
});

test('the trace of that session replays, natively and through the .wasm, to the same four attempts', { skip: noNativeReplay }, async (t) => {
  collector.failNext(2, 500);
  collector.failNext(1, 503);
  const { page } = await openAndFlush(t, { clock: true, it: { options: { trace: true } } });
  await followRetries(page, 3);
  await collector.waitFor(() => accepted() >= 1, 10000, 'the fourth attempt accepted');
  const trace = await page.evaluate(() => window.__it.trace());
  const native = replayNative(trace).toString('utf8');
  assert.doesNotMatch(native, /^! /m, 'every traced call is read and accepted');
  assert.equal((await replayWasm(trace)).toString('utf8'), native);
  assert.deepEqual(replayedSends(native).slice(0, 4), collector.records.slice(0, 4).map((r) => r.body), 'the same bodies, in order');
  assert.match(trace, /^fetched \S+ \d+ 500 /m);
});

test('429 with Retry-After: 5 is honoured to the millisecond', async (t) => {
  collector.rateLimitNext(1, 5);
  const { page, ids } = await openAndFlush(t, { clock: true });
  const retry = await waitInPage(page, () => window.__it.debug.find((d) => d.kind === 'retry'), undefined, { what: 'the retry' });
  assert.equal(retry.delayMs, 5000);
  await page.clock.runFor(4999);
  assert.equal(await fetchAttempts(page), 1, 'no request before 5 s');
  await page.clock.runFor(1);
  assert.equal(await fetchAttempts(page), 2, 'the retry at 5 s');
  await collector.waitFor(() => accepted() >= 1, 10000, 'the retry accepted');
  assert.deepEqual(collector.records.slice(0, 2).map((r) => r.status), [429, 204]);
  assertAllDelivered(ids);
});

test('429 with Retry-After but no Access-Control-Expose-Headers: the browser hides it, the backoff applies', async (t) => {
  collector.exposeRetryAfter = false;
  collector.rateLimitNext(1, 5);
  const { page, ids } = await openAndFlush(t, { clock: true });
  const delays = await followRetries(page, 1);
  assert.ok(within(delays[0], 1000), `retried after ${delays[0]} ms, the first backoff step`);
  await collector.waitFor(() => accepted() >= 1, 10000, 'the retry accepted');
  assertAllDelivered(ids);
});

for (const status of [400, 422]) {
  test(`a poison batch answered ${status} is dropped, never retried, counted in "drop"; later batches arrive`, async (t) => {
    // The batch with the impression of gig-5 (not a later one with its viewable impression).
    const poison = /"e":"imp","s":\d+,"t":\d+,"id":"gig-5"/;
    collector.rejectWhen((body) => poison.test(body), status);
    const { page } = await open(t, { fixture: 'grid.html?n=32', it: { options: { batch: { maxEvents: 4 } } } });
    await inViewObserved(page);
    await page.evaluate(() => window.__it.tracker.flush());
    await collector.waitFor((r) => r.filter((x) => x.status === status).length === 1 && accepted() >= 3, 10000, 'three batches accepted, one refused');
    await waitInPage(page, () => window.__it.tracker.stats().transport.dropped.total === 4, undefined, { what: 'the drop counted' });
    await page.evaluate(() => window.scrollTo(0, 600));
    await waitForTrace(page, (f, id) => f[0] === 'eobs' && id === 'gig-32' && Number(f[3]) > 0, 'the next rows');
    await page.evaluate(() => window.__it.tracker.flush());
    await collector.waitFor(() => uniqueEvents(collector.records).some((x) => x.event.id === 'gig-32'), 10000, 'later batches');
    const poisoned = collector.records.filter((r) => poison.test(r.body));
    assert.equal(poisoned.length, 1, 'the refused batch was sent once');
    const refusedIds = JSON.parse(poisoned[0].body).ev.map((e) => e.s);
    const delivered = uniqueEvents(collector.records).map((x) => x.event.s);
    assert.deepEqual(refusedIds.filter((s) => delivered.includes(s)), [], 'its events never arrive');
    const drops = collector.accepted().map(({ batch }) => batch.drop).filter((d) => d > 0);
    assert.deepEqual(drops, [4], 'the loss is reported once, in a later batch');
    assert.equal(duplicateCount(collector.records), 0);
  });
}

test('a poison event answered 413: the outbox halves the request until only that event is refused; the rest arrive', async (t) => {
  const poison = /"e":"imp","s":\d+,"t":\d+,"id":"gig-5"/;
  collector.rejectWhen((body) => poison.test(body), 413);
  const { page } = await open(t, { fixture: 'grid.html?n=32', it: { options: { batch: { maxEvents: 4 } } } });
  await inViewObserved(page);
  const events = await page.evaluate(() => {
    window.__it.tracker.flush();
    return window.__it.events.map((e) => ({ key: `${e.pv}:${e.s}`, poison: e.e === 'imp' && e.id === 'gig-5' }));
  });
  await waitInPage(page, () => window.__it.tracker.stats().transport.dropped.total === 1, undefined, { what: 'the one event counted' });
  await page.evaluate(() => window.__stubVisibilityChange('hidden')); // the count goes out in a batch
  await collector.waitFor(() => collector.accepted().some(({ batch }) => batch.drop > 0), 10000, 'the drop delivered');
  const refused = collector.records.filter((r) => r.status === 413).map((r) => JSON.parse(r.body).ev.length);
  assert.ok(refused.length >= 2 && refused.at(-1) === 1, `requests halved down to the one event: ${refused}`);
  const delivered = eventIds(collector.records);
  assert.deepEqual(events.filter((e) => !delivered.has(e.key)), events.filter((e) => e.poison), 'only the poison event is missing');
  const drops = collector.accepted().map(({ batch }) => batch.drop).filter((d) => d > 0);
  assert.deepEqual(drops, [1], 'its loss is reported once');
  assert.equal(duplicateCount(collector.records), 0);
});

test('slow collector (30 s): the attempt is aborted at 5 s and retried; nothing twice after dedup', async (t) => {
  collector.delayNext(1, 30000);
  const { page, ids } = await openAndFlush(t, { clock: true });
  await collector.waitFor((r) => r.length === 1, 10000, 'the first attempt reaching the collector');
  await page.clock.runFor(5000);
  const delays = await followRetries(page, 1);
  assert.ok(within(delays[0], 1000), `retried after ${delays[0]} ms`);
  await collector.waitFor(() => accepted() >= 1, 10000, 'the retry accepted');
  // The first request may still be answered later (an aborted keepalive request is not
  // always cancelled on the wire): at most one raw duplicate batch, none after dedup.
  assertAllDelivered(ids);
  assert.equal(duplicateCount(collector.records), 0);
});

test('collector down: events are kept and arrive on the next page load once it is back', async (t) => {
  await collector.down();
  const { page, ids } = await openAndFlush(t);
  await waitInPage(page, () => window.__it.debug.some((d) => d.kind === 'retry'), undefined, { what: 'a failed attempt' });
  await waitInPage(page, () => Object.keys(localStorage).some((k) => k.startsWith('impression-tracker:q:')), undefined, { what: 'the batch stored' });
  await page.goto(site.url('/fixtures/other.html'));
  await collector.up();
  await page.goto(site.url('/fixtures/grid.html?n=1'));
  await trackerReady(page);
  await collector.waitFor(() => [...ids].every((id) => eventIds(collector.records).has(id)), 10000, 'the stored events');
  assertAllDelivered(ids);
  assert.equal(duplicateCount(collector.records), 0);
});

test('connection reset mid-body: retried, nothing lost, nothing twice after dedup', async (t) => {
  collector.resetNext(1);
  const { ids } = await openAndFlush(t);
  await collector.waitFor(() => accepted() === 1, 10000, 'the retry accepted');
  assert.equal(collector.records[0].fault, 'reset');
  assertAllDelivered(ids);
  assert.equal(duplicateCount(collector.records), 0);
});

test('a collector that redirects (302): fetch does not follow (a GET without the body would look delivered); retried', async (t) => {
  collector.failNext(1, 302, { location: `/landing${new URL(collector.endpoint).search}` });
  const { page, ids } = await openAndFlush(t, { clock: true });
  const delays = await followRetries(page, 1);
  assert.ok(within(delays[0], 1000), `retried after ${delays[0]} ms, the first backoff step`);
  await collector.waitFor(() => accepted() >= 1, 10000, 'the retry accepted');
  assert.deepEqual(collector.records.slice(0, 2).map((r) => `${r.method} ${r.status}`), ['POST 302', 'POST 204'], 'no GET of /landing');
  assertAllDelivered(ids);
});

test('offline: nothing is sent while offline; everything arrives on "online"', async (t) => {
  const { page, context } = await open(t, { fixture: 'grid.html?n=24' });
  await inViewObserved(page);
  await context.setOffline(true);
  await waitInPage(page, () => navigator.onLine === false, undefined, { what: 'offline' });
  const ids = await page.evaluate(() => {
    window.__it.tracker.flush();
    return window.__it.events.map((e) => `${e.pv}:${e.s}`);
  });
  await waitInPage(page, () => Object.keys(localStorage).some((k) => k.startsWith('impression-tracker:q:')), undefined, { what: 'the batch stored while offline' });
  assert.equal(collector.records.length, 0, 'no request while offline');
  assert.equal(await fetchAttempts(page), 0, 'no attempt while offline');
  await context.setOffline(false);
  await collector.waitFor(() => ids.every((id) => eventIds(collector.records).has(id)), 10000, 'delivery after online');
  assertAllDelivered(new Set(ids));
  assert.equal(duplicateCount(collector.records), 0);
});

test('no CORS headers on the collector: retries stay bounded by the backoff (no loop); onError hears it once, at the third failure', async (t) => {
  collector.cors = false;
  const { page, ids } = await openAndFlush(t, { clock: true });
  const delays = [];
  while (delays.reduce((a, b) => a + b, 0) < 600000) delays.push(...await followRetries(page, 1, delays.length));
  delays.forEach((ms, i) => assert.ok(within(ms, Math.min(60000, 1000 * 2 ** i)), `retry ${i + 1} after ${ms} ms`));
  assert.ok(delays.length <= 17, `${delays.length} retries in ten minutes`);
  assert.deepEqual(await page.evaluate(() => window.__it.errors), [
    `impression-tracker: endpoint ${collector.endpoint} unreachable 3 times in a row: check its host, CORS and CSP connect-src`]);
  // The collector did receive each attempt (it is the browser that hides the answer),
  // so the raw copies are duplicates that dedup by (pv, s) removes.
  assertAllDelivered(ids);
  assert.equal(eventIds(collector.records).size, ids.size);
});
