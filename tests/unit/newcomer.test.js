// What a new user meets first, in the fake page: a tracker that cannot start says so
// once on the console unless onError is given; a second createTracker() on the same
// document shares the live tracker instead of counting every card twice, and another
// copy of the package gives a no-op tracker while this one tracks; a
// newPageView() called while the old cards are still on screen is reported; a call the
// tracker cannot take (observe() of a non-element, setConsent('granted'), cards without
// an id, an onError that is not a function or throws) is reported and the tracker goes on; the
// README's replay snippet runs in Node as written; the script-tag build imported in
// Node says nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackerDebug } from '../../js/debug.js';
import { createTracker } from '../../js/index.js';
import { createReporter } from '../../js/tracker/warn.js';
import { createPage, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { addGrid, startOnPage } from './fakes/tracker.js';

const recordingConsole = () => {
  const warnings = [];
  return { warnings, console: { warn: (...args) => warnings.push(args.join(' ')) } };
};
const impressions = (transport) => transport.bodies.flatMap((b) => JSON.parse(b).ev).filter((e) => e.e === 'imp').map((e) => e.id);

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

describe('one tracker per document', () => {
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

describe('a call the tracker cannot take is reported, and the tracker goes on', () => {
  it('observe() of anything but an element in the document', async () => {
    const { page, tracker, errors, transport } = await startOnPage({ selector: null });
    const detached = page.el({ 'data-gig-id': 'gig-9' }); // observed before it is appended
    for (const what of [null, undefined, {}, 'gig-1', page.document, detached]) tracker.observe(what, { id: 'x' });
    assert.equal(errors.length, 6);
    for (const error of errors) assert.match(error.message, /observe\(\) needs an element in the document/);
    assert.equal(tracker.stats().active, true);
    const card = addGrid(page, 1).cards[0];
    tracker.observe(card);
    page.intersect(card, 1);
    tracker.flush();
    assert.deepEqual(impressions(transport), ['gig-1']);
    tracker.stop();
  });

  it('setConsent() of anything but true or false: consent stays as it was, nothing purged', async () => {
    const { page, tracker, errors, transport } = await startOnPage({ consent: 'pending' });
    const card = addGrid(page, 1).cards[0];
    await page.settle();
    page.intersect(card, 1);
    for (const what of ['granted', 'denied', 1, 0, undefined]) tracker.setConsent(what);
    assert.equal(errors.length, 5);
    for (const error of errors) assert.match(error.message, /setConsent\(\) takes true or false/);
    assert.equal(tracker.stats().transport.consent, 'pending');
    tracker.setConsent(true);
    tracker.flush();
    assert.deepEqual(impressions(transport), ['gig-1'], 'the held impression is sent once consent is granted');
    tracker.stop();
  });

  it('cards without an id are not counted, and onError hears of it once (a selector that matches cards without idAttribute)', async () => {
    const { page, tracker, errors, transport } = await startOnPage({ selector: '[data-card]' });
    const cards = [1, 2, 3].map((i) => page.el({ 'data-card': '', 'data-sku': `sku-${i}` }));
    page.document.body.append(...cards);
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    page.click(cards[0]);
    tracker.flush();
    assert.deepEqual(transport.calls, []);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0].message, /a card without data-gig-id \(idAttribute\) is not counted/);
    tracker.stop();
  });

  it('without onError, the first such call is a console warning', async () => {
    const { warnings, console } = recordingConsole();
    const { page, tracker } = await startOnPage({ onError: undefined, selector: '[data-card]', env: { console } });
    tracker.observe(null);
    tracker.setConsent('granted');
    const card = page.el({ 'data-card': '' });
    page.document.body.append(card);
    await page.settle();
    page.intersect(card, 1);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^impression-tracker warning: observe\(\) needs an element in the document \(onError silences this\)$/);
    assert.equal(tracker.stats().active, true);
    tracker.stop();
  });

  it('a warning about misuse does not silence the one of a tracker that stops', () => {
    const { warnings, console } = recordingConsole();
    const report = createReporter(undefined, console);
    report._loud(new Error('impression-tracker: observe() needs an element in the document'), 'warning');
    report._loud(new Error('impression-tracker: setConsent() takes true or false'), 'warning');
    report._loud(new Error('impression-tracker: core: HTTP 404'));
    report._loud(new Error('impression-tracker: later'));
    assert.deepEqual(warnings.map((w) => w.replace(/:.*/, '')), ['impression-tracker warning', 'impression-tracker is not tracking']);
  });

  it('an onError that throws: the console says so once, with the error it was given, and nothing reaches the page', async () => {
    const { warnings, console } = recordingConsole();
    const onError = () => {
      throw new ReferenceError('logger is not defined');
    };
    const tracker = await createTracker({ endpoint: '/collect', wasm: wasmBytes(), onError, viewable: { ratio: 2 }, env: { ...createPage().env, console } });
    assert.equal(tracker.stats().active, false);
    tracker.observe(null);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^impression-tracker onError threw: logger is not defined Error: impression-tracker: start returned IMP_ERR_CONFIG/);
  });

  it('an onError that is not a function is refused: the console says why the tracker is not tracking', async () => {
    const { warnings, console } = recordingConsole();
    const tracker = await createTracker({ endpoint: '/collect', wasm: wasmBytes(), onError: 'console', env: { ...createPage().env, console } });
    assert.equal(tracker.stats().active, false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^impression-tracker is not tracking: option onError is not of type function/);
  });
});

describe('stats() after flush()', () => {
  it('counts the events flushed as cut, not as still queued, and every event queued meanwhile (they agree with what was sent)', async () => {
    const { page, tracker, transport } = await startOnPage({ debug: undefined }); // no debug tick before the outbox's calls
    const { cards } = addGrid(page, 3);
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    assert.equal(tracker.stats().queuedEvents, 3);
    tracker.flush();
    const stats = tracker.stats();
    assert.equal(transport.events.length, 3);
    assert.equal(stats.queuedEvents, 0);
    assert.equal(stats.queuedBytes, 0);
    assert.equal(stats.events, 3);
    page.advance(1000); // the three become viewable when the timer runs the core
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => e.s), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([tracker.stats().seq, tracker.stats().events, tracker.stats().queuedEvents], [6, 6, 0]);
    tracker.stop();
  });
});

describe('the README\'s replay in Node', () => {
  it('runs as written and prints the batches of the trace', { skip: !existsSync(new URL('../../js/imp.wasm', import.meta.url)) && 'run make wasm' }, () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const code = readme.match(/```js\n(\/\/ replay\.mjs, in Node[^]*?)```/)?.[1];
    assert.ok(code, 'README has the Node replay snippet');
    // Inside the package, so that 'impression-tracker' resolves to it as it would in node_modules.
    const script = new URL('../../build/readme-replay.mjs', import.meta.url);
    mkdirSync(new URL('.', script), { recursive: true });
    writeFileSync(script, code);
    const cwd = mkdtempSync(join(tmpdir(), 'imp-replay-'));
    writeFileSync(join(cwd, 'trace.txt'), 'start 8 8 4096 8 4096 0 0.5 1000 242500 0.3 0\npage 0 0 pv /\nelem 0 1 gig-1 -\neobs 5 0 1 100\ntake 6 1\n');
    const run = spawnSync(process.execPath, [fileURLToPath(script)], { cwd, encoding: 'utf8' });
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^\{"v":1,"pv":"pv","path":"\/","at":6,"drop":0,"ev":\[\{"e":"imp","s":1,"t":5,"id":"gig-1","pos":1,"f":1\}\]\}\n/);
  });
});

describe('the script-tag build outside a browser', () => {
  const BUILD = new URL('../../dist/impression-tracker.js', import.meta.url);
  it('imported in Node, it prints nothing and defines nothing', { skip: !existsSync(BUILD) && 'run make glue' }, () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e',
      `await import(${JSON.stringify(BUILD.href)}); console.log(typeof globalThis.impressionTracker);`],
    { encoding: 'utf8' });
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, 'undefined\n');
  });
});
