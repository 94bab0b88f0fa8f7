// activation.js: clicks and keyboard activation of cards, from one delegated
// capture-phase listener per event type on the document (never one per card). A click
// anywhere inside a card counts for the innermost tracked card around it. Enter or Space
// counts only when the card itself has focus and is not a link, button or form control:
// those fire a click of their own on activation. A script click (detail 0) that a
// page's keydown handler fires right after our keydown on the same card is not counted
// twice.

const NATIVE_ACTIVATION = /^(a|area|button|input|select|textarea|summary|label|option)$/i;

/**
 * @param env resolved environment
 * @param find (node) => the tracked record of a node, or undefined
 * @param activate (record) => void
 * @param guard wraps a listener so nothing escapes into the page
 * @returns a function that removes the listeners
 */
export function listenActivation(env, find, activate, guard) {
  const doc = env.document;
  let lastKey = null;
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
    if (!record) return;
    const echo = event.detail === 0 && lastKey && lastKey.record === record && env.now() - lastKey.t < 1000;
    lastKey = null;
    if (!echo) activate(record);
  });
  const onKey = guard((event) => {
    if ((event.key !== 'Enter' && event.key !== ' ') || event.repeat) return;
    const record = find(event.target);
    if (!record || NATIVE_ACTIVATION.test(event.target.tagName)) return;
    lastKey = { record, t: env.now() };
    activate(record);
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
