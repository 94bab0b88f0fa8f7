// activation.js: clicks and keyboard activation of cards, from one delegated
// capture-phase listener per event type on the document (never one per card). A click
// anywhere inside a card is passed on for the innermost tracked card around it, marked
// as a script click when event.detail is 0. Enter or Space is passed on only when the
// card itself has focus and is not a link, button or form control: those fire a click
// of their own on activation. Whether a script click is the echo of a key press (a
// page's keydown handler calling el.click()) is the core's call (imp_activate).

import { ACT_CLICK, ACT_KEY, ACT_SCRIPT } from '../core/abi.js';

const NATIVE_ACTIVATION = /^(a|area|button|input|select|textarea|summary|label|option)$/i;

/**
 * @param env resolved environment
 * @param find (node) => the tracked record of a node, or undefined
 * @param activate (record, kind) => void; kind is abi.js ACT_CLICK, ACT_SCRIPT or ACT_KEY
 * @param guard wraps a listener so nothing escapes into the page
 * @returns a function that removes the listeners
 */
export function listenActivation(env, find, activate, guard) {
  const doc = env.document;
  const cardOf = (event) => {
    const path = event.composedPath ? event.composedPath() : [];
    for (const node of path.length ? path : walk(event.target)) {
      const record = find(node);
      if (record) return record;
    }
    return undefined;
  };
  const onClick = guard((event) => {
    const record = cardOf(event);
    if (record) activate(record, event.detail === 0 ? ACT_SCRIPT : ACT_CLICK);
  });
  const onKey = guard((event) => {
    if ((event.key !== 'Enter' && event.key !== ' ') || event.repeat) return;
    const record = find(event.target);
    if (record && !NATIVE_ACTIVATION.test(event.target.tagName)) activate(record, ACT_KEY);
  });
  doc.addEventListener('click', onClick, true);
  doc.addEventListener('keydown', onKey, true);
  return () => {
    doc.removeEventListener('click', onClick, true);
    doc.removeEventListener('keydown', onKey, true);
  };
}

function* walk(node) {
  for (; node; node = node.parentNode) yield node;
}
