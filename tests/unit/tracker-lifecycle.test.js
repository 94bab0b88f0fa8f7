// The page's lifecycle through the glue on a fake page, running the real core: capture
// listeners on window (never unload), a hidden page flushed once by sendBeacon, a
// back/forward cache restore, prerendering, window focus and newPageView().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOnPage as start } from './fakes/tracker.js';
import { kinds, startWithGrid } from './tracker-setup.js';

describe('page lifecycle', () => {
  it('listens in the capture phase on window and never to unload or beforeunload; stop() removes all', async () => {
    const { page, tracker, transport } = await start();
    const types = page.window.listeners.map((l) => l.type).sort();
    assert.deepEqual(types, ['animationend', 'blur', 'close', 'focus', 'focusin', 'freeze', 'offline', 'online', 'pagehide', 'pageshow', 'prerenderingchange',
      'resize', 'resume', 'scrollend', 'transitionend', 'visibilitychange']); // animationend, close, focusin, resize, scrollend, transitionend: observer.js
    assert.ok(page.window.listeners.every((l) => l.capture));
    tracker.stop();
    assert.equal(page.window.listeners.length, 0);
    assert.equal(page.document.listeners.length, 0);
    assert.equal(page.observers.mutation.length + page.observers.intersection.length, 0);
    assert.equal(page.clock.timers.length, 0);
    assert.equal(transport.sends.length, 0, 'nothing was queued, nothing sent');
  });

  it('hiding the page flushes once with sendBeacon; pagehide and freeze after it add nothing', async () => {
    const { page, transport, cards } = await startWithGrid(2);
    page.intersect(cards[0], 1);
    page.advance(400);
    page.hide();
    page.lifecycle('pagehide', { persisted: false });
    page.lifecycle('freeze');
    assert.deepEqual(transport.calls.map((c) => c.kind), ['beacon']);
    assert.deepEqual(kinds(JSON.parse(transport.bodies[0]).ev), ['imp:gig-1', 'vis:gig-1']);
    page.show();
    assert.equal(transport.calls.length, 1, 'nothing more when shown again');
  });

  it('a back/forward cache restore starts a new page view', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1);
    page.intersect(cards[0], 1);
    const firstView = tracker.stats().pageView;
    page.lifecycle('pagehide', { persisted: true });
    page.lifecycle('pageshow', { persisted: true });
    page.intersect(cards[0], 1);
    tracker.flush();
    const pageViews = transport.bodies.map((b) => JSON.parse(b).pv);
    assert.notEqual(tracker.stats().pageView, firstView);
    assert.deepEqual([...new Set(pageViews)], [firstView, tracker.stats().pageView]);
    assert.ok(transport.events.filter((e) => e.e === 'imp').length === 2, 'one impression per page view');
    page.lifecycle('pageshow', { persisted: false });
    assert.equal(tracker.stats().pageView, pageViews.at(-1), 'a first load pageshow is not a restore');
  });

  it('measures nothing while prerendering, and starts on activation', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(1, { page: { prerendering: true } });
    page.intersect(cards[0], 1);
    page.advance(3000);
    tracker.flush();
    assert.deepEqual(transport.events, []);
    page.document.prerendering = false;
    page.lifecycle('prerenderingchange');
    page.intersect(cards[0], 1);
    page.advance(1000);
    tracker.flush();
    assert.deepEqual(kinds(transport.events), ['imp:gig-1', 'view:gig-1']);
  });
});

describe('page lifecycle: focus and page views', () => {
  it('records window focus, ignoring focus events of elements', async () => {
    const { page, transport, tracker, cards } = await startWithGrid(2);
    page.lifecycle('blur');
    page.window.listeners.filter((l) => l.type === 'focus').forEach((l) => l.fn({ type: 'focus', target: cards[0] }));
    page.intersect(cards[0], 1);
    page.lifecycle('focus');
    page.intersect(cards[1], 1);
    tracker.flush();
    assert.deepEqual(transport.events.map((e) => e.f), [0, 1]);
  });

  it('newPageView() starts a new page view with the path only', async () => {
    const { transport, tracker, debug } = await start();
    tracker.newPageView({ path: '/category/logo-design?ref=home#top' });
    assert.equal(tracker.stats().path, '/category/logo-design');
    assert.match(debug.trace(), /^page \S+ 0 [0-9a-f]{32} \/category\/logo-design$/m);
    assert.equal(transport.bodies.length, 0);
  });
});
