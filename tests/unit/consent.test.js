// Consent and Global Privacy Control end to end through the glue and the REAL transport
// (js/delivery/transport.js) with fake fetch, sendBeacon and localStorage: while consent is
// denied nothing leaves the page or is stored; while pending nothing leaves until it is
// granted; GPC in 'deny' mode wins over a later grant. A granted run shows the fakes
// do see traffic, so the silent runs mean something.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../js/index.js';
import { bodyText, createPage, wasmBytes } from './fakes/dom.js';

async function start(options, pageOptions) {
  const page = createPage(pageOptions);
  const net = { fetch: [], beacon: [], stored: [] };
  const storage = new Map();
  const env = {
    ...page.env,
    fetch: async (url, init) => {
      net.fetch.push(init.body);
      return { ok: true, status: 204, headers: { get: () => null } };
    },
    sendBeacon: (url, body) => net.beacon.push(body) > 0,
    localStorage: {
      getItem: (k) => (storage.has(k) ? storage.get(k) : null),
      setItem: (k, v) => {
        net.stored.push(k);
        storage.set(k, String(v));
      },
      removeItem: (k) => storage.delete(k),
      key: (i) => [...storage.keys()][i] ?? null,
      get length() {
        return storage.size;
      },
    },
    addEventListener: () => {},
    removeEventListener: () => {},
  };
  page.env.navigator.onLine = true;
  const errors = [];
  const tracker = await createTracker({ endpoint: 'https://collector.test/c', wasm: wasmBytes(), onError: (e) => errors.push(e), ...options, env });
  const container = page.el({ 'data-list-id': 'q' });
  const card = page.el({ 'data-gig-id': 'gig-1' });
  container.append(card);
  page.document.body.append(container);
  await page.settle();
  // Some activity: an impression, a viewable impression, a click, a flush, a page hide.
  const activity = async () => {
    page.intersect(card, 1);
    page.advance(1500);
    page.click(card);
    tracker.flush();
    await page.settle();
    page.hide();
    page.lifecycle('pagehide', { persisted: false });
    await page.settle();
  };
  return { page, tracker, net, activity, errors };
}

const sentEvents = (net) => [...net.fetch, ...net.beacon].flatMap((body) => JSON.parse(bodyText(body)).ev.map((e) => e.e));

describe('consent through the real transport', () => {
  it('granted: events reach fetch or sendBeacon (the fakes see traffic)', async () => {
    const { net, activity } = await start({ consent: 'granted' });
    await activity();
    assert.deepEqual(sentEvents(net).sort(), ['click', 'imp', 'view', 'vis'].sort());
  });

  it('denied: nothing is sent and nothing is stored', async () => {
    const { net, activity, tracker } = await start({ consent: 'denied' });
    await activity();
    tracker.stop();
    assert.deepEqual(net, { fetch: [], beacon: [], stored: [] });
  });

  it('pending: nothing is sent or stored until consent is granted, then the held batches go', async () => {
    const { net, page, tracker } = await start({ consent: 'pending' });
    const card = page.document.querySelectorAll('[data-gig-id]')[0];
    page.intersect(card, 1);
    page.advance(1500);
    tracker.flush();
    await page.settle();
    assert.deepEqual(net, { fetch: [], beacon: [], stored: [] });
    tracker.setConsent(true);
    await page.settle();
    assert.deepEqual(sentEvents(net), ['imp', 'view']);
  });

  it('withdrawn: setConsent(false) stops sending', async () => {
    const { net, page, tracker } = await start({ consent: 'granted' });
    tracker.setConsent(false);
    const card = page.document.querySelectorAll('[data-gig-id]')[0];
    page.intersect(card, 1);
    tracker.flush();
    page.hide();
    await page.settle();
    assert.deepEqual([net.fetch, net.beacon], [[], []]);
  });

  it('GPC in deny mode: nothing is sent, even after setConsent(true)', async () => {
    const { net, activity, tracker } = await start({ gpc: 'deny' }, { gpc: true });
    tracker.setConsent(true);
    await activity();
    assert.deepEqual(net, { fetch: [], beacon: [], stored: [] });
  });

  it('GPC in the default memory-only mode: sent, marked "gpc":1, never stored', async () => {
    const { net, activity } = await start({}, { gpc: true });
    await activity();
    const bodies = [...net.fetch, ...net.beacon].map((b) => JSON.parse(bodyText(b)));
    assert.ok(bodies.length > 0);
    assert.ok(bodies.every((b) => b.gpc === 1));
    assert.deepEqual(net.stored, []);
  });
});
