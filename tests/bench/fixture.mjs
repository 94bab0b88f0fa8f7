// fixture.mjs: the marketplace grid the in-page benchmark browses. generateGridPage(n)
// returns a static page of n listing cards (5 columns of 232 x 300 px cards, 16 px
// gaps, plain HTML and CSS, no images, no scripts of its own) plus the bench probe: a
// small inline script that is the same for every tracker. The probe records long tasks
// (PerformanceObserver "longtask"), wraps IntersectionObserver to note when a tracker
// first handled an observation, loads a tracker bundle on request, and drives the
// scripted scrolling while keeping a timeline of (time, scrollY) from which the ground
// truth is computed afterwards. Each card's content sits in one .body element of exactly
// the card's box (the border is an outline), so a tracker that keeps one state per
// element can watch the card and its body under two rules (Snowplow, see its entry).

export const VIEWPORT = { width: 1280, height: 800 };
export const SELECTOR = '.card';
export const LIST_ID = 'q1';

const CATEGORIES = ['Logo design', 'WordPress', 'Voice over', 'Video editing', 'Translation', 'SEO audit', 'Illustration', 'Data entry'];

function card(i) {
  const title = `${CATEGORIES[i % CATEGORIES.length]} #${i + 1}`;
  return `<a class="card" href="/gig/${i + 1}" data-gig-id="gig-${i + 1}" data-position="${i + 1}">`
    + `<div class="body"><div class="thumb" style="--h:${(i * 37) % 360}"></div><div class="title">${title}</div>`
    + `<div class="meta">seller${i % 997} · ★ ${(4 + (i % 10) / 10).toFixed(1)}</div><div class="price">From $${5 + (i % 20) * 5}</div></div></a>`;
}

// The probe: identical for every tracker, including "none".
const PROBE = `
(() => {
  const b = window.__bench = { longtasks: [], t0: 0, ready: 0, firstObservation: 0, timeline: [], errors: [] };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { b.errors.push(String(e)); }
  const NativeIO = window.IntersectionObserver;
  window.IntersectionObserver = class extends NativeIO {
    constructor(callback, options) {
      super((entries, observer) => {
        const result = callback(entries, observer);
        if (b.t0 && !b.firstObservation) b.firstObservation = performance.now();
        return result;
      }, options);
    }
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const mark = () => b.timeline.push([performance.now(), window.scrollY]);
  // Runs in a task of the page's own (a timer), not inside the DevTools command that
  // asks for it, so that its script time is counted as the page's script time.
  b.startTracker = (name, config) => new Promise((resolve) => setTimeout(async () => {
    b.t0 = performance.now();
    mark();
    if (name === 'none') { b.ready = b.t0; resolve(); return; }
    try {
      const mod = await import('/bundles/' + name + '.js');
      b.handle = await mod.start({ ...config, onError: (e) => b.errors.push(String(e && e.message || e)) });
    } catch (e) { b.errors.push(String(e && e.message || e)); }
    b.ready = performance.now();
    resolve();
  }, 0));
  b.pause = async (ms) => { await sleep(ms); mark(); };
  b.slow = async (steps, stepPx, pauseMs) => {
    await sleep(0);
    for (let i = 0; i < steps; i++) {
      window.scrollTo(0, window.scrollY + stepPx);
      mark();
      await sleep(pauseMs);
    }
    mark();
  };
  b.fling = (frames, stepPx) => new Promise((resolve) => {
    let n = 0;
    const frame = () => {
      if (n++ >= frames) { mark(); resolve(); return; }
      window.scrollTo(0, window.scrollY + stepPx);
      mark();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  b.geometry = () => {
    const y = window.scrollY;
    const cards = [...document.querySelectorAll('${SELECTOR}')].map((el) => {
      const r = el.getBoundingClientRect();
      return [el.dataset.gigId, r.left, r.top + y, r.width, r.height];
    });
    return { cards, width: document.documentElement.clientWidth, height: window.innerHeight };
  };
  b.stats = () => { try { return b.handle && b.handle.stats ? b.handle.stats() : null; } catch (e) { return String(e); } };
})();
`;

export function generateGridPage(n) {
  const cards = [];
  for (let i = 0; i < n; i++) cards.push(card(i));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Search results (${n} gigs)</title>
<meta name="viewport" content="width=device-width">
<style>
html{scroll-behavior:auto}body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#222}
header{height:80px;display:flex;align-items:center;padding:0 24px;background:#f4f4f4;border-bottom:1px solid #ddd}
.grid{display:grid;grid-template-columns:repeat(5,232px);grid-auto-rows:300px;gap:16px;padding:16px;justify-content:center}
.card{display:block;box-sizing:border-box;outline:1px solid #ddd;outline-offset:-1px;border-radius:8px;overflow:hidden;color:inherit;text-decoration:none;background:#fff}
.card>.body{height:100%}.thumb{height:160px;background:hsl(var(--h),55%,82%)}.title{padding:8px 12px 0;font-weight:600}
.meta{padding:4px 12px;color:#666}.price{padding:4px 12px;font-weight:700}
</style>
<script>${PROBE}</script></head>
<body><header><strong>${n.toLocaleString('en-US')} services available</strong></header>
<main class="grid" data-list-id="${LIST_ID}">
${cards.join('\n')}
</main></body></html>`;
}
