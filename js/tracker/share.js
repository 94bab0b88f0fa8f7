// share.js: one tracker per document. A second createTracker() on a document whose
// tracker is still live (started or starting, not stopped) does not start another one,
// which would count every card twice: it gets a handle on the same tracker, and the
// first call's options stay in force. Each handle's stop() gives up its share; the
// tracker stops when the last share is given up. This is what makes a framework's
// "create, clean up, create again" (React's StrictMode) count once. A tracker that could
// not start, or stopped itself after a failure, is not shared: the next call starts anew.

const live = new WeakMap(); // document -> {_started: Promise<Tracker>, _shares: number, _tracker?: Tracker}

/**
 * @param {object | undefined} doc the document the tracker would watch
 * @param {() => Promise<object>} start starts a tracker (never rejects)
 * @returns {Promise<object>} a handle with the Tracker API
 */
export function shareTracker(doc, start) {
  if (!doc || typeof doc !== 'object') return start(); // no DOM: the tracker says why
  let shared = live.get(doc);
  if (!shared || shared._tracker?.stats().active === false) {
    const fresh = { _shares: 0 };
    fresh._started = start().then((tracker) => (fresh._tracker = tracker));
    live.set(doc, (shared = fresh));
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
