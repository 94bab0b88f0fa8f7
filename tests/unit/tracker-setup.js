// What the tracker-*.test.js files share: a grid of cards on a fake page (each card with
// a link inside, for clicks on a child), a tracker started on a page with such a grid,
// and the events written as "kind:id".

import { addGrid, startOnPage } from './fakes/tracker.js';

/** A grid: a list container with cards gig-<first>.. at positions first.., a link in each. */
export const grid = (page, n, list = 'q1', first = 1) => addGrid(page, n, list, first, true);

/** Events as "kind:id", in order. */
export const kinds = (events) => events.map((e) => `${e.e}:${e.id}`);

/** A tracker on a new fake page (startOnPage's options) with a grid of n cards, discovered. */
export async function startWithGrid(n, options) {
  const started = await startOnPage(options);
  const { cards } = grid(started.page, n);
  await started.page.settle();
  return { ...started, cards };
}
