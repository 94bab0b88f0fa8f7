// page.mjs: the in-page benchmark (parts "in the page", "on the wire" and
// "correctness"). One session = a fresh browser context, one generated grid page, one
// tracker (or none): load, snapshot the CDP Performance metrics after a forced GC,
// start the tracker, hold the top of the page, browse slowly (scroll a step, pause
// 1.5 s), optionally fling (300 px per frame) and rest, snapshot again, then leave the
// page (navigation fires visibilitychange/pagehide, so every tracker flushes as it
// would for a real user) and wait until the collector has been quiet. Costs are the
// metric deltas in main-thread CPU time; page-results.mjs subtracts the no-tracker
// session of the same round. Long tasks and time to tracking are wall-clock times.

import { chromium } from 'playwright-core';
import { groundTruth, judge } from './truth.mjs';
import { LIST_ID, SELECTOR, VIEWPORT } from './fixture.mjs';
import { readDelivered } from './wire.mjs';
import { startProfile, stopProfile } from './profile.mjs';

export const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP collector.test 127.0.0.1'],
  });
}

const METRICS = ['ScriptDuration', 'TaskDuration', 'LayoutDuration', 'RecalcStyleDuration', 'JSHeapUsedSize'];

async function snapshot(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = {};
  for (const { name, value } of metrics) if (METRICS.includes(name)) m[name] = value;
  return m;
}

const delta = (a, b) => ({
  scriptMs: (b.ScriptDuration - a.ScriptDuration) * 1000,
  taskMs: (b.TaskDuration - a.TaskDuration) * 1000,
  layoutMs: (b.LayoutDuration - a.LayoutDuration) * 1000,
  styleMs: (b.RecalcStyleDuration - a.RecalcStyleDuration) * 1000,
});

async function waitQuiet(collector, quietMs, maxMs) {
  const started = Date.now();
  let last = collector.requests().length;
  let lastChange = Date.now();
  while (Date.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 100));
    const n = collector.requests().length;
    if (n !== last) { last = n; lastChange = Date.now(); }
    if (Date.now() - lastChange >= quietMs) break;
  }
}

/**
 * @param s {tracker, cards, slowSteps, stepPx, pauseMs, fling: {frames, stepPx} | null,
 *   geometryCache?: Map<cards, geometry>, profileFile?: string (a CPU profile session:
 *   the readable bundle, the sampler on from the start to the end of the fling)}
 */
export async function runSession(browser, site, collector, s) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    collector.reset();
    await page.goto(`${site.origin}/grid?n=${s.cards}`, { waitUntil: 'load' });
    // threadTicks: durations are the renderer main thread's CPU time, not wall time, so
    // other work on the machine (a CI neighbour) does not inflate them.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    await cdp.send('HeapProfiler.collectGarbage');
    const m0 = await snapshot(cdp);
    // Every tracker with its default capacities.
    const config = { collector: collector.origin, selector: SELECTOR, list: LIST_ID };
    if (s.profileFile) await startProfile(cdp);
    const bundle = s.profileFile && s.tracker !== 'none' ? `${s.tracker}.readable` : s.tracker;
    await page.evaluate(([name, c]) => window.__bench.startTracker(name, c), [bundle, config]);
    await page.evaluate((ms) => window.__bench.pause(ms), s.pauseMs);
    const m1 = await snapshot(cdp);
    await page.evaluate(([steps, px, ms]) => window.__bench.slow(steps, px, ms), [s.slowSteps, s.stepPx, s.pauseMs]);
    const m2 = await snapshot(cdp);
    let m3 = m2;
    if (s.fling) {
      await page.evaluate(([frames, px]) => window.__bench.fling(frames, px), [s.fling.frames, s.fling.stepPx]);
      await page.evaluate((ms) => window.__bench.pause(ms), s.pauseMs);
      m3 = await snapshot(cdp);
    }
    const profile = s.profileFile ? await stopProfile(cdp, s.profileFile) : null;
    await cdp.send('HeapProfiler.collectGarbage');
    const heapEnd = (await snapshot(cdp)).JSHeapUsedSize;
    const probe = await page.evaluate(() => {
      const b = window.__bench;
      const tEnd = performance.now();
      return {
        t0: b.t0, ready: b.ready, firstObservation: b.firstObservation, tEnd,
        timeline: b.timeline, longtasks: b.longtasks.filter(([start]) => start >= b.t0), errors: b.errors,
        stats: b.stats(),
      };
    });
    // The layout is the same for every session of a grid size: read it once.
    const geometryCache = s.geometryCache || new Map();
    if (!geometryCache.has(s.cards)) geometryCache.set(s.cards, await page.evaluate(() => window.__bench.geometry()));
    probe.geometry = geometryCache.get(s.cards);
    const beforeHide = collector.requests().length;
    await page.goto('about:blank');
    await waitQuiet(collector, 700, 6000);
    const requests = collector.reset();
    const truth = groundTruth(probe.geometry, probe.timeline, probe.t0, probe.tEnd);
    const delivered = readDelivered(s.tracker, requests);
    return {
      tracker: s.tracker,
      cards: s.cards,
      scenario: s.fling ? 'slow+fling' : 'slow',
      total: delta(m0, m3),
      phases: { start: delta(m0, m1), slow: delta(m1, m2), fling: delta(m2, m3) },
      heapBytes: heapEnd - m0.JSHeapUsedSize,
      longTasks: probe.longtasks.length,
      longTaskMs: probe.longtasks.reduce((sum, [, d]) => sum + d, 0),
      longestTaskMs: probe.longtasks.reduce((max, [, d]) => Math.max(max, d), 0),
      // Long tasks that began before the end of the hold at the top: the tracker's start.
      startLongestTaskMs: probe.longtasks.filter(([start]) => start < probe.timeline[1][0]).reduce((max, [, d]) => Math.max(max, d), 0),
      timeToTrackingMs: s.tracker === 'none' ? 0 : Math.max(probe.ready, probe.firstObservation || Infinity) - probe.t0,
      readyMs: probe.ready - probe.t0,
      errors: probe.errors.slice(0, 5),
      trackerStats: probe.stats,
      wire: {
        requests: delivered.requests, preflights: delivered.preflights, wireBytes: delivered.wireBytes,
        bodyBytes: delivered.bodyBytes, headBytes: delivered.headBytes, gzipBodies: delivered.gzipBodies, sentBeforeHide: beforeHide, duplicates: delivered.duplicates,
        impressions: delivered.impressions.size, views: delivered.views.size, events: delivered.events,
      },
      correctness: judge(truth, delivered),
      profile,
    };
  } finally {
    await context.close();
  }
}
