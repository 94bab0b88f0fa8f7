// A tracker on a fake page, for the glue's unit tests: the real core (js/imp.wasm)
// through the real loader and module entry, the fake DOM and clock of ./dom.js, a
// recording transport, errors collected instead of thrown, and the debug option
// (js/debug.js) with the trace on and the test's onEvent and onDelivery hooks.

import { trackerDebug } from '../../../js/debug.js';
import { createTracker } from '../../../js/index.js';
import { createPage, fakeNetwork, wasmBytes } from './dom.js';

/**
 * Starts a tracker on a new fake page; options are the public ones (page: createPage's),
 * plus trackerDebug()'s hooks onEvent and onDelivery.
 */
export async function startOnPage({ page: pageOptions, onEvent, onDelivery, ...options } = {}) {
  const page = createPage(pageOptions);
  const transport = fakeNetwork();
  const errors = [];
  const debug = 'debug' in options ? options.debug : trackerDebug({ trace: true, onEvent, onDelivery });
  const tracker = await createTracker({
    endpoint: '/collect',
    wasm: wasmBytes(),
    debug,
    onError: (error) => errors.push(error),
    ...options,
    env: { ...page.env, ...transport.env, ...options.env },
  });
  return { page, transport, tracker, errors, debug };
}

/** A grid in the page: a list container with cards gig-<first>.. at positions first..
 * (with `link`, a link inside each, for clicks on a child). */
export function addGrid(page, n, list = 'q1', first = 1, link = false) {
  const container = page.el({ 'data-list-id': list });
  const cards = [];
  for (let i = first; i < first + n; i++) {
    const card = page.el({ 'data-gig-id': `gig-${i}`, 'data-position': i });
    if (link) card.append(page.el({}, 'A'));
    container.append(card);
    cards.push(card);
  }
  page.document.body.append(container);
  return { container, cards };
}
