// truth.mjs: the ground truth of a benchmark session, computed from the scripted
// geometry: the cards' document rectangles, the viewport, and the timeline of scroll
// positions the probe recorded (each position holds until the next mark). A card had an
// impression when some pixel row of it was in view after the tracker started; it was
// viewable when it stayed at least half in view for 1000 ms continuously. Cards whose
// longest continuous run lies within the margin around 1000 ms (frame timing, observer
// delivery) are counted as ambiguous and judged for nobody.

export const VIEW_RATIO = 0.5;
export const VIEW_MS = 1000;
export const MARGIN_MS = 150;

function visibleRatio(card, scrollY, viewport) {
  const [, left, top, width, height] = card;
  const y0 = Math.max(top - scrollY, 0);
  const y1 = Math.min(top - scrollY + height, viewport.height);
  const x0 = Math.max(left, 0);
  const x1 = Math.min(left + width, viewport.width);
  if (y1 <= y0 || x1 <= x0) return { ratio: 0, rows: 0 };
  return { ratio: ((y1 - y0) * (x1 - x0)) / (width * height), rows: y1 - y0 };
}

/**
 * @param geometry {cards: [id, left, top, width, height][], width, height}
 * @param timeline [[t, scrollY], ...] in time order
 * @param t0 tracker start; tEnd page hide
 */
export function groundTruth(geometry, timeline, t0, tEnd) {
  const viewport = { width: geometry.width, height: geometry.height };
  const segments = [];
  for (let i = 0; i < timeline.length; i++) {
    const start = Math.max(timeline[i][0], t0);
    const end = Math.min(i + 1 < timeline.length ? timeline[i + 1][0] : tEnd, tEnd);
    if (end >= start) segments.push([start, end, timeline[i][1]]);
  }
  const truth = { impressions: new Set(), impressionsAmbiguous: new Set(), views: new Set(), viewsAmbiguous: new Set(), cards: geometry.cards.length };
  for (const card of geometry.cards) {
    let best = 0;
    let run = 0;
    let runStart = -1;
    let maxRows = 0;
    for (const [start, end, y] of segments) {
      const { ratio, rows } = visibleRatio(card, y, viewport);
      if (rows > maxRows) maxRows = rows;
      if (ratio >= VIEW_RATIO - 1e-9) {
        if (runStart < 0) runStart = start;
        run = end - runStart;
        if (run > best) best = run;
      } else {
        runStart = -1;
      }
    }
    const id = card[0];
    if (maxRows >= 2) truth.impressions.add(id);
    else if (maxRows > 0) truth.impressionsAmbiguous.add(id);
    if (best >= VIEW_MS + MARGIN_MS) truth.views.add(id);
    else if (best > VIEW_MS - MARGIN_MS) truth.viewsAmbiguous.add(id);
  }
  return truth;
}

/** Missed and false reports of one tracker against the truth. */
export function judge(truth, delivered) {
  const count = (reported, yes, ambiguous) => {
    const missedIds = [...yes].filter((id) => !reported.has(id));
    const falseIds = [...reported].filter((id) => !yes.has(id) && !ambiguous.has(id));
    return {
      truth: yes.size, reported: reported.size, missed: missedIds.length, false: falseIds.length, ambiguous: ambiguous.size,
      missedIds: missedIds.slice(0, 20), falseIds: falseIds.slice(0, 20),
    };
  };
  return {
    impressions: count(delivered.impressions, truth.impressions, truth.impressionsAmbiguous),
    views: count(delivered.views, truth.views, truth.viewsAmbiguous),
  };
}
