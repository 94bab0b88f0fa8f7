// Type declarations for impression-tracker/react (handwritten; checked by `make types`
// with tsc --strict). Needs React 18 or 19 and its types (@types/react).

import type { ReactNode, RefCallback } from 'react';
import type { CardMeta, PageViewMeta, Tracker, TrackerOptions, TrackerStats } from './index.js';

export interface TrackerProviderProps {
  /** The tracker's options, read when the provider mounts (give it a new key to restart with others). */
  options: TrackerOptions;
  /** The entry's createTracker; default 'impression-tracker'. Pass the one of 'impression-tracker/embedded' for the inlined core. */
  createTracker?: (options: TrackerOptions) => Promise<Tracker>;
  children?: ReactNode;
}

/** Owns the document's one tracker: started on mount, stopped on unmount; StrictMode-safe. */
export function TrackerProvider(props: TrackerProviderProps): ReactNode;

/** A stable handle on the provider's tracker: calls before it has loaded are kept (cards, consent) or not needed (page views). */
export interface TrackerHandle {
  observe(element: Element, meta?: CardMeta): void;
  unobserve(element: Element): void;
  setConsent(granted: boolean): void;
  newPageView(meta?: PageViewMeta): void;
  flush(): void;
  /** The tracker's counters, undefined until it has loaded. */
  stats(): TrackerStats | undefined;
  /** The tracker itself, null until it has loaded. */
  readonly tracker: Tracker | null;
}

/** The handle of the nearest TrackerProvider; outside one, a handle that does nothing (console.warn says so once). */
export function useTracker(): TrackerHandle;

/** A ref callback that tracks its element as a card: `<li ref={useCard({ id: gig.id, position })}>`. */
export function useCard(meta?: CardMeta): RefCallback<Element>;

/** Starts a new page view when `key` (the route) changes after the first render, after React has committed it. */
export function usePageView(key: unknown, meta?: PageViewMeta): void;
