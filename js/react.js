// react.js: the React binding ('impression-tracker/react'). <TrackerProvider> owns the
// page's one tracker: it starts it when it mounts and stops it when it unmounts. The
// start goes through createTracker, which shares one tracker per document (share.js),
// so React's StrictMode (mount, unmount before the tracker has loaded, mount again)
// leaves one tracker and counts every card once. useTracker() gives a stable handle
// that forwards to the tracker once it has loaded (outside a provider, one that does
// nothing); useCard() gives a ref callback for cards without the data-* attributes;
// usePageView(key) calls newPageView() in an effect, that is after React has committed
// the new route to the DOM. Plain createElement, no JSX: the file runs as shipped.

import { createContext, createElement, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { createTracker as createDefault } from './index.js';

const TrackerContext = createContext(null);

// Stands in for the tracker until it has loaded: cards are remembered and handed over,
// the last consent choice is applied, a page view before the start is not needed (the
// tracker starts its first page view on the route that is current then).
function createBinding() {
  const cards = new Map(); // element -> meta
  let tracker = null;
  let consent;
  const call = (name, ...args) => tracker?.[name](...args);
  return {
    _attach(next) {
      tracker = next;
      if (!next) return;
      if (consent !== undefined) next.setConsent(consent);
      for (const [el, meta] of cards) next.observe(el, meta);
    },
    observe(el, meta) {
      cards.set(el, meta);
      call('observe', el, meta);
    },
    unobserve(el) {
      cards.delete(el);
      call('unobserve', el);
    },
    setConsent(granted) {
      consent = granted;
      call('setConsent', granted);
    },
    newPageView: (meta) => call('newPageView', meta),
    flush: () => call('flush'),
    stats: () => tracker?.stats(),
    get tracker() {
      return tracker;
    },
  };
}

/**
 * Starts the document's tracker with `options` when it mounts (later changes to options
 * are ignored; give the provider a new key to restart it) and stops it when it unmounts.
 * `createTracker` chooses the entry (default: 'impression-tracker'; pass the one of
 * 'impression-tracker/embedded' for the inlined core).
 */
export function TrackerProvider({ options, createTracker = createDefault, children }) {
  const [binding] = useState(createBinding);
  const start = useRef({ options, createTracker });
  useEffect(() => {
    let mounted = true;
    const started = start.current.createTracker(start.current.options);
    started.then((tracker) => mounted && binding._attach(tracker));
    return () => {
      mounted = false;
      binding._attach(null);
      started.then((tracker) => tracker.stop()); // gives up this mount's share
    };
  }, [binding]);
  return createElement(TrackerContext.Provider, { value: binding }, children);
}

// The handle outside any provider (a component rendered alone: a story, a test, a page
// that forgot the provider): never attached, so its calls track nothing. Made at the
// first such call, which console.warn reports once, instead of throwing into the page.
let unprovided = null;

/** The tracker handle of the nearest TrackerProvider (stable across renders). */
export function useTracker() {
  const binding = useContext(TrackerContext);
  if (binding) return binding;
  if (!unprovided) {
    unprovided = createBinding();
    console.warn('impression-tracker/react: useTracker(), useCard() or usePageView() outside <TrackerProvider>: nothing is tracked');
  }
  return unprovided;
}

/**
 * A ref callback that tracks its element as a card with `meta` ({id, position, list}),
 * for cards rendered without the data-* attributes: <li ref={useCard({id})}>.
 */
export function useCard(meta) {
  const binding = useTracker();
  const element = useRef(null);
  const { id, position, list } = meta || {};
  return useCallback((el) => {
    if (element.current && element.current !== el) binding.unobserve(element.current);
    element.current = el;
    if (el) binding.observe(el, { id, position, list });
  }, [binding, id, position, list]);
}

/**
 * Starts a new page view whenever `key` (the route: a pathname, a search query id)
 * changes after the first render. It runs in an effect, after React has put the new
 * route in the DOM, which is when newPageView() must run.
 */
export function usePageView(key, meta) {
  const binding = useTracker();
  const last = useRef(key);
  const path = meta?.path;
  useEffect(() => {
    if (Object.is(last.current, key)) return; // first render, or StrictMode's second run
    last.current = key;
    binding.newPageView(path === undefined ? undefined : { path });
  }, [binding, key, path]);
}
