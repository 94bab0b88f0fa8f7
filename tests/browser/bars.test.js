// bars.test.js: cards under the page's fixed or sticky bars with default options, in a
// real Chromium (each page written by the test into fixtures/stage.html; Playwright's
// fake clock): a sticky header over the top row, a fixed bottom bar, a header that hides
// and shows again, a page with no bar (a full-screen modal is no bar either: it covers the
// page, modal.test.js). A card counts by the part of it in the viewport that no bar
// covers (js/page/bars.js). Each test asserts
// the exact events, and which roots the geometry observers were made with. The bars are
// measured at a resize, a transition's or an animation's end or a scroll's end (a scroll
// where the browser has no scrollend), then at most once per 500 ms for all that come meanwhile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockTo, flushAndRead, pageNow, runUntilTrace, traceLines, useBrowserSuite, waitForTrace, waitInPage } from './browser.js';
import { card, countMeasurements, ids, measured, near, observed, ofType, placed, recordRoots, roots, stager } from './stage.js';

const { open } = useBrowserSuite();
const stage = stager(open);

/** Moves the page's clock past the bars' delay (500 ms): the measurement asked for is made. */
const pastBarsDelay = async (page) => clockTo(page, (await pageNow(page)) + 500);
const hidden = (page) => page.evaluate(() => window.__stubVisibilityChange('hidden'));

for (const occlusion of [false, true]) {
  test(`a sticky header of 120 px over the top row: 60 % under it is not viewable, 30 % is, while it stays so (occlusion ${occlusion ? 'on' : 'off'})`, async (t) => {
    // The header is in the flow at the top, the cards below the fold; scrolled to 820 px
    // the header is stuck over the viewport's top 120 px: gig-a at 0 to 200 px (60 %
    // under it, 40 % uncovered), gig-b at 60 to 260 px (30 % under it).
    const { page } = await stage(t, `<div style="position:sticky;top:0;height:120px;background:#333;z-index:1"></div>${
      placed([['gig-a', 700, 0], ['gig-b', 760, 400]], 3000)}`, { options: { occlusion }, init: [recordRoots] });
    await page.evaluate(() => scrollTo(0, 820));
    const a = await observed(page, 'gig-a', near(0.4), 'gig-a 40 % uncovered');
    const b = await observed(page, 'gig-b', near(0.7), 'gig-b 70 % uncovered');
    await clockTo(page, Math.max(a.t, b.t) + 1500);
    let events = await flushAndRead(page);
    assert.deepEqual(ids(events, 'imp'), ['gig-a', 'gig-b']);
    assert.deepEqual(ids(events, 'view'), occlusion ? [] : ['gig-b'], 'with occlusion, v2 still says covered');
    // 50 px further gig-b is at 10 to 210 px: 55 % under the header, its span ends.
    await page.evaluate(() => scrollTo(0, 870));
    const under = await observed(page, 'gig-b', (r) => r > 0 && r < 0.5, 'gig-b 45 % uncovered', b.index);
    events = await flushAndRead(page);
    assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]), occlusion ? [] : [['gig-b', under.t - b.t]]);
    assert.deepEqual([...new Set(await roots(page))], occlusion ? ['-120px 0px 0px 0px', ''] : ['-120px 0px 0px 0px'],
      'measured at the start; the scroll moved no bar');
  });
}

test('a fixed bottom bar of 100 px: a card 60 % hidden by it and the viewport\'s edge is not viewable, one 25 % under it is', async (t) => {
  // gig-c at 350 to 550 px (50 px under the bar at 500 px), gig-d at 420 to 620 px (80 px
  // above the bar: 40 %).
  const { page } = await stage(t, `<div style="position:fixed;left:0;right:0;bottom:0;height:100px;background:#333;z-index:1"></div>${
    placed([['gig-c', 350, 0], ['gig-d', 420, 400]], 700)}`, { init: [recordRoots] });
  const c = await observed(page, 'gig-c', near(0.75), 'gig-c 75 % in view above the bar');
  const d = await observed(page, 'gig-d', near(0.4), 'gig-d 40 % in view above the bar');
  await clockTo(page, Math.max(c.t, d.t) + 1500);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-c', 'gig-d']);
  assert.deepEqual(ids(events, 'view'), ['gig-c']);
  assert.deepEqual(await roots(page), ['0px 0px -100px 0px']);
});

test('a header that hides and shows again (a transition of its transform): counted by the bar in place once each transition has ended', async (t) => {
  // A fixed header of 120 px over gig-e (0 to 200 px: 40 % uncovered); gig-f below it.
  const { page } = await stage(t, `<div id="header" style="position:fixed;top:0;left:0;right:0;height:120px;background:#333;z-index:1;transition:transform 100ms"></div>${
    placed([['gig-e', 0, 0], ['gig-f', 250, 0]], 1000)}`, { init: [recordRoots] });
  const covered = await observed(page, 'gig-e', near(0.4), 'gig-e under the header');
  const move = (transform) => page.evaluate((value) => new Promise((resolve) => {
    const header = document.getElementById('header');
    header.addEventListener('transitionend', resolve, { once: true });
    header.style.transform = value;
  }), transform);
  await move('translateY(-100%)'); // hidden (as on a scroll down)
  await pastBarsDelay(page);
  const shown = await observed(page, 'gig-e', (r) => r === 1, 'gig-e in full with the header hidden', covered.index);
  await clockTo(page, shown.t + 1200);
  await move('none'); // shown again (as on a scroll up)
  await pastBarsDelay(page);
  const back = await observed(page, 'gig-e', near(0.4), 'gig-e under the header again', shown.index);
  await hidden(page);
  await waitForTrace(page, (f) => f[0] === 'state' && f[2] !== '0', 'the hide');
  const events = await flushAndRead(page);
  const imp = ofType(events, 'imp', 'gig-e')[0];
  assert.deepEqual(ids(events, 'imp'), ['gig-e', 'gig-f']);
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, e.t - imp.t]), [['gig-f', 1000], ['gig-e', shown.t - covered.t + 1000]],
    'gig-e viewable 1 s after the header hid');
  assert.deepEqual(ofType(events, 'vis', 'gig-e').map((e) => e.ms), [back.t - shown.t], 'gig-e visible while the header was hidden');
  assert.deepEqual(await roots(page), ['-120px 0px 0px 0px', '0px 0px 0px 0px', '-120px 0px 0px 0px'], 'one new root per move, not one per frame');
});

test('a header the page hides on scroll down and shows on scroll up, by script in every scroll step: one new root at the end of each scroll', async (t) => {
  // A fixed header of 120 px (no transition); gig-s at 300 to 500 px, in full at the start.
  const { page } = await stage(t, `<div id="header" style="position:fixed;top:0;left:0;right:0;height:120px;background:#333;z-index:1"></div>${
    placed([['gig-s', 300, 0]], 3000)}`, { init: [recordRoots] });
  const start = await observed(page, 'gig-s', (r) => r === 1, 'gig-s in full');
  await page.evaluate(() => {
    window.__lastScroll = 0; // where the page's scroll listener last saw the page
    addEventListener('scroll', () => {
      document.getElementById('header').style.transform = scrollY > window.__lastScroll ? 'translateY(-100%)' : 'none';
      window.__lastScroll = scrollY;
    });
    addEventListener('scrollend', () => { window.__scrollEnded = scrollY; });
  });
  // The bars are measured at a scroll's end, or, within 500 ms of the last measurement,
  // 500 ms after it, once for all the scrolls that end meanwhile.
  const measuredAfterScrollTo = async (y, roots, what) => {
    await waitInPage(page, (at) => window.__scrollEnded === at, y, { what: `the scroll to ${y} px ended` });
    await clockTo(page, (await pageNow(page)) + 500);
    await waitInPage(page, (n) => window.__roots.length === n, roots, { what });
  };
  for (let i = 0; i < 10; i++) await page.evaluate(() => scrollBy(0, 30)); // to 300 px: gig-s at 0 to 200 px
  await measuredAfterScrollTo(300, 2, 'the header hidden, measured');
  const hiddenBar = await observed(page, 'gig-s', (r) => r === 1, 'gig-s in full, the header hidden', start.index);
  assert.deepEqual(await roots(page), ['-120px 0px 0px 0px', '0px 0px 0px 0px'], 'ten scroll steps that each set the transform: one new root');
  await page.evaluate(() => scrollBy(0, -10)); // gig-s at 10 to 210 px, 110 px of it under the header shown again
  await measuredAfterScrollTo(290, 3, 'the header shown, measured');
  await observed(page, 'gig-s', near(0.45), 'gig-s 45 % uncovered', hiddenBar.index);
  assert.deepEqual(await roots(page), ['-120px 0px 0px 0px', '0px 0px 0px 0px', '-120px 0px 0px 0px']);
});

test('resizes, transitions\' and animations\' ends in a row: one measurement at the first, one 500 ms later for the rest', async (t) => {
  // A fixed header of 120 px over gig-g (0 to 200 px: 40 % uncovered), 60 px once the
  // page (a resize drag, an animated page) has fired 30 events.
  const { page } = await stage(t, `<div id="header" style="position:fixed;top:0;left:0;right:0;height:120px;background:#333;z-index:1"></div>${
    placed([['gig-g', 0, 0]], 1000)}`, { init: [recordRoots, countMeasurements] });
  const covered = await observed(page, 'gig-g', near(0.4), 'gig-g under the header');
  assert.equal(await measured(page), 1, 'measured at the start');
  const start = await page.evaluate(() => {
    document.getElementById('header').style.height = '60px';
    for (let i = 0; i < 10; i++) for (const type of ['resize', 'transitionend', 'animationend']) dispatchEvent(new Event(type));
    return performance.now();
  });
  assert.equal(await measured(page), 2, 'one at the first event');
  await observed(page, 'gig-g', near(0.7), 'gig-g under the lower header', covered.index);
  await clockTo(page, start + 499);
  assert.equal(await measured(page), 2, 'none more before 500 ms');
  await clockTo(page, start + 500);
  assert.equal(await measured(page), 3, 'one for the 29 others');
  assert.deepEqual(await roots(page), ['-120px 0px 0px 0px', '-60px 0px 0px 0px']);
});

test('a browser without scrollend (Safari): the bars are measured at a scroll\'s first step and 500 ms later, once for its other steps', async (t) => {
  // The header the page hides on scroll down, as above; gig-t at 300 to 500 px. The
  // page has no onscrollend, and no listener after this one hears a scrollend.
  const noScrollEnd = () => {
    delete window.onscrollend;
    delete Window.prototype.onscrollend;
    addEventListener('scrollend', (event) => event.stopImmediatePropagation(), true);
  };
  const { page } = await stage(t, `<div id="header" style="position:fixed;top:0;left:0;right:0;height:120px;background:#333;z-index:1"></div>${
    placed([['gig-t', 300, 0]], 3000)}`, { init: [noScrollEnd, recordRoots, countMeasurements] });
  assert.equal(await page.evaluate(() => 'onscrollend' in window), false);
  const start = await observed(page, 'gig-t', (r) => r === 1, 'gig-t in full');
  await page.evaluate(() => {
    window.__scrolls = 0;
    addEventListener('scroll', () => {
      document.getElementById('header').style.transform = 'translateY(-100%)';
      window.__scrolls++;
    });
  });
  // To 300 px (gig-t at 0 to 200 px) in 10 steps, each awaiting its scroll event: steps
  // given within one frame would be one scroll event, measured before the page's listener
  // moved the header, and nothing would ask again.
  for (let i = 0; i < 10; i++) await page.evaluate(() => new Promise((resolve) => { addEventListener('scroll', resolve, { once: true }); scrollBy(0, 30); }));
  await waitInPage(page, () => scrollY === 300 && window.__scrolls > 0, undefined, { what: 'the page scrolled to 300 px' });
  assert.equal(await measured(page), 2, 'one at the first scroll (before the page\'s listener moved the header), no more while the clock stands');
  await pastBarsDelay(page);
  await waitInPage(page, () => window.__roots.length === 2, undefined, { what: 'the header hidden, measured' });
  assert.equal(await measured(page), 3, 'one for the other scroll steps');
  await observed(page, 'gig-t', (r) => r === 1, 'gig-t in full, the header hidden', start.index);
  assert.deepEqual(await roots(page), ['-120px 0px 0px 0px', '0px 0px 0px 0px']);
});

test('a header rendered with the cards after the tracker started (a client-side app): measured when discovery finds the cards', async (t) => {
  const { page } = await stage(t, '', { init: [recordRoots] });
  await page.evaluate((html) => window.__build(html), `<div style="position:fixed;top:0;left:0;right:0;height:120px;background:#333;z-index:1"></div>${
    placed([['gig-r', 0, 0]], 1000)}`);
  await runUntilTrace(page, (f, id) => f[0] === 'eobs' && id === 'gig-r', 'gig-r found and observed');
  const seen = await observed(page, 'gig-r', near(0.4), 'gig-r 40 % uncovered');
  await clockTo(page, seen.t + 1500);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-r']);
  assert.deepEqual(ids(events, 'view'), []);
  assert.deepEqual(await roots(page), ['0px 0px 0px 0px', '-120px 0px 0px 0px']);
  const ratios = (await traceLines(page)).filter((line) => line.startsWith('eobs')).map((line) => Number(line.split(' ')[3]));
  assert.equal(ratios.length, 1, 'observed once');
  assert.ok(near(0.4)(ratios[0]), 'with the bar left out');
});

test('a page with no bar (a header in the flow, narrow fixed buttons at the top and the bottom, a side column): counted as before', async (t) => {
  const { page } = await stage(t, `<div style="height:100px;background:#333"></div>
    <div style="position:fixed;top:0;left:250px;width:300px;height:60px;background:#333;z-index:1"></div>
    <div style="position:fixed;bottom:0;left:250px;width:300px;height:60px;background:#333;z-index:1"></div>
    <div style="position:fixed;top:0;right:0;width:150px;height:600px;background:#ccc;z-index:1"></div>${
    placed([['gig-n', 0, 0], ['gig-o', 380, 0], ['gig-p', 400, 400]], 1000)}`, { init: [recordRoots] });
  // gig-n at 100 to 300 px (below the header in the flow), gig-o at 480 to 680 px (60 %
  // in view, part of it under the bottom button), gig-p at 500 px (50 %, under both
  // the bottom button and the side column).
  const o = await observed(page, 'gig-o', near(0.6), 'gig-o 60 % in view');
  const p = await observed(page, 'gig-p', near(0.5), 'gig-p 50 % in view');
  await clockTo(page, Math.max(o.t, p.t) + 1000);
  const events = await flushAndRead(page);
  assert.deepEqual(ids(events, 'imp'), ['gig-n', 'gig-o', 'gig-p']);
  assert.deepEqual(ids(events, 'view'), ['gig-n', 'gig-o', 'gig-p']);
  assert.deepEqual(await roots(page), ['0px 0px 0px 0px']);
});

// The cost of the bars, reported (t.diagnostic), never asserted: script time of one
// measurement (the one 500 ms after two resizes that move no bar) and of a measurement that makes
// the observers again and observes every card anew (a header made sticky, then not), and
// the frame after it (the browser's first entries for every card), against a frame after
// a measurement alone. Real clock; medians of ROUNDS.
const ROUNDS = 9;
// An init script: the page's timers of 500 ms (the bars' delay) are timed, and
// window.__measuredIn(ms, start) is told of each.
function timeBarsDelay() {
  const setTimer = window.setTimeout;
  window.setTimeout = (fn, ms, ...args) => setTimer((...a) => {
    if (ms !== 500) return fn(...a);
    const start = performance.now();
    fn(...a);
    window.__measuredIn?.(performance.now() - start, start);
  }, ms, ...args);
}
for (const n of [5000, 20000]) {
  test(`cost of a measurement and of new observers on ${n.toLocaleString('en')} cards (reported)`, async (t) => {
    const cards = Array.from({ length: n }, (_, i) => card(`gig-${i + 1}`, 'height:50px', i + 1)).join('');
    const { page } = await open(t, { fixture: 'stage.html', it: { autoStart: false }, init: [recordRoots, timeBarsDelay] });
    await page.evaluate((html) => window.__build(html, '#grid { display: grid; grid-template-columns: repeat(10, 70px); gap: 5px }'),
      `<div id="header" style="top:0;height:120px;background:#333;z-index:1"></div><div id="grid" data-list-id="l">${cards}</div>`);
    await page.evaluate(() => window.__it.start());
    const costs = await page.evaluate((rounds) => new Promise((resolve) => {
      const header = document.getElementById('header');
      const frame = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done)));
      const median = (list) => list.sort((a, b) => a - b)[list.length >> 1];
      const timed = (change) => new Promise((done) => {
        window.__measuredIn = async (script, start) => {
          window.__measuredIn = null;
          await frame();
          done([script, performance.now() - start]);
        };
        dispatchEvent(new Event('resize')); // measured at once, or asks the pending timer
        change();
        dispatchEvent(new Event('resize')); // asks the timer: the measurement timed
      });
      (async () => {
        await frame();
        const measure = [];
        const rebuild = [];
        for (let i = 0; i < rounds; i++) {
          measure.push(await timed(() => {}));
          rebuild.push(await timed(() => { header.style.position = header.style.position ? '' : 'sticky'; }));
        }
        resolve({
          measureMs: median(measure.map((m) => m[0])), measureFrameMs: median(measure.map((m) => m[1])),
          rebuildMs: median(rebuild.map((m) => m[0])), rebuildFrameMs: median(rebuild.map((m) => m[1])),
        });
      })();
    }), ROUNDS);
    t.diagnostic(`${n} cards: one measurement ${costs.measureMs.toFixed(2)} ms of script (its frame ${costs.measureFrameMs.toFixed(1)} ms); `
      + `new observers ${costs.rebuildMs.toFixed(2)} ms of script (their frame ${costs.rebuildFrameMs.toFixed(1)} ms)`);
    assert.equal((await roots(page)).length, 1 + ROUNDS, 'new observers in each round that moved the header, none in the others');
  });
}
