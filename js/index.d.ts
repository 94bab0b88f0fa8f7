// Type declarations for impression-tracker (handwritten; checked by `make types` with
// tsc --strict). The same API is exported by 'impression-tracker' (the core loaded from
// imp.wasm beside the module) and 'impression-tracker/embedded' (the core inlined).

import type { TrackerDebug } from './debug.js';

/** Metadata of a card given to observe() or found on its attributes. */
export interface CardMeta {
  /** Item id (a gig id). Default: the `idAttribute` attribute. Cut to 128 UTF-8 bytes. */
  id?: string;
  /** 1-based position in its list; 0 or absent means unknown. Default: the `positionAttribute` attribute. */
  position?: number;
  /** List id, e.g. a search query id. Default: the `listAttribute` attribute of the card or its closest ancestor that has it. Cut to 64 UTF-8 bytes. */
  list?: string;
}

/** Metadata of a page view started with newPageView(). */
export interface PageViewMeta {
  /** The page path. Default: `location.pathname`. A query string or fragment is cut off; cut to 256 UTF-8 bytes. */
  path?: string;
}

/** One event as the core encodes it (see js/payload.schema.json). */
export interface TrackerEvent {
  /** imp: impression; view: viewable impression; vis: a visible span ended; click: click or keyboard activation. */
  e: 'imp' | 'view' | 'vis' | 'click';
  /** Sequence number within the page view; (pv, s) identifies the event. */
  s: number;
  /** Milliseconds since the page view began. */
  t: number;
  /** Item id. */
  id: string;
  /** 1-based position (absent when unknown). */
  pos?: number;
  /** List id (absent when empty). */
  list?: string;
  /** imp and click: 1 when the window had focus. */
  f?: 0 | 1;
  /** vis: length of this visible span in ms. */
  ms?: number;
  /** vis: longest span of this item so far in the page view. */
  max?: number;
  /** vis: span number of this item in the page view. */
  n?: number;
  /** click: ms since the item's first impression. */
  since?: number;
  /** click: 1 when the item was viewable before the click. */
  seen?: 0 | 1;
}

/** One batch as sent to the collector (a text/plain JSON body). */
export interface TrackerBatch {
  /** Payload version: 1. */
  v: 1;
  /** Page view id (random; a back/forward cache restore or newPageView() starts a new one). */
  pv: string;
  /** Page path, never a query string or fragment. */
  path: string;
  /** Present when navigator.webdriver was true. */
  wd?: 1;
  /** Present when Global Privacy Control was on. */
  gpc?: 1;
  /** Milliseconds since the page view began when the batch was cut. */
  at: number;
  /** Events lost since the previous batch (queue or storage bound, refused batches). */
  drop: number;
  /** The events. */
  ev: TrackerEvent[];
}

/** The page view an event belongs to, as its batch's header will name it. */
export interface TrackerPageView {
  /** Page view id (the batch's "pv"). */
  pv: string;
  /** Page path (the batch's "path"). */
  path: string;
  /** Present when navigator.webdriver was true. */
  wd?: 1;
  /** Present when Global Privacy Control was on. */
  gpc?: 1;
}

/** The core module: a URL to fetch, its bytes, a compiled module, or a (promise of a) fetch Response. */
export type WasmSource = string | URL | ArrayBuffer | ArrayBufferView | WebAssembly.Module | Response | PromiseLike<Response>;

export interface TrackerOptions {
  /**
   * Collector URL, absolute or relative to the page (document.baseURI): batches are POSTed
   * there as text/plain (no CORS preflight). Required: a missing endpoint, or anything
   * that is not http(s) once resolved (javascript:, data:, empty, malformed), gives a
   * no-op tracker and an onError call naming the option.
   */
  endpoint: string;
  /**
   * CSS selector of the cards found and followed automatically (initial scan plus a
   * MutationObserver for cards added, removed or recycled later).
   * `null` or `''` turns discovery off: only elements given to observe() are tracked.
   * @default '[data-gig-id]'
   */
  selector?: string | null;
  /** Attribute holding a card's item id. @default 'data-gig-id' */
  idAttribute?: string;
  /** Attribute holding a card's 1-based position in its list. @default 'data-position' */
  positionAttribute?: string;
  /** Attribute holding the list id, on the card or any ancestor (e.g. the grid). @default 'data-list-id' */
  listAttribute?: string;
  /** The viewable impression rule (MRC display rule by default). */
  viewable?: {
    /** Share of the card's pixels in the viewport (above 0, at most 1). @default 0.5 */
    ratio?: number;
    /** Milliseconds the ratio must hold continuously while the page is visible (0 or more). @default 1000 */
    ms?: number;
    /** Area in px² at or above which `largeRatio` applies (above 0). @default 242500 */
    largeArea?: number;
    /** Viewable ratio for large cards (above 0, at most 1). @default 0.3 */
    largeRatio?: number;
  };
  /** Share of the card in the viewport that counts as an impression; 0 means any pixel (0 to 1). @default 0 */
  impressionRatio?: number;
  /** When the core cuts a batch: whichever limit comes first. */
  batch?: {
    /** Events per batch (1 to capacity.queue). @default 200 */
    maxEvents?: number;
    /** Bytes per batch as sent, its gzip bytes when compressed (4096 to 61440); also the body cap of every request. @default 16384 */
    maxBytes?: number;
    /** A batch is cut this long after its oldest event (a page hide sends everything at once; 0 or more). @default 10000 */
    maxAgeMs?: number;
  };
  /**
   * The core gzips every batch (RFC 1952) and the tracker sends those bytes, typed
   * text/plain; false sends the JSON text, for a collector that cannot inflate. The debug
   * option's onEvent and trace see the JSON either way.
   * @default true
   */
  compress?: boolean;
  /** Fixed table sizes of the core (it allocates nothing after start). */
  capacity?: {
    /** Items with a core slot at once: the cards in view (1 to 65535); when full, the oldest released item is reused (what it reported is kept). The three capacities must fit the core's 4 MiB arena (about 22,000 items with the others' defaults), else IMP_ERR_MEMORY. @default 2048 */
    items?: number;
    /** Events held before the oldest is dropped (and counted in "drop"; 1 to 65535). A page hide can queue one event per card in view at once. @default 8192 */
    queue?: number;
    /** Bytes of encoded events held (4096 or more; about 3.4 MiB at most with the others' defaults). @default 1048576 */
    queueBytes?: number;
  };
  /**
   * Consent state at start. 'pending': measured, held in memory, nothing sent or stored
   * until setConsent(true). 'denied': nothing sent or stored. Any other value gives a
   * no-op tracker and an onError call naming the option (so does gpc's).
   * @default 'granted'
   */
  consent?: 'granted' | 'pending' | 'denied';
  /**
   * What Global Privacy Control (navigator.globalPrivacyControl) changes. Batches always
   * carry "gpc":1 when it is on. 'memory-only': sent, never written to localStorage;
   * 'deny': treated as consent denied, even after setConsent(true); 'ignore': nothing.
   * @default 'memory-only'
   */
  gpc?: 'memory-only' | 'deny' | 'ignore';
  /**
   * Also ask IntersectionObserver v2 (trackVisibility, delay 100 ms) whether each card in
   * view is covered, where the browser has it (Chromium), so a card covered by anything
   * (a banner, a modal with no backdrop) or faded out does not count as viewable (it still
   * counts as an impression); a modal over the whole page covers the cards without it. Costs
   * main-thread time (README "Performance": about 1.7x a plain IntersectionObserver
   * tracker's task time on 5,000 cards, against 1.16x with it off); other browsers ignore it.
   * @default false
   */
  occlusion?: boolean;
  /**
   * Prefix of the localStorage keys of the delivery queue. The tracker's keys are
   * `<storageKey>q:<13 digits>:...` (one it cannot read is removed); another key of the
   * page without that shape is never touched. End the prefix with a separator, as the default does;
   * an empty one is the default.
   * @default 'impression-tracker:'
   */
  storageKey?: string;
  /**
   * Receives every error: the tracker never throws into the page. Start-up failures leave
   * a no-op tracker. A numeric option the core refuses, or would not receive exactly
   * (a fraction, a negative, NaN, a string or a boolean, 2^32 or more where a whole number is
   * expected), comes with status IMP_ERR_CONFIG (-3) and names the option; any other
   * option of another type than declared here is refused by an error naming it and its
   * type. Without it, a tracker that cannot start or stops after a failure,
   * a newPageView() called before the new content was in the DOM, and a call the tracker
   * cannot take (observe() of an element not in the document, setConsent() of neither
   * true nor false, a card without an id), a collector's 4xx other than 408, 413 and 429
   * (a wrong endpoint) and a second createTracker() with other options are written once
   * with console.warn. A tracker method called from it runs after the tracker's
   * current step.
   */
  onError?: (error: Error & { status?: number }) => void;
  /**
   * The trace recorder and the debug hooks onEvent and onDelivery, made by
   * `trackerDebug({trace, onEvent, onDelivery})` of 'impression-tracker/debug' (a separate
   * entry, so a tracker without it does not ship them). Costs nothing when unset.
   */
  debug?: TrackerDebug;
  /**
   * Where the core comes from, instead of the entry point's default. A core not loaded
   * within 10 s (a promise that never settles, a fetch that never answers) gives a no-op
   * tracker and an onError call.
   */
  wasm?: WasmSource;
  /**
   * Injectables for tests and unusual hosts: window, document, navigator, location,
   * IntersectionObserver, MutationObserver, ResizeObserver, now, setTimeout, clearTimeout,
   * requestIdleCallback, cancelIdleCallback, getRandomValues, fetch, delivery's
   * (sendBeacon, fetchLater, localStorage, Blob, AbortController, wallNow), and console
   * (where the warnings go without onError). Missing ones are the browser's globals;
   * one given as null or undefined is absent.
   */
  env?: Record<string, unknown>;
}

/** Counters of a tracker (the core's as of its last call). */
export interface TrackerStats {
  /** false for a no-op tracker (could not start, failed, or stopped). */
  active: boolean;
  /** Current page view id. */
  pageView: string;
  /** Current page path. */
  path: string;
  /** Elements being tracked. */
  elements: number;
  /** Events waiting in the core's queue. */
  queuedEvents: number;
  /** Their encoded bytes. */
  queuedBytes: number;
  /** Events lost before delivery took them, since start: dropped by the core's full queue, and those of stored records in an older format, which a scan removes. */
  dropped: number;
  /** Last sequence number of the page view. */
  seq: number;
  /** Batches the outbox took (cut from the queue or adopted from storage): its highest batch id. */
  batches: number;
  /** Events that left the core's queue since start: cut into batches, or dropped when it was full. */
  events: number;
  /** Delivery's counters (js/README.md "Observability"); undefined for a no-op tracker. */
  transport: TransportStats | undefined;
}

/** Delivery's counters, in events: every event that left the core's queue is in one of queued, inFlight, sent, beaconed or dropped.total. */
export interface TransportStats {
  /** Held by the outbox, not in flight. */
  queued: number;
  /** In fetches awaiting an answer. */
  inFlight: number;
  /** With a fetchLater copy registered. */
  deferred: number;
  /** In this tab's localStorage records. */
  persisted: number;
  /** Delivered (a 2xx). */
  sent: number;
  /** Handed to sendBeacon. */
  beaconed: number;
  /** Fetches made. */
  attempts: number;
  /** The highest batch id the outbox used. */
  batches: number;
  /** Lost for good (reported in a later batch's drop), and purged when consent was withdrawn. */
  dropped: { total: number; byReason: { lost: number; consent: number } };
  consent: 'pending' | 'granted' | 'denied';
  /** Where held batches are kept: 'memory' without localStorage or once it refused a write; 'off (gpc)' under gpc 'memory-only'. */
  storage: 'local' | 'memory' | 'off (gpc)';
  /** navigator.onLine. */
  online: boolean;
  /** 'failing' from a failed attempt until one succeeds. */
  collector: 'ok' | 'failing';
}

export interface Tracker {
  /** Tracks an element (even one the selector does not match), with metadata that overrides its attributes. The element must be in the document (else onError hears of it and nothing is tracked). */
  observe(element: Element, meta?: CardMeta): void;
  /** Stops tracking an element. */
  unobserve(element: Element): void;
  /** Cuts every queued event into batches and sends them now. */
  flush(): void;
  /** Grants (true) or withdraws (false) consent; withdrawing purges what is held or stored. Anything else changes nothing and goes to onError. */
  setConsent(granted: boolean): void;
  /** Starts a new page view (a single-page-app route change). Call it once the new route's content is in the DOM. */
  newPageView(meta?: PageViewMeta): void;
  /** Counters, for debugging and tests. */
  stats(): TrackerStats;
  /** Ends the page view, sends what is queued (with sendBeacon), removes every listener and observer. A tracker shared by several createTracker() calls stops at the last stop(). */
  stop(): void;
}

/**
 * Starts a tracker: cards are observed and clicks and page hides heard from the call on,
 * while the core loads; the promise resolves once the core is ready and has counted
 * what happened meanwhile, at its own times. Never rejects: when the tracker cannot run (no WebAssembly, a CSP
 * without 'wasm-unsafe-eval', no IntersectionObserver, the core not found, an option the
 * core refuses) it resolves to a no-op tracker and reports why through `onError` (or
 * once with console.warn). One tracker per document: while one is live, another call
 * resolves to a handle on the same tracker and its options are ignored.
 */
export function createTracker(options: TrackerOptions): Promise<Tracker>;
