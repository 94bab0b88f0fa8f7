// share.js: one tracker per document. A second createTracker() on a document whose
// tracker is still live (started or starting, not stopped) does not start another one,
// which would count every card twice: it gets a handle on the same tracker, and the
// first call's options stay in force. Each handle's stop() gives up its share; the
// tracker stops when the last share is given up. This is what makes a framework's
// "create, clean up, create again" (React's StrictMode) count once. A tracker that could
// not start, or stopped itself after a failure, is not shared: the next call starts anew.

const live = new WeakMap(); // document -> {_started: Promise<Tracker>, _shares: number}

/**
 * @param {object | undefined} doc the document the tracker would watch
 * @param {() => Promise<object>} start starts a tracker (never rejects)
 * @returns {Promise<object>} a handle with the Tracker API
 */
export function shareTracker(doc, start) {
  if (!doc || typeof doc !== 'object') return start(); // no DOM: the tracker says why
  let entry = live.get(doc);
  if (!entry || (entry._tracker && !entry._tracker.stats().active)) {
    const fresh = { _shares: 0, _tracker: null };
    fresh._started = start().then((tracker) => {
      fresh._tracker = tracker;
      return tracker;
    });
    live.set(doc, (entry = fresh));
  }
  const shared = entry;
  shared._shares++;
  return shared._started.then((tracker) => handle(tracker, () => {
    if (--shared._shares > 0) return;
    if (live.get(doc) === shared) live.delete(doc);
    tracker.stop();
  }));
}

// One share of a tracker: its methods until its own stop(), nothing after it.
function handle(tracker, release) {
  let released = false;
  const share = {
    stats: () => ({ ...tracker.stats(), ...(released && { active: false }) }),
    trace: () => tracker.trace(),
    stop: () => {
      if (!released) release();
      released = true;
    },
  };
  for (const name of ['observe', 'unobserve', 'flush', 'setConsent', 'newPageView']) {
    share[name] = (...args) => (released ? undefined : tracker[name](...args));
  }
  return share;
}
