// options.js: the tracker's options with their defaults (documented in index.d.ts), and
// the browser globals the glue uses, resolved when a tracker starts (never at import)
// so tests and unusual hosts can inject their own through options.env. The numbers of
// the viewable rule, the batch policy, the capacities and `compress` go to the core's
// configuration record, which owns their defaults (src/config.c) and checks them: a bad
// value makes the tracker a no-op that reports IMP_ERR_CONFIG (naming the option)
// through onError. configValues() maps the options to the record's fields, and
// badOption() refuses first what the record cannot hold exactly (a uint32 field takes
// only whole numbers 0..2^32-1, a double field only finite numbers: anything else would
// reach the core as another number) and an endpoint that is not http(s).

import { CONFIG_OFFSETS } from './abi.js';

// endpoint (''), occlusion (false) and trace (false) default to absent, which reads the same.
const DEFAULTS = {
  selector: '[data-gig-id]',
  idAttribute: 'data-gig-id',
  positionAttribute: 'data-position',
  listAttribute: 'data-list-id',
  consent: 'granted',
  gpc: 'memory-only',
};

/** Options merged over their defaults (nested objects merged one level deep). */
export function resolveOptions(options = {}) {
  const o = { ...DEFAULTS, ...options };
  o.viewable = { ...options.viewable };
  o.batch = { ...options.batch };
  o.capacity = { ...options.capacity };
  return o;
}

// The option behind each field of the core's configuration record (abi.js CONFIG_OFFSETS);
// the last field (the DEFLATE window) has no option and keeps the core's default.
export const CONFIG_OPTIONS = [
  'capacity.items', 'capacity.queue', 'capacity.queueBytes', 'batch.maxEvents', 'batch.maxBytes',
  'batch.maxAgeMs', 'viewable.ratio', 'viewable.ms', 'viewable.largeArea', 'viewable.largeRatio',
  'impressionRatio', 'compress',
];

/** The configuration record's fields from resolved options (undefined: the core's default). */
export function configValues(o) {
  return CONFIG_OPTIONS.map((path) => {
    const [a, b] = path.split('.');
    const v = b ? o[a][b] : o[a];
    return typeof v === 'boolean' ? +v : v;
  });
}

/**
 * The first option the tracker cannot take as given ('' if none): a number the record
 * would truncate or coerce, or an endpoint that is not http(s) once resolved against the
 * page (an absent endpoint is allowed: nothing is sent).
 */
export function badOption(o, doc) {
  const values = configValues(o);
  const bad = values.findIndex((v, i) => v !== undefined && !(Number.isFinite(v) && (CONFIG_OFFSETS[i] > 31 || v >>> 0 === v)));
  if (bad >= 0) return CONFIG_OPTIONS[bad];
  try {
    if (o.endpoint === undefined || /^https?:$/.test(o.endpoint.trim() && new URL(o.endpoint, doc.baseURI).protocol)) return '';
  } catch {} // not a string, or no URL
  return 'endpoint';
}

/** Sets the options to the numbers the core started with (its defaults filled in). */
export function applyConfig(o, config) {
  CONFIG_OPTIONS.forEach((path, i) => {
    const [a, b] = path.split('.');
    if (b) o[a][b] = config[i];
    else o[a] = config[i];
  });
  o.compress = o.compress === 1;
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
