// share.js: one tracker per document. A second createTracker() on a document whose
// tracker is still live (started or starting, not stopped) does not start another one,
// which would count every card twice: it gets a handle on the same tracker, and the
// first call's options stay in force (a call whose options differ is told so through its
// onError, or console.warn). Each handle's stop() gives up its share; the
// tracker stops when the last share is given up. This is what makes a framework's
// "create, clean up, create again" (React's StrictMode) count once. A tracker that could
// not start, or stopped itself after a failure, is not shared: the next call starts anew.
// Another copy of the package on the page (two bundles that each include it, or the
// script tag and a module) has a map of its own: a live tracker marks its document, and
// the other copy's createTracker() gives a no-op tracker and says so.

import { noopTracker } from './stats.js';
import { createReporter } from './warn.js';

const live = new WeakMap(); // document -> {_started: Promise<Tracker>, _shares: number, _options: string, _tracker?: Tracker}
const MARK = Symbol.for('impression-tracker'); // the document's mark: a copy's isLive
const isLive = (doc) => !!live.get(doc) && live.get(doc)._tracker?.stats().active !== false;

// The options as compared between calls: their data, not their functions, env, wasm or debug
// (a StrictMode remount passes new closures and the same data).
function optionsKey(options) {
  try {
    return JSON.stringify({ ...options, env: 0, wasm: 0, debug: 0 });
  } catch {
    return '';
  }
}

/**
 * @param {object | undefined} options the call's options (env.document: the document the tracker would watch)
 * @param {(report: Function) => Promise<object>} start starts a tracker with the call's
 *   reporter (warn.js: onError, or console.warn), also the one share.js reports to (never rejects)
 * @returns {Promise<object>} a handle with the Tracker API
 */
export function shareTracker(options, start) {
  const report = createReporter(options?.onError, options?.env?.console);
  const doc = options?.env?.document ?? globalThis.document;
  if (!doc || typeof doc !== 'object') return start(report); // no DOM: the tracker says why
  let shared = live.get(doc);
  const key = optionsKey(options);
  if (!isLive(doc)) {
    const other = doc[MARK];
    if (typeof other === 'function' && other !== isLive && other(doc)) {
      report._loud(new Error('impression-tracker: another copy of the package tracks this page'));
      return Promise.resolve(noopTracker());
    }
    Reflect.set(doc, MARK, isLive);
    const fresh = { _shares: 0, _options: key };
    fresh._started = start(report).then((tracker) => (fresh._tracker = tracker));
    live.set(doc, (shared = fresh));
  } else if (shared._options !== key) {
    report._warn('this call shares the live tracker: its options are ignored');
  }
  shared._shares++;
  return shared._started.then((tracker) => handle(tracker, () => {
    if (--shared._shares > 0) return;
    if (live.get(doc) === shared) live.delete(doc);
    tracker.stop();
  }));
}

// One share of a tracker: its methods until its own stop(), nothing after it but stats()
// (which then says active: false).
function handle(tracker, release) {
  let released = false;
  const share = {};
  for (const name in tracker) share[name] = (...args) => (released ? undefined : tracker[name](...args));
  share.stats = () => ({ ...tracker.stats(), ...(released && { active: false }) });
  share.stop = () => {
    if (!released) release();
    released = true;
  };
  return share;
}
