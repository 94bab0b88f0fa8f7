// Bench entry for impression-tracker's single-file module entry (js/embedded.js: the
// core inlined as base64), same configuration as ours.js.
import { createTracker } from '../../../js/embedded.js';

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
