// The promises of README "Delivery guarantees" and js/README.md "Delivery in full" that
// rest on how the glue maps a browser's behaviour onto the outbox's inputs: what the
// collector answers (Retry-After too long, unreadable or past; a status the outbox
// refuses; 4xx, network errors and redirects reported once or not at all), on a fake
// page and network with the real core.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fakeNetwork } from './fakes/dom.js';
import { startOnPage as start } from './fakes/tracker.js';
import { oneImpression, ticks } from './delivery-setup.js';

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

describe('what the collector answers, as the browser shows it', () => {
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
