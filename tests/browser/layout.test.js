// layout.test.js: what is counted on the pages a marketplace builds, in a real Chromium,
// against the geometry the test sets up (each page is written by the test into
// fixtures/stage.html before the tracker starts; Playwright's fake clock): cards that
// get or lose their pixels in place (an image loading, a collapsed card), a card
// re-rendered as a new element of the same id, a sticky filter bar under a fixed header,
// carousels clipped by their scroll container, and the documented limits (a card hidden
// by `visibility`, a fixed banner over a card away from the viewport's edges, a card in a
// shadow root or an iframe). Each test asserts the exact events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './server.js';
import { clockTo, flushAndRead, pageNow, runUntilTrace, useBrowserSuite, waitForTrace } from './browser.js';
import { card, observed, ofType, stager } from './stage.js';

const { open } = useBrowserSuite();
const stage = stager(open);

test('a card that gets its pixels in place (0 px tall until its image loads) counts from then; one that collapses stops', async (t) => {
  // Both fully in the viewport all along, so the ratio IntersectionObserver gives stays 1
  // (a target with no area that intersects has ratio 1): only the area changes.
  const { page } = await stage(t, `<div data-list-id="l">${card('gig-grows', 'position:absolute;left:0;width:300px;height:0')}${
    card('gig-collapses', 'position:absolute;left:400px;width:300px;height:300px', 2)}</div>`);
  const flat = await observed(page, 'gig-grows', (r, area) => area === 0, 'the card with no area');
  const whole = await observed(page, 'gig-collapses', (r, area) => r === 1 && area === 90000, 'the card in full');
  await clockTo(page, whole.t + 300);
  await page.evaluate(() => { document.querySelector('[data-gig-id="gig-collapses"]').style.height = '0'; });
  const collapsed = await observed(page, 'gig-collapses', (r, area) => area === 0, 'the card collapsed', whole.index);
  await clockTo(page, Math.max(collapsed.t, flat.t) + 500);
  await page.evaluate(() => { document.querySelector('[data-gig-id="gig-grows"]').style.height = '300px'; });
  const grown = await observed(page, 'gig-grows', (r, area) => r === 1 && area === 90000, 'the card at its new size', flat.index);
  await clockTo(page, grown.t + 999);
  let events = await flushAndRead(page);
  const imp = (id) => ofType(events, 'imp', id)[0];
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-collapses', 'gig-grows']);
  assert.equal(imp('gig-grows').t - imp('gig-collapses').t, grown.t - whole.t, 'no impression before the card has a pixel');
  assert.deepEqual(ofType(events, 'view'), [], 'not viewable before a second with pixels');
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]), [['gig-collapses', collapsed.t - whole.t]], 'visible until it collapsed');
  await clockTo(page, grown.t + 3000);
  events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, e.t - imp('gig-grows').t]), [['gig-grows', 1000]]);
});

test('a card that pops in by a transform alone (scale(0) to none, with a transition) counts once the transition has ended', async (t) => {
  // No layout size changes, so neither the IntersectionObserver (ratio 1 both ways) nor
  // the ResizeObserver reports it.
  const { page } = await stage(t, `<div data-list-id="l">${card('gig-pops', 'width:300px;height:300px;transform:scale(0);transition:transform 100ms')}</div>`);
  const flat = await observed(page, 'gig-pops', (r, area) => area === 0, 'the card scaled to nothing');
  await page.evaluate(() => new Promise((resolve) => {
    const el = document.querySelector('[data-gig-id="gig-pops"]');
    el.addEventListener('transitionend', resolve);
    el.style.transform = 'none';
  }));
  const shown = await observed(page, 'gig-pops', (r, area) => r === 1 && area === 90000, 'the card at full size', flat.index);
  await clockTo(page, shown.t + 1000);
  const events = await flushAndRead(page);
  assert.deepEqual(events.map((e) => e.e), ['imp', 'view']);
  assert.equal(events[1].t - events[0].t, 1000);
});

test('a list re-rendered with new elements of the same ids (and re-sorted) is the same cards: one impression, the second goes on', async (t) => {
  const row = (id, position) => card(id, 'width:300px;height:100px', position);
  const { page } = await stage(t, `<div id="list" data-list-id="l">${row('gig-a', 1)}${row('gig-b', 2)}</div>`);
  const a = await observed(page, 'gig-a', (r) => r === 1, 'gig-a in view');
  const b = await observed(page, 'gig-b', (r) => r === 1, 'gig-b in view');
  const first = Math.max(a.t, b.t);
  await clockTo(page, first + 600);
  await page.evaluate((html) => { document.getElementById('list').innerHTML = html; }, `${row('gig-b', 1)}${row('gig-a', 2)}`);
  const after = Math.max(a.index, b.index);
  for (const id of ['gig-a', 'gig-b']) {
    const shown = (f, of) => f[0] === 'eobs' && of === id && Number(f[3]) === 1;
    await runUntilTrace(page, shown, `the new ${id} element`, after, Math.floor(first + 999 - await pageNow(page)) - 10);
  }
  await clockTo(page, first + 999);
  let events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-a', 'gig-b'], 'one impression each');
  assert.deepEqual(ofType(events, 'view'), [], 'not viewable before 1 s');
  assert.deepEqual(ofType(events, 'vis'), [], 'no visible span ended at the re-render');
  await clockTo(page, first + 1000);
  events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => [e.id, e.pos]).sort(), [['gig-a', 2], ['gig-b', 1]],
    'viewable 1 s after they showed, at their new positions');
  await page.evaluate(() => window.__stubVisibilityChange('hidden'));
  const hidden = await waitForTrace(page, (f) => f[0] === 'state' && f[2] !== '0', 'the hide');
  events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.n]).sort(), [['gig-a', 1], ['gig-b', 1]], 'one span each');
  for (const id of ['gig-a', 'gig-b']) assert.equal(ofType(events, 'vis', id)[0].ms, hidden.t - (id === 'gig-a' ? a.t : b.t));
});

test('a fixed header with a sticky filter bar stuck under it: both are left out, a card 60 % under the filter bar is not viewable', async (t) => {
  // Header 0 to 60 px, filter bar 60 to 120 px; scrolled by 60 px gig-a is at 60 to 160 px
  // (40 % uncovered), gig-b at 90 to 190 px (70 % uncovered).
  const { page } = await stage(t, `<div style="position:fixed;top:0;width:100%;height:60px;background:#333;z-index:2"></div>
    <div style="height:60px"></div><div style="position:sticky;top:60px;height:60px;background:#666;z-index:1"></div>
    <div data-list-id="l" style="position:relative;height:3000px">${card('gig-a', 'position:absolute;top:0;width:300px;height:100px')}${
  card('gig-b', 'position:absolute;top:30px;left:400px;width:300px;height:100px', 2)}</div>`);
  await page.evaluate(() => scrollTo(0, 60));
  const a = await observed(page, 'gig-a', (r) => Math.abs(r - 0.4) < 0.01, 'gig-a 40 % uncovered');
  await clockTo(page, a.t + 1500); // gig-b stays over the viewable ratio: no new observation
  const events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-a', 'gig-b']);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id), ['gig-b']);
});

test('a carousel: cards clipped by their scroll container are not in view, scrolled by script or by scrollIntoView', async (t) => {
  // 8 cards of 200 px in a 600 px wide container: 3 in view at a time.
  const cards = Array.from({ length: 8 }, (_, i) => card(`gig-${i + 1}`, 'flex:0 0 200px;height:150px', i + 1)).join('');
  const { page } = await stage(t, `<div id="carousel" data-list-id="l" style="display:flex;width:600px;overflow:auto">${cards}</div>`);
  const start = await observed(page, 'gig-3', (r) => r === 1, 'the third card in view');
  await clockTo(page, start.t + 1000);
  const imps = async () => ofType(await flushAndRead(page), 'imp').map((e) => e.id);
  assert.deepEqual(await imps(), ['gig-1', 'gig-2', 'gig-3']);
  await page.evaluate(() => { document.getElementById('carousel').scrollLeft = 600; });
  await observed(page, 'gig-6', (r) => r === 1, 'the sixth card in view', start.index);
  await page.evaluate(() => document.querySelector('[data-gig-id="gig-8"]').scrollIntoView({ inline: 'end' }));
  await observed(page, 'gig-8', (r) => r === 1, 'the eighth card in view', start.index);
  const events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id), ['gig-1', 'gig-2', 'gig-3', 'gig-4', 'gig-5', 'gig-6', 'gig-7', 'gig-8']);
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]).slice(0, 3), [['gig-1', 1000], ['gig-2', 1000], ['gig-3', 1000]],
    'the first three left view at the scroll');
});

// README "Limits": without occlusion a card counts by where its box is; with it, a card
// covered even in part gets its impression only.
for (const occlusion of [false, true]) {
  test(`a card under a fixed banner (no bar: it touches no edge), one with visibility: hidden and one shrunk by a transform, with occlusion ${occlusion ? 'on' : 'off'}`, async (t) => {
    // The banner covers 100 px in the middle of the first card (0 to 200 px); the second
    // card has no pixels drawn; the third is drawn at half its size.
    const { page } = await stage(t, `<div style="position:fixed;top:50px;left:0;width:800px;height:100px;background:#333"></div>
      <div data-list-id="l">${card('gig-under', 'width:300px;height:200px')}${card('gig-hidden', 'width:300px;height:200px;visibility:hidden', 2)}
      <div style="transform:scale(0.5);transform-origin:0 0">${card('gig-shrunk', 'width:300px;height:200px', 3)}</div></div>`,
    { options: { occlusion } });
    const seen = await observed(page, 'gig-shrunk', (r) => r === 1, 'the shrunk card in the viewport');
    await clockTo(page, seen.t + 2000);
    const events = await flushAndRead(page);
    const all = ['gig-hidden', 'gig-shrunk', 'gig-under'];
    assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), all);
    assert.deepEqual(ofType(events, 'view').map((e) => e.id).sort(), occlusion ? [] : all);
  });
}

test('cards in a shadow root or a same-origin iframe: not found by discovery; observe() measures them, and hears clicks in the shadow root only', async (t) => {
  const { page } = await stage(t, `<div id="host" data-list-id="l"></div>
    <iframe id="frame" style="width:400px;height:200px;border:0" srcdoc='<body style="margin:0"><div data-gig-id="gig-framed" style="width:300px;height:150px">x</div></body>'></iframe>`);
  await page.evaluate(() => new Promise((resolve) => {
    const root = document.getElementById('host').attachShadow({ mode: 'open' });
    root.innerHTML = '<div data-gig-id="gig-shadow" style="width:300px;height:150px">x</div>';
    const frame = document.getElementById('frame');
    if (frame.contentDocument?.readyState === 'complete' && frame.contentDocument.body?.firstChild) resolve();
    else frame.addEventListener('load', resolve);
  }));
  await page.clock.runFor(600); // discovery's idle pass
  assert.deepEqual(ofType(await flushAndRead(page), 'imp'), [], 'discovery finds neither');
  await page.evaluate(() => {
    const shadowCard = document.getElementById('host').shadowRoot.firstChild;
    const framedCard = document.getElementById('frame').contentDocument.body.firstChild;
    window.__it.tracker.observe(shadowCard, { id: 'gig-shadow', position: 1 });
    window.__it.tracker.observe(framedCard, { id: 'gig-framed', position: 2 });
  });
  const seen = await observed(page, 'gig-framed', (r) => r === 1, 'the card in the iframe');
  await clockTo(page, seen.t + 1000);
  await page.mouse.click(50, 50); // the shadow root's card
  await page.mouse.click(50, 200); // the iframe's card
  const events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id).sort(), ['gig-framed', 'gig-shadow']);
  assert.deepEqual(ofType(events, 'click').map((e) => e.id), ['gig-shadow']);
});

test('a tracker started in a same-origin iframe measures its cards against the top viewport and hears their clicks', async (t) => {
  // The frame's top at 450 px: its first row of cards (100 px) is in view, the second (560 to 660 px) 40 %.
  const { page } = await stage(t, '<div style="height:450px"></div><iframe style="width:600px;height:400px;border:0" src="/fixtures/grid.html?n=8&w=100&h=100"></iframe>');
  const frame = await waitFor(() => page.frames().find((f) => f.url().includes('grid.html') && f), { what: 'the iframe' });
  await waitFor(() => frame.evaluate(() => window.__it?.start && document.readyState === 'complete'), { what: 'the iframe loaded' });
  await frame.evaluate(() => window.__it.start());
  await page.clock.runFor(1);
  await observed(frame, 'gig-8', (r) => Math.abs(r - 0.4) < 0.01, 'the second row at 40 %');
  await page.clock.runFor(1000);
  await page.mouse.click(50, 500);
  const events = await flushAndRead(frame);
  assert.equal(ofType(events, 'imp').length, 8);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id), ['gig-1', 'gig-2', 'gig-3', 'gig-4']);
  assert.deepEqual(ofType(events, 'click').map((e) => e.id), ['gig-1']);
});

test('a card removed 700 ms into its second is not viewable and reports a 700 ms span; a card moved in the list goes on', async (t) => {
  const row = (id, position) => card(id, 'width:300px;height:100px', position);
  const { page } = await stage(t, `<div id="list" data-list-id="l">${row('gig-a', 1)}${row('gig-b', 2)}${row('gig-c', 3)}</div>`);
  const seen = await observed(page, 'gig-c', (r) => r === 1, 'the third card in view');
  await clockTo(page, seen.t + 700);
  await page.evaluate(() => {
    const list = document.getElementById('list');
    list.querySelector('[data-gig-id="gig-a"]').remove();
    list.prepend(list.querySelector('[data-gig-id="gig-c"]')); // the same element, moved
  });
  await clockTo(page, seen.t + 2000);
  const events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id), ['gig-a', 'gig-b', 'gig-c']);
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]), [['gig-a', 700]]);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id).sort(), ['gig-b', 'gig-c']);
});

test('cards taller than the viewport: 600 of 1,600 px in view (37.5 %) is viewable, 600 of 2,100 (28.6 %) never is', async (t) => {
  const { page } = await stage(t, `<div data-list-id="l" style="display:flex">${card('gig-tall', 'width:390px;height:1600px')}${
    card('gig-taller', 'width:390px;height:2100px', 2)}</div>`);
  const seen = await observed(page, 'gig-taller', (r) => r > 0, 'the taller card');
  await clockTo(page, seen.t + 3000);
  const events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-tall', 'gig-taller']);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id), ['gig-tall']);
});

for (const [name, context, css] of [['device scale 1.5', { deviceScaleFactor: 1.5 }, ''], ['CSS zoom 2', {}, 'zoom:2']]) {
  test(`${name}: 50 % in view is viewable, 49 % is not`, async (t) => {
    // 300 x 200 CSS px cards (600 x 400 at zoom 2) with 100 and 98 px (200 and 196) in the 600 px viewport.
    const top = (px) => (css ? (600 - 2 * px) / 2 : 600 - px);
    const { page } = await stage(t, `<div data-list-id="l" style="${css}">${
      card('gig-50', `position:absolute;left:0;top:${top(100)}px;width:300px;height:200px`)}${
      card('gig-49', `position:absolute;left:350px;top:${top(98)}px;width:300px;height:200px`, 2)}</div>`,
    { css: 'body { overflow: hidden }', context });
    const seen = await observed(page, 'gig-49', (r) => r > 0, 'the card at 49 %');
    await clockTo(page, seen.t + 3000);
    const events = await flushAndRead(page);
    assert.deepEqual(ofType(events, 'imp').map((e) => e.id).sort(), ['gig-49', 'gig-50']);
    assert.deepEqual(ofType(events, 'view').map((e) => e.id), ['gig-50']);
  });
}

test('a window resized so that a card leaves the viewport ends its span there; the one still in view becomes viewable', async (t) => {
  const { page } = await stage(t, `<div data-list-id="l">${card('gig-top', 'width:300px;height:100px')}${
    card('gig-low', 'width:300px;height:100px;margin-top:400px', 2)}</div>`);
  const seen = await observed(page, 'gig-low', (r) => r === 1, 'the low card in view');
  await clockTo(page, seen.t + 600);
  await page.setViewportSize({ width: 800, height: 400 });
  const out = await observed(page, 'gig-low', (r) => r === 0, 'the low card out of view', seen.index);
  await clockTo(page, seen.t + 2000);
  const events = await flushAndRead(page);
  assert.deepEqual(ofType(events, 'vis').map((e) => [e.id, e.ms]), [['gig-low', out.t - seen.t]]);
  assert.deepEqual(ofType(events, 'view').map((e) => e.id), ['gig-top']);
});
