// tracker.js: wires a loaded core to a page: the cards (cards.js, fed by discovery.js,
// the observers of observer.js through entries.js, and activation.js), the page
// lifecycle (lifecycle.js), page views, the clock, and one timer for the core's next
// deadline, its delivery deadlines included. Every tracking and delivery decision is the
// core's: js/delivery/driver.js performs the outbox's actions. Everything that runs
// later is guarded: an exception becomes an onError call and a tracker that does
// nothing more, never an exception in the host page. startTracker() never rejects:
// anything that stops the tracker from starting (no WebAssembly, no
// IntersectionObserver, a bad option the core refuses) gives a no-op tracker and an
// onError call.

import {
  CONFIG_OCCLUSION, ERR_CONFIG, ERR_FULL, ERR_ID, ERR_TOO_LONG,
  R_DROPPED, R_EVENTS, R_QUEUED_BYTES, R_QUEUED_EVENTS, R_READY, R_SEQ,
} from '../core/abi.js';
import { cardsInView, createCards, listenCards, releaseDisconnected, track, untrack } from '../page/cards.js';
import { createCore } from '../core/core.js';
import { createOutbox } from '../core/outbox.js';
import { deliveryStats, drive } from '../delivery/driver.js';
import { setConsent, setVisible, startDelivery, stopDelivery } from '../delivery/start.js';
import { createEntryFeed } from '../page/entries.js';
import { listenLifecycle } from '../page/lifecycle.js';
import { loadCore } from '../core/loader.js';
import { createGeometryObservers, createOcclusionObserver } from '../page/observer.js';
import { checkPageViewTiming } from '../page/page-view-check.js';
import { newPageViewFacts } from '../page/page-view.js';
import { CONFIG_OPTIONS, applyConfig, configValues, endpointOk, resolveEnv, resolveOptions } from './options.js';
import { createReporter } from './warn.js';

// Statuses that refuse one card (bad id, too long, table full): the card is skipped and
// the tracker goes on. Any other negative status means the glue or the core is wrong.
const CARD_ERRORS = [ERR_ID, ERR_TOO_LONG, ERR_FULL];

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
    const onEvent = o.onEvent && ((event, pageView) => {
      try {
        o.onEvent(event, pageView);
      } catch (error) {
        report(error);
      }
    });
    return wire(o, env, createCore(loaded, o.trace, onEvent), createOutbox(loaded), report);
  } catch (error) {
    report._loud(error);
    return noopTracker();
  }
}

function wire(o, env, core, outbox, report) {
  let stopped = false;
  let timer = null;
  let timerAt = -1;
  let pageView = '';
  let path = '';
  let delivery = null; // the record of the outbox's I/O driver (js/delivery/start.js, driver.js)
  let cards = null; // the cards (cards.js)
  let entries = null; // their observer entries, fed in chunks (entries.js)
  let dom = null; // discovery (discovery.js)
  const stops = [];

  const now = () => env.now();
  let cancelPageViewCheck = () => {};
  const teardown = () => {
    stopped = true;
    cancelPageViewCheck();
    if (timer !== null) env.clearTimeout(timer);
    entries?._stop();
    for (const stop of stops.splice(0)) {
      try {
        stop();
      } catch (error) {
        report(error);
      }
    }
  };
  const fail = (error) => {
    if (stopped) return;
    report._loud(error);
    try {
      // The page stops measuring: the outbox hands what it holds to a beacon or storage.
      core._pageEnd(now());
      if (delivery) drive(delivery);
    } catch (e) {
      report(e);
    }
    teardown();
  };
  const guard = (fn) => (...args) => {
    if (stopped) return undefined;
    try {
      return fn(...args);
    } catch (error) {
      return fail(error);
    }
  };
  // true for IMP_OK / IMP_NONE; false (after onError) for a refused card; throws otherwise.
  const check = (status) => {
    if (status >= 0) return true;
    // The call's trace name (see js/core/trace.js): "item", "take", ...
    const option = status === ERR_CONFIG ? ` (option ${CONFIG_OPTIONS[core._configField() - 1] || '?'})` : '';
    const error = Object.assign(new Error(`impression-tracker: ${core._last} returned ${core._statusName(status)}${option}`), { status });
    if (!CARD_ERRORS.includes(status)) throw error;
    report(error);
    return false;
  };

  // --- Delivery ---------------------------------------------------------------------
  // The outbox cuts the core's batches and says what to do with them (driver.js). A
  // timer the core has passed fires first, so the debug hook sees the events it makes
  // before a batch takes them.
  const catchUp = (t) => {
    const due = core._nextDeadline();
    if (due >= 0 && due <= t) check(core._tick(t));
  };
  const onTimer = guard(() => {
    timer = null;
    timerAt = -1;
    pump(now());
  });
  // After every input: perform what the outbox says, then keep the one timer set for
  // its next deadline (the core's own included).
  const pump = (t) => {
    catchUp(t);
    drive(delivery);
    const at = outbox._deadline();
    if (at === timerAt) return;
    if (timer !== null) env.clearTimeout(timer);
    timer = null;
    timerAt = at;
    if (at >= 0) timer = env.setTimeout(onTimer, Math.max(0, Math.ceil(at - now())));
  };

  // --- Page views -------------------------------------------------------------------
  // Cards that left the document are released before a page view begins: the
  // MutationObserver may not have said so yet (cards removed and newPageView() called
  // in the same task), and a card still registered would count in the new page view.
  // Discovery picks up the new cards afterwards.
  const beginPageView = (meta) => {
    entries._feedAll(); // the old page view's last observations
    dom?._catchUp(); // cards re-keyed or removed since the last mutation pass
    releaseDisconnected(cards);
    cancelPageViewCheck();
    cancelPageViewCheck = checkPageViewTiming(env, cardsInView(cards), report);
    const t = now();
    const facts = newPageViewFacts(env, meta);
    pageView = facts._pageView;
    path = facts._path;
    check(core._pageBegin(t, pageView, path, facts._flags));
    pump(t);
  };

  // --- Start ------------------------------------------------------------------------
  try {
    cards = createCards(core, o, env, check, () => {
      // A callback can carry thousands of entries: each batch leaves the queue as soon
      // as it is due, before the queue has to drop the oldest events.
      if (core._result(R_READY)) drive(delivery);
    });
    entries = createEntryFeed(cards, env, guard, pump);
    cards._occlusion = createOcclusionObserver(env, o, entries._push);
    stops.push(() => cards._occlusion?.disconnect());
    const config = configValues(o);
    config[CONFIG_OCCLUSION] = cards._occlusion ? 1 : 0; // the core waits for v2 only where v2 looks
    check(core._start(config));
    applyConfig(o, core._config); // the options now hold the numbers the core runs with
    cards._geometry = createGeometryObservers(env, o, entries._push);
    stops.push(() => cards._geometry._disconnect());
    delivery = startDelivery(o, env, {
      _outbox: outbox, _now: now, _guard: guard, _report: report, _pump: () => pump(now()),
      _check: (status) => {
        if (status < 0) core._last = 'outbox';
        return check(status);
      },
      _legacyLost: (events) => check(core._reportDropped(events)),
    });
    stops.push(() => stopDelivery(delivery));
    beginPageView();
    stops.push(listenLifecycle(env, {
      _state: guard((state, hiding) => {
        entries._feedAll(); // entries from before the change count first
        const t = now();
        check(core._pageState(t, state));
        setVisible(delivery, !hiding);
        pump(t);
      }),
      _focus: guard((focused) => {
        const t = now();
        check(core._pageFocus(t, focused ? 1 : 0));
        pump(t);
      }),
      _restore: guard(() => {
        setVisible(delivery, true);
        beginPageView();
      }),
    }));
    const listening = listenCards(cards, env, o, guard, pump);
    dom = listening._dom;
    stops.push(listening._stop);
  } catch (error) {
    teardown();
    throw error;
  }

  return {
    observe: guard((el, meta) => {
      track(cards, el, meta, true);
      pump(now());
    }),
    unobserve: guard((el) => {
      untrack(cards, el);
      pump(now());
    }),
    flush: guard(() => {
      entries._feedAll();
      const t = now();
      catchUp(t);
      check(outbox._flush(t));
      pump(t);
    }),
    setConsent: guard((granted) => {
      setConsent(delivery, granted === true);
      pump(now());
    }),
    newPageView: guard((meta) => beginPageView(meta)),
    stats: () => {
      try {
        return {
          active: !stopped,
          pageView,
          path,
          elements: cards._items.size,
          queuedEvents: core._result(R_QUEUED_EVENTS),
          queuedBytes: core._result(R_QUEUED_BYTES),
          dropped: core._result(R_DROPPED),
          seq: core._result(R_SEQ),
          batches: delivery._batches,
          events: (core._result(R_EVENTS) - core._result(R_QUEUED_EVENTS)) >>> 0,
          transport: deliveryStats(delivery),
        };
      } catch (error) {
        report(error);
        return noopTracker().stats();
      }
    },
    trace: () => core._trace(),
    stop: guard(() => {
      entries._feedAll();
      const t = now();
      check(core._pageEnd(t));
      pump(t);
      teardown();
    }),
  };
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
