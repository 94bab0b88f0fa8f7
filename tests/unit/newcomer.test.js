// What a new user meets first, in the fake page: a tracker that cannot start says so
// once on the console unless onError is given; a second createTracker() on the same
// document shares the live tracker instead of counting every card twice, and another
// copy of the package gives a no-op tracker while this one tracks; a
// newPageView() called while the old cards are still on screen is reported. The calls a
// tracker cannot take, and the README's replay and the script-tag build in Node, are in
// newcomer-calls.test.js.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trackerDebug } from '../../js/debug.js';
import { createTracker } from '../../js/index.js';
import { createPage, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { addGrid, startOnPage } from './fakes/tracker.js';
import { impressions, recordingConsole } from './newcomer-setup.js';

describe('a tracker that cannot start', () => {
  it('warns once on the console without onError', async () => {
    const { warnings, console } = recordingConsole();
    const page = createPage();
    const tracker = await createTracker({ wasm: new Uint8Array([0, 1, 2]), env: { ...page.env, console } });
    assert.equal(tracker.stats().active, false);
    tracker.newPageView();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^impression-tracker is not tracking: /);
    assert.match(warnings[0], /onError/);
  });

  it('says nothing on the console when onError is given, which receives the error', async () => {
    const { warnings, console } = recordingConsole();
    const errors = [];
    const page = createPage();
    await createTracker({ wasm: new Uint8Array([0, 1, 2]), onError: (e) => errors.push(e), env: { ...page.env, console } });
    assert.equal(warnings.length, 0);
    assert.equal(errors.length, 1);
  });

  it('a missing IntersectionObserver is a warning too', async () => {
    const { warnings, console } = recordingConsole();
    const page = createPage();
    await createTracker({ wasm: wasmBytes(), env: { ...page.env, IntersectionObserver: undefined, console } });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /IntersectionObserver/);
  });
});

// transport.started counts the trackers that really started (each listens to 'online').
const start = (page, transport, extra = {}) => {
  const window = Object.create(page.window);
  window.addEventListener = (type, ...rest) => {
    if (type === 'online') transport.started = (transport.started || 0) + 1;
    return page.window.addEventListener(type, ...rest);
  };
  return createTracker({
    endpoint: '/collect', wasm: wasmBytes(), onError: (e) => assert.fail(e), ...extra,
    env: { ...page.env, ...transport.env, window },
  });
};

describe('one tracker per document', () => {
  it('a second createTracker() while the first is starting shares it: every card counts once', async () => {
    const page = createPage();
    const transport = fakeNetwork();
    const grid = addGrid(page, 3);
    const first = start(page, transport); // StrictMode: create,
    const second = start(page, transport); // ...clean up before it resolved, create again
    const [a, b] = await Promise.all([first, second]);
    assert.equal(transport.started, 1, 'one tracker started');
    assert.equal(a.stats().pageView, b.stats().pageView);
    await page.settle();
    for (const card of grid.cards) page.intersect(card, 1);
    a.flush();
    b.flush();
    assert.deepEqual(impressions(transport).sort(), ['gig-1', 'gig-2', 'gig-3']);
    a.stop(); // the first mount's clean-up gives up its share only
    assert.equal(b.stats().active, true, 'the tracker lives while a share is held');
    assert.equal(a.stats().active, false);
    assert.equal(b.stats().elements, 3);
    b.stop();
    assert.equal(b.stats().active, false, 'the last share stops the tracker');
  });

  it('a second createTracker() with other options hears that they are ignored (onError, else console.warn); the same options say nothing', async () => {
    const page = createPage();
    const transport = fakeNetwork();
    const told = [];
    const onError = (e) => told.push(e.message);
    const first = await start(page, transport, { batch: { maxAgeMs: 500 } });
    const same = await start(page, transport, { batch: { maxAgeMs: 500 }, onError }); // StrictMode's second run
    assert.deepEqual(told, []);
    const other = await start(page, transport, { consent: 'pending', onError });
    assert.deepEqual(told, ["impression-tracker: this call shares the live tracker: its options are ignored"]);
    assert.equal(other.stats().pageView, first.stats().pageView, 'shared all the same');
    const { warnings, console } = recordingConsole();
    const quiet = await createTracker({ endpoint: '/elsewhere', wasm: wasmBytes(), env: { ...page.env, ...transport.env, console } });
    assert.deepEqual(warnings, [`impression-tracker warning: ${told[0].slice(20)} (onError silences this)`]);
    for (const share of [first, same, other, quiet]) share.stop();
  });

  it('another copy of the package (a second bundle) gives a no-op tracker while this copy tracks the document, and starts once it stopped', async () => {
    const page = createPage();
    const transport = fakeNetwork();
    const { shareTracker: shareInCopy } = await import('../../js/tracker/share.js?second-bundle');
    const first = await start(page, transport);
    const told = [];
    let started = 0;
    const startInCopy = () => Promise.resolve({ stats: () => ({ active: true }), stop() {}, started: ++started });
    const refused = await shareInCopy({ env: page.env, onError: (e) => told.push(e.message) }, startInCopy);
    assert.equal(started, 0, 'the second copy started no tracker');
    assert.equal(refused.stats().active, false);
    assert.match(told[0], /another copy of the package tracks this page/);
    assert.equal(first.stats().active, true, 'the first copy tracks on');
    first.stop();
    const own = await shareInCopy({ env: page.env }, startInCopy);
    assert.equal(started, 1, 'once the first copy stopped, the second copy starts its own');
    const { warnings, console } = recordingConsole();
    const late = await createTracker({ wasm: wasmBytes(), env: { ...page.env, ...transport.env, console } });
    assert.equal(late.stats().active, false, 'and now the first copy is the one that waits');
    assert.match(warnings[0], /another copy of the package/);
    own.stop();
  });
});

describe('one tracker per document: shares given up, stopped, and other documents', () => {
  it('a share given up does nothing more, while the other share tracks on', async () => {
    const page = createPage();
    const transport = fakeNetwork();
    const debug = trackerDebug({ trace: true });
    const [a, b] = await Promise.all([start(page, transport, { debug }), start(page, transport)]);
    const pv = b.stats().pageView;
    a.stop();
    a.newPageView();
    assert.equal(b.stats().pageView, pv, 'newPageView() of a given-up share is ignored');
    const card = addGrid(page, 1).cards[0];
    await page.settle();
    page.intersect(card, 1);
    a.flush();
    assert.deepEqual(impressions(transport), [], 'flush() of a given-up share is ignored');
    b.flush();
    assert.deepEqual(impressions(transport), ['gig-1']);
    assert.match(debug.trace(), /^eobs /m, 'the debug option still gives the trace');
    b.stop();
  });

  it('after the last stop(), a new createTracker() starts a new tracker', async () => {
    const page = createPage();
    const transport = fakeNetwork();
    const a = await start(page, transport);
    const pv = a.stats().pageView;
    a.stop();
    a.stop(); // idempotent: does not give up another share
    const b = await start(page, transport);
    assert.equal(b.stats().active, true);
    assert.notEqual(b.stats().pageView, pv);
    b.stop();
  });

  it('another document gets its own tracker', async () => {
    const transport = fakeNetwork();
    const pageA = createPage();
    addGrid(pageA, 2);
    const a = await start(pageA, transport);
    const b = await start(createPage(), transport);
    await pageA.settle();
    assert.equal(a.stats().elements, 2);
    assert.equal(b.stats().elements, 0);
    a.stop();
    assert.equal(b.stats().active, true);
    b.stop();
  });

  it('a tracker that could not start is not shared: the next call starts anew', async () => {
    const page = createPage();
    const transport = fakeNetwork();
    const broken = await start(page, transport, { wasm: new Uint8Array([1]), onError: () => {} });
    assert.equal(broken.stats().active, false);
    const next = await start(page, transport);
    assert.equal(next.stats().active, true);
    next.stop();
  });
});

describe('newPageView() before the new content is in the DOM', () => {
  const twoRoutes = async (order) => {
    const { warnings, console } = recordingConsole();
    const { page, tracker } = await startOnPage({ onError: undefined, env: { console } });
    const old = addGrid(page, 4, 'q1');
    await page.settle();
    for (const card of old.cards) page.intersect(card, 1);
    order(tracker, () => old.container.remove());
    addGrid(page, 4, 'q2', 5);
    await page.settle();
    page.advance(1000);
    tracker.stop();
    return warnings;
  };

  it('is reported once when the cards on screen leave right after it', async () => {
    const warnings = await twoRoutes((tracker, removeOld) => {
      tracker.newPageView(); // in the click handler...
      removeOld(); // ...before the framework commits the new route
    });
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^impression-tracker warning: newPageView\(\) came before the new content: 4 old cards counted again/);
  });

  it('is quiet when it runs after the new route is in the DOM', async () => {
    const warnings = await twoRoutes((tracker, removeOld) => {
      removeOld();
      tracker.newPageView();
    });
    assert.deepEqual(warnings, []);
  });
});
