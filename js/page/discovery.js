// discovery.js: finds the cards of a page without one listener per card. A first scan
// (querySelectorAll of the selector) when the tracker starts, so cards already on
// screen are measured from the start, and a MutationObserver for cards added later
// (infinite scroll, client-side rendering), removed cards and id, position or list
// attributes that change (a recycled node). Mutation records are only collected in the
// observer callback; their work runs once per batch, in idle time (or after a short
// timeout where requestIdleCallback is missing), off the page's critical path. The
// first scan is one task (see below). A new page view first
// handles the records not yet handled (_catchUp), so a card node a framework reused
// for another card (same element, new id) is the new card before the page view begins.

/**
 * @param env resolved environment (options.js)
 * @param o resolved options: selector and the three attribute names
 * @param on {_guard(fn), _found(el), _changed(el), _sweep(), _done()}: _sweep() releases disconnected cards
 * @returns {{_stop(): void, _catchUp(): void}} stop watching; handle pending records now
 */
export function watchDom(env, o, on) {
  const selector = o.selector;
  const idle = env.requestIdleCallback;
  let records = [];
  let scheduled = 0; // the id of the pending run's idle callback or timeout, 0: none
  const cancel = () => {
    if (scheduled) (idle ? env.cancelIdleCallback : env.clearTimeout)?.(scheduled);
    scheduled = 0;
  };
  const run = on._guard(() => {
    scheduled = 0;
    const batch = records;
    records = [];
    if (batch.some((r) => r.removedNodes?.length)) on._sweep();
    for (const r of batch) {
      if (r.type === 'attributes') {
        on._changed(r.target);
        // A list id set on a container applies to every card inside it.
        if (r.attributeName === o.listAttribute) for (const el of r.target.querySelectorAll(selector)) on._changed(el);
      } else {
        for (const node of r.addedNodes) {
          if (node.nodeType !== 1) continue;
          if (node.matches(selector)) on._found(node);
          for (const el of node.querySelectorAll(selector)) on._found(el);
        }
      }
    }
    on._done();
  });
  const observer = new env.MutationObserver(on._guard((list) => {
    records.push(...list);
    scheduled ||= idle ? idle(run, { timeout: 500 }) : env.setTimeout(run, 50);
  }));
  observer.observe(env.document.documentElement || env.document, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: [o.idAttribute, o.positionAttribute, o.listAttribute],
  });
  // The first scan watches every card in this task. Finding a card costs little (a
  // record and an observe() call, no attribute read: that waits for the card to show),
  // while every frame that follows new observe() calls makes the browser measure all
  // the cards observed so far: a scan in slices of 500 cards, one task each, cost
  // 40 such passes on 20,000 cards (0.7 s of the browser's work at start, measured).
  for (const el of env.document.querySelectorAll(selector)) on._found(el);
  on._done();
  return {
    _stop() {
      observer.disconnect();
      cancel();
    },
    _catchUp() {
      records.push(...observer.takeRecords());
      if (!records.length) return;
      cancel();
      run();
    },
  };
}
