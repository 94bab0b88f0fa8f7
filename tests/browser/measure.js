// What the measurement tests in a real Chromium share (measurement.test.js,
// measurement-page.test.js): the events of one type, and waits on the tracker's trace
// for an observation of a card and for discovery on Playwright's fake clock.

import { waitForTrace } from './browser.js';

export { ofType } from './stage.js';

/** Waits for the core to see an observation of element `handle` that satisfies ratioOk, after trace line `after`. */
export function observed(page, handle, ratioOk, what, after = -1) {
  return waitForTrace(page, (f) => f[0] === 'eobs' && f[2] === String(handle) && ratioOk(Number(f[3])), what, after);
}

/** Starts discovery (its idle callback runs on the fake clock) and waits for the first observation. */
export async function discoveredAt(page, ratioOk = (r) => r > 0) {
  await page.clock.runFor(1);
  return observed(page, 0, ratioOk, 'first observation of the card');
}
