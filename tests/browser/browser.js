// browser.js: the browser side of the suite. Launches Debian's Chromium through
// playwright-core (one browser per test file), opens a fixture page in a fresh context
// with the tracker's options in window.__it, and offers deterministic waits that poll
// the page from Node (page.waitForFunction polls with requestAnimationFrame, which a
// fake clock stops). Not a test file.

import { after, before, beforeEach } from 'node:test';
import { chromium } from 'playwright-core';
import { startCollector, startSite, waitFor } from './server.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Launches Chromium. bfcache: true keeps the back/forward cache on (Playwright turns it
 * off by default with --disable-back-forward-cache).
 */
export function launch({ bfcache = false, args = [] } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...ARGS, ...args],
    ignoreDefaultArgs: bfcache ? ['--disable-back-forward-cache'] : undefined,
  });
}

/** A fixed 800x600 viewport at device scale 1, so fixture geometry is exact. */
export const VIEWPORT = { width: 800, height: 600 };

/**
 * Opens `fixture` (a file of tests/browser/fixtures/, with an optional query string) in
 * a new context. it: what window.__it starts with ({options, autoStart, prerender,
 * unfocused, recordDebug, entry}); the collector's endpoint is the default endpoint.
 * clock: true installs Playwright's fake clock before the page loads and pauses it
 * (and makes boot.js stamp observations with the fake clock, see clockedIntersectionObserver).
 * init: extra init scripts (functions or strings) run before any page script.
 * Returns {context, page, problems} where problems collects console errors and
 * uncaught page errors.
 */
export async function openPage(browser, site, collector, {
  fixture = 'grid.html', it = {}, clock = false, init = [], context: contextOptions = {}, waitReady = true,
} = {}) {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, ...contextOptions });
  const config = { ...it, clockShim: Boolean(clock), options: { endpoint: collector?.endpoint, trace: true, ...it.options } };
  await context.addInitScript(`window.__it = ${JSON.stringify(config)};`);
  for (const script of init) await context.addInitScript(script);
  if (clock) {
    await context.clock.install({ time: new Date('2026-01-01T00:00:00Z') });
    await context.clock.pauseAt(new Date('2026-01-01T00:00:01Z'));
  }
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(site.url(`/fixtures/${fixture}`));
  if (waitReady && it.autoStart !== false) await trackerReady(page);
  return { context, page, problems };
}

/**
 * The set-up every test file shares: before the file's tests, one browser (bfcache as in
 * launch()), the fixture site and the recording collector, handed to onReady({browser,
 * site, collector}); before each test, the site and the collector reset (and the
 * collector back up with collectorUp); after the file, all closed. Returns open(t,
 * options): openPage() for one test, its context closed when the test ends;
 * recordDebug: true keeps the transport's onDebug records on every page.
 */
export function useBrowserSuite({ bfcache = false, collectorUp = false, recordDebug = false } = {}, onReady = () => {}) {
  const shared = {};
  before(async () => {
    const [browser, site, collector] = await Promise.all([launch({ bfcache }), startSite(), startCollector()]);
    Object.assign(shared, { browser, site, collector });
    onReady(shared);
  });
  after(() => Promise.all([shared.browser?.close(), shared.site?.close(), shared.collector?.close()]));
  beforeEach(async () => {
    shared.site.reset();
    shared.collector.reset();
    if (collectorUp) await shared.collector.up();
  });
  return {
    async open(t, options = {}) {
      const it = recordDebug ? { recordDebug: true, ...options.it } : options.it;
      const opened = await openPage(shared.browser, shared.site, shared.collector, { ...options, it });
      t.after(() => opened.context.close());
      return opened;
    },
  };
}

/** Console errors and uncaught exceptions of a page (and of pages it navigates to). */
export function watchProblems(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/** Resolves once boot.js has a tracker (or a start error) on the page. */
export function trackerReady(page, timeoutMs = 10000) {
  return waitInPage(page, () => window.__it && window.__it.ready, undefined, { timeoutMs, what: 'tracker ready' });
}

/**
 * Polls fn(arg) in the page from Node until it returns a truthy value, which it
 * resolves with. Survives navigations (an evaluation that fails while the page
 * navigates counts as "not yet").
 */
export function waitInPage(page, fn, arg, { timeoutMs = 10000, what = 'page condition' } = {}) {
  return waitFor(async () => {
    try {
      return await page.evaluate(fn, arg);
    } catch (error) {
      if (/Execution context was destroyed|navigat|Target closed/i.test(String(error))) return undefined;
      throw error;
    }
  }, { timeoutMs, what, intervalMs: 20 });
}

/** How many cards ([data-gig-id]) have some pixels in the viewport now. */
export function cardsInView(page) {
  return page.evaluate(() => [...document.querySelectorAll('[data-gig-id]')].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.width * r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
  }).length);
}

/**
 * Waits until the core has an observation in view of `count` different cards after trace
 * line `after` (default: every card in view now): the tracker has handled the observer's
 * entries for them (a card gets a core element handle when it first shows, so the cards
 * out of view have no trace line). Resolves like waitForTrace with the last of those lines.
 */
export async function inViewObserved(page, after = -1, count = undefined) {
  const n = count ?? await cardsInView(page);
  let found = null;
  await waitFor(async () => {
    const ids = new Set();
    const timed = coreTimes(await traceLines(page));
    for (let i = after + 1; i < timed.length && ids.size < n; i++) {
      const f = timed[i].line.split(' ');
      if (f[0] !== 'eobs' || !(Number(f[3]) > 0)) continue;
      ids.add(timed[i].id);
      if (ids.size === n) found = { ...timed[i], index: i };
    }
    return found;
  }, { what: `observations of ${n} cards in view`, intervalMs: 20 });
  return found;
}

/** The tracker's trace (the core's exact input stream) as lines without comments. */
export async function traceLines(page) {
  const text = await page.evaluate(() => window.__it.trace());
  return text.split('\n').filter((line) => line && !line.startsWith('#'));
}

const TIMED_CALLS = ['page', 'state', 'focus', 'end', 'item', 'tick', 'take', 'elem', 'unelem', 'eobs', 'cover', 'act'];

/**
 * The time the core saw for each traced call (the core treats a time earlier than the
 * latest one as the latest, so this is the running maximum of the traced times), and,
 * for the element calls, the id of the card the element handle stands for. Handles are
 * followed as the core gives them: handles given back first (the last given back
 * first), then new ones in order; a `start` begins again.
 */
export function coreTimes(lines) {
  let latest = -Infinity;
  let fresh = 0;
  const free = [];
  const idOf = new Map();
  return lines.map((line) => {
    const [call, t, handle, id] = line.split(' ');
    if (TIMED_CALLS.includes(call)) latest = Math.max(latest, Number(t));
    if (call === 'start') {
      fresh = 0;
      free.length = 0;
    } else if (call === 'elem') {
      idOf.set(String(free.length ? free.pop() : fresh++), decodeURIComponent(id));
      return { line, call, t: latest, id: decodeURIComponent(id) };
    } else if (call === 'unelem') {
      free.push(Number(handle));
    }
    return { line, call, t: latest, id: idOf.get(handle) };
  });
}

/**
 * Waits until the trace has a line after line index `after` (default: anywhere) for
 * which match(fields, id) is true (id: the card of an element call); resolves with
 * {line, call, t, id, index} (t: the core's time).
 */
export async function waitForTrace(page, match, what = 'a trace line', after = -1) {
  let found = null;
  await waitFor(async () => {
    const timed = coreTimes(await traceLines(page));
    const index = timed.findIndex(({ line, id }, i) => i > after && match(line.split(' '), id));
    found = index >= 0 ? { ...timed[index], index } : null;
    return found;
  }, { what, timeoutMs: 10000, intervalMs: 20 });
  return found;
}

/**
 * Discovery handles DOM mutations in an idle callback, which runs on the fake clock:
 * advances it 10 ms at a time until the trace has a matching line (match(fields, id)
 * as for waitForTrace), at most `limit` ms.
 */
export async function runUntilTrace(page, match, what, after = -1, limit = 1000) {
  for (let ms = 0; ms <= limit; ms += 10) {
    const timed = coreTimes(await traceLines(page));
    if (timed.some(({ line, id }, i) => i > after && match(line.split(' '), id))) return;
    await page.clock.runFor(10);
  }
  throw new Error(`no trace line for ${what} within ${limit} ms of the page clock`);
}

/** The page's performance.now() (the fake one when the clock is installed). */
export function pageNow(page) {
  return page.evaluate(() => performance.now());
}

/** Advances the page's fake clock until performance.now() reads `t`, firing due timers. */
export async function clockTo(page, t) {
  const now = await pageNow(page);
  if (t < now) throw new Error(`clockTo(${t}): the page clock already reads ${now}`);
  if (t > now) await page.clock.runFor(t - now);
}

/** Takes every queued batch now (tracker.flush()) and returns the events onEvent has seen. */
export async function flushAndRead(page) {
  return page.evaluate(() => {
    window.__it.tracker.flush();
    return window.__it.events;
  });
}

/**
 * Follows the transport's retries on the fake clock (the page must record onDebug):
 * for each of `count` retries, waits for the failed attempt's 'retry' debug entry, moves
 * the clock by its delay and waits for the next 'fetch' attempt. Returns the delays.
 * done: retries already followed.
 */
export async function followRetries(page, count, done = 0) {
  const delays = [];
  for (let i = done; i < done + count; i++) {
    const retry = await waitInPage(page, (n) => {
      const list = window.__it.debug.filter((d) => d.kind === 'retry');
      return list.length > n ? list[n] : null;
    }, i, { what: `retry ${i + 1}` });
    delays.push(retry.delayMs);
    await page.clock.runFor(retry.delayMs);
    await waitInPage(page, (n) => window.__it.debug.filter((d) => d.kind === 'fetch').length > n, i + 1, { what: `attempt ${i + 2}` });
  }
  return delays;
}

/** Number of fetch attempts the transport made so far (onDebug must be recorded). */
export function fetchAttempts(page) {
  return page.evaluate(() => window.__it.debug.filter((d) => d.kind === 'fetch').length);
}

/**
 * Resolves when the page's transport has nothing queued, nothing in flight and nothing
 * stored: everything it was going to send has been answered.
 */
export function transportIdle(page, timeoutMs = 20000) {
  return waitInPage(page, () => {
    const s = window.__it.tracker.stats().transport;
    return s && s.queued === 0 && s.inFlight === 0 && s.persisted === 0;
  }, undefined, { what: 'the transport idle (nothing queued, in flight or stored)', timeoutMs });
}
