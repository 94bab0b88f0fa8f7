// The React binding rendered without its provider (a component alone in a story or a
// test, or a page that forgot <TrackerProvider>): the hooks give a handle that tracks
// nothing and console.warn says so once; nothing is thrown into the page. Rendered with
// react-dom/server, which runs the hooks' bodies (not effects or refs).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { useCard, usePageView, useTracker } from '../../js/react.js';

describe('impression-tracker/react outside <TrackerProvider>', () => {
  it('renders, does nothing, and warns once', (t) => {
    const warned = [];
    t.mock.method(console, 'warn', (...args) => warned.push(args.join(' ')));
    const seen = [];
    function Card({ id }) {
      const ref = useCard({ id, position: 1, list: 'promoted' });
      usePageView('/search');
      const handle = useTracker();
      handle.setConsent(true);
      handle.flush();
      handle.newPageView();
      seen.push([typeof ref, handle.tracker, handle.stats()]);
      return createElement('aside', null, id);
    }
    const html = renderToString(createElement('div', null, createElement(Card, { id: 'gig-1' }), createElement(Card, { id: 'gig-2' })));
    assert.match(html, /gig-1.*gig-2/);
    assert.deepEqual(seen, [['function', null, undefined], ['function', null, undefined]]);
    assert.equal(warned.length, 1, 'once, however many hooks');
    assert.match(warned[0], /outside <TrackerProvider>: nothing is tracked/);
  });
});
