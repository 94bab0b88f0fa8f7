// observer.js: the IntersectionObservers a tracker uses for all its cards, and the
// reading of their entries into what imp_observe() takes. Cards share the observers
// (one set per tracker, not one per card).
//
// Geometry comes from a v1 observer, which the browser checks every frame: its
// thresholds are the ratios the rules use (0 for the first pixel and leaving, the
// impression ratio, both viewable ratios, 1); the core decides everything from them.
// With occlusion on, a second, v2 observer (trackVisibility, delay 100 ms) says whether
// a card is covered. v2 is checked at most every 100 ms per card, so it alone would miss
// a card that a fast fling shows for fewer frames than that (measured: 6 of 34 cards in
// a 200 px-per-frame fling); it only watches the cards the v1 observer reports in view,
// which also keeps its costlier checks to the few cards on screen.

/** Sorted distinct thresholds for a resolved options object. */
export function thresholdsFor(o) {
  const ratios = [0, o.impressionRatio, o.viewable.ratio, o.viewable.largeRatio, 1];
  return [...new Set(ratios.filter((r) => r >= 0 && r <= 1))].sort((a, b) => a - b);
}

/**
 * The tracker's observers: `_geometry` for every card, and `_occlusion` (null unless
 * occlusion is on and the browser has v2, which exposes `trackVisibility` on the
 * observer) for the cards in view. `onEntries(entries, fromOcclusion)` gets both.
 */
export function createObservers(env, o, onEntries) {
  const IO = env.IntersectionObserver;
  let occlusion = o.occlusion
    ? new IO((entries) => onEntries(entries, true), { threshold: [0], trackVisibility: true, delay: 100 })
    : null;
  if (occlusion && occlusion.trackVisibility !== true) {
    occlusion.disconnect();
    occlusion = null;
  }
  return {
    _geometry: new IO((entries) => onEntries(entries, false), { threshold: thresholdsFor(o) }),
    _occlusion: occlusion,
  };
}

/** What the core needs from a geometry entry: the ratio and the element's area. */
export function readGeometry(entry) {
  const box = entry.boundingClientRect;
  return {
    _ratio: entry.isIntersecting ? Math.min(1, Math.max(0, entry.intersectionRatio || 0)) : 0,
    _area: Math.max(0, box.width * box.height) || 0,
  };
}

/**
 * What an occlusion (v2) entry says: 1 covered, transformed or faded; 0 visible; -1
 * nothing (not intersecting at the time v2 looked: in or out is the geometry's call).
 */
export function readOcclusion(entry) {
  if (!entry.isIntersecting) return -1;
  return entry.isVisible ? 0 : 1;
}
