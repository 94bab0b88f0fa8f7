// tracker.js: wires a loaded core to a page. It owns the browser side only: which
// elements are cards (discovery.js), what the IntersectionObserver says about them
// (observer.js), clicks (activation.js), the page lifecycle (lifecycle.js), the clock,
// and one timer for the core's next deadline, its delivery deadlines included. Every
// tracking and delivery decision is the core's: js/delivery/driver.js performs the
// outbox's actions. Everything that runs later is
// guarded: an exception becomes an onError call and a tracker that does nothing more,
// never an exception in the host page. startTracker() never rejects: anything that
// stops the tracker from starting (no WebAssembly, no IntersectionObserver, a bad
// option the core refuses) gives a no-op tracker and an onError call.

import {
  ERR_CONFIG, ERR_FULL, ERR_ID, ERR_TOO_LONG, FLAG_GPC, FLAG_HIDDEN, FLAG_PRERENDER, FLAG_UNFOCUSED, FLAG_WEBDRIVER,
  R_DROPPED, R_EVENTS, R_QUEUED_BYTES, R_QUEUED_EVENTS, R_READY, R_SEQ, R_SLOT,
} from '../core/abi.js';
import { listenActivation } from '../page/activation.js';
import { createCore } from '../core/core.js';
import { createOutbox } from '../core/outbox.js';
import { deliveryStats, drive } from '../delivery/driver.js';
import { setConsent, setVisible, startDelivery, stopDelivery } from '../delivery/start.js';
import { watchDom } from '../page/discovery.js';
import { currentPageState, listenLifecycle } from '../page/lifecycle.js';
import { loadCore } from '../core/loader.js';
import { createObservers, readGeometry, readOcclusion } from '../page/observer.js';
import { checkPageViewTiming } from '../page/page-view-check.js';
import { CONFIG_OPTIONS, applyConfig, configValues, endpointOk, resolveEnv, resolveOptions } from './options.js';
import { createReporter } from './warn.js';

// Statuses that refuse one card (bad id, too long, table full): the card is skipped and
// the tracker goes on. Any other negative status means the glue or the core is wrong.
const CARD_ERRORS = [ERR_ID, ERR_TOO_LONG, ERR_FULL];
const ENTRY_CHUNK = 500;

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
  const items = new Map(); // element -> card record
  const slots = new Map(); // core slot -> Set of card records (one id may have several elements)
  const nav = env.navigator || {};
  const gpc = nav.globalPrivacyControl === true;
  let stopped = false;
  let timer = null;
  let timerAt = -1;
  let pageView = '';
  let path = '';
  let delivery = null; // the record of the outbox's I/O driver (js/delivery/start.js, driver.js)
  let geometry = null; // the IntersectionObservers (observer.js)
  let occlusion = null;
  let dom = null; // discovery (discovery.js)
  const stops = [];

  const now = () => env.now();
  let cancelPageViewCheck = () => {};
  const teardown = () => {
    stopped = true;
    cancelPageViewCheck();
    if (timer !== null) env.clearTimeout(timer);
    if (backlogTimer !== null) env.clearTimeout(backlogTimer);
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
    feedEntries(backlog.length); // the old page view's last observations
    dom?._catchUp(); // cards re-keyed or removed since the last mutation pass
    releaseDisconnected();
    cancelPageViewCheck();
    cancelPageViewCheck = checkPageViewTiming(env, [...items].filter(([, r]) => r._ratio > 0).map(([el]) => el), report);
    const t = now();
    pageView = Array.from(env.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join('');
    // The path only: a query string or fragment never leaves the browser.
    path = String(meta?.path ?? env.location?.pathname ?? '').replace(/[?#][^]*$/, '');
    const doc = env.document;
    const flags = (nav.webdriver ? FLAG_WEBDRIVER : 0)
      | (doc.visibilityState === 'hidden' ? FLAG_HIDDEN : 0)
      | (doc.prerendering ? FLAG_PRERENDER : 0)
      | (doc.hasFocus && !doc.hasFocus() ? FLAG_UNFOCUSED : 0)
      | (gpc ? FLAG_GPC : 0);
    check(core._pageBegin(t, pageView, path, flags));
    pump(t);
  };

  // --- Cards ------------------------------------------------------------------------
  const readMeta = (el, meta = {}) => {
    const id = meta.id ?? el.getAttribute(o.idAttribute);
    const list = meta.list ?? el.closest(`[${o.listAttribute}]`)?.getAttribute(o.listAttribute);
    const position = Math.floor(meta.position ?? parseInt(el.getAttribute(o.positionAttribute), 10));
    return {
      id: id == null ? '' : String(id),
      list: list == null ? '' : String(list),
      position: position > 0 && position < 2 ** 31 ? position : 0,
    };
  };
  // Feeds the core the geometry of a slot: its most visible element.
  const feed = (t, slot) => {
    let best = null;
    for (const record of slots.get(slot)) if (!best || record._ratio > best._ratio) best = record;
    check(core._observe(t, slot, best._ratio, best._area, best._occluded));
    // A callback can carry thousands of entries: each batch leaves the queue as soon as
    // it is due, before the queue has to drop the oldest events.
    if (core._result(R_READY)) drive(delivery);
  };
  // Every card found is watched by the geometry observer, but holds a core slot only
  // while it is in view: attach() reads its id, list and position when an entry first
  // shows it (so a page of 30,000 cards costs nothing until they are seen) and
  // registers it; detach() gives the slot back when it leaves (after feeding the core
  // that it left). The core keeps what the page view already reported about a card
  // whose slot it reuses (its seen set), so a card that comes back is counted once.
  // An entry of a card out of view that has no slot changes nothing: no core call.
  const attach = (el, record) => {
    Object.assign(record, readMeta(el, record._meta));
    if (!record.id || !check(core._register(now(), record.id, record.list, record.position))) return false;
    record._slot = core._result(R_SLOT);
    if (!slots.has(record._slot)) slots.set(record._slot, new Set());
    slots.get(record._slot).add(record);
    return true;
  };
  const detach = (t, record) => {
    const slot = record._slot;
    if (slot < 0) return;
    const set = slots.get(slot);
    set.delete(record);
    record._slot = -1;
    if (set.size) {
      feed(t, slot);
    } else {
      slots.delete(slot);
      check(core._release(t, slot));
    }
  };
  const untrack = (el) => {
    const record = items.get(el);
    if (!record) return;
    items.delete(el);
    geometry._unobserve(el);
    occlusion?.unobserve(el);
    detach(now(), record);
  };
  const releaseDisconnected = () => {
    for (const el of [...items.keys()]) if (!el.isConnected) untrack(el);
  };
  const track = (el, meta, manual) => {
    if (!el?.isConnected) return;
    const record = items.get(el);
    if (record) {
      const m = readMeta(el, meta);
      if (record._slot < 0 || record.id !== m.id) {
        // Not in view (read when it shows), or a recycled node: the card is another
        // one now, measured afresh.
        if (record._slot >= 0) untrack(el);
        else Object.assign(record, { _meta: meta, _manual: manual });
        if (items.has(el)) return;
      } else {
        if ((record.list !== m.list || record.position !== m.position) && check(core._register(now(), m.id, m.list, m.position))) Object.assign(record, m);
        return;
      }
    }
    items.set(el, { _el: el, _slot: -1, id: '', list: '', position: 0, _manual: manual, _meta: meta, _ratio: 0, _area: 0, _occluded: occlusion ? 1 : 0 });
    geometry._observe(el);
  };
  // Observer callbacks can carry thousands of entries (a page of thousands of cards, a
  // fast fling): they are fed to the core ENTRY_CHUNK per task, so none is a long task.
  // Each entry keeps its own time; the page hide feeds what is left first. An occlusion
  // entry is kept as {_occlusion: entry}.
  const backlog = [];
  let backlogTimer = null;
  // entry.time shares performance.now()'s time origin; never trust one from the future.
  const timeOf = (entry) => {
    const latest = now();
    return entry.time >= 0 && entry.time <= latest ? entry.time : latest;
  };
  const feedOcclusion = (entry, record) => {
    // Covered or not; in or out stays the geometry's call. Until v2 has looked at a
    // card in view, the card counts as covered (no viewable time on a guess).
    const occluded = readOcclusion(entry);
    if (record._slot < 0 || !record._ratio || occluded < 0 || occluded === record._occluded) return;
    record._occluded = occluded;
    feed(timeOf(entry), record._slot);
  };
  const feedGeometry = (entry, record) => {
    const el = entry.target;
    const wasIn = record._ratio > 0;
    record._ratio = entry.isIntersecting ? Math.min(1, Math.max(0, entry.intersectionRatio || 0)) : 0;
    const isIn = record._ratio > 0;
    if (!wasIn && !isIn && record._slot < 0) return; // out of view, and was: nothing changes
    Object.assign(record, readGeometry(entry));
    geometry._fit(el, record._area);
    if (occlusion && wasIn !== isIn) {
      if (isIn) occlusion.observe(el);
      else occlusion.unobserve(el);
      record._occluded = 1;
    }
    if (record._slot < 0 && !attach(el, record)) return;
    const t = timeOf(entry);
    feed(t, record._slot);
    if (!isIn) detach(t, record);
  };
  const feedEntries = (limit) => {
    for (const item of backlog.splice(0, limit)) {
      const entry = item._occlusion || item;
      const record = items.get(entry.target);
      if (!record) continue;
      if (item._occlusion) feedOcclusion(entry, record);
      else feedGeometry(entry, record);
    }
  };
  const feedBacklog = guard(() => {
    backlogTimer = null;
    feedEntries(ENTRY_CHUNK);
    if (backlog.length) backlogTimer = env.setTimeout(feedBacklog, 0);
    pump(now());
  });
  const onEntries = guard((entries, fromOcclusion) => {
    for (const entry of entries) backlog.push(fromOcclusion ? { _occlusion: entry } : entry);
    if (backlogTimer === null) feedBacklog();
  });

  // --- Start ------------------------------------------------------------------------
  try {
    check(core._start(configValues(o)));
    applyConfig(o, core._config); // the options now hold the numbers the core runs with
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
    ({ _geometry: geometry, _occlusion: occlusion } = createObservers(env, o, onEntries));
    stops.push(() => {
      geometry._disconnect();
      occlusion?.disconnect();
    });
    stops.push(listenLifecycle(env, {
      _state: guard((state, hiding) => {
        feedEntries(backlog.length); // entries from before the change count first
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
    stops.push(listenActivation(env, (node) => items.get(node), (record) => {
      if (record._slot < 0) attach(record._el, record); // clicked before the near observer said so
      if (record._slot < 0) return;
      const t = now();
      check(core._click(t, record._slot));
      pump(t);
    }, guard));
    if (o.selector) {
      dom = watchDom(env, o, {
        _guard: guard,
        _found: (el) => track(el, undefined, false),
        _changed: (el) => {
          const record = items.get(el);
          if (record?._manual) track(el, record._meta, true);
          else if (el.matches(o.selector)) track(el, undefined, false);
          else untrack(el);
        },
        _sweep: releaseDisconnected,
        _done: () => pump(now()),
      });
      stops.push(dom._stop);
    }
  } catch (error) {
    teardown();
    throw error;
  }

  return {
    observe: guard((el, meta) => {
      track(el, meta, true);
      pump(now());
    }),
    unobserve: guard((el) => {
      untrack(el);
      pump(now());
    }),
    flush: guard(() => {
      feedEntries(backlog.length);
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
          elements: items.size,
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
      feedEntries(backlog.length);
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
