// plan.mjs: what `make bench` runs, read from the environment (tests/bench/run.mjs lists
// the variables): the rounds, the time budget, the grids and trackers, the sessions'
// scripts; the trackers' labels and chart colours; the paths of the results; and fmt(),
// the number format of every table.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const resultsDir = join(here, 'results');
export const profilesDir = join(resultsDir, 'profiles');
const env = process.env;
const listEnv = (name, fallback) => (env[name] ? env[name].split(',').map((x) => x.trim()).filter(Boolean) : fallback);
const ALL_TRACKERS = ['none', 'ours', 'ours-occlusion', 'baseline', 'snowplow'];

export const LABELS = {
  none: 'no tracker', ours: 'ours (WASM core)', 'ours-occlusion': 'ours, occlusion on (v2)', baseline: 'plain-JS baseline', snowplow: 'Snowplow element tracking',
  'ours-plain': 'ours, compress: false', 'search-insights': 'search-insights (ids only)',
};
export const COLORS = { ours: '#1f77b4', 'ours-occlusion': '#9467bd', baseline: '#2ca02c', snowplow: '#d62728' };

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

export const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
