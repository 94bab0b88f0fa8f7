// safety.test.js: the tracker inside someone else's page. A CSP that blocks
// WebAssembly or the collector, a core served with the wrong MIME type or tampered,
// hostile ids, no new globals or prototype changes, no console errors, no query string
// or fragment sent, a 5,000-card page watched at start with only the cards in view in
// the core, and a page that stays eligible for the back/forward cache.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABI_VERSION } from '../../js/core/abi.js';
import { uniqueEvents } from './server.js';
import { allBatchProblems } from './payload.js';
import {
  cardsInView, fetchAttempts, followRetries, inViewObserved, useBrowserSuite, waitInPage,
} from './browser.js';

let site;
let collector;
const { open } = useBrowserSuite({ bfcache: true }, (shared) => ({ site, collector } = shared));

const stats = (page) => page.evaluate(() => window.__it.tracker.stats());
const errors = (page) => page.evaluate(() => window.__it.errors);
/** Uncaught errors only: a CSP violation report in the console is the browser's, not ours. */
const uncaught = (problems) => problems.filter((p) => p.startsWith('pageerror'));

/** The page's own code still works: its cards respond to a click handler added now. */
async function assertHostWorks(page) {
  const clicked = await page.evaluate(() => {
    let n = 0;
    document.querySelector('[data-gig-id="gig-1"]').addEventListener('click', () => { n += 1; });
    document.querySelector('[data-gig-id="gig-1"] button').click();
    return n;
  });
  assert.equal(clicked, 1, 'the host page still works');
}

/** Flushes and waits for the 16 impressions of a 24-card grid at the collector. */
async function assertTracks(page) {
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === 16, 10000, '16 impressions');
}

test('CSP without wasm-unsafe-eval: the tracker is off, says why, and the page works', async (t) => {
  site.setHeaders('/fixtures/grid.html', { 'content-security-policy': "script-src 'self' 'unsafe-inline'" });
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24' });
  assert.equal((await stats(page)).active, false);
  const reported = await errors(page);
  assert.equal(reported.length, 1, `one onError call: ${JSON.stringify(reported)}`);
  assert.match(reported[0], /WebAssembly|wasm|Content Security Policy|unsafe-eval/i);
  assert.match(reported[0], /: allow 'wasm-unsafe-eval' in script-src$/, 'what to do');
  await page.evaluate(() => { window.__it.tracker.flush(); window.__it.tracker.stop(); });
  await assertHostWorks(page);
  assert.deepEqual(uncaught(problems), []);
  assert.equal(collector.records.length, 0);
});

test("CSP with 'wasm-unsafe-eval': the tracker runs", async (t) => {
  site.setHeaders('/fixtures/grid.html', { 'content-security-policy': "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'" });
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24' });
  assert.equal((await stats(page)).active, true);
  await assertTracks(page);
  assert.deepEqual(problems, []);
});

test('CSP connect-src without the collector: nothing escapes, retries back off (no retry storm)', async (t) => {
  site.setHeaders('/fixtures/grid.html', { 'content-security-policy': "connect-src 'self'" });
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24', clock: true, it: { recordDebug: true } });
  await page.clock.runFor(1);
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
  // Follow the retries: wait for each attempt to fail, then move the clock to the next.
  const delays = [];
  while (delays.reduce((a, b) => a + b, 0) < 120000) delays.push(...await followRetries(page, 1, delays.length));
  const attempts = await fetchAttempts(page);
  assert.ok(attempts <= 9, `${attempts} attempts in two minutes`);
  delays.forEach((ms, i) => {
    const base = Math.min(60000, 1000 * 2 ** i);
    assert.ok(ms >= base * 0.8 && ms <= Math.min(60000, base * 1.2), `retry ${i + 1} after ${ms} ms (expected ${base} ms +-20 %)`);
  });
  assert.equal(collector.records.length, 0, 'the browser blocked every request');
  assert.deepEqual(uncaught(problems), []);
  await assertHostWorks(page);
});

for (const mime of ['application/octet-stream', 'application/wasm;charset=UTF-8', 'text/html']) {
  test(`core served as ${mime}: the loader falls back and the tracker runs`, async (t) => {
    site.wasm = { mime };
    const { page } = await open(t, { fixture: 'grid.html?n=24' });
    assert.equal((await stats(page)).active, true, JSON.stringify(await errors(page)));
    await assertTracks(page);
    assert.deepEqual(await errors(page), []);
  });
}

for (const [tamper, message] of [['corrupt', /compile|wasm|section|magic|invalid/i], ['abi', new RegExp(`ABI version ${ABI_VERSION + 1}`)]]) {
  test(`tampered core (${tamper}): refused, tracker off, host unaffected`, async (t) => {
    site.wasm = { tamper };
    const { page, problems } = await open(t, { fixture: 'grid.html?n=24' });
    assert.equal((await stats(page)).active, false);
    const reported = await errors(page);
    assert.equal(reported.length, 1, JSON.stringify(reported));
    assert.match(reported[0], message);
    await page.evaluate(() => { window.__it.tracker.flush(); window.__it.tracker.stop(); });
    await assertHostWorks(page);
    assert.deepEqual(problems, []);
    assert.equal(collector.records.length, 0);
  });
}

test('hostile ids arrive as valid JSON, escaped and cut to their byte limits', async (t) => {
  const { page } = await open(t, { fixture: 'hostile.html' });
  const hostile = await page.evaluate(() => window.__hostileIds);
  await inViewObserved(page);
  await page.evaluate(() => window.__it.tracker.flush());
  await collector.waitFor((r) => uniqueEvents(r).filter((x) => x.event.e === 'imp').length === hostile.length, 10000, 'an impression per card');
  assert.deepEqual(allBatchProblems(collector.records), [], 'every body is UTF-8, JSON and valid against the schema');
  // What the page holds, as UTF-8 (a lone surrogate becomes U+FFFD), cut on a character
  // boundary; the core writes NUL as U+FFFD on purpose (src/json.c: NUL breaks C strings
  // and SQL text downstream).
  const cut = (text, max) => {
    const chars = [...Buffer.from(text, 'utf8').toString('utf8').replaceAll('\0', '\ufffd')];
    let out = '';
    for (const ch of chars) {
      if (Buffer.byteLength(out + ch) > max) break;
      out += ch;
    }
    return out;
  };
  const imps = uniqueEvents(collector.records).map((x) => x.event).filter((e) => e.e === 'imp');
  const byPosition = Object.fromEntries(imps.map((e) => [e.pos, e.id]));
  hostile.forEach((id, i) => assert.equal(byPosition[i + 1], cut(id, 128), `id at position ${i + 1}`));
  const list = await page.evaluate(() => document.getElementById('list').getAttribute('data-list-id'));
  assert.ok(imps.every((e) => e.list === cut(list, 64)), 'list ids cut to 64 bytes');
});

test('no new globals and no prototype changes, from the import or from a running tracker', async (t) => {
  const protos = ['Object', 'Array', 'Function', 'EventTarget', 'Node', 'Element', 'HTMLElement', 'Document', 'Window',
    'Navigator', 'IntersectionObserver', 'MutationObserver', 'Promise', 'WebAssembly', 'JSON', 'Storage', 'Response'];
  const { page } = await open(t, {
    fixture: 'grid.html?n=24',
    it: { autoStart: false },
    init: [`window.__protoBefore = ${JSON.stringify(protos)}.map((name) => {
      const p = name === 'WebAssembly' || name === 'JSON' ? window[name] : window[name].prototype;
      return Object.getOwnPropertyNames(p).map((k) => [k, Object.getOwnPropertyDescriptor(p, k)]);
    });`],
  });
  await waitInPage(page, () => Boolean(window.__it && window.__it.start), undefined, { what: 'boot.js loaded' });
  const wasmBefore = site.requests.filter((p) => p.endsWith('.wasm')).length;
  await page.evaluate(() => import('/js/index.js'));
  assert.equal(site.requests.filter((p) => p.endsWith('.wasm')).length, wasmBefore, 'importing fetches nothing');
  await page.evaluate(() => window.__it.start());
  await assertTracks(page);
  await page.evaluate(() => window.__it.tracker.stop());
  const diff = await page.evaluate((names) => {
    const it = window.__it;
    const added = it.globalsAfterStart.filter((k) => !it.globalsBefore.includes(k));
    const addedByImport = it.globalsAfterImport.filter((k) => !it.globalsBefore.includes(k));
    const changed = [];
    names.forEach((name, i) => {
      const p = name === 'WebAssembly' || name === 'JSON' ? window[name] : window[name].prototype;
      const before = new Map(window.__protoBefore[i]);
      const now = Object.getOwnPropertyNames(p);
      for (const k of now) if (!before.has(k)) changed.push(`${name}.${k} added`);
      for (const [k, d] of before) {
        const d2 = Object.getOwnPropertyDescriptor(p, k);
        if (!d2) changed.push(`${name}.${k} removed`);
        else if (d.value !== d2.value || d.get !== d2.get || d.set !== d2.set) changed.push(`${name}.${k} replaced`);
      }
    });
    return { added, addedByImport, changed };
  }, protos);
  assert.deepEqual(diff, { added: [], addedByImport: [], changed: [] });
});

test('a normal session leaves no error in the console and sends no query string or fragment', async (t) => {
  const { page, problems } = await open(t, { fixture: 'grid.html?n=24&email=someone%40example.com#token=secret' });
  await inViewObserved(page);
  await page.click('[data-gig-id="gig-2"] .seller');
  await page.evaluate(() => window.__it.tracker.flush());
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  assert.deepEqual(await errors(page), [], 'no onError call');
  await page.goto(site.url('/fixtures/other.html'));
  await collector.waitFor((r) => uniqueEvents(r).some((x) => x.event.e === 'click'), 10000, 'the click');
  assert.deepEqual(problems, [], 'no console error and no uncaught error');
  for (const r of collector.records) {
    assert.doesNotMatch(r.body, /email|example\.com|token|secret|\?/, 'no query string or fragment in a body');
    assert.equal(JSON.parse(r.body).path, '/fixtures/grid.html');
    assert.equal(r.headers.cookie, undefined, 'no cookie');
  }
});

// A 5,000-card page: every card is watched by the start task itself, one pass with no
// attribute read and no core call (js/page/discovery.js: slices in later tasks would
// make the browser measure every card observed so far once per slice), and only the
// cards in view reach the core (registered and observed): the entries of the others
// cost no core call. Asserted on structure, not on the clock (tests never assert on
// wall-clock speed); the long tasks seen are a diagnostic, `make bench` measures them.
test('a 5,000-card page is watched in the start task; only the cards in view reach the core', async (t) => {
  const { page } = await open(t, { fixture: 'grid.html?n=5000&cols=10&w=70&h=40&gap=4', it: { autoStart: false, options: { trace: true } } });
  await waitInPage(page, () => Boolean(window.__it && window.__it.start), undefined, { what: 'boot.js loaded' });
  // Cards found when start() resolves, read before any timer task of the tracker runs.
  const foundAtStart = await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((e) => Math.round(e.duration))))
      .observe({ type: 'longtask' });
    return window.__it.start().then(() => window.__it.tracker.stats().elements);
  });
  assert.equal(foundAtStart, 5000, 'every card watched by the start task');
  const inView = await cardsInView(page);
  const lines = (call) => page.evaluate((c) => window.__it.trace().split('\n').filter((l) => l.startsWith(`${c} `)).length, call);
  await inViewObserved(page, -1, inView);
  await waitInPage(page, (n) => window.__it.events.filter((e) => e.e === 'imp').length >= n, inView, { what: 'their impressions', timeoutMs: 20000 });
  const longTasks = await page.evaluate(() => window.__longTasks);
  t.diagnostic(`long tasks while the tracker started (ms, wall clock, machine-dependent): ${longTasks.join(', ') || 'none'}`);
  assert.equal(await lines('elem'), inView, `only the ${inView} cards in view are registered with the core`);
  assert.equal(await lines('eobs'), inView, 'and observed: one core call each');
});

test('the page stays eligible for the back/forward cache with the tracker running', async (t) => {
  const { page, context } = await open(t, { fixture: 'grid.html?n=24' });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Page.enable');
  const notUsed = [];
  cdp.on('Page.backForwardCacheNotUsed', (e) => notUsed.push(...e.notRestoredExplanations.map((x) => x.reason)));
  await assertTracks(page);
  await page.goto(site.url('/fixtures/other.html'));
  await page.goBack({ waitUntil: 'commit' });
  await waitInPage(page, () => window.__it && window.__it.pageshows.includes(true), undefined, { what: 'a bfcache restore' });
  assert.deepEqual(notUsed, []);
  assert.deepEqual(await page.evaluate(() => window.__it.pageshows), [false, true]);
});
