// bars.js: the page's fixed or sticky bars at the viewport's top and bottom edges (a
// sticky header with its search and chips, a cookie notice, a tab bar), measured so the
// geometry observers leave them out of their root (observer.js): a card's ratio is then
// of the part of the viewport no bar covers. A bar is an element of computed position
// fixed or sticky whose box touches that edge, spans at least half the viewport's width
// and is at most half its height: a full-page modal or a side column is no bar
// (occlusion is for those). A bar that wide covers the middle of the edge's row, so one
// hit test there finds it: the element hit, or its nearest ancestor that is a bar. A
// hit on a card or inside one finds none; so does a bar under another fixed element at
// that point, and one with pointer-events: none (hit tests go through it). In a frame
// the observers' root is the top viewport, not the frame's: no bar is measured.

/**
 * [top, bottom]: how many px of the viewport the bars at its top and bottom edges
 * cover. cards: the watched cards (a Map or Set of elements).
 */
export function measureBars(env, cards) {
  const { window: win, document: doc } = env;
  const { clientWidth: width, clientHeight: height } = doc.documentElement;
  const bars = [0, 0];
  if (win.top !== win) return bars; // a frame (or no window at all)
  for (let edge = 0; edge < 2; edge++) {
    for (let el = doc.elementFromPoint(width / 2, edge * (height - 1)); el && !cards.has(el); el = el.parentElement) {
      if (!/fixed|sticky/.test(win.getComputedStyle(el).position)) continue;
      const box = el.getBoundingClientRect();
      if (box.width >= width / 2 && box.height <= height / 2 && (edge ? box.bottom >= height - 1 : box.top <= 1)) {
        bars[edge] = edge ? height - box.top : box.bottom;
        break;
      }
    }
  }
  return bars;
}
