// lifecycle.js: the page lifecycle, read from capture-phase listeners on window (capture
// so they run before any handler of the page can stop them): visibilitychange, pagehide,
// freeze, resume, pageshow, prerenderingchange, focus and blur, and online and offline
// for delivery. Never unload or beforeunload, which would keep the page out of the
// back/forward cache. It only translates events into the core's page states and the
// outbox's online input; the tracker decides nothing else.

import { PAGE_FROZEN, PAGE_HIDDEN, PAGE_PRERENDER, PAGE_VISIBLE } from '../core/abi.js';

const EVENTS = ['visibilitychange', 'pagehide', 'freeze', 'resume', 'pageshow', 'prerenderingchange', 'focus', 'blur', 'online', 'offline'];

/** The core's page state for the document as it is now. */
function currentPageState(document) {
  if (document.prerendering) return PAGE_PRERENDER;
  return document.visibilityState === 'hidden' ? PAGE_HIDDEN : PAGE_VISIBLE;
}

/**
 * Calls on._state(state, hiding) when the page state may have changed (hiding is true
 * for a hidden or frozen page: time to flush), on._focus(focused) for window focus, and
 * on._restore() for a page shown again from the back/forward cache, on._online(online)
 * for the network.
 * Returns a function that removes every listener.
 */
export function listenLifecycle(env, on) {
  const w = env.window;
  return listen(w, EVENTS, (event) => {
    const type = event.type;
    // Focus events of elements also pass through a capture listener on window.
    if (type === 'focus' || type === 'blur') {
      if (event.target === w) on._focus(type === 'focus');
    } else if (type === 'online' || type === 'offline') on._online(type === 'online');
    else if (type === 'pageshow') {
      if (event.persisted) on._restore();
    } else {
      const state = type === 'pagehide' ? PAGE_HIDDEN : type === 'freeze' ? PAGE_FROZEN : currentPageState(env.document);
      on._state(state, state === PAGE_HIDDEN || state === PAGE_FROZEN);
    }
  });
}

/**
 * Adds one capture listener for several event types (none to an absent target: a browser
 * without visualViewport); returns a function that removes it.
 */
export function listen(target, types, fn) {
  for (const type of types) target?.addEventListener(type, fn, true);
  return () => {
    for (const type of types) target?.removeEventListener(type, fn, true);
  };
}
