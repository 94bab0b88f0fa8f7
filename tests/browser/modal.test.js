// modal.test.js: what covers the whole viewport, with default options (no occlusion),
// in a real Chromium (each page written by the test into fixtures/stage.html;
// Playwright's fake clock). A modal's backdrop (a fixed element down to the viewport's
// bottom from its top, or from below a fixed header) or a modal dialog (hit on its
// ::backdrop) that holds no card makes the page covered (js/page/bars.js, the core's
// IMP_ELEMENT_PAGE): a card in view keeps its impression
// and gets no viewable time while it is, and counts again once it is gone. A fixed
// element over the whole viewport that holds the cards (an app shell) covers nothing.
// Each test waits for the page's cover in the core's trace (`cover <t> -1 <0|1>`) and
// asserts the exact events against the times the core saw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockTo, flushAndRead, runUntilTrace, traceLines, useBrowserSuite, waitForTrace } from './browser.js';
import { ids, observed, ofType, placed, recordRoots, roots, stager } from './stage.js';

const { open } = useBrowserSuite();
const stage = stager(open);

/** A trace line that passes the page's cover (1: covered, 0: clear). */
const pageCover = (covered) => (f) => f[0] === 'cover' && f[2] === '-1' && f[3] === String(covered);

test('a modal\'s backdrop added over a card in full view: its span ends, no viewable time until the backdrop goes, then viewable a second later', async (t) => {
  const { page } = await stage(t, placed([['gig-a', 0, 0]], 1000), { init: [recordRoots] });
  const full = await observed(page, 'gig-a', (r) => r === 1, 'gig-a in full view');
  await clockTo(page, full.t + 400);
  await page.evaluate(() => {
    const backdrop = document.createElement('div');
    backdrop.id = 'backdrop';
    backdrop.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.5);z-index:10';
    backdrop.innerHTML = '<div style="margin:100px auto;width:300px;height:200px;background:#fff">Sign in</div>';
    document.body.append(backdrop);
  });
  // Discovery handles the change in an idle callback, on the fake clock.
  await runUntilTrace(page, pageCover(1), 'the page covered');
  const covered = await waitForTrace(page, pageCover(1), 'the page covered');
  await clockTo(page, covered.t + 2000);
  let events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-a']);
  assert.deepEqual(ids(events, 'view'), [], 'no viewable impression under the backdrop');
  const [spanEnd] = ofType(events, 'vis');
  assert.deepEqual([spanEnd.id, spanEnd.ms], ['gig-a', covered.t - full.t], 'the span ends when the page is covered');
  await page.evaluate(() => document.getElementById('backdrop').remove());
  await runUntilTrace(page, pageCover(0), 'the page clear', covered.index);
  const clear = await waitForTrace(page, pageCover(0), 'the page clear', covered.index);
  await clockTo(page, clear.t + 1000);
  events = await flushAndRead(page);
  // Event times count from the page view's start: measured from the span's end.
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, e.t - spanEnd.t]), [['gig-a', clear.t + 1000 - covered.t]]);
  assert.deepEqual(await roots(page), ['0px 0px 0px 0px'], 'the root stays whole: the backdrop is no bar');
});

test('a dialog opened with showModal(), no change to the DOM: the cards count as covered from its focus, and again from its close', async (t) => {
  const { page } = await stage(t, `${placed([['gig-a', 0, 0], ['gig-b', 0, 400]], 1000)}
    <dialog id="d" style="width:300px;height:150px"><button>Apply filters</button></dialog>`);
  const a = await observed(page, 'gig-a', (r) => r === 1, 'gig-a in full view');
  await observed(page, 'gig-b', (r) => r === 1, 'gig-b in full view');
  await clockTo(page, a.t + 300);
  await page.evaluate(() => document.getElementById('d').showModal());
  const covered = await waitForTrace(page, pageCover(1), 'the page covered at the dialog\'s focus');
  assert.equal(covered.t, a.t + 300, 'at once, with no tick of the clock');
  await clockTo(page, covered.t + 2000);
  let events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'view'), []);
  const spans = ofType(events, 'vis');
  assert.deepEqual(spans.map((e) => [e.id, e.ms]).sort(), [['gig-a', 300], ['gig-b', 300]]);
  await page.evaluate(() => document.getElementById('d').close());
  const clear = await waitForTrace(page, pageCover(0), 'the page clear at the dialog\'s close', covered.index);
  assert.equal(clear.t, covered.t + 2000);
  await clockTo(page, clear.t + 1000);
  events = await flushAndRead(page);
  // Event times count from the page view's start: measured from the spans' end.
  const viewAt = clear.t + 1000 - covered.t + spans[0].t;
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, e.t]).sort(), [['gig-a', viewAt], ['gig-b', viewAt]]);
});

/**
 * A page whose backdrop is up from the start, over card `id` in full view: the card gets
 * its impression only, in 2 s, and the geometry observers are made with `expectedRoots`.
 */
async function coveredFromStart(t, html, id, expectedRoots) {
  const { page } = await stage(t, html, { init: [recordRoots] });
  const seen = await observed(page, id, (r) => r === 1, `${id} in full view`);
  await waitForTrace(page, pageCover(1), 'the page covered');
  await clockTo(page, seen.t + 2000);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), [id]);
  assert.deepEqual(ids(events, 'view'), []);
  assert.deepEqual(await roots(page), expectedRoots);
}

test('a full-screen modal is no bar: the root stays whole, and the card under it counts as covered (an impression, no viewable time)', (t) =>
  coveredFromStart(t, `<div style="position:fixed;inset:0;background:rgba(0,0,0,.8);z-index:1"></div>${
    placed([['gig-m', 0, 0]], 1000)}`, 'gig-m', ['0px 0px 0px 0px']));

test('a backdrop below a fixed header (a modal that leaves the header uncovered): the page is covered, the header still a bar', (t) =>
  coveredFromStart(t, `<div style="position:fixed;top:0;left:0;right:0;height:60px;background:#333;z-index:20"></div>
    <div style="position:fixed;top:60px;left:0;right:0;bottom:0;background:rgba(0,0,0,.5);z-index:10"></div>
    <div style="padding-top:60px">${placed([['gig-u', 0, 0]], 1000)}</div>`, 'gig-u', ['-60px 0px 0px 0px']));

test('a fixed element over the whole viewport that holds the cards (an app shell that scrolls) covers nothing: its cards are viewable', async (t) => {
  const { page } = await stage(t, `<div style="position:fixed;inset:0;overflow:auto">
    <div style="height:60px;background:#333"></div>${placed([['gig-s', 0, 0]], 2000)}</div>`);
  const seen = await observed(page, 'gig-s', (r) => r === 1, 'gig-s in full view');
  await clockTo(page, seen.t + 1000);
  assert.deepEqual(ids(await flushAndRead(page), 'view'), ['gig-s']);
  assert.ok(!(await traceLines(page)).some((line) => pageCover(1)(line.split(' '))), 'the page never covered');
});
