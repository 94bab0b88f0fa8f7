// Bench entry for impression-tracker's module entry (js/index.js; the core is fetched
// from imp.wasm beside the bundle), configured for the benchmark rule: 50 % for
// 1000 ms continuously, batches of 50. capacity.items is raised to the number of cards
// (the default table holds 4,096 items; the 5,000-card grid needs more).
import { createTracker } from '../../../js/index.js';

export function start(config) {
  return createTracker({
    endpoint: `${config.collector}/collect`,
    selector: config.selector,
    batch: { maxEvents: 50 },
    viewable: { ratio: 0.5, ms: 1000 },
    capacity: config.capacity,
    onError: config.onError,
  });
}
