// Compiled by `make types` (tsc --strict --noEmit) with the handwritten declarations:
// uses the API as a consumer would, so a declaration that is wrong or too loose fails.
import { createTracker, type Tracker, type TrackerEvent, type TrackerOptions } from '../../js/index.js';
import { createTracker as createEmbedded } from '../../js/embedded.js';
import { replay } from '../../js/replay.js';
import { trackerDebug, type DeliveryDebugInfo } from '../../js/debug.js';

const debug = trackerDebug({
  trace: true,
  onEvent: (event: TrackerEvent, pageView) => console.debug(event.e, event.id, pageView.pv, pageView.path, pageView.gpc === 1),
  onDelivery: (info: DeliveryDebugInfo) => console.debug(info.kind, info.ticket),
});

const options: TrackerOptions = {
  endpoint: '/collect',
  selector: '[data-gig-id]',
  viewable: { ratio: 0.5, ms: 1000 },
  batch: { maxEvents: 20, maxAgeMs: 3000 },
  capacity: { items: 2048 },
  consent: 'pending',
  gpc: 'deny',
  occlusion: true,
  compress: false,
  onError: (error) => console.warn(error.message, error.status),
  debug,
};

async function main(): Promise<void> {
  const tracker: Tracker = await createTracker(options);
  const card = document.querySelector('.card');
  if (card) tracker.observe(card, { id: 'gig-1', position: 1, list: 'q' });
  tracker.newPageView({ path: '/next' });
  tracker.setConsent(true);
  const stats = tracker.stats();
  const active: boolean = stats.active;
  const pending: number = stats.queuedEvents;
  const delivered: number = (stats.transport?.sent ?? 0) + (stats.transport?.dropped.byReason.lost ?? 0);
  const collector: 'ok' | 'failing' | undefined = stats.transport?.collector;
  console.log(active, pending, delivered, collector, debug.trace().length);
  tracker.flush();
  tracker.stop();
  const embedded = await createEmbedded({ endpoint: 'https://collector.example/collect' });
  embedded.stop();
  const out: Uint8Array = await replay(debug.trace(), new URL('https://cdn.example/imp.wasm'));
  console.log(out.length);
  // @ts-expect-error the debug option is made by trackerDebug(), not a plain callback
  await createTracker({ endpoint: '/collect', debug: (info: DeliveryDebugInfo) => console.debug(info) });
  // @ts-expect-error an object with a trace() of its own is not made by trackerDebug() either
  await createTracker({ endpoint: '/collect', debug: { trace: () => '' } });
  // @ts-expect-error trackerDebug()'s internals are not part of its type
  debug._attach;
  // @ts-expect-error onEvent is trackerDebug()'s, not an option of the tracker
  await createTracker({ endpoint: '/collect', onEvent: (event: TrackerEvent) => console.debug(event) });
  // @ts-expect-error the trace is the debug option's, not the tracker's
  tracker.trace();
  // @ts-expect-error consent is a closed set
  await createTracker({ endpoint: '/collect', consent: 'yes' });
  // @ts-expect-error the endpoint is required (without it the tracker is a no-op)
  await createTracker({ consent: 'pending' });
  // @ts-expect-error so are the options
  await createTracker();
  // @ts-expect-error observe() needs an element
  tracker.observe('gig-1');
}
void main();

// The script-tag build's global (js/script-tag.d.ts).
export const consented: Promise<void> = impressionTracker.then((tracker) => {
  tracker.setConsent(true);
  console.debug(tracker.trace?.().length);
});
