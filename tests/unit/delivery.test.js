// The I/O driver of delivery (js/delivery/) against fake fetch, sendBeacon and
// localStorage: each browser answer maps to the outcome the outbox is told. The rules
// themselves are the outbox's, proven by the C tests, golden traces and the fuzzer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listRecords, removeAll, setRecord } from '../../js/delivery/io.js';
import { beacon, post, retryAfterMs } from '../../js/delivery/network.js';
import { fakeNetwork } from './fakes/dom.js';
import { noNativeReplay, replayedSends, replayNative, replayWasm } from './fakes/replay.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';
import { deferGrants, fakeLocks, fakeStorage } from './fakes/delivery.js';

const io = (fetch, extra = {}) => ({ fetch, Blob: null, wallNow: () => Date.parse('2026-01-01T00:00:00Z'), ...extra });
const answer = (status, retryAfter = null) => async () => ({ status, headers: { get: (h) => (h === 'Retry-After' ? retryAfter : null) } });

/** Lets promise callbacks and the tasks they start run. */
const ticks = async (n) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

const PREFIX = 'impression-tracker:';
// An adopted record is sent once the scan a second after its claim finds the claim
// standing (src/outbox_adopt.c).
const CONFIRM_MS = 1000;
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

/** A card in view and flushed: one impression handed to the outbox and sent. */
async function oneImpression(page, tracker) {
  const card = page.el({ 'data-gig-id': 'gig-1' });
  page.document.body.append(card);
  await page.settle();
  page.intersect(card, 1);
  tracker.flush();
}

describe('network answers', () => {
  it('status and Retry-After in seconds, as an HTTP date, absent or unreadable', async () => {
    assert.deepEqual(await post(io(answer(204)), '/c', 'x'), [204, -1]);
    assert.deepEqual(await post(io(answer(429, '5')), '/c', 'x'), [429, 5000]);
    assert.deepEqual(await post(io(answer(503, 'Thu, 01 Jan 2026 00:00:07 GMT')), '/c', 'x'), [503, 7000]);
    assert.deepEqual(await post(io(answer(503, 'Wed, 31 Dec 2025 00:00:00 GMT')), '/c', 'x'), [503, -1], 'a date in the past: the backoff');
    assert.deepEqual(await post(io(answer(503, 'soon')), '/c', 'x'), [503, -1]);
    assert.equal(retryAfterMs(' 12 ', 0), 12000);
  });

  it('an asctime Retry-After (no zone written) is read as GMT, whatever the local time zone', () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      assert.equal(retryAfterMs('Thu Jan  1 00:00:07 2026', Date.parse('2026-01-01T00:00:00Z')), 7000);
    } finally {
      if (zone === undefined) delete process.env.TZ; else process.env.TZ = zone;
    }
  });

  it('a network error, a fetch that throws and an abort are status 0', async () => {
    assert.deepEqual(await post(io(async () => { throw new TypeError('Failed to fetch'); }), '/c', 'x'), [0, -1]);
    assert.deepEqual(await post(io(() => { throw new Error('sync'); }), '/c', 'x'), [0, -1]);
    const controller = new AbortController();
    const pending = post(io((url, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))), '/c', 'x', controller.signal);
    controller.abort();
    assert.deepEqual(await pending, [0, -1]);
  });

  it('posts with keepalive, no credentials, no referrer; gzip bytes as they are, typed text/plain', async () => {
    let seen = null;
    const bytes = new Uint8Array([31, 139]);
    await post(io(async (url, init) => { seen = init; return { status: 204 }; }, { Blob }), '/c', bytes);
    assert.equal(seen.keepalive, true);
    assert.equal(seen.credentials, 'omit');
    assert.equal(seen.referrerPolicy, 'no-referrer');
    assert.equal(seen.body, bytes, 'no Blob and no copy');
    assert.equal(new Headers(seen.headers).get('content-type'), 'text/plain');
    await post(io(async (url, init) => { seen = init; return { status: 204 }; }), '/c', '{"v":1}');
    assert.equal(seen.headers, undefined, 'JSON text: the browser types it');
  });

  it('sendBeacon gets the gzip bytes in a text/plain Blob (it takes no headers)', () => {
    let sent = null;
    beacon({ Blob, sendBeacon: (url, body) => { sent = body; return true; } }, '/c', new Uint8Array([31, 139]), () => {});
    assert.ok(sent instanceof Blob);
    assert.equal(sent.type, 'text/plain');
  });

  it('sendBeacon: accepted 1, false 0, throw 2 (reported); absent: a keepalive fetch stands in', () => {
    const errors = [];
    const report = (e) => errors.push(e.message);
    assert.equal(beacon({ sendBeacon: () => true }, '/c', 'x', report), 1);
    assert.equal(beacon({ sendBeacon: () => false }, '/c', 'x', report), 0);
    assert.equal(beacon({ sendBeacon: () => { throw new Error('blocked'); } }, '/c', 'x', report), 2);
    assert.deepEqual(errors, ['blocked']);
    const posted = [];
    assert.equal(beacon(io(async (url, init) => posted.push([url, init.keepalive, init.body])), '/c', 'x', report), 1);
    assert.deepEqual(posted, [['/c', true, 'x']]);
    assert.equal(beacon(io(() => { throw new Error('no fetch'); }), '/c', 'x', report), 2);
  });
});

describe('storage', () => {
  it('QuotaExceededError is "full" (1), any other throw "threw" (2); both are reported', () => {
    const errors = [];
    const full = { setItem: () => { throw new DOMException('quota', 'QuotaExceededError'); } };
    const broken = { setItem: () => { throw new DOMException('insecure', 'SecurityError'); } };
    assert.equal(setRecord(fakeStorage(), 'k', 'v', (e) => errors.push(e)), 0);
    assert.equal(setRecord(full, 'k', 'v', (e) => errors.push(e.message)), 1);
    assert.equal(setRecord(broken, 'k', 'v', (e) => errors.push(e.message)), 2);
    assert.deepEqual(errors, [
      'impression-tracker: localStorage unusable (QuotaExceededError); memory only',
      'impression-tracker: localStorage unusable (SecurityError); memory only',
    ]);
  });

  it('lists only our records, oldest key first, and purges them without touching the host keys', () => {
    const storage = fakeStorage([['p:q:2', 'b'], ['host', 'h'], ['p:q:1', 'a'], ['p:other', 'o'], ['pq:1', 'x']]);
    assert.deepEqual(listRecords(storage, 'p:'), [['q:1', 'a'], ['q:2', 'b']]);
    removeAll(storage, 'p:');
    assert.deepEqual([...storage.records.keys()], ['host', 'p:other', 'pq:1']);
  });
});

describe('the driver and the outbox', () => {
  it('a failing collector: the batch is stored, retried after the backoff, then removed once delivered', async () => {
    const network = fakeNetwork({ status: 503 });
    const storage = fakeStorage();
    const debug = [];
    const { page, tracker } = await start({ onDelivery: (d) => debug.push(d), env: { ...network.env, localStorage: storage } });
    await oneImpression(page, tracker);
    await new Promise((resolve) => setImmediate(resolve));
    const retry = debug.find((d) => d.kind === 'retry');
    assert.ok(retry && retry.delayMs >= 800 && retry.delayMs <= 1200, `a first backoff step: ${JSON.stringify(retry)}`);
    assert.equal(listRecords(storage, 'impression-tracker:').length, 1, 'an owned copy in storage');
    const store = debug.find((d) => d.kind === 'store');
    assert.deepEqual(store && { ...store, ticket: 0 }, { kind: 'store', ticket: 0, key: listRecords(storage, 'impression-tracker:')[0][0], events: 1, outcome: 0 },
      'the store debug record: the key after the prefix, written');
    assert.equal(tracker.stats().transport.collector, 'failing');
    network.status = 204;
    page.advance(retry.delayMs);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(network.calls.filter((c) => c.kind === 'fetch').length, 2);
    assert.equal(tracker.stats().transport.collector, 'ok');
    assert.equal(listRecords(storage, 'impression-tracker:').length, 0, 'the copy removed');
    assert.equal(tracker.stats().transport.sent, 1);
  });

  it('the debug option: each action and answer as one plain object', async () => {
    const storage = fakeStorage();
    const debug = [];
    const { page, tracker } = await start({ onDelivery: (d) => debug.push(d), env: { localStorage: storage } });
    await oneImpression(page, tracker);
    await new Promise((resolve) => setImmediate(resolve));
    const [fetch, response] = debug.filter((d) => d.kind === 'fetch' || d.kind === 'response');
    assert.deepEqual({ ...fetch, batch: 1, bytes: 1 }, { kind: 'fetch', ticket: fetch.ticket, batch: 1, events: 1, bytes: 1 });
    assert.ok(fetch.batch >= 1 && fetch.bytes > 20, JSON.stringify(fetch));
    assert.deepEqual(response, { kind: 'response', ticket: fetch.ticket, status: 204, retryAfterMs: -1 });
    page.advance(1000); // the viewable impression
    page.hide();
    const beacon = debug.find((d) => d.kind === 'beacon');
    assert.deepEqual(beacon && { ...beacon, ticket: 0, events: 0, bytes: 0 }, { kind: 'beacon', ticket: 0, events: 0, bytes: 0, accepted: true, threw: false });
    assert.ok(beacon.events >= 1 && beacon.bytes > 20, 'the viewable impression and its span, beaconed at the hide');
    assert.equal(debug.some((d) => d.kind === 'retry'), false, 'no failure, no retry');
  });

  it('a fetch with no answer is aborted at the timeout the outbox sets, and retried', async () => {
    const network = fakeNetwork();
    const signals = [];
    const debug = [];
    const hanging = (url, init) => {
      signals.push(init.signal);
      return new Promise((resolve, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    };
    const { page, tracker } = await start({ onDelivery: (d) => debug.push(d), env: { ...network.env, fetch: hanging } });
    await oneImpression(page, tracker);
    assert.equal(signals.length, 1);
    page.advance(4999);
    assert.equal(signals[0].aborted, false, 'not before 5 s');
    page.advance(1);
    assert.equal(signals[0].aborted, true, 'aborted at 5 s');
    await new Promise((resolve) => setImmediate(resolve));
    const retry = debug.find((d) => d.kind === 'retry');
    assert.ok(retry, 'the timeout counts as a failure');
    page.advance(retry.delayMs);
    assert.equal(signals.length, 2, 'retried after the backoff');
    assert.equal(tracker.stats().transport.inFlight, 1);
  });

  it('Web Locks: a record of a tab that holds its lock is left; taken once that tab is gone; both traces replay to the same requests and writes', async (t) => {
    const { held, locks } = fakeLocks();
    const storage = fakeStorage();
    const failing = fakeNetwork({ status: 503 });
    const a = await start({ env: { ...failing.env, localStorage: storage, navigator: { locks } } });
    await oneImpression(a.page, a.tracker);
    await new Promise((resolve) => setImmediate(resolve));
    const records = listRecords(storage, 'impression-tracker:');
    assert.equal(records.length, 1, 'tab A keeps a copy while its collector fails');
    const tabA = [...held].find((name) => name.startsWith('impression-tracker:tab:'));
    assert.ok(tabA, 'tab A holds its lock');

    const network = fakeNetwork();
    const env = { ...network.env, localStorage: storage, navigator: { locks }, getRandomValues: (v) => crypto.getRandomValues(v) };
    const b = await start({ env }); // another tab id than A's
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(network.sends.length, 0, 'tab B leaves the record of a live tab');
    held.delete(tabA); // tab A dies: the browser releases its lock
    b.page.advance(30000); // the outbox scans again after lease_ms
    await ticks(2);
    assert.deepEqual(network.events, [], 'tab B adopts it and claims it');
    b.page.advance(CONFIRM_MS);
    await ticks(2);
    assert.deepEqual(network.events.map((e) => e.id), ['gig-1'], 'the claim confirmed, tab B sends it');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(listRecords(storage, 'impression-tracker:'), [], 'and removes it once delivered');

    // Each tab's trace, replayed natively and through the .wasm, asks for its requests.
    if (noNativeReplay) {
      t.skip(noNativeReplay); // reported as skipped, not passed
      return;
    }
    const replays = [];
    for (const [tab, sent] of [[a, failing], [b, network]]) {
      const trace = tab.debug.trace();
      const native = replayNative(trace).toString('utf8');
      assert.doesNotMatch(native, /^! /m, 'every traced call is read and accepted');
      assert.equal((await replayWasm(trace)).toString('utf8'), native);
      assert.deepEqual(replayedSends(native), sent.bodies);
      replays.push(native);
    }
    assert.match(replays[0], /^> STORE #\d+ b\d+ n1 q:/m, 'tab A wrote its copy');
    assert.match(replays[1], /^~ left q:/m, 'tab B left it while A lived');
    assert.match(replays[1], /^~ adopted q:/m, 'and adopted it after');
  });
});

// The promises of README "Delivery guarantees" and js/README.md "Delivery in full" that
// rest on how the glue maps a browser's behaviour onto the outbox's inputs.
describe('what the collector answers, as the browser shows it', () => {
  /** A tracker whose fetch answers with respond(init) and records each retry delay. */
  async function failingWith(respond) {
    const network = fakeNetwork();
    const retries = [];
    const fetch = (url, init) => {
      network.calls.push({ kind: 'fetch', url, body: init.body });
      return network.calls.length > 10 ? new Promise(() => {}) : respond(init); // (a retry loop ends here)
    };
    const started = await start({ onDelivery: (d) => d.kind === 'retry' && retries.push(d.delayMs), env: { ...network.env, fetch } });
    await oneImpression(started.page, started.tracker);
    await new Promise((resolve) => setImmediate(resolve));
    return { ...started, network, retries };
  }
  const reply = (status, retryAfter) => async () => ({
    status, headers: { get: (h) => (h === 'Retry-After' ? retryAfter : null) }, arrayBuffer: async () => new ArrayBuffer(0),
  });

  it('a Retry-After too long for a number stops nothing: the wait is the cap', async () => {
    const { tracker, errors, retries } = await failingWith(reply(503, '9'.repeat(400)));
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.equal(tracker.stats().active, true);
    assert.deepEqual(retries, [3600000], 'Retry-After capped at 1 hour');
  });

  it('a Retry-After that is no HTTP date, a date already past, or under a second (0), leaves the backoff in place (no retry at once)', async () => {
    for (const value of ['1.5', '-1', 'Thu, 01 Jan 1970 00:00:00 GMT', '0']) {
      const { errors, retries, network } = await failingWith(reply(503, value));
      assert.deepEqual(errors, []);
      assert.equal(network.calls.length, 1, `Retry-After ${value}: no retry before the backoff`);
      assert.ok(retries.length === 1 && retries[0] >= 800 && retries[0] <= 1200, `Retry-After ${value}: ${retries}`);
    }
  });

  it('an answer the outbox refuses (a status past 999, which no browser gives) is reported by the export\'s name and stops the tracker', async () => {
    const { tracker, errors } = await failingWith(reply(1000));
    assert.deepEqual(errors.map((e) => e.message), ['impression-tracker: outbox export E returned IMP_ERR_ARG']);
    assert.equal(tracker.stats().active, false);
  });

  it('a collector that answers 404 (a wrong endpoint) or refuses batches (a 4xx) is reported once, with what to check; 408, 413, 429 and 5xx are not', async () => {
    for (const status of [404, 405, 403, 400, 422]) {
      const { tracker, errors, page } = await failingWith(reply(status));
      await oneImpression(page, tracker); // a second batch, answered the same way
      await ticks(2);
      assert.deepEqual(errors.map((e) => e.message), [`impression-tracker: endpoint /collect answered HTTP ${status}: check it and the collector`], `HTTP ${status}`);
      assert.equal(tracker.stats().active, true, 'the tracker goes on');
    }
    for (const status of [408, 413, 429, 500, 503]) {
      const { errors } = await failingWith(reply(status));
      assert.deepEqual(errors, [], `HTTP ${status}`);
    }
  });

  it('a collector the page cannot reach (network errors) is reported once, at the third failure in a row; failures a delivery ends are not', async () => {
    const failures = (pattern) => async () => {
      const network = fakeNetwork();
      const delays = [];
      const fetch = () => (pattern[network.calls.push('fetch') - 1] ? reply(204)() : Promise.reject(new TypeError('Failed to fetch')));
      const started = await start({ onDelivery: (d) => d.kind === 'retry' && delays.push(d.delayMs), env: { ...network.env, fetch } });
      const said = [];
      for (let attempt = 0; attempt < pattern.length; attempt++) {
        if (attempt === 0 || pattern[attempt - 1]) await oneImpression(started.page, started.tracker); // a new batch
        else started.page.advance(delays.at(-1)); // the retry
        await new Promise((resolve) => setImmediate(resolve));
        said.push(started.errors.length);
      }
      assert.equal(network.calls.length, pattern.length, 'one request per attempt');
      return { said, errors: started.errors.map((e) => e.message) };
    };
    const unreachable = await failures([0, 0, 0, 0, 0])();
    assert.deepEqual(unreachable.said, [0, 0, 1, 1, 1], 'said at the third failure, once');
    assert.deepEqual(unreachable.errors, ['impression-tracker: endpoint /collect unreachable 3 times in a row: check its host, CORS and CSP connect-src']);
    assert.deepEqual((await failures([0, 0, 1, 0, 0, 1])()).said, [0, 0, 0, 0, 0, 0], 'two in a row, delivered, two in a row: nothing said');
  });

  it('a redirect is a failure, not a delivery: fetch would follow a 302 as a GET without the body', async () => {
    // As the Fetch standard has it (and Chromium does): redirect 'follow', the default,
    // turns a POST answered 301, 302 or 303 into a GET of the Location, without the body.
    const followed = [];
    const { tracker, retries } = await failingWith(async (init) => {
      if ((init.redirect ?? 'follow') !== 'follow') throw new TypeError('Failed to fetch: redirect');
      followed.push('GET /landing');
      return reply(200)();
    });
    assert.deepEqual(followed, [], 'nothing followed');
    assert.equal(tracker.stats().transport.sent, 0, 'not counted as sent');
    assert.equal(tracker.stats().transport.collector, 'failing');
    assert.equal(retries.length, 1, 'retried after the backoff');
  });
});

describe('two tabs', () => {
  it('a scan under Web Locks writes its claims before it releases the scan lock', async () => {
    const log = [];
    const storage = fakeStorage([['impression-tracker:q:1700000000000:olda:0',
      'I2 1700000000000 1700000030000 1 -\n{"v":1,"pv":"p","path":"/","at":5,"drop":0,"ev":[{"e":"imp","s":1,"t":1,"id":"a","pos":1,"f":1}]}']]);
    const setItem = storage.setItem;
    storage.setItem = (key, value) => {
      log.push(`claim ${value.split('\n')[0].split(' ').pop()}`);
      setItem(key, value);
    };
    const { locks } = fakeLocks(log);
    const network = fakeNetwork({ status: 503 }); // the adopted batch stays (and so does its record)
    await start({ env: { ...network.env, localStorage: storage, navigator: { locks }, wallNow: () => 1700000000000 + 60000 } });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const claim = log.findIndex((line) => line.startsWith('claim ') && line !== 'claim -');
    assert.ok(claim >= 0, `the record is claimed: ${log}`);
    assert.ok(claim < log.indexOf('release impression-tracker:scan'), `claim first: ${log}`);
  });

  it('consent revoked while the scan waits for its lock: the late scan finds nothing to do and the tracker goes on', async () => {
    const { locks } = fakeLocks();
    const grant = deferGrants(locks, ':scan');
    const storage = fakeStorage();
    const { page, tracker, errors } = await start({ env: { localStorage: storage, navigator: { locks } } });
    tracker.setConsent(false);
    grant();
    await ticks(4);
    assert.deepEqual(errors, []);
    assert.equal(tracker.stats().active, true, 'still tracking');
    addGrid(page, 1);
    await page.settle();
    assert.equal(tracker.stats().elements, 1, 'a card added later is observed');
  });

  it('a tab holds its Web Lock while visible only: hidden (or stopped) it owns nothing', async () => {
    const { held, locks } = fakeLocks();
    const { page, tracker } = await start({ env: { localStorage: fakeStorage(), navigator: { locks } } });
    const tabLocks = () => [...held].filter((name) => name.startsWith('impression-tracker:tab:'));
    assert.equal(tabLocks().length, 1, 'visible: held');
    page.hide();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(tabLocks(), [], 'hidden: released');
    page.show();
    assert.equal(tabLocks().length, 1, 'shown again: held');
    tracker.stop();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(tabLocks(), [], 'stopped: released');
  });
});

// Each asynchronous answer of the browser (a lock granted, a fetch answered) may come
// after the tracker changed state: it must stop nothing, count nothing twice, write
// nothing after a consent purge and lose nothing uncounted.
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
