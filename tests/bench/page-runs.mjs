// page-runs.mjs: the in-page part of `make bench` under its time budget: the wire
// sessions first (one per tracker), then the cost sessions round by round with the
// trackers' order rotated, then one CPU profile session per tracker and grid. Each
// session is page.mjs's runSession against the bundles site and the collector of
// servers.mjs; a session that would end past PLAN.budgetMs is skipped and listed.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, runSession } from './page.mjs';
import { startCollector, startSite } from './servers.mjs';
import { PLAN, fmt, profilesDir, resultsDir } from './plan.mjs';

const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

/** Every session of the page part; the browser stays open for the chart. */
export async function runPage(log) {
  const started = Date.now();
  const site = await startSite(join(resultsDir, 'bundles'));
  const collector = await startCollector();
  const browser = await launchBrowser();
  const sessions = [];
  const skipped = [];
  const geometryCache = new Map();
  // A session starts only when it is expected to end within the budget (expected: the
  // last duration of the same tracker and grid, else 30 s).
  const lastDuration = new Map();
  const fits = (key) => Date.now() - started + (lastDuration.get(key) ?? 30000) <= PLAN.budgetMs;
  try {
    // Wire sessions first: the wire and correctness tables need them whatever the budget.
    for (const tracker of PLAN.wireSessions ? PLAN.wireTrackers : []) {
      const t = Date.now();
      const r = await runSession(browser, site, collector, { tracker, geometryCache, ...PLAN.wire });
      r.kind = 'wire';
      sessions.push(r);
      log(`# wire ${tracker.padEnd(14)} ${r.wire.requests} requests, ${r.wire.wireBytes} B, ${r.wire.impressions} impressions, ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const planned = [];
    const deferred = [];
    for (let round = 0; round < (process.env.BENCH_WIRE_ONLY ? 0 : PLAN.rounds); round++) {
      for (const [g, cards] of PLAN.grids.entries()) {
        for (const tracker of rotate(PLAN.trackers, round + g)) {
          if (round >= (PLAN.roundsCap[`${tracker}@${cards}`] ?? Infinity)) continue;
          const late = round > 0 && PLAN.deferredAfterFirstRound.includes(tracker);
          (late ? deferred : planned).push({ round, cards, tracker });
        }
      }
    }
    for (const { round, cards, tracker } of [...planned, ...deferred]) {
      const key = `${tracker}@${cards}`;
      if (!fits(key)) {
        skipped.push({ round, cards, tracker });
        continue;
      }
      const t = Date.now();
      const r = await runSession(browser, site, collector, { tracker, cards, geometryCache, ...PLAN.cost });
      lastDuration.set(key, Date.now() - t);
      r.round = round;
      r.kind = 'cost';
      sessions.push(r);
      log(`# round ${round + 1}/${PLAN.rounds} ${String(cards).padStart(5)} cards ${tracker.padEnd(14)} task ${fmt(r.total.taskMs)} ms, script ${fmt(r.total.scriptMs)} ms, ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const profiles = await runProfiles(browser, site, collector, geometryCache, fits, skipped, log);
    return { sessions, skipped, profiles, browser, seconds: (Date.now() - started) / 1000 };
  } finally {
    await site.close();
    await collector.close();
  }
}

// One CPU profile session per tracker and grid (Snowplow only where its cost sessions ran).
async function runProfiles(browser, site, collector, geometryCache, fits, skipped, log) {
  const profiles = [];
  if (!PLAN.profiles) return profiles;
  mkdirSync(profilesDir, { recursive: true });
  for (const cards of PLAN.grids) {
    for (const tracker of PLAN.trackers.filter((x) => x !== 'none' && (PLAN.roundsCap[`${x}@${cards}`] ?? 1) > 0)) {
      if (tracker === 'snowplow' && cards > 1000) continue;
      if (!fits(`${tracker}@${cards}`)) {
        skipped.push({ round: -1, cards, tracker });
        continue;
      }
      const file = join(profilesDir, `${tracker}-${cards}.cpuprofile`);
      const r = await runSession(browser, site, collector, { tracker, cards, geometryCache, ...PLAN.cost, profileFile: file });
      profiles.push({ tracker, cards, file, summary: r.profile });
      const topName = r.profile.top.find((x) => !x.name.startsWith('('))?.name ?? '-';
      log(`# profile ${String(cards).padStart(5)} cards ${tracker.padEnd(14)} ${r.profile.total.toFixed(0)} ms busy, top function ${topName}`);
    }
  }
  return profiles;
}
