// page-view.js: what a new page view is made of in the browser: a random id (16 bytes
// of getRandomValues as hex), the path without query string or fragment (neither ever
// leaves the browser), and the flags the core records (webdriver, hidden, prerendering,
// unfocused, Global Privacy Control). The core begins the page view with them.

import { FLAG_GPC, FLAG_HIDDEN, FLAG_PRERENDER, FLAG_UNFOCUSED, FLAG_WEBDRIVER } from '../core/abi.js';

/**
 * @param env resolved environment (document, navigator, location, getRandomValues)
 * @param meta newPageView()'s argument: {path?}
 * @returns {{_pageView: string, _path: string, _flags: number}}
 */
export function newPageViewFacts(env, meta) {
  // Spread, not Array.from(bytes, fn): Prototype.js's Array.from takes no map function.
  const doc = env.document;
  const nav = env.navigator || {};
  return {
    _pageView: [...env.getRandomValues(new Uint8Array(16))].map((b) => (b + 256).toString(16).slice(1)).join(''),
    _path: String(meta?.path ?? env.location?.pathname ?? '').replace(/[?#][^]*$/, ''),
    _flags: (nav.webdriver ? FLAG_WEBDRIVER : 0)
      | (doc.visibilityState === 'hidden' ? FLAG_HIDDEN : 0)
      | (doc.prerendering ? FLAG_PRERENDER : 0)
      | (doc.hasFocus && !doc.hasFocus() ? FLAG_UNFOCUSED : 0)
      | (nav.globalPrivacyControl === true ? FLAG_GPC : 0),
  };
}
