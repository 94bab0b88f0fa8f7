// activation.js: clicks and keyboard activation of cards, from one delegated
// capture-phase listener on the document for click, auxclick and keydown (never one per
// card). A click anywhere inside a card is passed on for the innermost tracked card on
// its path (composedPath: a card inside an open shadow root counts too), marked as a
// script click when event.detail is 0. Enter, or Space on a card with role="button"
// (Space elsewhere scrolls the page), is passed on only when the card itself has focus
// and is not a link, button or form control: those fire a click of their own on
// activation. A middle click (auxclick, button 1) on a link, in the card or around it
// (the card opened in a new tab), is a click too; one elsewhere (it opens nothing) and
// other auxclicks (the context menu's) are not. Whether a script click is the echo of a
// key press (a page's keydown handler calling el.click()) is the core's call
// (imp_activate).

import { ACT_CLICK, ACT_KEY, ACT_SCRIPT } from '../core/abi.js';
import { listen } from './lifecycle.js';

const NATIVE_ACTIVATION = /^(a|area|button|input|select|textarea|summary|label|option)$/i;

/**
 * @param env resolved environment
 * @param isCard (node) => whether the node is a tracked card
 * @param activate (card, kind) => void; kind is abi.js ACT_CLICK, ACT_SCRIPT or ACT_KEY
 * @param guard wraps a listener so nothing escapes into the page
 * @returns a function that removes the listener
 */
export function listenActivation(env, isCard, activate, guard) {
  return listen(env.document, ['click', 'auxclick', 'keydown'], guard((event) => {
    const el = event.target;
    const path = event.composedPath();
    // A middle click opens a new tab only from a link (in the card or around it).
    if (event.type === 'click' || (event.button === 1 && path.some((node) => node.href))) {
      const card = path.find(isCard);
      if (card) activate(card, event.detail === 0 ? ACT_SCRIPT : ACT_CLICK);
    // Enter, or Space on a card with role="button" (ARIA: a link takes Enter alone;
    // Space on anything else scrolls the page). The card first: a script may dispatch a
    // key press on the document itself, which has no attributes.
    } else if (isCard(el) && /^(Enter| button)/.test(event.key + el.getAttribute('role')) && !event.repeat && !NATIVE_ACTIVATION.test(el.tagName)) {
      activate(el, ACT_KEY);
    }
  }));
}
