// cards.js: the tracker's cards: which elements it watches, their handles in the core,
// and the facts it passes on about them. A card holds a core element handle only while
// an entry shows it in view (or it was activated before one did): its id, list and
// position are read then, so a page of 30,000 cards costs nothing until they are seen,
// and the handle goes back when it leaves. Several elements may carry one id; the core
// decides which one feeds the item, whether a card in view counts as covered (by what
// v2 says of it, or by something over the whole viewport, bars.js), and
// whether a click is the echo of a key press. The functions here make no such decision:
// they read the DOM and call the core.
//
// Per card the tracker keeps one small integer, never an object (a page of 20,000 cards
// would hold 20,000 of them): its handle, -1 for none. The id each handle was given for
// (by handle) and the cards the page watches itself (observe(), with its options) are
// kept apart: they cost only while a card is near the viewport or for the page's own.
//
// A card let go while it holds a handle keeps it until the task ends: a re-render that
// puts a new element of the same id in its place in the same task (React, innerHTML)
// hands the handle to the new element, so its visible span and viewable second go on.

import { R_ELEMENT } from '../core/abi.js';
import { activate, elementAdd, elementCover, elementObserve, elementRemove, register, resultField } from '../core/core.js';
import { boxArea, coverOf, entryRatio, passCover } from './observer.js';

/**
 * The card state of one tracker; its _core (the core wrapper, core.js) is set once the
 * core is loaded.
 * @param o resolved options (attribute names)
 * @param env resolved environment
 * @param check (status) => boolean: false for a refused card, throws for a broken call
 * @param due () => void: takes the batches the core says are due
 * @param report the tracker's reporter (warn.js)
 */
export function createCards(o, env, check, due, report) {
  return {
    // Set later: _core (once the core is loaded), _geometry and _occlusion (observer.js),
    // _release (tracker.js: gives _parked back), _noId (a card without an id was
    // reported), _sweepLater (discovery.js: cards left before the core loaded),
    // _layout and _layoutUsed (observer.js, bars.js: the layout viewport's size as an
    // entry's root showed it, and the size the bars were last measured with), _covered
    // (bars.js) and _coverPassed (what the core was last told of it).
    _o: o, _env: env, _check: check, _due: due, _report: report,
    _items: new Map(), // element -> its handle, -1 for none
    _manual: new Map(), // element -> the options given to observe(el, meta)
    _ids: [], // by handle: the id it was given for
    _parked: [], // handles of cards let go in this task; _release() gives them back once it ends
    _sweepAt: 64, // a new card past this many first lets go of those that left the document
  };
}

// [id, list, position] of a card, as elementAdd and register take them. The position
// attribute is read as a number (" 7 " is 7, "1e3" 1000, "3.5" 3); none, 0, a negative
// or anything else is unknown. meta: observe()'s options, if any (no `{}` default, whose
// id, list or position could come from the page's Object.prototype).
function readMeta(o, el, meta) {
  const id = meta?.id ?? el.getAttribute(o.idAttribute) ?? '';
  const list = meta?.list ?? el.closest(`[${o.listAttribute}]`)?.getAttribute(o.listAttribute) ?? '';
  const position = Math.floor(meta?.position ?? +el.getAttribute(o.positionAttribute));
  return [String(id), String(list), position > 0 && position < 2 ** 31 ? position : 0];
}

// Gives a card a core element handle at time t; returns it, or -1 when the card has no
// id (the first such card of a tracker is reported: a selector that matches cards
// without idAttribute counts nothing) or the core refuses its id (reported).
function attach(cards, el, t) {
  const m = readMeta(cards._o, el, cards._manual.get(el));
  if (!m[0]) {
    if (!cards._noId) cards._report._warn(`a card without ${cards._o.idAttribute} (idAttribute) is not counted`);
    cards._noId = true;
    return -1;
  }
  passCover(cards, t); // measured before the core was loaded
  if (!cards._check(elementAdd(cards._core, t, ...m))) return -1;
  const handle = resultField(cards._core, R_ELEMENT);
  cards._ids[handle] = m[0];
  cards._items.set(el, handle);
  cards._geometry._sizes?.observe(el); // a resize across largeArea changes its rule
  return handle;
}

// Gives a card's handle (if it holds one) back at time t: it left view or is no longer watched.
function detach(cards, el, handle, t) {
  cards._occlusion?.unobserve(el);
  cards._geometry._sizes?.unobserve(el);
  if (handle >= 0) cards._check(elementRemove(cards._core, t, handle));
}

/**
 * Watches an element as a card. A card holding a handle passes its list and position on
 * (the core keeps them per id); a recycled node whose id changed is another card.
 * meta and manual: observe()'s options, true; discovery gives neither.
 */
export function track(cards, el, meta, manual) {
  if (!el.isConnected) return;
  let handle = cards._items.get(el);
  let m = handle >= 0 && readMeta(cards._o, el, meta);
  if (m && cards._ids[handle] !== m[0]) handle = untrack(cards, el); // measured afresh
  if (manual) cards._manual.set(el, meta);
  else cards._manual.delete(el);
  if (handle === undefined) {
    // Cards that left the document unseen by discovery (none, or a shadow root) and
    // were never unobserve()d are let go as cards are added: amortized, never piling up.
    if (cards._core && cards._items.size >= cards._sweepAt) {
      releaseDisconnected(cards);
      cards._sweepAt = 2 * cards._items.size + 64;
    }
    // A card not in view yet has its facts read when it shows, unless a card of its id
    // let go in this task hands its handle over (a re-render).
    const i = cards._parked.findIndex((h) => cards._ids[h] === (m = m || readMeta(cards._o, el, meta))[0]);
    handle = i < 0 ? -1 : cards._parked.splice(i, 1)[0];
    cards._items.set(el, handle);
    cards._geometry._observe(el, manual);
    if (handle >= 0) cards._geometry._sizes?.observe(el);
  }
  if (handle >= 0) cards._check(register(cards._core, cards._env.now(), ...m));
}

/** Gives back the handles of cards let go in this task that no new element took over. */
export function releaseParked(cards) {
  for (const handle of cards._parked.splice(0)) cards._check(elementRemove(cards._core, cards._env.now(), handle));
}

/** Stops watching an element; returns undefined (it holds no handle any more). */
export function untrack(cards, el) {
  const handle = cards._items.get(el);
  if (handle === undefined) return;
  cards._items.delete(el);
  cards._manual.delete(el);
  cards._geometry._unobserve(el);
  detach(cards, el); // no handle given back: a card's is parked (below)
  if (handle >= 0 && cards._parked.push(handle) < 2) queueMicrotask(cards._release);
}

export function releaseDisconnected(cards) {
  for (const el of [...cards._items.keys()]) if (!el.isConnected) untrack(cards, el);
}

/** The cards that hold a handle: those an entry last showed in view (or activated first). */
export const cardsInView = (cards) => [...cards._items.keys()].filter((el) => cards._items.get(el) >= 0);

/**
 * A click or key press (abi.js ACT_*) on a card at time t; nothing when it has no handle
 * to give, or is no longer watched (a click held while the core loaded, on a card let go since).
 */
export function activateCard(cards, el, kind, t) {
  let handle = cards._items.get(el);
  if (handle < 0) handle = attach(cards, el, t); // before the observer showed it
  if (handle >= 0) cards._check(activate(cards._core, t, handle, kind));
}

// entry.time shares performance.now()'s time origin; never trust one from the future
// (now: the clock read when the chunk of entries began).
const timeOf = (entry, now) => (entry.time >= 0 && entry.time <= now ? entry.time : now);

/** A geometry (v1) entry: the ratio and area of one card, and v2 watching while it is in view. */
export function feedGeometry(cards, entry, now) {
  const el = entry.target;
  let handle = cards._items.get(el);
  const ratio = entryRatio(entry);
  // Not watched, or out of view without a handle: nothing changes.
  if (handle === undefined || (!ratio && handle < 0)) return;
  const t = timeOf(entry, now); // also the handle's: an entry may be fed well after its time
  // Leaving needs no area: ratio 0 is out of view whatever the card's size, and its
  // handle goes back; the box is read only for a card in view.
  const area = ratio && boxArea(entry.boundingClientRect);
  if (ratio) {
    cards._geometry._fit(el, area);
    if (handle < 0 && (handle = attach(cards, el, t)) < 0) return;
    cards._occlusion?.observe(el); // again: a no-op
  }
  cards._check(elementObserve(cards._core, t, handle, ratio, area));
  // A callback can carry thousands of entries: take each batch as soon as it is due,
  // before the core's queue has to drop the oldest events.
  cards._due();
  if (ratio) return;
  cards._items.set(el, -1);
  detach(cards, el, handle, t);
}

/** An occlusion (v2) entry: what it says about a card that holds a handle. */
export function feedOcclusion(cards, entry, now) {
  const handle = cards._items.get(entry.target);
  if (!(handle >= 0)) return;
  const t = timeOf(entry, now);
  cards._check(elementCover(cards._core, t, handle, coverOf(entry)));
  cards._due();
}
