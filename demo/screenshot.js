// Takes demo/screenshot.png for the README: the marketplace at 1280x800 with the
// tracker's view switched on: cards already viewable (green), one clicked, and the two
// that a pop-up covered (impression, not viewable) with their viewable timer filling up
// right after it closed. Run: node demo/screenshot.js [out.png] (needs Chromium;
// pngquant, when installed, makes the file smaller).

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startDemoServer } from './server.js';

const out = process.argv[2] ?? fileURLToPath(new URL('./screenshot.png', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'demo-shot-'));
const demo = await startDemoServer({ port: 0, fallback: false, dbPath: join(dir, 'events.sqlite') });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(demo.marketplace + '?overlay=1');
  // The pop-up opens at once: the cards under it (occlusion) get an impression, no viewable one.
  await page.click('#open-modal');
  await page.waitForFunction(() => document.documentElement.dataset.trackerReady === 'yes');
  const cards = await page.$$eval('[data-gig-id]', (all) => all.slice(0, 8).map((c) => c.dataset.gigId));
  const viewed = (ids) => page.waitForFunction(
    (list) => list.every((id) => window.demo.overlay.snapshot()[id]?.view), ids, { timeout: 15000 });
  await viewed([cards[0], cards[1], ...cards.slice(4)]);
  await page.click(`[data-gig-id="${cards[0]}"] .title`);
  // Close the pop-up: the cards it covered start their viewable timer; catch it half-way.
  await page.click('#close-modal');
  await page.waitForFunction(() => [...document.querySelectorAll('.trk.is-running:not(.is-view)')]
    .some((p) => /scaleX\(0\.[3-6]/.test(p.querySelector('.trk-fill').style.transform)), null, { timeout: 15000 });
  await page.screenshot({ path: out });
  // Quantise the colours when pngquant is there (keeps the README image small).
  const shrink = spawnSync('pngquant', ['--force', '--skip-if-larger', '--quality=60-90', '--output', out, out]);
  if (shrink.error) console.log('pngquant not found: the image is not quantised');
  console.log(`${out}: ${statSync(out).size} bytes`);
} finally {
  await browser.close();
  await demo.close();
  rmSync(dir, { recursive: true, force: true });
}
