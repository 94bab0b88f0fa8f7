// Type declarations for 'impression-tracker/debug' (handwritten; checked by `make types`).

import type { TrackerEvent, TrackerPageView } from './index.js';

/** One step of delivery, as onDelivery sees it (js/README.md "Observability"). */
export interface DeliveryDebugInfo {
  kind: 'fetch' | 'response' | 'retry' | 'beacon' | 'fetchLater' | 'store';
  [key: string]: unknown;
}

/** What trackerDebug() watches. */
export interface TrackerDebugOptions {
  /** Record every input fed to the core, tracking's and delivery's, for trace(). Memory grows with the page's activity. @default false */
  trace?: boolean;
  /**
   * Sees every event as the core queues it, before any batch is cut (whatever the
   * consent state), with the page view it belongs to. An event that closes a page view
   * (a "vis" ending with it) comes with the old page view. Events the queue dropped on
   * overflow before the hook could see them are not shown. A tracker method called
   * from it runs after the tracker's current step.
   */
  onEvent?: (event: TrackerEvent, pageView: TrackerPageView) => void;
  /** Sees one call per delivery action and answer ({kind: 'fetch' | 'response' | 'beacon' | 'fetchLater' | 'store', ticket, ...}, or {kind: 'retry', status, delayMs} for the backoff a failure starts). */
  onDelivery?: (info: DeliveryDebugInfo) => void;
}

/** The value of the tracker's `debug` option (made only by trackerDebug()). */
export interface TrackerDebug {
  /**
   * The exact inputs fed to the core so far, tracking's and delivery's, in the trace
   * format v1 ('' without `trace: true`). Replay it with `make replay` (build/replay) or
   * 'impression-tracker/replay': a fresh core cuts the same batches and asks for the same
   * requests, writes and scans.
   */
  trace(): string;
  /** Only trackerDebug() makes one: the tracker refuses any other value. */
  readonly [madeByTrackerDebug]: true;
}
declare const madeByTrackerDebug: unique symbol;

/**
 * The tracker's debug option: a trace recorder and hooks on events and delivery, kept
 * out of the module entry. An exception in a hook goes to the tracker's onError.
 */
export function trackerDebug(what?: TrackerDebugOptions): TrackerDebug;
