// options.js: the tracker's options with their defaults (documented in index.d.ts), and
// the browser globals the glue uses, resolved when a tracker starts (never at import)
// so tests and unusual hosts can inject their own through options.env. The numbers of
// the viewable rule, the batch policy, the capacities and `compress` go to the core's
// configuration record, which owns their defaults (src/config.c) and checks them: a bad
// value makes the tracker a no-op that reports IMP_ERR_CONFIG (naming the option)
// through onError. configValues() maps the options to the record's fields; core.js
// refuses the same way a number the record would not hold exactly. endpointOk() checks
// the one option the core never sees that can make the tracker useless: the endpoint.

// endpoint (''), occlusion (false) and trace (false) default to absent, which reads the same.
const DEFAULTS = {
  selector: '[data-gig-id]',
  idAttribute: 'data-gig-id',
  positionAttribute: 'data-position',
  listAttribute: 'data-list-id',
  consent: 'granted',
  gpc: 'memory-only',
};

// The option behind each field of the core's configuration record (abi.js CONFIG_OFFSETS);
// the last field (the DEFLATE window) has no option and keeps the core's default.
export const CONFIG_OPTIONS = [
  'capacity.items', 'capacity.queue', 'capacity.queueBytes', 'batch.maxEvents', 'batch.maxBytes',
  'batch.maxAgeMs', 'viewable.ratio', 'viewable.ms', 'viewable.largeArea', 'viewable.largeRatio',
  'impressionRatio', 'compress',
];

// The numbers the first observer's thresholds need before the core is loaded (the
// entering and the viewable ratio): the core's defaults (src/config.c), mirrored;
// tests/unit/abi.test.js checks them against the core.
export const RULE_DEFAULTS = { impressionRatio: 0, 'viewable.ratio': 0.5 };

// Calls fn(holder, key, i, path) for each option of CONFIG_OPTIONS (path, its index i):
// the object that holds it in resolved options, and its key there.
const eachConfigOption = (o, fn) => CONFIG_OPTIONS.map((path, i) => {
  const [group, key] = path.split('.');
  return key ? fn(o[group], key, i, path) : fn(o, group, i, path);
});

/**
 * Options merged over their defaults (nested objects merged one level deep), those of
 * RULE_DEFAULTS that are absent given the core's defaults.
 */
export function resolveOptions(options = {}) {
  const o = { ...DEFAULTS, ...options };
  for (const group of ['viewable', 'batch', 'capacity']) o[group] = { ...options[group] };
  eachConfigOption(o, (holder, key, i, path) => {
    if (holder[key] === undefined) holder[key] = RULE_DEFAULTS[path];
  });
  return o;
}

/** The configuration record's fields from resolved options (undefined: the core's default). */
export const configValues = (o) => eachConfigOption(o, (holder, key) => (typeof holder[key] === 'boolean' ? +holder[key] : holder[key]));

/** Sets the options to the numbers the core started with (its defaults filled in). */
export function applyConfig(o, config) {
  eachConfigOption(o, (holder, key, i) => {
    holder[key] = config[i];
  });
  o.compress = o.compress === 1;
}

/** An endpoint fetch can POST to: absent (nothing is sent), or http(s) once resolved against the page. */
export function endpointOk(endpoint, doc) {
  try {
    return endpoint === undefined || /^https?:$/.test(endpoint.trim() && new URL(endpoint, doc.baseURI).protocol);
  } catch {
    return false; // not a string, or no URL
  }
}

/**
 * The browser APIs the glue touches, delivery's included; any can be replaced through
 * options.env (a key given as null or undefined: absent). localStorage is read only
 * when delivery asks for it (reading it may throw).
 */
export function resolveEnv(injected = {}) {
  const g = globalThis;
  const env = {
    window: g, now: () => g.performance.now(), getRandomValues: (a) => g.crypto.getRandomValues(a), wallNow: Date.now,
    get localStorage() {
      return g.localStorage;
    },
  };
  for (const name of ['document', 'navigator', 'location', 'IntersectionObserver', 'MutationObserver', 'Blob', 'AbortController']) {
    env[name] = g[name];
  }
  // Wrapped, because calling these as methods of another object throws
  // "Illegal invocation" in browsers.
  for (const name of ['setTimeout', 'clearTimeout', 'requestIdleCallback', 'cancelIdleCallback', 'fetch', 'fetchLater']) {
    env[name] = g[name] && ((...args) => g[name](...args));
  }
  for (const name in injected) {
    delete env[name]; // the localStorage getter
    env[name] = injected[name];
  }
  const nav = env.navigator;
  if (env.sendBeacon === undefined) env.sendBeacon = nav?.sendBeacon && ((...args) => nav.sendBeacon(...args));
  return env;
}
