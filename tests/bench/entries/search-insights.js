// Bench entry for Algolia's search-insights, integrated the way its documentation
// suggests for a results grid: an IntersectionObserver at 50 % reports the ids of the
// cards that came into view, once per card, one viewedObjectIDs call per observer
// callback (at most 20 ids per event, Algolia's limit). It sends ids only: no times,
// positions, viewable time or clicks. Its requests go to the bench collector (option
// host) as sendBeacon text/plain JSON.
import aa from 'search-insights';

export function start(config) {
  aa('init', { appId: 'BENCH', apiKey: 'bench', useCookie: false, host: config.collector });
  aa('setUserToken', 'bench-user');
  const seen = new Set();
  const observer = new IntersectionObserver((entries) => {
    const ids = [];
    for (const e of entries) {
      const id = e.target.getAttribute('data-gig-id');
      if (e.intersectionRatio >= 0.5 && id && !seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
    for (let i = 0; i < ids.length; i += 20) {
      aa('viewedObjectIDs', { index: 'gigs', eventName: 'Gigs viewed', objectIDs: ids.slice(i, i + 20) });
    }
  }, { threshold: [0.5] });
  for (const el of document.querySelectorAll(config.selector)) observer.observe(el);
  return { flush() {}, stop() { observer.disconnect(); } };
}
