// Bench entry for Algolia's search-insights (size only: it has no visibility logic; the
// page calls viewedObjectIDs itself).
import aa from 'search-insights';

export function start(config) {
  aa('init', { appId: 'BENCH', apiKey: 'bench', useCookie: false });
  aa('viewedObjectIDs', { index: 'gigs', eventName: 'Gigs viewed', objectIDs: [config.firstId || 'gig-0'] });
  return { flush() {}, stop() {} };
}
