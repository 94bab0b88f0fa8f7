// bars.js: the page's fixed or sticky bars at the viewport's top and bottom edges (a
// sticky header with its search and chips, a cookie notice, a tab bar), measured so the
// geometry observers leave them out of their root (observer.js): a card's ratio is then
// of the part of the viewport no bar covers. A bar is an element of computed position
// fixed or sticky, found by hit tests at a few points of the viewport's top and bottom
// rows (the hit or an ancestor of it), whose box touches that edge, spans at
// least half the viewport's width and is at most half its height: a full-page modal or
// a side column is no bar (occlusion is for those). A hit that is a card or inside one
// is none either. A hit test goes through elements with pointer-events: none. In a
// frame the observers' root is the top viewport, not the frame's: no bar is measured.

const SPOTS = [0.2, 0.5, 0.8]; // where along each row the hit tests go, shares of the width

/**
 * [top, bottom]: how many px of the viewport the bars at its top and bottom edges
 * cover. isCard(el) says whether an element is a card.
 */
export function measureBars(env, isCard) {
  const { window: win, document: doc } = env;
  const root = doc.documentElement;
  const bars = [0, 0];
  if (!doc.elementFromPoint || !root || win.top !== win) return bars;
  const width = root.clientWidth;
  const height = root.clientHeight;
  for (const x of SPOTS) {
    for (let edge = 0; edge < 2; edge++) {
      let extent = 0;
      for (let el = doc.elementFromPoint(x * width, edge * (height - 1)); el && el !== root; el = el.parentElement) {
        if (isCard(el)) { // a card under the row's point: nothing covers it there
          extent = 0;
          break;
        }
        if (!/fixed|sticky/.test(win.getComputedStyle(el).position)) continue;
        const box = el.getBoundingClientRect();
        if (box.width < width / 2 || box.height > height / 2) continue;
        if (edge ? box.bottom >= height - 1 : box.top <= 1) extent = Math.max(extent, edge ? height - box.top : box.bottom);
      }
      bars[edge] = Math.max(bars[edge], Math.round(extent));
    }
  }
  return bars;
}
