// chart.mjs: draws the benchmark chart, main-thread cost added by each tracker against
// the number of cards, with uPlot (the plotting library among the dev dependencies).
// uPlot draws on a canvas in a DOM, so the chart is rendered in the same headless
// Chromium and saved as a PNG screenshot of the chart element (tests/bench/chart.png,
// committed for the README). The y axis is logarithmic: the trackers differ by orders
// of magnitude.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * @param browser a playwright Browser
 * @param series [{label, color, points: [[cards, ms], ...]}]
 * @param out PNG path
 */
export async function drawChart(browser, { title, series, yLabel }, out) {
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const xs = [...new Set(series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const data = [xs, ...series.map((s) => xs.map((x) => {
    const p = s.points.find(([px]) => px === x);
    return p && p[1] > 0 ? p[1] : null;
  }))];
  const context = await browser.newContext({ viewport: { width: 900, height: 520 }, deviceScaleFactor: 2 });
  try {
    const page = await context.newPage();
    await page.setContent(`<!doctype html><html><head><style>${uplotCss}
      body{margin:0;background:#fff;font:13px system-ui,sans-serif}#c{padding:12px 16px;display:inline-block}
      .note{color:#555;margin:4px 0 0 8px}</style></head><body><div id="c"></div></body></html>`);
    await page.addScriptTag({ content: uplotJs });
    await page.evaluate(({ title, data, series, yLabel }) => {
      const opts = {
        title,
        width: 860,
        legend: { live: false },
        height: 440,
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [
          { label: 'cards on the page', values: (u, vals) => vals.map((v) => v.toLocaleString('en-US')) },
          { label: yLabel, size: 70 },
        ],
        series: [{ label: 'cards' }, ...series.map((s) => ({
          label: s.label, stroke: s.color, width: 2, points: { show: true, size: 8, fill: s.color },
        }))],
      };
      // eslint-disable-next-line no-undef
      new uPlot(opts, data, document.getElementById('c'));
      const note = document.createElement('div');
      note.className = 'note';
      note.textContent = 'Median over runs, minus a page with no tracker in the same round; log scale.';
      document.getElementById('c').append(note);
    }, { title, data, series, yLabel });
    await page.locator('#c').screenshot({ path: out });
  } finally {
    await context.close();
  }
}
