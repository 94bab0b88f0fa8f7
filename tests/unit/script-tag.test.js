// The script-tag build (dist/impression-tracker.js, made by `make glue`) run as a page
// would run it: one classic script in a fresh global scope, configured only by the
// data-* attributes of its own <script> tag, with the core inlined and the real
// transport posting to a fake fetch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import vm from 'node:vm';
import { optionsFromDataset } from '../../js/script-tag.js';
import { bodyText, createPage } from './fakes/dom.js';

const BUILD = new URL('../../dist/impression-tracker.js', import.meta.url);

/** A fresh global scope for the build over the fake page (`extra`: document, fetch, ...). */
function pageContext(page, warnings, extra) {
  const context = {
    navigator: { onLine: true },
    location: { pathname: '/search' },
    performance: { now: page.env.now },
    crypto: { getRandomValues: page.env.getRandomValues },
    setTimeout: page.env.setTimeout,
    clearTimeout: page.env.clearTimeout,
    requestIdleCallback: page.env.requestIdleCallback,
    cancelIdleCallback: page.env.cancelIdleCallback,
    IntersectionObserver: page.env.IntersectionObserver,
    MutationObserver: page.env.MutationObserver,
    addEventListener: page.window.addEventListener.bind(page.window),
    removeEventListener: page.window.removeEventListener.bind(page.window),
    console: { ...console, warn: (...args) => warnings.push(args.join(' ')) },
    TextEncoder, TextDecoder, atob, URL, Blob, Response, DecompressionStream,
    ...extra,
  };
  context.window = context;
  vm.createContext(context);
  return context;
}

describe('script-tag build', () => {
  it('maps data-* attributes to options, leaving absent ones to the defaults', () => {
    const options = optionsFromDataset({ endpoint: '/c', consent: 'pending', occlusion: '', viewMs: '2000', batchMaxEvents: '10', gpc: 'deny', trace: 'false', compress: 'false' });
    assert.equal(options.endpoint, '/c');
    assert.equal(options.compress, false);
    assert.equal(options.consent, 'pending');
    assert.equal(options.occlusion, true, 'a present boolean attribute is true');
    assert.equal(options.debug, undefined, 'data-trace="false": no debug option');
    assert.equal(typeof optionsFromDataset({ trace: '' }).debug.trace, 'function', 'data-trace: a trace recorder');
    assert.equal(options.gpc, 'deny');
    assert.deepEqual(options.viewable, { ratio: undefined, ms: 2000 }, 'absent: undefined, the default');
    assert.deepEqual(options.batch, { maxEvents: 10, maxBytes: undefined, maxAgeMs: undefined });
    assert.equal(options.selector, undefined);
    assert.equal(optionsFromDataset({ compress: 'true' }).compress, true);
  });

  it('refuses a boolean attribute that is neither present, "true" nor "false", and an empty number, naming the option', { skip: !existsSync(BUILD) && 'run make glue' }, async () => {
    for (const [dataset, named] of [[{ occlusion: 'no' }, /option occlusion is not of type boolean/], [{ compress: '0' }, /option compress is not of type boolean/],
      [{ viewMs: '' }, /IMP_ERR_CONFIG \(option viewable\.ms\)/]]) {
      const page = createPage();
      const warnings = [];
      const context = pageContext(page, warnings, {
        document: Object.assign(page.document, { currentScript: { dataset: { endpoint: 'https://collector.test/c', ...dataset } } }),
      });
      vm.runInContext(readFileSync(BUILD, 'utf8'), context);
      const tracker = await context.impressionTracker;
      assert.equal(tracker.stats().active, false, `${JSON.stringify(dataset)}: not read as another value`);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], named);
      assert.match(warnings[0], /^impression-tracker: (?!.*impression-tracker)[^\n]+$/, 'one line, the name once');
    }
  });

  it('starts itself from its script tag, sends what it measures and, with data-trace, gives the trace', { skip: !existsSync(BUILD) && 'run make glue' }, async () => {
    const page = createPage();
    const posted = [];
    const warnings = [];
    const context = pageContext(page, warnings, {
      document: Object.assign(page.document, {
        currentScript: { dataset: { endpoint: 'https://collector.test/c', batchMaxEvents: '2', listAttribute: 'data-q', trace: '' } },
      }),
      fetch: async (url, init) => {
        posted.push([url, init.body]);
        return { ok: true, status: 204, headers: { get: () => null } };
      },
      localStorage: {
        store: new Map(),
        getItem(k) { return this.store.has(k) ? this.store.get(k) : null; },
        setItem(k, v) { this.store.set(k, String(v)); },
        removeItem(k) { this.store.delete(k); },
        key(i) { return [...this.store.keys()][i] ?? null; },
        get length() { return this.store.size; },
      },
    });
    vm.runInContext(readFileSync(BUILD, 'utf8'), context);
    const tracker = await context.impressionTracker;
    assert.equal(tracker.stats().active, true);
    const list = page.el({ 'data-q': 'query-7' });
    const cards = [1, 2].map((i) => page.el({ 'data-gig-id': `gig-${i}`, 'data-position': i }));
    list.append(...cards);
    page.document.body.append(list);
    await page.settle();
    page.intersect(cards[0], 1);
    page.intersect(cards[1], 1);
    await page.settle();
    assert.equal(posted.length, 1, 'a batch of two events is due at once');
    const [url, body] = posted[0];
    assert.equal(url, 'https://collector.test/c');
    const batch = JSON.parse(bodyText(body));
    assert.deepEqual(batch.ev.map((e) => [e.e, e.id, e.pos, e.list]), [['imp', 'gig-1', 1, 'query-7'], ['imp', 'gig-2', 2, 'query-7']]);
    assert.match(tracker.trace(), /^elem \S+ 1 gig-1 query-7$/m, 'data-trace: the trace of what it fed the core');
    vm.runInContext(readFileSync(BUILD, 'utf8'), context);
    assert.equal(await context.impressionTracker, tracker, 'a second copy of the script does not start a second tracker');
    assert.deepEqual(warnings, []);
  });

  it('loaded with type="module" (no document.currentScript), reads the tag that has data-endpoint', { skip: !existsSync(BUILD) && 'run make glue' }, async () => {
    const page = createPage();
    const asked = [];
    const warnings = [];
    const tag = { dataset: { endpoint: 'https://collector.test/c', consent: 'pending' } };
    const context = pageContext(page, warnings, {
      document: Object.assign(page.document, {
        currentScript: null,
        querySelector: (selector) => (asked.push(selector), tag),
      }),
    });
    vm.runInContext(readFileSync(BUILD, 'utf8'), context);
    const tracker = await context.impressionTracker;
    assert.deepEqual(warnings, []);
    assert.deepEqual(asked, ['script[data-endpoint]']);
    assert.equal(tracker.stats().active, true);
    assert.equal(tracker.stats().transport.consent, 'pending', 'the tag\'s other attributes too');
  });
});
