// script-tag.js: the source of the script-tag build (dist/impression-tracker.js, one
// self-contained file with the core inlined, built by `make glue` with esbuild as an
// IIFE). Unlike the module entries it starts itself: it reads its options from data-*
// attributes of its own <script> tag and puts the tracker's promise on
// window.impressionTracker, the one global of this build, so a consent banner can
// call `impressionTracker.then((t) => t.setConsent(true))`. With the async tag that
// call can run before the script: the one-line stub (README) defines
// window.impressionTracker first as a promise with a `resolve` method, and this
// script resolves it with the tracker, so calls made before the load wait for it.
//
//   <script>window.impressionTracker||(function(w,r){w.impressionTracker=new Promise(function(y){r=y});w.impressionTracker.resolve=r})(window)</script>
//   <script src="impression-tracker.js" async data-endpoint="/collect"
//           data-consent="pending"></script>
//
// Loaded with type="module" (no document.currentScript), it reads the first tag that has
// data-endpoint. Imported outside a browser (server-side rendering, Node) it does nothing.
// Attributes: data-endpoint, data-selector, data-id-attribute, data-position-attribute,
// data-list-attribute, data-consent, data-gpc, data-occlusion, data-trace,
// data-impression-ratio, data-view-ratio, data-view-ms, data-batch-max-events,
// data-batch-max-bytes, data-batch-max-age-ms, data-compress ("false" sends JSON text).
// data-trace records the trace (js/debug.js), read with `impressionTracker.then((t) =>
// t.trace())`: only this build's tracker has trace(). Errors are logged with console.warn.

import { trackerDebug } from './debug.js';
import { createTracker } from './embedded.js';

// An error as one line of the console: "impression-tracker: <its message>" (most
// messages start with that name already), without the stack of a minified build.
const warn = (error) => console.warn(`impression-tracker: ${String(error?.message || error).replace(/^impression-tracker: /, '')}`);

/** Options from a script element's data-* attributes (an absent one: undefined, the default). */
export function optionsFromDataset(data) {
  // A number (an empty attribute stays '', which the core refuses, naming the option).
  const number = (v) => v && +v;
  // A boolean: present ("" or "true") or "false"; another value stays a string, which
  // the tracker refuses with a warning naming the option instead of reading it as true.
  const flag = (v) => (v === 'false' ? false : v === '' || v === 'true' || v);
  return {
    endpoint: data.endpoint,
    selector: data.selector,
    idAttribute: data.idAttribute,
    positionAttribute: data.positionAttribute,
    listAttribute: data.listAttribute,
    consent: data.consent,
    gpc: data.gpc,
    occlusion: flag(data.occlusion),
    debug: flag(data.trace) ? trackerDebug({ trace: true }) : undefined,
    compress: flag(data.compress),
    impressionRatio: number(data.impressionRatio),
    viewable: { ratio: number(data.viewRatio), ms: number(data.viewMs) },
    batch: { maxEvents: number(data.batchMaxEvents), maxBytes: number(data.batchMaxBytes), maxAgeMs: number(data.batchMaxAgeMs) },
    onError: warn,
  };
}

/** Starts the tracker from the current script tag (called once by the build's IIFE). */
export function startFromScriptTag() {
  if (typeof document === 'undefined') return; // not a browser
  try {
    // A tag with type="module" is no currentScript: then the tag with data-endpoint.
    const script = document.currentScript || document.querySelector('script[data-endpoint]');
    const waiting = window.impressionTracker;
    if (waiting && typeof waiting.resolve !== 'function') return; // already started
    const options = optionsFromDataset(script ? script.dataset : {});
    // With data-trace the tracker given also has trace(), the debug option's.
    const started = createTracker(options).then((tracker) => (options.debug ? { ...tracker, trace: options.debug.trace } : tracker));
    if (waiting) {
      waiting.resolve(started);
      delete waiting.resolve;
    } else {
      window.impressionTracker = started;
    }
  } catch (error) {
    warn(error);
  }
}
