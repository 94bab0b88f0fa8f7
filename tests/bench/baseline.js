// baseline.js: the plain-JS baseline impression tracker of the benchmarks.
// It is what a competent team writes by hand, and the bar the WASM core is measured
// against: one IntersectionObserver at thresholds 0 and 0.5, an impression the first
// time a card has any pixel in view while the page is visible, a 1 s timer per card
// that is at least half in view (cancelled when it drops below half or the page is
// hidden, restarted when the page is visible again) for the viewable impression, each
// once per page view. Events are batched: sent with navigator.sendBeacon (a plain
// string body, no CORS preflight) when 50 are queued and on page hide. A
// MutationObserver picks up cards added later. It throws nothing into the page.

/**
 * @param {{endpoint: string, selector?: string, batchSize?: number, viewRatio?: number,
 *   viewMs?: number, list?: string}} options
 * @returns {{flush: () => void, stop: () => void}}
 */
export function startBaselineTracker({
  endpoint, selector = '[data-gig-id]', batchSize = 50, viewRatio = 0.5, viewMs = 1000, list = '',
}) {
  const pageStart = performance.now();
  const pv = typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : String(Math.random()).slice(2);
  const path = location.pathname;
  const queue = [];
  const impressed = new Set();
  const viewed = new Set();
  const halfInView = new Set();
  const timers = new Map();
  let seq = 0;

  const send = () => {
    if (!queue.length) return;
    const body = JSON.stringify({ pv, path, ev: queue.splice(0) });
    try {
      if (!navigator.sendBeacon(endpoint, body)) {
        fetch(endpoint, { method: 'POST', body, keepalive: true, mode: 'no-cors' }).catch(() => {});
      }
    } catch { /* the page must never see our errors */ }
  };
  const record = (type, card) => {
    const event = { e: type, s: ++seq, t: Math.round(performance.now() - pageStart), id: card.dataset.gigId };
    const position = Number(card.dataset.position);
    if (position > 0) event.pos = position;
    if (list) event.list = list;
    queue.push(event);
    if (queue.length >= batchSize) send();
  };
  const startTimer = (card) => {
    if (timers.has(card) || viewed.has(card.dataset.gigId)) return;
    timers.set(card, setTimeout(() => {
      timers.delete(card);
      if (viewed.has(card.dataset.gigId)) return;
      viewed.add(card.dataset.gigId);
      record('view', card);
    }, viewMs));
  };
  const stopTimer = (card) => {
    clearTimeout(timers.get(card));
    timers.delete(card);
  };

  const observer = new IntersectionObserver((entries) => {
    const visible = document.visibilityState === 'visible';
    for (const entry of entries) {
      const card = entry.target;
      const id = card.dataset.gigId;
      if (!id) continue;
      if (entry.intersectionRatio > 0 && visible && !impressed.has(id)) {
        impressed.add(id);
        record('imp', card);
      }
      if (entry.intersectionRatio >= viewRatio) {
        halfInView.add(card);
        if (visible) startTimer(card);
      } else {
        halfInView.delete(card);
        stopTimer(card);
      }
    }
  }, { threshold: [0, viewRatio] });

  const observeTree = (root) => {
    if (root.matches?.(selector)) observer.observe(root);
    root.querySelectorAll?.(selector).forEach((card) => observer.observe(card));
  };
  const mutations = new MutationObserver((records) => {
    for (const r of records) r.addedNodes.forEach((node) => node.nodeType === 1 && observeTree(node));
  });

  const onVisibility = () => {
    if (document.visibilityState === 'visible') {
      halfInView.forEach(startTimer);
    } else {
      timers.forEach((_, card) => stopTimer(card));
      send();
    }
  };
  const onPageHide = () => send();

  observeTree(document);
  mutations.observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener('visibilitychange', onVisibility);
  addEventListener('pagehide', onPageHide);

  return {
    flush: send,
    stop() {
      observer.disconnect();
      mutations.disconnect();
      timers.forEach((_, card) => stopTimer(card));
      document.removeEventListener('visibilitychange', onVisibility);
      removeEventListener('pagehide', onPageHide);
      send();
    },
  };
}
