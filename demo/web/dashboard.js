// The seller dashboard: polls the collector's GET endpoints every 2 s and renders the
// totals, the "impressions explained" sentences with the live numbers in them, two uPlot
// charts of totals over time and the per-gig table (sortable, filterable). Titles come
// from the same deterministic catalogue the marketplace renders. The collector computes
// every number; this file only formats them.

import uPlot from 'uplot';
import { buildCatalogue } from './catalogue.js';

const POLL_MS = 2000;
const BUCKET_MS = 10000;
const WINDOW_MS = 30 * 60 * 1000;

let gigsById = new Map(); // set by main(): nothing runs at import
const $ = (selector) => document.querySelector(selector);

const state = { sortKey: 'impressions', sortDir: -1, filter: '', gigs: [], updates: 0 };
let charts = null;

const int = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en'));
const pct = (r) => (r == null ? '–' : `${(r * 100).toFixed(r < 0.1 ? 1 : 0)} %`);
const secs = (ms) => (ms == null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const count = (n, noun) => `${int(n)} ${noun}${n === 1 ? '' : 's'}`;
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function renderTotals(t) {
  $('#t-impressions').textContent = int(t.impressions);
  $('#t-viewable').textContent = int(t.viewable);
  $('#t-viewable-rate').textContent = `${pct(t.viewable_rate)} of impressions`;
  $('#t-clicks').textContent = int(t.clicks);
  $('#t-ctr').textContent = `CTR ${pct(t.ctr)} · ${pct(t.ctr_viewable)} of viewable`;
  $('#t-visible').textContent = secs(t.avg_visible_ms);
  $('#t-pv').textContent = int(t.page_views);
  $('#t-automated').textContent = `${int(t.automated_page_views)} from automated browsers`;
  $('#t-batches').textContent = int(t.batches);
  const rejected = Object.values(t.collector?.rejected ?? {}).reduce((a, b) => a + b, 0);
  $('#t-dropped').textContent = `${int(t.dropped)} events lost in browsers · ${int(rejected)} rejected`;

  $('#x-impressions').textContent = t.impressions
    ? `So far: ${count(t.impressions, 'impression')} in ${count(t.page_views, 'page view')}.` : 'No impressions yet: open the marketplace and scroll.';
  $('#x-viewable').textContent = t.impressions
    ? `So far ${int(t.viewable)} of ${int(t.impressions)} impressions (${pct(t.viewable_rate)}) were viewable; the rest were scrolled past too fast or only peeked in at the edge.` : '';
  $('#x-visible').textContent = t.impressions
    ? `On average ${secs(t.avg_visible_ms)} per impression, ${secs(t.visible_ms)} in total.` : '';
  $('#x-ctr').textContent = t.impressions
    ? `So far ${count(t.clicks, 'click')}: ${pct(t.ctr)} of impressions, ${pct(t.ctr_viewable)} of viewable impressions.` : '';
}

function renderGigs() {
  const words = state.filter.toLowerCase().split(/\s+/).filter(Boolean);
  const rows = state.gigs
    .map((row) => ({ ...row, title: gigsById.get(row.id)?.title ?? row.id, seller: gigsById.get(row.id)?.seller ?? '' }))
    .filter((row) => words.every((w) => `${row.title} ${row.seller} ${row.id}`.toLowerCase().includes(w)));
  const { sortKey, sortDir } = state;
  rows.sort((a, b) => {
    const x = a[sortKey];
    const y = b[sortKey];
    if (x == null && y == null) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    return (typeof x === 'string' ? x.localeCompare(y) : x - y) * sortDir || a.id.localeCompare(b.id);
  });
  $('#gig-table tbody').innerHTML = rows.map((row) => `<tr data-gig-id="${esc(row.id)}">
      <td class="left"><span class="gig-title">${esc(row.title)}</span><span class="gig-meta">${esc(row.id)}${row.seller ? ' · ' + esc(row.seller) : ''}</span></td>
      <td data-col="impressions">${int(row.impressions)}</td>
      <td data-col="viewable">${int(row.viewable)}</td>
      <td data-col="viewable_rate"><span class="bar" data-w="${(row.viewable_rate ?? 0) * 100}%"></span>${pct(row.viewable_rate)}</td>
      <td data-col="clicks">${int(row.clicks)}</td>
      <td data-col="ctr">${pct(row.ctr)}</td>
      <td data-col="ctr_viewable">${pct(row.ctr_viewable)}</td>
      <td data-col="avg_visible_ms">${secs(row.avg_visible_ms)}</td>
      <td data-col="avg_position">${row.avg_position == null ? '–' : row.avg_position.toFixed(1)}</td>
    </tr>`).join('');
  // Set through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
  for (const bar of document.querySelectorAll('#gig-table .bar')) bar.style.setProperty('--w', bar.dataset.w);
  $('#gig-count').textContent = `${rows.length} of ${state.gigs.length} gigs with impressions`;
  for (const th of document.querySelectorAll('#gig-table th')) {
    th.dataset.sort = th.dataset.key === sortKey ? (sortDir < 0 ? 'desc' : 'asc') : '';
  }
}

/** Buckets from the collector, with empty buckets filled in, as uPlot's column arrays. */
function toColumns(rows, now) {
  const end = Math.floor(now / BUCKET_MS) * BUCKET_MS;
  // At least the last five minutes, at most WINDOW_MS.
  const first = Math.min(rows.length ? rows[0].time : end, end - 5 * 60 * 1000);
  const start = Math.max(first, end - WINDOW_MS);
  const byTime = new Map(rows.map((r) => [r.time, r]));
  const cols = [[], [], [], [], []];
  for (let t = start; t <= end; t += BUCKET_MS) {
    const r = byTime.get(t);
    cols[0].push(t / 1000);
    cols[1].push(r?.impressions ?? 0);
    cols[2].push(r?.viewable ?? 0);
    cols[3].push(r?.clicks ?? 0);
    cols[4].push((r?.visible_ms ?? 0) / 1000);
  }
  return cols;
}

function chartWidth(el) {
  return Math.max(320, el.getBoundingClientRect().width || 600);
}

function renderCharts(rows) {
  const cols = toColumns(rows, Date.now());
  const eventsData = [cols[0], cols[1], cols[2], cols[3]];
  const visibleData = [cols[0], cols[4]];
  if (!charts) {
    const eventsEl = $('#chart-events');
    const visibleEl = $('#chart-visible');
    const common = { height: 220, legend: { live: true }, scales: { x: { time: true } } };
    charts = {
      events: new uPlot({ ...common, width: chartWidth(eventsEl), series: [{},
        { label: 'Impressions', stroke: '#446ee7', width: 2 },
        { label: 'Viewable', stroke: '#1dbf73', width: 2 },
        { label: 'Clicks', stroke: '#e8762d', width: 2 }] }, eventsData, eventsEl),
      visible: new uPlot({ ...common, width: chartWidth(visibleEl), series: [{},
        { label: 'Visible time (s)', stroke: '#555', fill: 'rgba(85,85,85,0.12)', width: 2 }] }, visibleData, visibleEl),
    };
    window.addEventListener('resize', () => {
      charts.events.setSize({ width: chartWidth(eventsEl), height: 220 });
      charts.visible.setSize({ width: chartWidth(visibleEl), height: 220 });
    });
  } else {
    charts.events.setData(eventsData);
    charts.visible.setData(visibleData);
  }
}

async function refresh() {
  const human = $('#human').checked ? '&human=1' : '';
  const since = Date.now() - WINDOW_MS;
  try {
    const [totals, gigs, series] = await Promise.all([
      getJson(`/api/totals?${human}`),
      getJson(`/api/gigs?${human}`),
      getJson(`/api/series?bucket=${BUCKET_MS}&since=${since}${human}`),
    ]);
    renderTotals(totals);
    state.gigs = gigs.gigs;
    renderGigs();
    renderCharts(series.rows);
    state.updates++;
    document.body.dataset.updates = String(state.updates);
    $('#live').textContent = `live · updated ${new Date().toLocaleTimeString('en-GB')}`;
    $('#live').classList.remove('is-down');
  } catch (error) {
    $('#live').textContent = `collector unreachable (${error.message}); retrying`;
    $('#live').classList.add('is-down');
  }
}

/** Starts the dashboard (dashboard.html calls it). */
export function main() {
  gigsById = new Map(buildCatalogue().map((gig) => [gig.id, gig]));
  $('#gig-table thead').addEventListener('click', (event) => {
    const th = event.target.closest('th[data-key]');
    if (!th) return;
    if (state.sortKey === th.dataset.key) state.sortDir = -state.sortDir;
    else {
      state.sortKey = th.dataset.key;
      state.sortDir = th.dataset.key === 'title' || th.dataset.key === 'avg_position' ? 1 : -1;
    }
    renderGigs();
  });
  $('#filter').addEventListener('input', () => {
    state.filter = $('#filter').value;
    renderGigs();
  });
  $('#human').addEventListener('change', refresh);
  refresh();
  // Poll rather than stream: simple, survives collector restarts, and 2 s is live enough.
  let timer = setInterval(refresh, POLL_MS);
  document.addEventListener('visibilitychange', () => {
    clearInterval(timer);
    if (document.visibilityState === 'visible') {
      refresh();
      timer = setInterval(refresh, POLL_MS);
    }
  });
}
