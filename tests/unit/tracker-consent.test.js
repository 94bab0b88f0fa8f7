// Consent, privacy flags and the transport seam through the glue on a fake page,
// running the real core and its outbox: batches held until consent is granted, GPC in
// deny mode, GPC and webdriver marked in the payload, a record of the earlier storage
// format removed and counted, and the debug hook's view of each event. Deliveries go to
// a fake network (fakes/dom.js fakeNetwork).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOnPage as start } from './fakes/tracker.js';
import { grid, kinds, startWithGrid } from './tracker-setup.js';

describe('consent, privacy flags and the transport seam', () => {
  it('holds batches while consent is pending and sends them to the endpoint once granted', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1, { consent: 'pending', batch: { maxBytes: 8192 } });
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.equal(transport.sends.length, 0, 'nothing sent while pending');
    assert.equal(tracker.stats().transport.consent, 'pending');
    tracker.setConsent(true);
    assert.deepEqual(kinds(transport.events), ['imp:gig-1']);
    assert.equal(transport.sends[0].url, '/collect');
    tracker.setConsent(false);
    assert.equal(tracker.stats().transport.consent, 'denied');
  });

  it('GPC in deny mode: consent denied from the start, and a grant is ignored', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1, { page: { gpc: true }, gpc: 'deny' });
    page.intersect(cards[0], 1);
    tracker.setConsent(true);
    tracker.flush();
    assert.equal(transport.sends.length, 0);
    assert.equal(tracker.stats().transport.dropped.byReason.consent, 1, 'the event is purged and counted');
  });

  it('marks GPC and webdriver in the payload', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1, { page: { gpc: true, webdriver: true } });
    page.intersect(cards[0], 1);
    tracker.flush();
    const batch = JSON.parse(transport.bodies[0]);
    assert.equal(batch.gpc, 1);
    assert.equal(batch.wd, 1);
  });

  it('removes a record of the earlier storage format and reports its events in the next batch', async () => {
    const records = new Map([['impression-tracker:q:1690000000000:old:0', '{"v":1,"n":7,"b":"{}"}'], ['host', 'kept']]);
    const localStorage = {
      get length() { return records.size; },
      key: (i) => [...records.keys()][i] ?? null,
      getItem: (k) => records.get(k) ?? null,
      setItem: (k, v) => records.set(k, String(v)),
      removeItem: (k) => records.delete(k),
    };
    const { page, transport, tracker } = await start({ env: { localStorage } });
    assert.deepEqual([...records.keys()], ['host'], 'removed at the first scan; the host key stays');
    const { cards } = grid(page, 1);
    await page.settle();
    page.intersect(cards[0], 1);
    tracker.flush();
    assert.equal(JSON.parse(transport.bodies[0]).drop, 7);
  });

  it('shows the debug hook every event with its page view', async () => {
    const seen = [];
    const { page, tracker, cards } = await startWithGrid(1, { onEvent: (event, batch) => seen.push([event.e, batch.pv.length]) });
    page.intersect(cards[0], 1);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(seen, [['imp', 32], ['view', 32]]);
  });
});
