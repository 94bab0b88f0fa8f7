// page-view-check.js: makes an early newPageView() visible. The rule: call it after the
// new route's content is in the DOM. Called before (in a click handler, or in a router
// hook that runs before the framework renders), the old page's cards are still on
// screen, get a fresh impression in the new page view, and leave a moment later. So
// when most of the cards in view at a newPageView() have left the document
// CHECK_AFTER_MS later, the tracker warns once (console.warn, or onError when set).

const CHECK_AFTER_MS = 1000;

/**
 * @param env the tracker's env (setTimeout, clearTimeout)
 * @param {Element[]} inView the cards in view when the page view began
 * @param report the tracker's reporter (warn.js)
 * @returns {() => void} cancels the check (the next page view, stop())
 */
export function checkPageViewTiming(env, inView, report) {
  if (!inView.length) return () => {};
  const timer = env.setTimeout(() => {
    const gone = inView.filter((el) => !el.isConnected).length;
    if (gone * 2 >= inView.length) { // half of them or more (so at least one: inView is not empty)
      report._warn(`newPageView() came before the new content: ${gone} old cards counted again. Call it once the route has rendered`);
    }
  }, CHECK_AFTER_MS);
  return () => env.clearTimeout(timer);
}
