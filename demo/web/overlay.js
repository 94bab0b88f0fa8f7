// The "tracker's view" overlay: a small panel on each card that shows, live, what the
// tracker decided about it: impression counted, the viewable timer filling up, visible
// time, clicked.
//
// Two sources, kept apart on purpose:
// - Every count (impression, viewable, visible time of finished spans, clicks) comes
//   from the tracker itself, through the onEvent hook of its debug option. The overlay never decides
//   one of them.
// - The core reports a viewable span only when it ends (a "vis" event) or when it
//   reaches 1 s (a "view" event); it has no "span started" event. So that a newcomer
//   can watch the timer fill, the overlay estimates the running span itself, from the
//   card's box against the viewport and the elements covering it (sticky header, pop-up)
//   read once per animation frame, no IntersectionObserver. The bar stops just short of
//   full until the tracker's own "view" event arrives; only that turns it green.
// It runs only while the overlay is switched on.

/**
 * @param {{root: HTMLElement, idAttribute?: string, viewRatio?: number, viewMs?: number,
 *          occluders?: () => Element[], now?: () => number}} options
 */
export function createOverlay({
  root, idAttribute = 'data-gig-id', viewRatio = 0.5, viewMs = 1000, occluders = () => [], now = () => performance.now(),
}) {
  /** The overlay's record; `items` holds, per item id, what the tracker reported and the estimated running span. */
  const overlay = { root, idAttribute, viewRatio, viewMs, occluders, now, items: new Map(), enabled: false, frame: 0 };
  return {
    /** One event from the tracker's debug hook, in the payload's shape. */
    record: (ev) => record(overlay, ev),
    /** A new page view (new search): the tracker starts afresh, so does the overlay. */
    reset() {
      overlay.items = new Map();
    },
    setEnabled(on) {
      overlay.enabled = Boolean(on);
      root.classList.toggle('show-trk', overlay.enabled);
      if (overlay.enabled && !overlay.frame) overlay.frame = requestAnimationFrame(() => tick(overlay));
    },
    get enabled() {
      return overlay.enabled;
    },
    /** What the tracker reported, per item id (tests and the console read it). */
    snapshot() {
      const out = {};
      for (const [id, s] of overlay.items) out[id] = { imp: s.imp, view: s.view, visibleMs: s.visibleMs, clicks: s.clicks };
      return out;
    },
  };
}

function stateOf(overlay, id) {
  let state = overlay.items.get(id);
  if (!state) {
    state = { imp: false, view: false, visibleMs: 0, spans: 0, clicks: 0, spanStart: null };
    overlay.items.set(id, state);
  }
  return state;
}

function record(overlay, ev) {
  if (!ev || typeof ev.id !== 'string') return;
  const state = stateOf(overlay, ev.id);
  switch (ev.e) {
    case 'imp': state.imp = true; break;
    case 'view': state.view = true; break;
    case 'vis': state.visibleMs += ev.ms ?? 0; state.spans = ev.n ?? state.spans + 1; break;
    case 'click': state.imp = true; state.clicks += 1; break;
    default: return;
  }
  if (!overlay.enabled) return;
  const cards = overlay.root.querySelectorAll(`[${overlay.idAttribute}="${CSS.escape(ev.id)}"]`);
  for (const card of cards) paint(overlay, card, state, overlay.now());
}

function panelFor(card) {
  let panel = card.querySelector(':scope > .trk');
  if (!panel) {
    panel = document.createElement('div');
    panel.className = 'trk';
    panel.setAttribute('aria-hidden', 'true');
    panel.innerHTML = '<span class="trk-imp">impression</span><span class="trk-click">clicked</span>'
      + '<span class="trk-timer"><span class="trk-fill"></span><span class="trk-label"></span></span>'
      + '<span class="trk-time"></span>';
    card.append(panel);
  }
  return panel;
}

function paint({ viewMs }, card, state, at) {
  const panel = panelFor(card);
  const running = state?.spanStart != null ? Math.max(0, at - state.spanStart) : 0;
  const progress = state?.view ? 1 : Math.min(0.96, running / viewMs);
  // Finished spans as the tracker counted them, plus the one running now (estimated).
  const visible = (state?.visibleMs ?? 0) + running;
  panel.classList.toggle('is-imp', Boolean(state?.imp));
  panel.classList.toggle('is-view', Boolean(state?.view));
  panel.classList.toggle('is-running', running > 0);
  panel.classList.toggle('is-click', Boolean(state?.clicks));
  panel.querySelector('.trk-fill').style.transform = `scaleX(${progress})`;
  let label = 'not viewable yet';
  if (state?.view) label = 'viewable ✓';
  else if (running >= viewMs) label = 'viewable… (waiting for the tracker)';
  else if (running > 0) label = `viewable in ${((viewMs - running) / 1000).toFixed(1)} s`;
  panel.querySelector('.trk-label').textContent = label;
  panel.querySelector('.trk-time').textContent = `${(visible / 1000).toFixed(1)} s seen`;
  card.classList.toggle('trk-seen', Boolean(state?.view));
}

/**
 * Share of the card inside the viewport; 0 when anything covers part of it, which is
 * how IntersectionObserver v2 (the tracker's occlusion option) reports a covered card.
 */
function estimateRatio(card, covers, width, height) {
  const box = card.getBoundingClientRect();
  const area = box.width * box.height;
  if (area <= 0) return 0;
  const inView = overlap(box, { left: 0, top: 0, right: width, bottom: height });
  if (inView <= 0) return 0;
  if (covers.some((cover) => overlap(box, cover) > 0)) return 0;
  return inView / area;
}

/** One animation frame while enabled: each card's running span estimated and painted. */
function tick(overlay) {
  overlay.frame = 0;
  if (!overlay.enabled) return;
  const at = overlay.now();
  const pageVisible = document.visibilityState === 'visible';
  const covers = overlay.occluders().filter((el) => el && !el.hidden).map((el) => el.getBoundingClientRect());
  const { innerWidth: width, innerHeight: height } = window;
  for (const card of overlay.root.querySelectorAll(`[${overlay.idAttribute}]`)) {
    const state = stateOf(overlay, card.getAttribute(overlay.idAttribute));
    const viewable = pageVisible && estimateRatio(card, covers, width, height) >= overlay.viewRatio;
    if (viewable && state.spanStart === null) state.spanStart = at;
    if (!viewable) state.spanStart = null;
    paint(overlay, card, state, at);
  }
  overlay.frame = requestAnimationFrame(() => tick(overlay));
}

function overlap(a, b) {
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return w > 0 && h > 0 ? w * h : 0;
}
