// tracker.js: wires a loaded core to a page: the cards (cards.js, fed by discovery.js,
// the observers of observer.js through entries.js, and activation.js), the page
// lifecycle (lifecycle.js), page views, the clock, and one timer for the core's next
// deadline, its delivery deadlines included. Every tracking and delivery decision is the
// core's: js/delivery/driver.js performs the outbox's actions. Everything that runs
// later is guarded (guard.js): an exception becomes an onError call and a tracker that
// does nothing more, never an exception in the host page. startTracker() never rejects:
// anything that stops the tracker from starting (no WebAssembly, no
// IntersectionObserver, a bad option the core refuses) gives a no-op tracker and an
// onError call.

import { CONFIG_OCCLUSION, R_DROPPED, R_EVENTS, R_QUEUED_BYTES, R_QUEUED_EVENTS, R_READY, R_SEQ } from '../core/abi.js';
import { cardsInView, createCards, listenCards, releaseDisconnected, track, untrack } from '../page/cards.js';
import {
  createCore, nextDeadline, pageBegin, pageEnd, pageFocus, pageState, reportDropped, resultField, startCore, tick, traceText,
} from '../core/core.js';
import { createOutbox } from '../core/outbox.js';
import { deliveryStats, drive, tell } from '../delivery/driver.js';
import { setConsent, setOnline, setVisible, startDelivery } from '../delivery/start.js';
import { createEntryFeed } from '../page/entries.js';
import { listenLifecycle } from '../page/lifecycle.js';
import { loadCore } from '../core/loader.js';
import { createGeometryObservers, createOcclusionObserver } from '../page/observer.js';
import { checkPageViewTiming } from '../page/page-view-check.js';
import { newPageViewFacts } from '../page/page-view.js';
import { check, guard, teardown } from './guard.js';
import { applyConfig, configValues, endpointOk, resolveEnv, resolveOptions } from './options.js';
import { createReporter, safeHook } from './warn.js';

/**
 * @param options the public options (index.d.ts)
 * @param defaults {wasm: () => source} from the entry point
 * @returns {Promise<Tracker>} never rejects
 */
export async function startTracker(options, defaults) {
  const report = createReporter(options?.onError, options?.env?.console);
  try {
    const o = resolveOptions(options || {});
    const env = resolveEnv(o.env);
    if (!env.IntersectionObserver || !env.MutationObserver || !env.document) {
      throw new Error('impression-tracker: IntersectionObserver or the DOM is missing');
    }
    if (!endpointOk(o.endpoint, env.document)) throw new Error('impression-tracker: option endpoint is not an http(s) URL');
    const loaded = await loadCore(o.wasm || defaults.wasm(), env);
    // The debug hook sees each event as the core queues it (core.js); its errors are reported.
    return wire(o, env, createCore(loaded, o.trace, safeHook(o.onEvent, report)), createOutbox(loaded), report);
  } catch (error) {
    report._loud(error);
    return noopTracker();
  }
}

// The wiring of one tracker is one record `w` (wire makes it): the options, the
// environment, the core and its outbox, the cards, the one timer, the open page view,
// delivery's state (js/delivery/start.js) and what stop() undoes. The functions below
// and those of js/delivery/ work on it.
function wire(o, env, core, outbox, report) {
  const w = {
    _o: o, _env: env, _core: core, _outbox: outbox, _report: report,
    _stops: [], // what stop() undoes
    _cancelCheck: () => {}, // cancels the pending early newPageView() check
    // Set later: _stopped; _timer and _timerAt (the one timer and the deadline it is
    // set for, -1: none); while starting, _cards (cards.js), _entries (their observer
    // entries, fed in chunks: entries.js), delivery's fields (js/delivery/start.js),
    // _dom (discovery.js), and the page view's facts (page-view.js: _pageView, _path, _flags).
  };
  w._guard = (fn) => guard(w, fn);
  w._check = (status, name) => check(w, status, name);
  w._pump = (t) => pump(w, t);
  w._onTimer = w._guard(() => {
    w._timer = 0;
    w._timerAt = -1;
    pump(w);
  });
  try {
    startCards(w);
    startDelivery(w);
    beginPageView(w);
    listenPage(w);
  } catch (error) {
    teardown(w);
    throw error;
  }
  return publicTracker(w);
}

// --- Delivery ---------------------------------------------------------------------
// The outbox cuts the core's batches and says what to do with them (driver.js). A
// timer the core has passed fires first, so the debug hook sees the events it makes
// before a batch takes them.
function catchUp(w, t) {
  const due = nextDeadline(w._core);
  if (due >= 0 && due <= t) check(w, tick(w._core, t));
}

// After every input: perform what the outbox says, then keep the one timer set for
// its next deadline (the core's own included).
function pump(w, t = w._env.now()) {
  const env = w._env;
  catchUp(w, t);
  drive(w);
  const at = w._outbox._deadline();
  if (at === w._timerAt) return;
  env.clearTimeout(w._timer); // none set: a no-op
  w._timer = 0;
  w._timerAt = at;
  if (at >= 0) w._timer = env.setTimeout(w._onTimer, Math.max(0, Math.ceil(at - env.now())));
}

// --- Page views -------------------------------------------------------------------
// Cards that left the document are released before a page view begins: the
// MutationObserver may not have said so yet (cards removed and newPageView() called
// in the same task), and a card still registered would count in the new page view.
// Discovery picks up the new cards afterwards.
function beginPageView(w, meta) {
  const env = w._env;
  w._entries._feedAll(); // the old page view's last observations
  w._dom?._catchUp(); // cards re-keyed or removed since the last mutation pass
  releaseDisconnected(w._cards);
  w._cancelCheck();
  w._cancelCheck = checkPageViewTiming(env, cardsInView(w._cards), w._report);
  Object.assign(w, newPageViewFacts(env, meta));
  input(w, pageBegin, w._pageView, w._path, w._flags);
}

// One input to the core at the current time (call(core, t, ...args)), then what the
// outbox says to do.
function input(w, call, ...args) {
  const t = w._env.now();
  check(w, call(w._core, t, ...args));
  pump(w, t);
}

// --- Start ------------------------------------------------------------------------
// The cards, their observers, and the core started with its configuration.
function startCards(w) {
  const { _o: o, _env: env, _core: core } = w;
  const cards = createCards(core, o, env, w._check, () => {
    // A callback can carry thousands of entries: each batch leaves the queue as soon
    // as it is due, before the queue has to drop the oldest events.
    if (resultField(core, R_READY)) drive(w);
  });
  w._cards = cards;
  w._entries = createEntryFeed(cards, env, w._guard, w._pump);
  cards._occlusion = createOcclusionObserver(env, o, w._entries._push);
  w._stops.push(() => cards._occlusion?.disconnect());
  const config = configValues(o);
  config[CONFIG_OCCLUSION] = cards._occlusion ? 1 : 0; // the core waits for v2 only where v2 looks
  check(w, startCore(core, config));
  applyConfig(o, core._config); // the options now hold the numbers the core runs with
  cards._geometry = createGeometryObservers(env, o, w._entries._push);
  w._stops.push(() => cards._geometry._disconnect());
}

// The page lifecycle, activations and discovery.
function listenPage(w) {
  const { _env: env, _guard: safe } = w;
  w._stops.push(listenLifecycle(env, {
    _state: safe((state, hiding) => {
      w._entries._feedAll(); // entries from before the change count first
      setVisible(w, !hiding);
      input(w, pageState, state);
    }),
    _focus: safe((focused) => input(w, pageFocus, focused ? 1 : 0)),
    _restore: safe(() => {
      setVisible(w, true);
      beginPageView(w);
    }),
    _online: safe((online) => {
      setOnline(w, online);
      pump(w);
    }),
  }));
  const listening = listenCards(w._cards, env, w._o, safe, w._pump);
  w._dom = listening._dom;
  w._stops.push(listening._stop);
}

// --- The public object --------------------------------------------------------------

function publicTracker(w) {
  const { _env: env, _guard: safe } = w;
  return {
    observe: safe((el, meta) => {
      track(w._cards, el, meta, true);
      pump(w);
    }),
    unobserve: safe((el) => {
      untrack(w._cards, el);
      pump(w);
    }),
    flush: safe(() => {
      w._entries._feedAll();
      const t = env.now();
      catchUp(w, t);
      tell(w, 'flush');
      pump(w, t);
    }),
    setConsent: safe((granted) => {
      setConsent(w, granted === true);
      pump(w);
    }),
    newPageView: safe((meta) => beginPageView(w, meta)),
    stats: () => stats(w),
    trace: () => traceText(w._core),
    stop: safe(() => {
      w._entries._feedAll();
      input(w, pageEnd);
      teardown(w);
    }),
  };
}

function stats(w) {
  const core = w._core;
  try {
    return {
      active: !w._stopped,
      pageView: w._pageView,
      path: w._path,
      elements: w._cards._items.size,
      queuedEvents: resultField(core, R_QUEUED_EVENTS),
      queuedBytes: resultField(core, R_QUEUED_BYTES),
      dropped: resultField(core, R_DROPPED),
      seq: resultField(core, R_SEQ),
      batches: w._batches,
      events: (resultField(core, R_EVENTS) - resultField(core, R_QUEUED_EVENTS)) >>> 0,
      transport: deliveryStats(w),
    };
  } catch (error) {
    w._report(error);
    return noopTracker().stats();
  }
}

/** The tracker given when the real one cannot run: every method does nothing. */
export function noopTracker() {
  const nothing = () => {};
  return {
    observe: nothing,
    unobserve: nothing,
    flush: nothing,
    setConsent: nothing,
    newPageView: nothing,
    stats: () => ({
      active: false, pageView: '', path: '', elements: 0, queuedEvents: 0, queuedBytes: 0,
      dropped: 0, seq: 0, batches: 0, events: 0, transport: undefined,
    }),
    trace: () => '',
    stop: nothing,
  };
}
