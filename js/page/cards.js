// cards.js: the tracker's cards: which elements it watches (element -> card record),
// their handles in the core, and the facts it passes on about them. A card record holds
// a core element handle only while an entry shows it in view (or it was activated
// before one did): its id, list and position are read then, so a page of 30,000 cards
// costs nothing until they are seen, and the handle goes back when it leaves. Several
// elements may carry one id; the core decides which one feeds the item, whether a card
// in view counts as covered, and whether a click is the echo of a key press. The
// functions here make no such decision: they read the DOM and call the core.

import { R_ELEMENT } from '../core/abi.js';
import { activate, elementAdd, elementCover, elementObserve, elementRemove, register, resultField } from '../core/core.js';
import { listenActivation } from './activation.js';
import { watchDom } from './discovery.js';
import { coverOf, entryArea, entryRatio } from './observer.js';

/**
 * The card state of one tracker.
 * @param core the core wrapper (core.js)
 * @param o resolved options (attribute names)
 * @param env resolved environment
 * @param check (status) => boolean: false for a refused card, throws for a broken call
 * @param due (t) => void: takes the batches the core says are due
 */
export function createCards(core, o, env, check, due) {
  return { _core: core, _o: o, _env: env, _check: check, _due: due, _items: new Map(), _geometry: null, _occlusion: null };
}

function readMeta(o, el, meta = {}) {
  const id = meta.id ?? el.getAttribute(o.idAttribute);
  const list = meta.list ?? el.closest(`[${o.listAttribute}]`)?.getAttribute(o.listAttribute);
  const position = Math.floor(meta.position ?? parseInt(el.getAttribute(o.positionAttribute), 10));
  return {
    _id: id == null ? '' : String(id),
    _list: list == null ? '' : String(list),
    _position: position > 0 && position < 2 ** 31 ? position : 0,
  };
}

// Gives a card a core element handle at time t; false when the core refuses its id (reported).
function attach(cards, record, t) {
  Object.assign(record, readMeta(cards._o, record._el, record._meta));
  if (!record._id || !cards._check(elementAdd(cards._core, t, record._id, record._list, record._position))) return false;
  record._h = resultField(cards._core, R_ELEMENT);
  return true;
}

function detach(cards, t, record) {
  const handle = record._h;
  if (handle < 0) return;
  record._h = -1;
  cards._check(elementRemove(cards._core, t, handle));
}

/** Watches an element as a card (again: a recycled node whose id changed is another card). */
export function track(cards, el, meta, manual) {
  if (!el?.isConnected) return;
  const record = cards._items.get(el);
  if (record) {
    const m = readMeta(cards._o, el, meta);
    if (record._h >= 0 && record._id === m._id) {
      if ((record._list !== m._list || record._position !== m._position) && cards._check(register(cards._core, cards._env.now(), m._id, m._list, m._position))) Object.assign(record, m);
      return;
    }
    // Not in view (read when it shows), or a recycled node: measured afresh.
    if (record._h >= 0) untrack(cards, el);
    else Object.assign(record, { _meta: meta, _manual: manual });
    if (cards._items.has(el)) return;
  }
  cards._items.set(el, { _el: el, _h: -1, _in: false, _id: '', _list: '', _position: 0, _manual: manual, _meta: meta });
  cards._geometry._observe(el);
}

export function untrack(cards, el) {
  const record = cards._items.get(el);
  if (!record) return;
  cards._items.delete(el);
  cards._geometry._unobserve(el);
  cards._occlusion?.unobserve(el);
  detach(cards, cards._env.now(), record);
}

/** A watched element's attributes changed (discovery.js). */
function changed(cards, el, selector) {
  const record = cards._items.get(el);
  if (record?._manual) track(cards, el, record._meta, true);
  else if (el.matches(selector)) track(cards, el, undefined, false);
  else untrack(cards, el);
}

export function releaseDisconnected(cards) {
  for (const el of [...cards._items.keys()]) if (!el.isConnected) untrack(cards, el);
}

/** The elements an entry last showed in view. */
export function cardsInView(cards) {
  return [...cards._items].filter(([, r]) => r._in).map(([el]) => el);
}

/** A click or key press (abi.js ACT_*) on a card at time t; false when it has no handle to give. */
export function activateCard(cards, record, kind, t) {
  if (record._h < 0 && !attach(cards, record, t)) return false; // before the observer showed it
  cards._check(activate(cards._core, t, record._h, kind));
  return true;
}

/**
 * Listens for the cards' activations, passed on as `activate(record, kind)`, and, with a
 * selector, discovers the cards of the page (discovery.js); `pump(t)` runs after each pass.
 * @returns {{_dom: object|null, _stop(): void}} discovery (or null) and a function removing both
 */
export function listenCards(cards, env, o, guard, pump, activate) {
  const stopActivation = listenActivation(env, (node) => cards._items.get(node), activate, guard);
  const dom = o.selector ? watchDom(env, o, {
    _guard: guard,
    _found: (el) => track(cards, el, undefined, false),
    _changed: (el) => changed(cards, el, o.selector),
    // Before the core, a card that left keeps its record: entries held for it still
    // count (early.js); the tracker releases it once they have (cards._sweepLater).
    _sweep: () => (cards._core ? releaseDisconnected(cards) : (cards._sweepLater = true)),
    _done: () => pump(env.now()),
  }) : null;
  return {
    _dom: dom,
    _stop() {
      stopActivation();
      dom?._stop();
    },
  };
}

// entry.time shares performance.now()'s time origin; never trust one from the future.
function timeOf(env, entry) {
  const latest = env.now();
  return entry.time >= 0 && entry.time <= latest ? entry.time : latest;
}

/** A geometry (v1) entry: the ratio and area of one card, and v2 watching while it is in view. */
export function feedGeometry(cards, entry, record) {
  const el = entry.target;
  const ratio = entryRatio(entry);
  const wasIn = record._in;
  record._in = ratio > 0;
  if (!wasIn && !record._in && record._h < 0) return; // out of view, and was: nothing changes
  const area = entryArea(entry);
  cards._geometry._fit(el, area);
  if (cards._occlusion && wasIn !== record._in) {
    if (record._in) cards._occlusion.observe(el);
    else cards._occlusion.unobserve(el);
  }
  const t = timeOf(cards._env, entry);
  if (record._h < 0 && !attach(cards, record, t)) return;
  cards._check(elementObserve(cards._core, t, record._h, ratio, area));
  // A callback can carry thousands of entries: take each batch as soon as it is due,
  // before the core's queue has to drop the oldest events.
  cards._due(t);
  if (!record._in) detach(cards, t, record);
}

/** An occlusion (v2) entry: what it says about a card that holds a handle. */
export function feedOcclusion(cards, entry, record) {
  if (record._h < 0) return;
  const t = timeOf(cards._env, entry);
  cards._check(elementCover(cards._core, t, record._h, coverOf(entry)));
  cards._due(t);
}
