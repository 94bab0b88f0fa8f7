// What a new user meets next, in the fake page: a call the tracker cannot take
// (observe() of a non-element, setConsent('granted'), cards without an id, an onError
// that is not a function or throws) is reported and the tracker goes on; stats() agrees
// with what flush() sent; the README's replay snippet runs in Node as written; its
// payload example has a real page view id; the script-tag build imported in Node says nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTracker } from '../../js/index.js';
import { createReporter } from '../../js/tracker/warn.js';
import { createPage, wasmBytes } from './fakes/dom.js';
import { addGrid, startOnPage } from './fakes/tracker.js';
import { impressions, recordingConsole } from './newcomer-setup.js';

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
});

describe('a call the tracker cannot take: warnings on the console and onError', () => {
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

describe('the README\'s payload example', () => {
  it('has the page view id of a real tracker (32 hex digits, as a collector sizes its column)', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = JSON.parse(readme.match(/```json\n(\{"v":1,[^]*?)```/)[1]);
    const { tracker } = await startOnPage();
    const real = tracker.stats().pageView;
    tracker.stop();
    assert.match(real, /^[0-9a-f]{32}$/);
    assert.match(example.pv, /^[0-9a-f]{32}$/, 'README.md shows a page view id of that form');
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
