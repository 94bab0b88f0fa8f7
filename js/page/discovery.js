// discovery.js: finds the cards of a page without one listener per card. A first scan
// (querySelectorAll of the selector) when the tracker starts, so cards already on
// screen are measured from the start, and a MutationObserver for cards added later
// (infinite scroll, client-side rendering), removed cards and id, position or list
// attributes that change (a recycled node). Mutation records are only collected in the
// observer callback; their work runs once per batch, in idle time (or after a short
// timeout where requestIdleCallback is missing), off the page's critical path, except
// for a card in view whose id changed, which is another card at once. The
// first scan is one task (see watchDom). A new page view first
// handles the records not yet handled (_catchUp), so a card node a framework reused
// for another card (same element, new id) is the new card before the page view begins.

import { releaseDisconnected, track, untrack } from './cards.js';

// The first scan watches every card in one task. Finding a card costs little (a record
// and an observe() call, no attribute read: that waits for the card to show), while
// every frame that follows new observe() calls makes the browser measure all the cards
// observed so far: a scan in slices of 500 cards, one task each, cost 40 such passes on
// 20,000 cards (0.7 s of the browser's work at start, measured).
/**
 * @param cards the card state (cards.js)
 * @param env resolved environment (options.js)
 * @param o resolved options: selector and the three attribute names
 * @param guard wraps a callback so nothing escapes into the page
 * @param pump () => void: runs after each pass
 * @returns {{_stop(): void, _catchUp(): void}} stop watching; handle pending records now
 */
export function watchDom(cards, env, o, guard, pump) {
  const selector = o.selector;
  const idle = env.requestIdleCallback;
  let records = [];
  let scheduled = 0; // the id of the pending run's idle callback or timeout, 0: none
  const cancel = () => {
    if (scheduled) (idle ? env.cancelIdleCallback : env.clearTimeout)?.(scheduled);
    scheduled = 0;
  };
  // A card found (matches: true) or one whose attributes changed: the page's own cards
  // (observe()) keep their options; an element that no longer matches is released.
  const update = (el, matches = el.matches(selector)) => {
    if (cards._manual.has(el)) track(cards, el, cards._manual.get(el), true);
    else if (matches) track(cards, el);
    else untrack(cards, el);
  };
  const updateAll = (root) => { for (const el of root.querySelectorAll(selector)) update(el, true); }; // the cards in root
  const run = guard(() => {
    cancel(); // run now: the idle callback or timeout is not needed; or it is this call
    const batch = records;
    records = [];
    // The page changed: its bars may have too (a header rendered with the first cards);
    // measured before the new cards are observed, so they are observed once.
    cards._geometry._fitBars();
    // Before the core, a card that left keeps its record: entries held for it still
    // count (early.js); the tracker releases it once they have (cards._sweepLater).
    if (batch.some((r) => r.removedNodes.length)) {
      if (cards._core) releaseDisconnected(cards);
      else cards._sweepLater = true;
    }
    for (const r of batch) {
      if (r.type === 'attributes') {
        update(r.target);
        // A list id set on a container applies to every card inside it.
        if (r.attributeName === o.listAttribute) updateAll(r.target);
      } else {
        for (const node of r.addedNodes) {
          if (node.nodeType !== 1) continue;
          if (node.matches(selector)) update(node, true);
          updateAll(node);
        }
      }
    }
    pump();
  });
  // A removed node that held a card in view (itself or inside it).
  const heldIn = (node) => !node.isConnected && [node, ...(node.querySelectorAll?.(selector) || [])].some((el) => cards._items.get(el) >= 0);
  const observer = new env.MutationObserver(guard((list) => {
    // A card in view whose id changed (a node a virtual list reused) is another card
    // now: its old id must not go on counting until idle time, which a scroll delays.
    // A card in view removed: the records are handled now, so a new element of its id
    // (a re-render) takes its handle over in this task (cards.js). The other records
    // wait for idle time.
    for (const r of list) {
      if (r.attributeName === o.idAttribute && cards._items.get(r.target) >= 0) update(r.target);
      else records.push(r);
    }
    if (list.some((r) => [...r.removedNodes].some(heldIn))) run();
    else scheduled = scheduled || (idle ? idle(run, { timeout: 500 }) : env.setTimeout(run, 50));
  }));
  observer.observe(env.document.documentElement || env.document, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: [o.idAttribute, o.positionAttribute, o.listAttribute],
  });
  updateAll(env.document); // the first scan, in this task (above)
  pump();
  return {
    _stop() {
      observer.disconnect();
      cancel();
    },
    _catchUp() {
      records = records.concat(observer.takeRecords()); // not push(...): any number of them
      if (records.length) run();
    },
  };
}
