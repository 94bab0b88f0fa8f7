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
// Its parts: plan.mjs (what runs, from the environment below), core.mjs and size.mjs
// (the core, the encoder, the sizes), page-runs.mjs (the sessions in the page, within
// the budget), page-results.mjs (sessions to rows), report.mjs (the markdown), chart.mjs.
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
import { join } from 'node:path';
import { drawChart } from './chart.mjs';
import { runCoreBench, runDeflateBench } from './core.mjs';
import { measureSizes } from './size.mjs';
import { runPage } from './page-runs.mjs';
import { aggregate, correctnessRows, wireRows } from './page-results.mjs';
import { reportText } from './report.mjs';
import { COLORS, LABELS, PLAN, here, resultsDir, root } from './plan.mjs';

const env = process.env;

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

/** The page part: its sessions as rows, and the chart of the cost per grid. */
async function pagePart(log) {
  log(`# in the page: headless Chromium, ${PLAN.rounds} rounds, grids ${PLAN.grids.join(' and ')} cards${env.BENCH_WASM_DELAY_MS ? `, the .wasm answered after ${env.BENCH_WASM_DELAY_MS} ms` : ''}`);
  const page = await runPage(log);
  const agg = aggregate(page.sessions);
  const wire = wireRows(page.sessions);
  const correctness = correctnessRows(page.sessions);
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
  return { page, agg, wire, correctness };
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
  const { page = null, agg = [], wire = [], correctness = [] } = process.env.BENCH_SKIP_PAGE ? {} : await pagePart(log);
  machine.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const text = reportText({ core, deflate, sizes, page, agg, wire, correctness, machine });
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
