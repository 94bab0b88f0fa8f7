// options.js: the tracker's options with their defaults (documented in index.d.ts), and
// the browser globals the glue uses, resolved when a tracker starts (never at import)
// so tests and unusual hosts can inject their own through options.env. The numbers of
// the viewable rule, the batch policy, the capacities and `compress` go to the core's
// configuration record, which owns their defaults (src/config.c) and checks them: a bad
// value makes the tracker a no-op that reports IMP_ERR_CONFIG (naming the option)
// through onError. configValues() maps the options to the record's fields; core.js
// refuses the same way a number the record would not hold exactly. optionsProblem()
// checks the options the core never sees that would make the tracker useless or do
// something else than asked: the endpoint, consent, gpc and debug. resolveOptions()
// refuses an option of another type than its default (a number's is the core's to
// refuse). An option given as undefined takes its default, like one left out.

import { CONSENT } from '../core/outbox.js';

// The defaults, whose types are the types the options must have when given (selector
// may also be null: discovery off): one of another type is refused rather than read as
// something else or ignored. null is "none" for the object options (the groups are
// merged one level deep); onError is read from the options as given (share.js), so its
// default here only gives its type; compress's is also the core's (src/config.c).
const DEFAULTS = {
  selector: '[data-gig-id]',
  idAttribute: 'data-gig-id',
  positionAttribute: 'data-position',
  listAttribute: 'data-list-id',
  consent: 'granted',
  gpc: 'memory-only',
  storageKey: 'impression-tracker:',
  occlusion: false,
  compress: true,
  onError: Object,
  viewable: null,
  batch: null,
  capacity: null,
  debug: null,
  env: null,
};

// The values of the options that name a choice.
const CHOICES = { consent: CONSENT, gpc: ['memory-only', 'deny', 'ignore'] };

// The option behind each field of the core's configuration record (abi.js CONFIG_OFFSETS);
// the last three fields have none: occlusion is set by tracker.js (1 where a v2 observer
// looks, CONFIG_OCCLUSION), the DEFLATE window and the echo time keep the core's defaults.
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
  return fn(key ? o[group] : o, key || group, i, path);
});

/**
 * Options merged over their defaults (nested objects merged one level deep), those of
 * RULE_DEFAULTS that are absent given the core's defaults. Throws for an option of
 * another type than its default's.
 */
export function resolveOptions(options) {
  const o = { ...options };
  for (const key in DEFAULTS) {
    const value = o[key];
    const type = typeof DEFAULTS[key];
    if (value === undefined) o[key] = DEFAULTS[key];
    else if (typeof value !== type && (value !== null || key !== 'selector')) {
      throw new Error(`impression-tracker: option ${key} is not of type ${type}`);
    }
  }
  for (const group of ['viewable', 'batch', 'capacity']) o[group] = { ...options[group] };
  eachConfigOption(o, (holder, key, i, path) => {
    if (holder[key] === undefined) holder[key] = RULE_DEFAULTS[path];
  });
  return o;
}

/**
 * The configuration record's fields from resolved options (undefined: the core's
 * default); compress (a boolean) as 0 or 1. The core refuses a value its field does not
 * hold as given: a number option given a string or a boolean.
 */
export const configValues = (o) => eachConfigOption(o, (holder, key) => (key === 'compress' ? +holder[key] : holder[key]));

/** Sets the options to the numbers the core started with (its defaults filled in). */
export function applyConfig(o, config) {
  eachConfigOption(o, (holder, key, i) => {
    holder[key] = config[i];
  });
  o.compress = o.compress === 1;
}

/**
 * What makes resolved options unusable among those the core never sees, as "option
 * <name> <what is wrong>" ('' when nothing): a choice outside its values, a debug option not
 * made by trackerDebug(), an endpoint missing or not http(s) once resolved against the page.
 */
export function optionsProblem(o, doc) {
  // Own entries only: a page may have added enumerable members to Object.prototype.
  for (const [name, values] of Object.entries(CHOICES)) {
    if (!values.includes(o[name])) return `option ${name} is not one of ${values}`;
  }
  if (o.debug && !o.debug._attach) return 'option debug is not made by trackerDebug()';
  try {
    if (/^https?:$/.test(o.endpoint.trim() && new URL(o.endpoint, doc.baseURI).protocol)) return '';
  } catch {
    // not a string (missing), or no URL
  }
  return `option endpoint is ${o.endpoint === undefined ? 'missing' : 'not an http(s) URL'}`;
}

/**
 * The browser APIs the glue touches, delivery's included; any can be replaced through
 * options.env (a key given as null or undefined: absent). localStorage is read only
 * when delivery asks for it (reading it may throw).
 */
export function resolveEnv(injected) {
  const g = globalThis;
  const env = {
    window: g, now: () => g.performance.now(), getRandomValues: (a) => g.crypto.getRandomValues(a), wallNow: Date.now,
    get localStorage() {
      return g.localStorage;
    },
  };
  for (const name of ['document', 'navigator', 'location', 'IntersectionObserver', 'MutationObserver', 'ResizeObserver', 'Blob', 'AbortController']) {
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
