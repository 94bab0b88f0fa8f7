// run.mjs: `make bench`. Runs every benchmark in one go and reports:
//   1. the core alone, native against WASM (core.mjs, build/core_bench),
//   2. download size of each tracker, bundled the same way (size.mjs),
//   3. in the page: main-thread cost, long tasks, heap and time to tracking on grids of
//      1,000 and 5,000 cards, each tracker against a page with no tracker in the same
//      round, the order rotated every round (page.mjs),
//   4. on the wire: requests, header and body bytes per 100 impressions delivered, slow
//      browsing (ours with and without compression, the baseline, Snowplow,
//      search-insights), and the encoder alone (MB/s native and WASM, its .wasm cost),
//   5. correctness: viewable impressions and impressions delivered against the ground
//      truth of the scripted geometry, missed and false, per tracker.
// Prints markdown tables, writes tests/bench/results/latest.json (ignored by git) and
// draws tests/bench/chart.png. It measures and reports; it never fails on a number.
// After the cost rounds, one CPU profile session per tracker and grid writes
// tests/bench/results/profiles/<tracker>-<cards>.cpuprofile and a summary of the
// functions with the most self time (profile.mjs).
// Environment, to run only the parts needed on a busy machine:
//   BENCH_ROUNDS (default 5), BENCH_BUDGET_S (in-page time budget, 660),
//   BENCH_GRIDS=1000,20000 (default 1000,5000,20000), BENCH_TRACKERS=ours,ours-occlusion
//   (the no-tracker page and the baseline always run: every cost is relative to them),
//   BENCH_SKIP_PAGE=1 (core and size only), BENCH_SKIP_CORE=1 (no core or encoder bench),
//   BENCH_SKIP_WIRE=1, BENCH_WIRE_ONLY=1 (no cost rounds in the page),
//   BENCH_PROFILE=0 (no profile sessions), BENCH_WASM_DELAY_MS=100 (the .wasm answered
//   that much later, as over a network).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawChart } from './chart.mjs';
import { coreTable, deflateTable, runCoreBench, runDeflateBench } from './core.mjs';
import { launchBrowser, runSession } from './page.mjs';
import { startCollector, startSite } from './servers.mjs';
import { measureSizes, sizeTable } from './size.mjs';
import { profileTable } from './profile.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const resultsDir = join(here, 'results');
const profilesDir = join(resultsDir, 'profiles');
const env = process.env;
const listEnv = (name, fallback) => (env[name] ? env[name].split(',').map((x) => x.trim()).filter(Boolean) : fallback);
const ALL_TRACKERS = ['none', 'ours', 'ours-occlusion', 'baseline', 'snowplow'];

const LABELS = {
  none: 'no tracker', ours: 'ours (WASM core)', 'ours-occlusion': 'ours, occlusion on (v2)', baseline: 'plain-JS baseline', snowplow: 'Snowplow element tracking',
  'ours-plain': 'ours, compress: false', 'search-insights': 'search-insights (ids only)',
};
const COLORS = { ours: '#1f77b4', 'ours-occlusion': '#9467bd', baseline: '#2ca02c', snowplow: '#d62728' };

export const PLAN = {
  rounds: Number(env.BENCH_ROUNDS || 5),
  budgetMs: Number(env.BENCH_BUDGET_S || 660) * 1000,
  grids: listEnv('BENCH_GRIDS', ['1000', '5000', '20000']).map(Number),
  // ours-occlusion: the same tracker with occlusion on, for the cost of IntersectionObserver v2.
  trackers: ALL_TRACKERS.filter((t) => t === 'none' || t === 'baseline' || listEnv('BENCH_TRACKERS', ALL_TRACKERS).includes(t)),
  wireSessions: !env.BENCH_SKIP_WIRE,
  profiles: env.BENCH_PROFILE !== '0' && !env.BENCH_WIRE_ONLY,
  // Wire sessions: also ours without compression and search-insights (wire only).
  wireTrackers: ['ours', 'ours-plain', 'ours-occlusion', 'baseline', 'snowplow', 'search-insights'],
  // Cost sessions: hold the top 1.5 s, two slow steps (600 px, 1.5 s pause), a fling
  // of 60 frames x 300 px, rest 1.5 s. Short, so that 5 rounds fit the time limit.
  cost: { slowSteps: 2, stepPx: 600, pauseMs: 1500, fling: { frames: 60, stepPx: 300 } },
  // Wire sessions: slow browsing only, longer, once per tracker.
  wire: { cards: 1000, slowSteps: 10, stepPx: 600, pauseMs: 1500, fling: null },
  // Snowplow blocks the main thread for seconds (1,000 cards) to a minute (5,000 cards)
  // at start, so one of its sessions takes 30 s to 2 minutes. Its first round runs in
  // turn with the others; its repeats on 1,000 cards run after every round of the other
  // trackers, while the budget lasts; on 5,000 cards it runs once (BENCH_FULL=1: every
  // round, in turn). On 20,000 cards it does not run (a session would take many minutes).
  roundsCap: env.BENCH_FULL ? { 'snowplow@20000': 0 } : { 'snowplow@5000': 1, 'snowplow@20000': 0 },
  deferredAfterFirstRound: env.BENCH_FULL ? [] : ['snowplow'],
};

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

async function runPage(log) {
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

/** Per grid and tracker: medians of the cost over the no-tracker session of the same round. */
export function aggregate(sessions) {
  const cost = sessions.filter((s) => s.kind === 'cost');
  const out = [];
  for (const cards of [...new Set(cost.map((s) => s.cards))]) {
    const none = new Map(cost.filter((s) => s.cards === cards && s.tracker === 'none').map((s) => [s.round, s]));
    const base = new Map(cost.filter((s) => s.cards === cards && s.tracker === 'baseline').map((s) => [s.round, s]));
    for (const tracker of PLAN.trackers.filter((t) => t !== 'none')) {
      const runs = cost.filter((s) => s.cards === cards && s.tracker === tracker && none.has(s.round));
      if (!runs.length) continue;
      const added = (s, key) => s.total[key] - none.get(s.round).total[key];
      const ratio = (key) => median(runs.filter((s) => base.has(s.round)).map((s) => {
        const b = added(base.get(s.round), key);
        return b > 0 ? added(s, key) / b : NaN;
      }));
      out.push({
        cards,
        tracker,
        runs: runs.length,
        scriptMs: median(runs.map((s) => added(s, 'scriptMs'))),
        taskMs: median(runs.map((s) => added(s, 'taskMs'))),
        startScriptMs: median(runs.map((s) => s.phases.start.scriptMs - none.get(s.round).phases.start.scriptMs)),
        scriptRatio: ratio('scriptMs'),
        taskRatio: ratio('taskMs'),
        longTasks: median(runs.map((s) => s.longTasks)),
        longTasksNone: median(runs.map((s) => none.get(s.round).longTasks)),
        longestTaskMs: Math.max(...runs.map((s) => s.longestTaskMs)),
        startLongestTaskMs: Math.max(...runs.map((s) => s.startLongestTaskMs)),
        heapKiB: median(runs.map((s) => (s.heapBytes - none.get(s.round).heapBytes) / 1024)),
        timeToTrackingMs: median(runs.map((s) => s.timeToTrackingMs)),
        errors: [...new Set(runs.flatMap((s) => s.errors))].slice(0, 3),
      });
    }
  }
  return out;
}

function wireRows(sessions) {
  return sessions.filter((s) => s.kind === 'wire').map((s) => {
    const per100 = (x) => (s.wire.impressions ? (x * 100) / s.wire.impressions : NaN);
    return {
      tracker: s.tracker,
      impressions: s.wire.impressions,
      views: s.wire.views,
      events: s.wire.events,
      requests: s.wire.requests,
      preflights: s.wire.preflights,
      wireBytes: s.wire.wireBytes,
      bodyBytes: s.wire.bodyBytes,
      gzipBodies: s.wire.gzipBodies,
      requestsPer100: per100(s.wire.requests),
      bytesPer100: per100(s.wire.wireBytes),
      headBytesPer100: per100(s.wire.headBytes),
      bodyBytesPer100: per100(s.wire.bodyBytes),
    };
  });
}

function correctnessRows(sessions) {
  const rows = [];
  for (const tracker of PLAN.trackers.filter((t) => t !== 'none')) {
    const mine = sessions.filter((s) => s.tracker === tracker);
    if (!mine.length) continue;
    const sum = (kind, key) => mine.reduce((a, s) => a + s.correctness[kind][key], 0);
    rows.push({
      tracker,
      sessions: mine.length,
      views: { truth: sum('views', 'truth'), reported: sum('views', 'reported'), missed: sum('views', 'missed'), false: sum('views', 'false'), ambiguous: sum('views', 'ambiguous') },
      impressions: { truth: sum('impressions', 'truth'), reported: sum('impressions', 'reported'), missed: sum('impressions', 'missed'), false: sum('impressions', 'false'), ambiguous: sum('impressions', 'ambiguous') },
    });
  }
  return rows;
}

function pageTables(agg, wire, correctness) {
  const lines = [];
  for (const cards of [...new Set(agg.map((a) => a.cards))]) {
    lines.push(`\n#### ${cards.toLocaleString('en-US')} cards (slow browsing + fling; main-thread CPU ms added over no tracker, median of runs)\n`);
    lines.push('| tracker | runs | script ms | task ms | task vs baseline | script vs baseline | long tasks (none: n) | longest task | longest at start | heap KiB | time to tracking |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const a of agg.filter((x) => x.cards === cards)) {
      lines.push(`| ${LABELS[a.tracker]} | ${a.runs} | ${fmt(a.scriptMs, 1)} | ${fmt(a.taskMs, 1)} | ${fmt(a.taskRatio, 2)}x | ${fmt(a.scriptRatio, 2)}x | ${fmt(a.longTasks)} (${fmt(a.longTasksNone)}) | ${fmt(a.longestTaskMs)} ms | ${fmt(a.startLongestTaskMs)} ms | ${fmt(a.heapKiB)} | ${fmt(a.timeToTrackingMs)} ms |`);
    }
  }
  lines.push('\n#### On the wire (slow browsing, 1,000 cards; per 100 impressions delivered: request line + headers, body as sent, all-in)\n');
  lines.push('| tracker | impressions delivered | viewable delivered | events delivered | requests (preflights) | gzip bodies | requests / 100 imp | header B / 100 imp | body B / 100 imp | all-in B / 100 imp |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const w of wire) {
    lines.push(`| ${LABELS[w.tracker]} | ${w.impressions} | ${w.views} | ${w.events} | ${w.requests} (${w.preflights}) | ${w.gzipBodies} | ${fmt(w.requestsPer100, 1)} | ${fmt(w.headBytesPer100)} | ${fmt(w.bodyBytesPer100)} | ${fmt(w.bytesPer100)} |`);
  }
  lines.push('\n#### Correctness (all sessions; delivered to the collector vs ground truth from the scripted geometry)\n');
  lines.push('| tracker | sessions | viewable: truth | reported | missed | false | ambiguous | impressions: truth | reported | missed | false |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of correctness) {
    lines.push(`| ${LABELS[c.tracker]} | ${c.sessions} | ${c.views.truth} | ${c.views.reported} | ${c.views.missed} | ${c.views.false} | ${c.views.ambiguous} | ${c.impressions.truth} | ${c.impressions.reported} | ${c.impressions.missed} | ${c.impressions.false} |`);
  }
  return lines.join('\n');
}

function targets(core, sizes, agg, wire) {
  const ours = sizes.rows.find((r) => r.key === 'ours');
  const shipped = sizes.rows.find((r) => r.key === 'dist/index.min.js');
  const oursWire = wire.find((w) => w.tracker === 'ours');
  const t = [];
  t.push(`- Total size (glue + .wasm, gzip) at most 5 KiB (5120 B): ${ours ? `${ours.total.gzip} B` : 'n/a'} with esbuild like the others${shipped ? `, ${shipped.total.gzip} B as shipped (dist/index.min.js + imp.wasm)` : ''} -> ${Math.min(ours?.total.gzip ?? Infinity, shipped?.total.gzip ?? Infinity) <= 5120 ? 'met' : 'NOT met'} (Snowplow with element tracking: ${sizes.rows.find((r) => r.key === 'snowplow')?.total.gzip ?? 'n/a'} B)`);
  const met = (ok) => (ok ? 'met' : 'NOT met');
  for (const cards of PLAN.grids) {
    const row = (tracker) => agg.find((a) => a.cards === cards && a.tracker === tracker);
    const o = row('ours');
    const base = row('baseline');
    const occ = row('ours-occlusion');
    if (!o || !base) continue;
    const n = cards.toLocaleString('en-US');
    t.push(`- ${n} cards, task and script time added at most 1.0x the baseline: task ${fmt(o.taskRatio, 2)}x, script ${fmt(o.scriptRatio, 2)}x -> ${met(o.taskRatio <= 1 && o.scriptRatio <= 1)}; long tasks ${fmt(o.longTasks)} (no tracker: ${fmt(o.longTasksNone)}, longest ${fmt(o.longestTaskMs)} ms) -> ${met(o.longTasks <= o.longTasksNone)}; time to tracking ${fmt(o.timeToTrackingMs)} ms vs baseline ${fmt(base.timeToTrackingMs)} ms + 20 -> ${met(o.timeToTrackingMs <= base.timeToTrackingMs + 20)}; task time per card ${fmt((o.taskMs / cards) * 1000, 1)} us`);
    if (occ) t.push(`- ${n} cards, occlusion on at most 1.2x the baseline: task ${fmt(occ.taskRatio, 2)}x, script ${fmt(occ.scriptRatio, 2)}x -> ${met(occ.taskRatio <= 1.2)}`);
  }
  const insights = wire.find((w) => w.tracker === 'search-insights');
  if (oursWire) t.push(`- Bytes on the wire per 100 impressions at most 4 KB (4000 B), below search-insights: ${fmt(oursWire.bytesPer100)} B (compress: false ${fmt(wire.find((w) => w.tracker === 'ours-plain')?.bytesPer100)} B, search-insights ${fmt(insights?.bytesPer100)} B, baseline ${fmt(wire.find((w) => w.tracker === 'baseline')?.bytesPer100)} B, Snowplow ${fmt(wire.find((w) => w.tracker === 'snowplow')?.bytesPer100)} B) -> ${met(oursWire.bytesPer100 <= 4000)}${insights ? `, ${oursWire.bytesPer100 < insights.bytesPer100 ? 'below' : 'NOT below'} search-insights` : ''}`);
  if (core) {
    const worstRatio = Math.max(...core.records.filter((r) => !/not shipped/.test(r.wasmBuild)).map((r) => r.ratio));
    const o2 = core.records.filter((r) => /not shipped/.test(r.wasmBuild));
    t.push(`- WASM core within 2x of native per observation: shipped build worst ${worstRatio.toFixed(2)}x (median ratio) -> ${met(worstRatio <= 2)}${o2.length ? `; an -O2 build: worst ${Math.max(...o2.map((r) => r.ratio)).toFixed(2)}x at ${core.speedBuild.gzip} B gzip` : ''}`);
  }
  return t.join('\n');
}

function coreBench(log) {
  log('# core alone: native (build/core_bench, -O2) and js/imp.wasm in Node, 10^6 observations');
  const nativeBin = join(root, 'build', 'core_bench');
  const core = runCoreBench({ nativeBin, wasmPath: join(root, 'js', 'imp.wasm') });
  // For comparison only: the same sources built -O2 (faster, larger; not shipped).
  const speedBuild = join(root, 'build', 'imp-O2.wasm');
  if (existsSync(speedBuild)) {
    const o2 = runCoreBench({ nativeBin, wasmPath: speedBuild, label: 'build/imp-O2.wasm (-O2, not shipped)' });
    const bytes = readFileSync(speedBuild);
    core.speedBuild = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    core.records.push(...o2.records);
  }
  return core;
}

function deflateBench(log) {
  log('# encoder alone: one 200-event batch compressed 2,000 times, native and WASM');
  const nativeBin = join(root, 'build', 'core_bench');
  const deflate = runDeflateBench({ nativeBin, wasmPath: join(root, 'js', 'imp.wasm') });
  const withoutEncoder = join(root, 'build', 'imp-no-encoder.wasm');
  deflate.encoderGzipBytes = existsSync(withoutEncoder)
    ? gzipSync(readFileSync(join(root, 'js', 'imp.wasm')), { level: 9 }).length - gzipSync(readFileSync(withoutEncoder), { level: 9 }).length
    : undefined;
  return deflate;
}

async function main() {
  const log = (s) => console.log(s);
  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    chromium: execFileSync(process.env.CHROMIUM || '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    date: new Date().toISOString(),
    loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  };
  log(`# machine: ${machine.nproc} cores, ${machine.cpu}; ${machine.chromium}; node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')}`);
  const core = env.BENCH_SKIP_CORE ? null : coreBench(log);
  const deflate = env.BENCH_SKIP_CORE ? null : deflateBench(log);
  log('# size: esbuild --bundle --minify --target=es2020, gzip -9, brotli -q 11');
  const sizes = await measureSizes();
  let page = null;
  let agg = [];
  let wire = [];
  let correctness = [];
  if (!process.env.BENCH_SKIP_PAGE) {
    log(`# in the page: headless Chromium, ${PLAN.rounds} rounds, grids ${PLAN.grids.join(' and ')} cards${env.BENCH_WASM_DELAY_MS ? `, the .wasm answered after ${env.BENCH_WASM_DELAY_MS} ms` : ''}`);
    page = await runPage(log);
    agg = aggregate(page.sessions);
    wire = wireRows(page.sessions);
    correctness = correctnessRows(page.sessions);
    try {
      const series = ['ours', 'ours-occlusion', 'baseline', 'snowplow'].map((tracker) => ({
        label: LABELS[tracker],
        color: COLORS[tracker],
        points: agg.filter((a) => a.tracker === tracker).map((a) => [a.cards, a.taskMs]),
      }));
      // A partial run (some grids or trackers only) draws its chart beside its results.
      const partial = env.BENCH_GRIDS || env.BENCH_TRACKERS;
      await drawChart(page.browser, { title: 'Main-thread task time added by the tracker (CPU ms, slow browsing + fling)', yLabel: 'CPU ms added', series }, partial ? join(resultsDir, 'chart.png') : join(here, 'chart.png'));
    } finally {
      await page.browser.close();
    }
  }

  const report = core ? [
    `\n### Core alone (10^6 observations, median of ${core.records[0].runs} runs)\n`,
    coreTable(core),
    `\nProcess CPU time per observation, the harness's own work included (it is the same loop on both sides). WASM linear memory: ${core.memory.atStart} B at start, ${core.memory.afterRuns} B after every run (${core.memory.grew ? 'GREW' : 'no growth'}). State per item with a slot (a card near the viewport, or released and not yet reused): ${core.records[0].stateBytesPerItem.toFixed(0)} B at ${core.records[0].items.toLocaleString('en-US')} items (the item record, sizeof(imp_item) = ${core.records[0].sizeofItem} B; 6 B of hash table and free list; 40 B of the id heap, 8 KiB at least; a 32 B element); per card already reported whose slot was reused: one ${core.records[0].seenEntryBytes} B entry of the seen set.${core.speedBuild ? ` build/imp-O2.wasm is ${core.speedBuild.gzip} B gzip (${core.speedBuild.raw} B raw).` : ''}`,
    '\n### The encoder alone (process CPU time, median of runs; gzip bytes identical native and WASM)\n',
    deflateTable(deflate, deflate.encoderGzipBytes),
    `\nThe encoder's cost in the .wasm: js/imp.wasm minus the same core with the encoder stubbed out (build/imp-no-encoder.wasm), gzip -9.`,
  ] : [];
  report.push('\n### Size (each tracker bundled and minified with esbuild the same way)\n', sizeTable(sizes));
  if (page) {
    report.push(`\n### In the page (headless Chromium, 1280x800; ${page.seconds.toFixed(0)} s)`);
    report.push(pageTables(agg, wire, correctness));
    if (page.skipped.length) {
      const names = page.skipped.map((x) => `${x.tracker}@${x.cards} round ${x.round + 1}`);
      report.push(`\nSkipped to stay within the time budget (BENCH_BUDGET_S=${PLAN.budgetMs / 1000}): ${names.join(', ')}.`);
    }
    if (PLAN.roundsCap['snowplow@5000']) report.push('Snowplow on 5,000 cards runs once (one session takes 1 to 2 minutes); BENCH_FULL=1 repeats it.');
    if (page.profiles.length) {
      report.push('\n### Where the time goes (CPU profiles: self time, top functions)');
      report.push(profileTable(page.profiles, (t) => LABELS[t]));
      report.push('\nProfiles: tests/bench/results/profiles/<tracker>-<cards>.cpuprofile (DevTools, Performance panel: load profile).');
    }
    report.push('\n### Targets\n');
    report.push(targets(core, sizes, agg, wire));
  }
  machine.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  report.push(`\nMachine: ${machine.nproc} cores, ${machine.cpu}, ${machine.chromium}, Node ${machine.node}; load average ${machine.loadAverageAtStart[0]} at start, ${machine.loadAverageAtEnd[0]} at end (other work on the machine inflates every time above).`);
  const text = report.join('\n');
  console.log(text);
  mkdirSync(resultsDir, { recursive: true });
  const json = {
    machine, plan: PLAN, core, deflate, sizes,
    page: page ? { seconds: page.seconds, skipped: page.skipped, aggregate: agg, wire, correctness, profiles: page.profiles, sessions: page.sessions } : null,
    markdown: text,
  };
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(join(resultsDir, 'latest.md'), `${text}\n`);
  console.log(`\n# raw results: tests/bench/results/latest.json${page ? '; chart: tests/bench/chart.png' : ''}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
