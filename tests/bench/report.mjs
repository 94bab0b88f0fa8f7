// report.mjs: the markdown report `make bench` prints and keeps in
// tests/bench/results/latest.md: the core and the encoder alone, the sizes, the page's
// cost, wire and correctness tables, the profiles, the targets of the design against
// the numbers, and the machine.

import { coreTable, deflateTable } from './core.mjs';
import { profileTable } from './profile.mjs';
import { sizeTable } from './size.mjs';
import { LABELS, PLAN, fmt } from './plan.mjs';

/** The cost, wire and correctness tables of the page part. */
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

/** Each target of the design against what this run measured. */
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

/** The core and encoder sections: tables of core.mjs and the notes under them. */
function coreSections(core, deflate) {
  return [
    `\n### Core alone (10^6 observations, median of ${core.records[0].runs} runs)\n`,
    coreTable(core),
    `\nProcess CPU time per observation, the harness's own work included (it is the same loop on both sides). WASM linear memory: ${core.memory.atStart} B at start, ${core.memory.afterRuns} B after every run (${core.memory.grew ? 'GREW' : 'no growth'}). State per item with a slot (a card near the viewport, or released and not yet reused): ${core.records[0].stateBytesPerItem.toFixed(0)} B at ${core.records[0].items.toLocaleString('en-US')} items (the item record, sizeof(imp_item) = ${core.records[0].sizeofItem} B; 6 B of hash table and free list; 40 B of the id heap, 8 KiB at least; a 32 B element); per card already reported whose slot was reused: one ${core.records[0].seenEntryBytes} B entry of the seen set.${core.speedBuild ? ` build/imp-O2.wasm is ${core.speedBuild.gzip} B gzip (${core.speedBuild.raw} B raw).` : ''}`,
    '\n### The encoder alone (process CPU time, median of runs; gzip bytes identical native and WASM)\n',
    deflateTable(deflate, deflate.encoderGzipBytes),
    `\nThe encoder's cost in the .wasm: js/imp.wasm minus the same core with the encoder stubbed out (build/imp-no-encoder.wasm), gzip -9.`,
  ];
}

/** The whole report as markdown, in the order `make bench` prints it. */
export function reportText({ core, deflate, sizes, page, agg, wire, correctness, machine }) {
  const report = core ? coreSections(core, deflate) : [];
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
  report.push(`\nMachine: ${machine.nproc} cores, ${machine.cpu}, ${machine.chromium}, Node ${machine.node}; load average ${machine.loadAverageAtStart[0]} at start, ${machine.loadAverageAtEnd[0]} at end (other work on the machine inflates every time above).`);
  return report.join('\n');
}
