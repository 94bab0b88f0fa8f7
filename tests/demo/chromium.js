// Shared helpers of the demo's browser tests: the demo server with a fresh database and
// headless Chromium, started for one test and closed after it, and the poll that every
// wait on a condition in the page goes through.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemoServer } from '../../demo/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const WAIT_MS = 15000;

/** The options of every browser test: skipped without a browser, two minutes at most. */
export const IN_CHROMIUM = { timeout: 120000, skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM}` };

/** The demo server on a free port with a fresh database, and Chromium; both closed after test t. */
export async function startDemoAndBrowser(t) {
  const dir = mkdtempSync(join(tmpdir(), 'demo-smoke-'));
  const demo = await startDemoServer({ port: 0, fallback: false, dbPath: join(dir, 'events.sqlite') });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  t.after(async () => {
    await browser.close();
    await demo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { demo, browser };
}

/** A 1280x800 page in a context of its own, and the errors the page throws, collected. */
export async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { context, page, pageErrors };
}

/** Polls `probe` until it returns a truthy value; fails with `what` after WAIT_MS. */
export async function until(what, probe, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // poll interval, not a stand-in
  }
}
