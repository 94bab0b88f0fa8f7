// Bench entry for Snowplow's browser tracker with element tracking, configured for the
// closest rule it supports: an "impression" configuration (expose, any pixel, once per
// element) and a "viewable" one (expose at 50 % after 1000 ms in view; Snowplow counts
// that time cumulatively, not continuously), batches of 50 POSTed with keepalive so the
// flush on page hide survives the navigation. The plugin keeps one state per element
// shared by all configurations, so two rules on the same element make the second one
// never fire: the viewable rule watches the card's .body, which has exactly the card's
// box. The card id and position ride along as element attributes, as an integrator
// would need them.
import { newTracker } from '@snowplow/browser-tracker';
import { SnowplowElementTrackingPlugin, startElementTracking } from '@snowplow/browser-plugin-element-tracking';

export function start(config) {
  newTracker('bench', config.collector, {
    appId: 'bench',
    eventMethod: 'post',
    bufferSize: 50,
    keepalive: true,
    plugins: [SnowplowElementTrackingPlugin()],
  });
  const card = (el) => el.closest('[data-gig-id]') || el;
  const details = (el) => ({ gigId: card(el).dataset.gigId, position: card(el).dataset.position });
  startElementTracking({
    elements: [
      { name: 'card_imp', selector: config.selector, expose: { when: 'element' }, details },
      {
        name: 'card_view',
        selector: `${config.selector} > .body`,
        expose: { when: 'element', minPercentage: 0.5, minTimeMillis: 1000 },
        details,
      },
    ],
  });
  return { flush() {}, stop() {} };
}
