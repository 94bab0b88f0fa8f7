// The options both of impression-tracker's bench entries (ours.js, ours-embedded.js)
// start it with, for the benchmark rule: 50 % for 1000 ms continuously, batches of 50.
// capacity comes from the runner (the 5,000-card grid needs more than some defaults).
export function trackerOptions(config) {
  return {
    endpoint: `${config.collector}/collect`,
    selector: config.selector,
    batch: { maxEvents: 50 },
    viewable: { ratio: 0.5, ms: 1000 },
    capacity: config.capacity,
    onError: config.onError,
  };
}
