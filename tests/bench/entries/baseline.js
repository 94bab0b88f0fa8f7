// Bench entry for the plain-JS baseline: what the size table bundles and the page loads.
import { startBaselineTracker } from '../baseline.js';

export function start(config) {
  return startBaselineTracker({
    endpoint: `${config.collector}/baseline`,
    selector: config.selector,
    batchSize: 50,
    viewRatio: 0.5,
    viewMs: 1000,
    list: config.list,
  });
}
