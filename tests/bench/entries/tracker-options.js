// The options impression-tracker's bench entries start it with, for the benchmark rule:
// 50 % for 1000 ms continuously; the batch policy and compression at their defaults.
// capacity comes from the runner (the 5,000-card grid needs more than some defaults).
export function trackerOptions(config) {
  return {
    endpoint: `${config.collector}/collect`,
    selector: config.selector,
    viewable: { ratio: 0.5, ms: 1000 },
    capacity: config.capacity,
    onError: config.onError,
  };
}
