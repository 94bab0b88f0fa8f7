// stage.js: the pages a test writes into fixtures/stage.html, and the reads the layout
// tests share: a card's markup and cards placed in a container, the core's observation
// of a card and a ratio within 0.01, events and their ids by type, the roots the
// geometry observers were made with, the measurements of the bars. Not a test file.

import { waitForTrace } from './browser.js';

/**
 * stage(t, html, {css, options, context, init}) for a suite's open(): opens stage.html
 * with `html` (and `css`) as its page, starts the tracker and its (fake) clock.
 */
export function stager(open) {
  return async (t, html, { css = '', options = {}, context = {}, init = [] } = {}) => {
    const opened = await open(t, { fixture: 'stage.html', clock: true, it: { autoStart: false, options }, context, init });
    await opened.page.evaluate(([h, c]) => window.__build(h, c), [html, css]);
    await opened.page.evaluate(() => window.__it.start());
    await opened.page.clock.runFor(1);
    return opened;
  };
}

/** A card: `style` places and sizes it. */
export const card = (id, style, position = 1) => `<div data-gig-id="${id}" data-position="${position}" style="${style}"></div>`;

/** Waits for the core's observation of card `id` (after trace line `after`) for which test(ratio, area) holds. */
export function observed(page, id, test, what, after = -1) {
  return waitForTrace(page, (f, of) => f[0] === 'eobs' && of === id && test(Number(f[3]), Number(f[4])), what, after);
}

/** The events of type `e` (of card `id`, if given). */
export const ofType = (events, e, id) => events.filter((x) => x.e === e && (id === undefined || x.id === id));
/** The ids of the events of type e, sorted. */
export const ids = (events, e) => ofType(events, e).map((x) => x.id).sort();
/** A test of a ratio: within 0.01 of x. */
export const near = (x) => (r) => Math.abs(r - x) < 0.01;
/**
 * Cards placed absolutely in a container `height` px tall: [[id, top, left]], each
 * [w, h] px (300x200 unless given).
 */
export const placed = (list, height, [w, h] = [300, 200]) => `<div data-list-id="l" style="position:relative;height:${height}px">${
  list.map(([id, top, left], i) => card(id, `position:absolute;top:${top}px;left:${left}px;width:${w}px;height:${h}px`, i + 1)).join('')}</div>`;

// An init script: the page's IntersectionObserver records the rootMargin of every
// observer made (window.__roots; the occlusion observer's is empty).
export function recordRoots() {
  const Real = window.IntersectionObserver;
  window.__roots = [];
  window.IntersectionObserver = class extends Real {
    constructor(callback, options) {
      super(callback, options);
      window.__roots.push(options?.rootMargin ?? '');
    }
  };
}
/** The rootMargin of every observer made since the page loaded (recordRoots). */
export const roots = (page) => page.evaluate(() => window.__roots);

// An init script: counts the measurements of the bars (window.__measured), each begun by
// a hit test in the viewport's top row.
export function countMeasurements() {
  const hitTest = Document.prototype.elementFromPoint;
  window.__measured = 0;
  Document.prototype.elementFromPoint = function elementFromPoint(...args) {
    if (args[1] === 0) window.__measured++;
    return hitTest.apply(this, args);
  };
}
/** How many measurements of the bars the page has made (countMeasurements). */
export const measured = (page) => page.evaluate(() => window.__measured);
