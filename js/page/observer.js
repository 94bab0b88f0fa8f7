// observer.js: the IntersectionObservers a tracker uses for all its cards, and the
// reading of their entries into what the core takes (imp_element_observe,
// imp_element_cover). Cards share the observers
// (one set per tracker, not one per card).
//
// Geometry comes from v1 observers, which the browser checks every frame. Each card is
// watched by the observer of its own rule, whose thresholds are the ratios that rule
// uses: the first pixel (or the impression ratio) and the viewable ratio for its size
// (the large-card ratio for cards of largeArea or more; that observer is made when the
// first large card shows): two entries each way per card, as a hand-written tracker
// has. Their root is the viewport less the page's fixed or sticky bars at its top and
// bottom edges and less what is outside the visual viewport (bars.js: a pinch-zoom, an
// on-screen keyboard): a card's ratio is of the part of the viewport the user sees.
// The core decides everything from the ratios, and from whether something covers the
// whole viewport (bars.js; passCover gives it as the page's cover).
// With occlusion on, a second, v2 observer (trackVisibility, delay 100 ms) says whether
// a card is covered. v2 is checked at most every 100 ms per card, so it alone would miss
// a card that a fast fling shows for fewer frames than that (measured: 6 of 34 cards in
// a 200 px-per-frame fling); it only watches the cards the v1 observer reports in view,
// which also keeps its costlier checks to the few cards on screen. Until v2 has looked
// at a card in view, the core counts it as covered (config.occlusion).

import { COVER_CLEAR, COVER_COVERED, COVER_OUTSIDE, ELEMENT_PAGE } from '../core/abi.js';
import { elementCover } from '../core/core.js';
import { measureBars } from './bars.js';
import { listen } from './lifecycle.js';

const BAR_SLACK = 4; // px a side of the root may move before the observers are made again
const BARS_LATER_MS = 500; // at most one measurement per this, after the first (see below)

/**
 * The thresholds of one rule: entering (0 or the impression ratio) and viewable. The
 * observer sorts them itself, and a threshold given twice crosses as one; one outside
 * [0, 1], which the observer would throw for, is left to the core to refuse.
 */
function thresholdsFor(o, large) {
  return [o.impressionRatio, large ? o.viewable.largeRatio : o.viewable.ratio].filter((r) => r >= 0 && r <= 1);
}

/**
 * The v2 observer for the cards in view: undefined unless occlusion is on and the browser
 * has v2 (it exposes `trackVisibility` on the observer). `onEntries(entries, true)`.
 */
function createOcclusionObserver(env, o, onEntries) {
  if (!o.occlusion) return undefined;
  const observer = new env.IntersectionObserver((entries) => onEntries(entries, true), { __proto__: null, threshold: [0], trackVisibility: true, delay: 100 });
  if (observer.trackVisibility === true) return observer;
  observer.disconnect();
  return undefined;
}

// Each event that may have moved a bar measures the bars at once (a header the page
// shows again on a scroll up covers the cards from that scroll's end), then at most once
// per BARS_LATER_MS, at its end, for all that come meanwhile: a resize drag, a pinch or
// an animated page fires them many times, a pan of a zoomed page scrolls the visual
// viewport every frame, a script that scrolls every frame (smooth-scroll libraries)
// ends a scroll every frame, and one measurement is two hit tests, each
// walking the grid's cards: about 8 ms on the bench's grid of 20,000 cards. Where the
// browser has no scrollend (Safari), every scroll asks.
function scheduleBars(env, guard, measure) {
  let timer = 0;
  let asked = 0; // an event came since the last measurement
  const now = () => {
    timer = env.setTimeout(later, BARS_LATER_MS);
    asked = 0;
    measure();
  };
  const later = guard(() => {
    timer = 0;
    if (asked) now();
  });
  return [() => (timer ? (asked = 1) : now()), () => env.clearTimeout(timer)]; // ask, stop
}

// IntersectionObserver's root is the layout viewport less our cut; on a phone, a page
// wider than the screen makes that viewport larger than the client size the bars are
// measured with (bars.js). An entry's root tells its size (the root's far edges plus the
// cut it was made with; an empty root, of a page no longer that wide, tells none): when
// that is not the size the bars were measured with, they are measured again with it,
// and these entries, of the wrong root, give way to the new observers' (when the root
// changed).
/**
 * Whether the entries of a geometry observer made with `cut` (the bars' [top, right,
 * bottom, left]) are of a root of another size than the bars were measured with: then
 * the bars are measured again with its size (true when the observers were made again).
 */
function remadeForRoot(cards, cut, entries) {
  const root = entries[0].rootBounds, used = cards._layoutUsed; // none in a frame: no bars are measured there
  const layout = root && used && (root.width > 0 ? [root.right + cut[1], root.bottom + cut[2]] : [0, 0]);
  return layout && layout.some((px, i) => Math.abs(px - used[i]) > BAR_SLACK) && cards._geometry._fitBars(layout);
}

// One v1 observer per rule; a card moves to the large-card observer when an entry shows
// it is large (and back), and that observer's first entry measures it again. An entry
// comes only when a threshold is crossed, so a card in view resized across largeArea
// would keep its old rule, and one that gets or loses its every pixel in place (0 px
// tall until its image loads: ratio 1 either way) would keep its old area: a
// ResizeObserver (where there is one) watches the cards in view and moves them too (a
// card with no area is observed again by the same observer, for a fresh entry). Neither
// reports a transform: a card with no area (transform: scale(0)) is observed again
// whenever an animation or a transition ends, so one that pops in is seen once it has.
// The bars are measured when the observers are first made, by discovery when the page
// changes (_fitBars), and at the same events, a scroll's end, a resize, a focus change,
// a dialog's close, or a resize or scroll of the visual viewport (a pinch-zoom, a pan,
// the keyboard; then at most once per 500 ms); when one moved, the v1 observers are
// made again (their root changed). What covers the whole viewport is measured with them.
/**
 * The observers of every card: sets cards._geometry (the v1 observers, by rule, the
 * size observer and the bars' measure) and cards._occlusion (the v2 observer or undefined).
 * `onEntries(entries, fromOcclusion)` (fromOcclusion absent for the geometry observers);
 * guard wraps the size observer's callback.
 * @returns a function that disconnects them all
 */
export function observeCards(cards, env, o, onEntries, guard) {
  // Each observer's init has no prototype: root, scrollMargin or trackVisibility added to
  // Object.prototype by the page would be read as ours.
  const IO = env.IntersectionObserver, win = env.window;
  let bars = measureBars(env, cards);
  const geometryObserver = (isLarge, cut = bars) => new IO(guard((entries) => remadeForRoot(cards, cut, entries) || onEntries(entries)),
    { __proto__: null, threshold: thresholdsFor(o, isLarge), rootMargin: cut.map((px) => `${-px}px`).join(' ') });
  let small = geometryObserver();
  let large; // made for the first large card
  const rules = new Map(); // card -> 0: no area, 2: large; absent: small
  const occlusion = createOcclusionObserver(env, o, onEntries);
  cards._occlusion = occlusion;
  const RO = env.ResizeObserver;
  const sizes = RO && new RO(guard((entries) => {
    for (const { target } of entries) cards._geometry._fit(target, boxArea(target.getBoundingClientRect()));
  }));
  const [askBars, stopBars] = scheduleBars(env, guard, () => cards._geometry._fitBars());
  // A modal opened or closed with no change to the DOM (showModal(), a class) moves the
  // focus, or closes its dialog, or ends a transition: each asks for the bars too.
  const unlisten = listen(win, ['animationend', 'transitionend', 'resize', 'focusin', 'close', 'onscrollend' in win ? 'scrollend' : 'scroll'], guard((event) => {
    askBars();
    if (event.type[0] === 's') return; // scrollend or scroll
    rules.forEach((rule, el) => {
      if (rule) return;
      small.unobserve(el); // observed again: a fresh entry measures it
      small.observe(el);
    });
  }));
  // A pinch-zoom, a pan of a zoomed page or a keyboard moves the visual viewport every
  // frame: it asks for the bars alone (it gives no card an area).
  const unlistenZoom = listen(win.visualViewport, ['resize', 'scroll'], guard(askBars));
  const unobserve = (el) => {
    (rules.get(el) > 1 ? large : small).unobserve(el);
    rules.delete(el);
  };
  cards._geometry = {
    _sizes: sizes,
    // A card handed over by observe() asks for the bars too: the first measurement came
    // before it, and an element that holds it is no bar (bars.js).
    _observe(el, manual) {
      small.observe(el);
      if (manual) askBars();
    },
    // The bars measured again: when a side moved by more than BAR_SLACK px, the geometry
    // observers are made again with the new root and every card observed anew (each
    // gets a fresh entry).
    _fitBars(layout) {
      cards._layout = layout || cards._layout;
      const now = measureBars(env, cards);
      passCover(cards, env.now());
      if (now.every((px, edge) => Math.abs(px - bars[edge]) <= BAR_SLACK)) return 0;
      bars = now;
      small.disconnect();
      large?.disconnect();
      small = geometryObserver();
      large = large && geometryObserver(true);
      cards._items.forEach((handle, el) => (rules.get(el) > 1 ? large : small).observe(el));
      return 1;
    },
    _unobserve: unobserve,
    /** Puts a card under the observer of its rule, given its area from an entry. */
    _fit(el, area) {
      const rule = area >= o.viewable.largeArea ? 2 : +(area > 0);
      if (rule === (rules.get(el) ?? 1) || !cards._items.has(el)) return; // a card let go: a late resize entry
      unobserve(el);
      (rule > 1 ? (large = large || geometryObserver(true)) : small).observe(el);
      if (rule !== 1) rules.set(el, rule);
    },
  };
  return () => {
    small.disconnect();
    large?.disconnect();
    occlusion?.disconnect();
    sizes?.disconnect();
    stopBars();
    unlisten();
    unlistenZoom();
  };
}

/** The ratio of a geometry entry as the core takes it: 0 when not intersecting, else in [0, 1]. */
export function entryRatio(entry) {
  return entry.isIntersecting ? Math.min(1, Math.max(0, entry.intersectionRatio || 0)) : 0;
}

/** The area of a card's box (an entry's boundingClientRect), px^2. */
export const boxArea = (box) => Math.max(0, box.width * box.height) || 0;

/**
 * Tells the core at time t whether something covers the whole viewport (bars.js sets
 * cards._covered when it measures), when that changed since it was last told.
 */
export function passCover(cards, t) {
  if (cards._core && !cards._coverPassed !== !cards._covered) {
    cards._check(elementCover(cards._core, t, ELEMENT_PAGE, cards._coverPassed = cards._covered));
  }
}

/** What an occlusion (v2) entry says (abi.js COVER_*): clear, covered (or transformed or faded), or outside. */
export function coverOf(entry) {
  return entry.isIntersecting ? (entry.isVisible ? COVER_CLEAR : COVER_COVERED) : COVER_OUTSIDE;
}
