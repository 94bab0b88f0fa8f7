// page-results.mjs: the in-page sessions as rows for the report: the cost per grid and
// tracker (medians over the no-tracker session of the same round, ratios to the
// baseline), the wire per 100 impressions delivered, and correctness against the
// ground truth of the scripted geometry.

import { PLAN } from './plan.mjs';

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

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

export function wireRows(sessions) {
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

export function correctnessRows(sessions) {
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
