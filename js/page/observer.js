// observer.js: the IntersectionObservers a tracker uses for all its cards, and the
// reading of their entries into what imp_observe() takes. Cards share the observers
// (one set per tracker, not one per card).
//
// Geometry comes from v1 observers, which the browser checks every frame. Each card is
// watched by the observer of its own rule, whose thresholds are the ratios that rule
// uses: the first pixel (or the impression ratio) and the viewable ratio for its size
// (the large-card ratio for cards of largeArea or more; that observer is made when the
// first large card shows): two entries each way per card, as a hand-written tracker
// has. The core decides everything from the ratios.
// With occlusion on, a second, v2 observer (trackVisibility, delay 100 ms) says whether
// a card is covered. v2 is checked at most every 100 ms per card, so it alone would miss
// a card that a fast fling shows for fewer frames than that (measured: 6 of 34 cards in
// a 200 px-per-frame fling); it only watches the cards the v1 observer reports in view,
// which also keeps its costlier checks to the few cards on screen.

/** Sorted distinct thresholds of one rule: entering (0 or the impression ratio) and viewable. */
export function thresholdsFor(o, large) {
  const ratios = [o.impressionRatio, large ? o.viewable.largeRatio : o.viewable.ratio];
  return [...new Set(ratios.filter((r) => r >= 0 && r <= 1))].sort((a, b) => a - b);
}

/**
 * The tracker's observers: `_geometry` (by rule) for every card, and `_occlusion` (null
 * unless occlusion is on and the browser has v2, which exposes `trackVisibility` on the
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
    _geometry: geometryObservers(IO, o, (entries) => onEntries(entries, false)),
    _occlusion: occlusion,
  };
}

// One v1 observer per rule; a card moves to the large-card observer when an entry shows
// it is large (and back), and that observer's first entry measures it again.
function geometryObservers(IO, o, callback) {
  const small = new IO(callback, { threshold: thresholdsFor(o, false) });
  let large = null;
  const inLarge = new WeakSet();
  return {
    _observe: (el) => small.observe(el),
    _unobserve(el) {
      if (inLarge.delete(el)) large.unobserve(el);
      else small.unobserve(el);
    },
    /** Puts a card under the observer of its rule, given its area from an entry. */
    _fit(el, area) {
      const isLarge = area >= o.viewable.largeArea;
      if (isLarge === inLarge.has(el)) return;
      large ||= new IO(callback, { threshold: thresholdsFor(o, true) });
      (isLarge ? small : large).unobserve(el);
      (isLarge ? large : small).observe(el);
      if (isLarge) inLarge.add(el);
      else inLarge.delete(el);
    },
    _disconnect() {
      small.disconnect();
      large?.disconnect();
    },
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
