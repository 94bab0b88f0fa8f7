// observer.js: the one IntersectionObserver a tracker uses for all its cards (its
// thresholds and v2 options are the tracker's, so cards share it rather than getting
// one observer each), and the reading of an entry into what imp_observe() takes.
// Thresholds are the ratios the rules use: 0 (first pixel and leaving), the impression
// ratio, both viewable ratios, and 1; the core decides everything from the ratios.

/** Sorted distinct thresholds for a resolved options object. */
export function thresholdsFor(o) {
  const ratios = [0, o.impressionRatio, o.viewable.ratio, o.viewable.largeRatio, 1];
  return [...new Set(ratios.filter((r) => r >= 0 && r <= 1))].sort((a, b) => a - b);
}

/**
 * One observer for the tracker. With occlusion on it asks for IntersectionObserver
 * v2 (trackVisibility with the minimum delay of 100 ms); browsers without v2 ignore
 * those options and never set entry.isVisible.
 */
export function createIntersectionObserver(env, o, onEntries) {
  const options = { threshold: thresholdsFor(o) };
  if (o.occlusion) Object.assign(options, { trackVisibility: true, delay: 100 });
  return new env.IntersectionObserver(onEntries, options);
}

/** What the core needs from an entry: time, ratio, the element's area, occluded. */
export function readEntry(entry, occlusion) {
  const box = entry.boundingClientRect;
  const ratio = entry.isIntersecting ? Math.min(1, Math.max(0, entry.intersectionRatio || 0)) : 0;
  return {
    _t: entry.time,
    _ratio: ratio,
    _area: Math.max(0, box.width * box.height) || 0,
    // v2 says isVisible === false when the card is covered, transformed or faded.
    // Chromium also says false whenever trackVisibility is off, hence the option check.
    _occluded: occlusion && ratio > 0 && entry.isVisible === false ? 1 : 0,
  };
}
