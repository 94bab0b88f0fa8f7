// Compiled by `make types` (tsc --strict --noEmit) with the handwritten declarations of
// impression-tracker/react, used as a React consumer would (createElement, no JSX).
import { createElement, type ReactNode } from 'react';
import { TrackerProvider, useCard, usePageView, useTracker, type TrackerHandle } from '../../js/react.js';
import { createTracker as createEmbedded } from '../../js/embedded.js';

function Card({ id, position }: { id: string; position: number }): ReactNode {
  const ref = useCard({ id, position, list: 'q-42' });
  return createElement('li', { ref }, id);
}

function Results({ path }: { path: string }): ReactNode {
  usePageView(path);
  usePageView(path, { path: '/search' });
  const tracker: TrackerHandle = useTracker();
  tracker.setConsent(true);
  const elements: number | undefined = tracker.stats()?.elements;
  console.log(elements, tracker.tracker?.stats().pageView);
  // @ts-expect-error a card's position is a number
  useCard({ id: 'gig-1', position: '1' });
  return createElement('ul', null, createElement(Card, { id: 'gig-1', position: 1 }));
}

export const app = createElement(TrackerProvider, { options: { endpoint: '/collect' }, createTracker: createEmbedded },
  createElement(Results, { path: '/search' }));
// @ts-expect-error options are TrackerOptions
createElement(TrackerProvider, { options: { endpoint: '/collect', consent: 'yes' } });
// @ts-expect-error the provider needs the options, endpoint included
createElement(TrackerProvider, { options: { consent: 'pending' } });
