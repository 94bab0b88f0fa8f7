// bars.js: what hides the edges of the viewport, measured so the geometry observers
// leave it out of their root (observer.js): a card's ratio is then of the part of the
// viewport the user sees. That is the page's fixed or sticky bars at the viewport's top
// and bottom edges (a sticky header with its search and chips, a cookie notice, a tab
// bar), and what is outside the visual viewport: a pinch-zoom or an on-screen keyboard
// shows only part of the viewport, which IntersectionObserver's implicit root ignores.
// Each side of the root is cut by the larger of the two there. A bar is an element of
// computed position fixed or sticky whose box touches that edge, spans at least half the
// viewport's width and is at most half its height: a full-page modal or a side column is
// no bar. What covers the whole viewport is found by the top row's hit test too: a fixed
// element from that row (or from the row past the bars found there) down to the bottom
// and at least half as wide (a modal's backdrop, below the header or not, a cookie wall,
// a filters drawer), or a modal dialog hit outside its box (on its ::backdrop), that
// holds no card; it sets state._covered, which the core is told as the page's cover
// (observer.js passCover): every card in view counts as covered. A bar that wide covers
// the middle of the edge's row, so one hit test there finds it: the element hit, or its
// nearest ancestor that is a bar; the row past a bar found is hit again, for a bar
// against it (a filter bar). A hit on a card or inside one finds none; so does a bar
// under another fixed element at that point, and one with pointer-events: none (hit tests
// go through it). An element that holds a card (a sticky strip of featured cards, a
// bottom banner of promoted ones) is no bar: left out of the root, its cards would never
// be in view. In a frame the observers' root is the top viewport, not the frame's:
// nothing is measured. The viewport's size is the scrolling element's client size: in
// quirks mode the root element's is the page's, the body's is the viewport's. On a phone,
// a page wider than the screen makes the layout viewport, the observers' root, larger
// than that (a 1,200 px element on a 390x844 screen at scale 1: 1200x2597 px, of which
// the user sees 390x844); the observers' entries tell its size (observer.js), and the
// root is cut to the visual viewport in it (innerWidth would not tell it: it is the
// visual viewport's width in some browsers).

/**
 * [top, right, bottom, left]: how many px of the viewport each edge hides: under a bar
 * (top and bottom) or outside the visual viewport; sets state._covered (1: something
 * covers the whole viewport, else 0). state: the cards' state (cards.js):
 * the watched cards and the selector (at the first measurement, before the first scan,
 * no card is watched yet).
 */
export function measureBars(env, state) {
  const cards = state._items;
  const holdsCard = (el) => el.querySelector(state._o.selector || ':not(*)') ||
    [...el.querySelectorAll('*')].some((c) => cards.has(c));
  const { window: win, document: doc } = env;
  const { clientWidth: width, clientHeight: height } = doc.scrollingElement || doc.documentElement;
  const bars = [0, 0, 0, 0];
  if (win.top !== win) return bars; // a frame (or no window at all)
  state._covered = 0;
  for (let edge = 0; edge < 3; edge += 2) {
    // Past each bar found the row next to it is hit again: a bar against it (a filter
    // bar stuck under the header) covers more of the edge.
    for (let y = edge && height - 1, el = doc.elementFromPoint(width / 2, y); el && !cards.has(el);) {
      const box = el.getBoundingClientRect();
      const cover = edge ? height - box.top : box.bottom;
      const fixed = /fixed|sticky/.test(win.getComputedStyle(el).position);
      // Over the whole viewport, or all of it below the bars found: from the row hit
      // down to the bottom and at least half as wide, or a modal dialog hit outside
      // its box (on its backdrop).
      if (fixed && !edge && (box.width >= width / 2 && box.top <= y + 1 && box.bottom >= height ||
          el.tagName === 'DIALOG' && (box.top > 1 || box.left > width / 2 || box.right < width / 2)) && !holdsCard(el)) state._covered = 1;
      if (fixed && box.width >= width / 2 && box.height <= height / 2 &&
          (edge ? box.bottom >= y : box.top <= y + 1) && cover > bars[edge] && bars[edge] < height / 2 && !holdsCard(el)) {
        bars[edge] = cover;
        el = doc.elementFromPoint(width / 2, y = edge ? box.top - 1 : box.bottom);
      } else el = el.parentElement;
    }
  }
  // The layout viewport's size, which the observers' root is: the client size, or the
  // larger size an entry's root showed (observer.js).
  const [w, h] = state._layoutUsed = [width, height].map((px, i) => Math.max(px, state._layout?.[i] || 0));
  const v = win.visualViewport;
  return v ? [v.offsetTop, w - v.offsetLeft - v.width, h - v.offsetTop - v.height, v.offsetLeft].map((px, side) => Math.max(px, bars[side])) : bars;
}
