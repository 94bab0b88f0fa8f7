// profile.mjs: CPU profiles of the in-page bench (the DevTools protocol's Profiler
// domain, through playwright-core's CDP session). A profile session runs the same
// scripted browsing as a cost session, with the sampler on from just before the tracker
// starts to the end of the fling, and loads the tracker bundled without minifying
// (<name>.readable.js) so the profile names its functions. The .cpuprofile files (open
// them in Chromium DevTools, Performance panel) go to tests/bench/results/profiles/; the
// summary is the functions with the most self time.

import { writeFileSync } from 'node:fs';

const SAMPLING_US = 200;

export async function startProfile(cdp) {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: SAMPLING_US });
  await cdp.send('Profiler.start');
}

/** Stops the sampler, writes the profile to `file`, returns its summary. */
export async function stopProfile(cdp, file) {
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.send('Profiler.disable');
  writeFileSync(file, JSON.stringify(profile));
  return summarize(profile);
}

// Where a sample's function lives: the tracker's bundle, its WebAssembly core, the
// browser's own work (no script), or the page (its probe and the scroll script).
function groupOf(frame) {
  if (frame.url.startsWith('wasm://') || frame.functionName.startsWith('$imp_') || frame.url.endsWith('.wasm')) return 'core';
  if (frame.url.includes('/bundles/')) return 'tracker';
  if (!frame.url) return frame.functionName === '(garbage collector)' ? 'gc' : 'browser';
  return 'page';
}

/**
 * Self time per function (name, file and line), most first, from the sample counts;
 * idle time left out. {total, groups: {tracker, core, gc, browser, page}, top: the
 * tracker's and the core's functions, [{name, where, ms, share}]}, ms of sampled CPU.
 */
export function summarize(profile, top = 8) {
  const samples = profile.samples?.length || 1;
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / samples;
  const byFunction = new Map();
  const groups = { tracker: 0, core: 0, gc: 0, browser: 0, page: 0 };
  let busy = 0;
  for (const node of profile.nodes) {
    const f = node.callFrame;
    if (!node.hitCount || f.functionName === '(idle)') continue;
    const ms = node.hitCount * msPerSample;
    const group = groupOf(f);
    busy += ms;
    groups[group] += ms;
    if (group !== 'tracker' && group !== 'core') continue;
    const file = f.url ? f.url.replace(/^.*\//, '') : '';
    const where = file ? `${file}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}@${where}`;
    const row = byFunction.get(key) || { name: f.functionName || '(anonymous)', where, ms: 0 };
    row.ms += ms;
    byFunction.set(key, row);
  }
  const rows = [...byFunction.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
  return { total: busy, groups, top: rows.map((r) => ({ ...r, share: busy ? r.ms / busy : 0 })) };
}

/** Markdown: one short table per profiled session. */
export function profileTable(profiles, label) {
  const lines = [];
  for (const p of profiles) {
    const g = p.summary.groups;
    lines.push(`\n${label(p.tracker)}, ${p.cards.toLocaleString('en-US')} cards: ${p.summary.total.toFixed(0)} ms busy on the main thread, of which the tracker's script ${g.tracker.toFixed(1)} ms, its WebAssembly core ${g.core.toFixed(1)} ms, garbage collection ${g.gc.toFixed(1)} ms, the browser's own work (layout, observers, paint; "(program)" and native calls) ${g.browser.toFixed(1)} ms, the page ${g.page.toFixed(1)} ms. The tracker's functions with the most self time:\n`);
    lines.push('| self ms | share | function | where |');
    lines.push('| ---: | ---: | --- | --- |');
    for (const r of p.summary.top) lines.push(`| ${r.ms.toFixed(1)} | ${(r.share * 100).toFixed(1)} % | \`${r.name}\` | ${r.where} |`);
  }
  return lines.join('\n');
}
