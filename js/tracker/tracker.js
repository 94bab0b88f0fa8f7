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
// The page side starts before the core has loaded: what it says meanwhile waits in
// early.js and reaches the core, in order and at its own times, once it is ready.

import { CONFIG_OCCLUSION, R_READY, X_OUTBOX_FLUSH } from '../core/abi.js';
import { createCore, pageBegin, pageEnd, pageFocus, pageState, resultField, startCore } from '../core/core.js';
import { loadCore } from '../core/loader.js';
import { createOutbox } from '../core/outbox.js';
import { listenActivation } from '../page/activation.js';
import { activateCard, cardsInView, createCards, releaseDisconnected, releaseParked, track, untrack } from '../page/cards.js';
import { watchDom } from '../page/discovery.js';
import { createEntryFeed } from '../page/entries.js';
import { listenLifecycle } from '../page/lifecycle.js';
import { observeCards } from '../page/observer.js';
import { checkPageViewTiming } from '../page/page-view-check.js';
import { newPageViewFacts } from '../page/page-view.js';
import { drive, tell } from '../delivery/driver.js';
import { setConsent, setOnline, setVisible, startDelivery } from '../delivery/start.js';
import { createEarly, held, release } from './early.js';
import { check, guard, teardown } from './guard.js';
import { applyConfig, configValues, optionsProblem, resolveEnv, resolveOptions } from './options.js';
import { noopTracker, stats } from './stats.js';

/**
 * @param options the public options (index.d.ts)
 * @param defaultWasm () => the core's source when options.wasm is absent, from the entry point
 * @param report the call's reporter (warn.js), made by shareTracker() from onError
 * @returns {Promise<Tracker>} never rejects
 */
export async function startTracker(options, defaultWasm, report) {
  let w; // the wiring, once the page side has started
  try {
    const o = resolveOptions(options || {});
    const env = resolveEnv(o.env);
    const problem = !env.IntersectionObserver || !env.MutationObserver || !env.document
      ? 'IntersectionObserver or the DOM is missing' : optionsProblem(o, env.document);
    if (problem) throw new Error(`impression-tracker: ${problem}`);
    // The core loads while the page side starts (early.js holds what it reports).
    const loading = loadCore(o.wasm || defaultWasm(), env);
    loading.catch(() => {}); // awaited below, unless the page side fails first
    w = startPage(o, env, report);
    const loaded = await loading;
    if (w._stopped) return noopTracker(); // the page side failed meanwhile (reported)
    // The debug option (js/debug.js) watches the core through the exports it gives.
    const core = o.debug ? o.debug._attach(loaded, report) : loaded;
    return wire(w, createCore(core), createOutbox(core));
  } catch (error) {
    if (w) teardown(w); // the inputs held for the core go with it
    report._loud(error);
    return noopTracker();
  }
}

// The wiring of one tracker is one record `w` (startPage makes it, wire completes it):
// the options, the environment, the core and its outbox, the cards, the one timer, the
// open page view, delivery's state (js/delivery/start.js) and what stop() undoes. The
// functions below and those of js/delivery/ work on it. (An arrow: the build inlines it
// into startTracker, where a declaration would stay a longer function expression.)
const startPage = (o, env, report) => {
  const w = {
    _o: o, _env: env, _report: report,
    _stops: [], // what stop() undoes
    _depth: 0, // guarded calls running: a step of the tracker while above 0 (guard.js)
    _later: [], // the page's calls made during the step, taken when it ends
    _early: createEarly(() => env.now()), // the page's inputs until the core is ready (early.js)
    _start: env.now(), // the first page view begins here, with the facts of this moment
    _startFacts: newPageViewFacts(env),
    // Set later: _stopped; _core and _outbox (wire); _timer and _timerAt (the one
    // timer and the deadline it is set for, -1: none); _cards (cards.js), _entries
    // (their observer entries, fed in chunks: entries.js), delivery's fields
    // (js/delivery/start.js; _pending once it has started), _dom (discovery.js), _view
    // (a newPageView() waiting or beginning: [its options]), _cancelCheck (cancels the
    // early newPageView() check of the last page view begun), and the page view's facts
    // (page-view.js: _pageView, _path, _flags).
  };
  w._guard = (fn) => guard(w, fn);
  w._check = (status, name) => check(w, status, name);
  w._pump = () => pump(w);
  w._onTimer = w._guard(() => {
    w._timerAt = -1; // pump() sets it again
    pump(w);
  });
  try {
    startCards(w);
    listenPage(w);
  } catch (error) {
    teardown(w);
    throw error;
  }
  return w;
};

// The core is ready: it starts, the first page view begins at the start's time, and
// what the page said meanwhile is handed on in order, at its own times. Delivery starts
// after that: the outbox shares the core's clock, which never goes back, so an outbox
// call at the present time before them would move every early input to the present.
// (An exception here is startTracker's to handle: it tears the page side down.)
function wire(w, core, outbox) {
  w._core = w._cards._core = core;
  w._outbox = outbox;
  // The core starts with its configuration; the options then hold the numbers it runs with.
  const config = configValues(w._o);
  config[CONFIG_OCCLUSION] = w._cards._occlusion ? 1 : 0; // the core waits for v2 only where v2 looks
  check(w, startCore(core, config));
  applyConfig(w._o, core._config);
  openPageView(w, w._start, w._startFacts); // the first: nothing before it to close
  release(w._early, w._report);
  w._entries._feedAll(); // entries are fed in chunks: the rest of them too, at their times
  if (w._cards._sweepLater) releaseDisconnected(w._cards); // cards that left meanwhile
  startDelivery(w);
  pump(w);
  return publicTracker(w);
}

// --- Delivery ---------------------------------------------------------------------
// After every input: perform what the outbox says (driver.js: it cuts the core's
// batches), then keep the one timer set for its next deadline (the core's own included).
function pump(w) {
  const env = w._env;
  if (!w._pending) return; // the early inputs: delivery starts after them
  drive(w);
  const at = w._outbox._deadline();
  if (at === w._timerAt) return;
  env.clearTimeout(w._timer); // none set, or one that fired: a no-op
  w._timerAt = at;
  if (at >= 0) w._timer = env.setTimeout(w._onTimer, Math.max(0, Math.ceil(at - env.now())));
}

// --- Page views -------------------------------------------------------------------
// Cards that left the document are released before a page view begins: the
// MutationObserver may not have said so yet (cards removed and newPageView() called
// in the same task), and a card still registered would count in the new page view.
// Discovery picks up the new cards afterwards.
function beginPageView(w, meta) {
  w._entries._feedAll(); // the old page view's last observations
  w._dom?._catchUp(); // cards re-keyed or removed since the last mutation pass
  releaseDisconnected(w._cards);
  releaseParked(w._cards); // a card let go counts no more
  w._cancelCheck?.(); // the check of the page view before, if any
  w._cancelCheck = checkPageViewTiming(w._env, cardsInView(w._cards), w._report);
  openPageView(w, w._env.now(), newPageViewFacts(w._env, meta));
}

// The core begins a page view at t with its facts (page-view.js).
function openPageView(w, t, facts) {
  Object.assign(w, facts);
  w._full = false; // a full core (guard.js) empties at a new page view
  input(w, t, pageBegin, w._pageView, w._path, w._flags);
}

// One input to the core at time t (call(core, t, ...args)), then what the outbox says
// to do.
function input(w, t, call, ...args) {
  check(w, call(w._core, t, ...args));
  pump(w);
}

// --- Start ------------------------------------------------------------------------
// The cards and their observers, before the core is ready: what the observers report
// waits in the early buffer (early.js). The thresholds need the rule's numbers now:
// the options', else the core's defaults (resolveOptions fills them in).
function startCards(w) {
  const { _o: o, _env: env } = w;
  const cards = createCards(o, env, w._check, () => {
    // A callback can carry thousands of entries: each batch leaves the queue as soon
    // as it is due, before the queue has to drop the oldest events.
    if (w._pending && resultField(w._core, R_READY)) drive(w);
  }, w._report);
  cards._release = w._guard(() => {
    releaseParked(cards);
    pump(w);
  });
  w._cards = cards;
  w._entries = createEntryFeed(cards, env, w._guard, w._pump);
  const onEntries = w._guard(held(w._early, (t, entries, fromOcclusion) => w._entries._push(entries, fromOcclusion), true));
  w._stops.push(observeCards(cards, env, o, onEntries, w._guard));
}

// The page lifecycle, activations and discovery. Each input carries its time t (it
// may wait in the early buffer before it reaches the core).
function listenPage(w) {
  const { _env: env, _guard: safe } = w;
  const hold = (fn) => held(w._early, safe(fn)); // guarded, and held in the early buffer while the core loads
  w._stops.push(listenLifecycle(env, {
    _state: hold((t, state, hiding) => {
      w._entries._feedAll(); // entries from before the change count first
      if (w._pending) setVisible(w, !hiding); // else delivery reads the page as it starts
      input(w, t, pageState, state);
    }),
    _focus: hold((t, focused) => input(w, t, pageFocus, focused ? 1 : 0)),
    _restore: hold(() => {
      if (w._pending) setVisible(w, true);
      beginPageView(w);
    }),
    // Before delivery starts, it reads navigator.onLine itself.
    _online: safe((online) => {
      if (w._pending) setOnline(w, online);
      pump(w);
    }),
  }));
  const activate = hold((t, el, kind) => {
    activateCard(w._cards, el, kind, t);
    pump(w);
  });
  w._stops.push(listenActivation(env, (node) => w._cards._items.has(node), activate, safe));
  if (w._o.selector) w._stops.push((w._dom = watchDom(w._cards, env, w._o, safe, w._pump))._stop);
}

// --- The public object --------------------------------------------------------------

// A call the tracker cannot take is reported (report._warn), and the tracker goes on.
// One made while a step of the tracker runs (from onError or a debug hook, in the middle
// of it) is taken when the step ends (guard.js). newPageView() calls made while a page
// view waits to begin, or by the events of one beginning (its cards in view), are that
// page view (the path of the last one that waited), so a hook that asks for a page view
// at every impression makes one per step, never a loop.
function publicTracker(w) {
  const { _env: env, _guard: safe } = w;
  const later = (fn) => {
    const run = safe(fn);
    return (...args) => void (w._depth ? w._later.push(() => run(...args)) : run(...args));
  };
  const begin = later(() => {
    beginPageView(w, w._view[0]);
    w._view = 0;
  });
  return {
    observe: later((el, meta) => {
      if (el?.nodeType !== 1 || !el.isConnected) return w._report._warn('observe() needs an element in the document');
      track(w._cards, el, meta, true);
      pump(w);
    }),
    unobserve: later((el) => {
      untrack(w._cards, el);
      pump(w);
    }),
    flush: later(() => {
      w._entries._feedAll();
      tell(w, X_OUTBOX_FLUSH);
      pump(w);
    }),
    setConsent: later((granted) => {
      if (typeof granted !== 'boolean') return w._report._warn('setConsent() takes true or false');
      setConsent(w, granted);
      pump(w);
    }),
    newPageView: (meta) => {
      const waiting = w._view;
      w._view = [meta];
      if (!waiting) begin();
    },
    stats: () => stats(w),
    stop: later(() => {
      w._entries._feedAll();
      input(w, env.now(), pageEnd);
      teardown(w);
    }),
  };
}
