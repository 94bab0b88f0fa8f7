// options.js: the tracker's options with their defaults (documented in index.d.ts), and
// the browser globals the glue uses, resolved when a tracker starts (never at import)
// so tests and unusual hosts can inject their own through options.env. The glue does
// not validate the numbers of the viewable rule, the batch policy or the capacities:
// the core checks them in imp_start() and a bad value makes the tracker a no-op that
// reports IMP_ERR_CONFIG through onError.

// endpoint (''), occlusion (false) and trace (false) default to absent, which reads the same.
const DEFAULTS = {
  selector: '[data-gig-id]',
  idAttribute: 'data-gig-id',
  positionAttribute: 'data-position',
  listAttribute: 'data-list-id',
  impressionRatio: 0,
  consent: 'granted',
  gpc: 'memory-only',
};

/** Options merged over their defaults (nested objects merged one level deep). */
export function resolveOptions(options = {}) {
  const o = { ...DEFAULTS, ...options };
  o.viewable = { ratio: 0.5, ms: 1000, largeArea: 242500, largeRatio: 0.3, ...options.viewable };
  o.batch = { maxEvents: 50, maxBytes: 16384, maxAgeMs: 5000, ...options.batch };
  o.capacity = { items: 8192, queue: 8192, queueBytes: 1048576, ...options.capacity };
  return o;
}

/** The browser APIs the glue touches; any can be replaced through options.env. */
export function resolveEnv(injected = {}) {
  const g = globalThis;
  // Wrapped, because calling these as methods of another object throws
  // "Illegal invocation" in browsers.
  return {
    window: g,
    document: g.document,
    navigator: g.navigator,
    location: g.location,
    IntersectionObserver: g.IntersectionObserver,
    MutationObserver: g.MutationObserver,
    now: () => g.performance.now(),
    setTimeout: (fn, ms) => g.setTimeout(fn, ms),
    clearTimeout: (id) => g.clearTimeout(id),
    requestIdleCallback: g.requestIdleCallback && ((fn, o) => g.requestIdleCallback(fn, o)),
    cancelIdleCallback: (id) => g.cancelIdleCallback(id),
    getRandomValues: (a) => g.crypto.getRandomValues(a),
    fetch: (...a) => g.fetch(...a),
    ...injected,
  };
}
