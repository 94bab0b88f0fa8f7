// readme.test.js: the README's code runs as written. Its module-build example, its
// React example (under StrictMode) and its script-tag snippet (with the queue stub) are
// taken from README.md, bundled with the project's esbuild as a user's bundler would
// (the package name resolving to js/, imp.wasm copied beside the bundle) and run in
// Chromium; their batches go to the README's endpoint, /collect on the page's origin,
// answered by the test (page.route). Only the page around each snippet is the test's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { useBrowserSuite } from './browser.js';
import { waitFor } from './server.js';
import { decodeBody } from '../../demo/inflate.js';

let site;
const { open } = useBrowserSuite({}, (shared) => ({ site } = shared));

const ROOT = new URL('../../', import.meta.url).pathname;
const README = readFileSync(new URL('README.md', `file://${ROOT}`), 'utf8');

/** The first fenced block of `lang` after the heading `heading`. */
function snippet(heading, lang) {
  const at = README.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has no heading ${heading}`);
  const block = README.slice(at).match(new RegExp('```' + lang + '\\n([^]*?)```'));
  assert.ok(block, `no ${lang} block under ${heading}`);
  return block[1];
}

/** Bundles `code` as the user's bundler would: ESM, the package name resolving to js/. */
async function bundle(code, loader = 'js') {
  const out = await build({
    stdin: { contents: code, loader, resolveDir: ROOT, sourcefile: 'app.jsx' },
    bundle: true, format: 'esm', write: false, target: 'es2022', logLevel: 'silent', jsx: 'automatic',
    alias: { 'impression-tracker': `${ROOT}js` }, define: { 'process.env.NODE_ENV': '"development"' },
  });
  return out.outputFiles[0].text;
}

const CARDS = (n) => `<ul data-list-id="q-42">${Array.from({ length: n },
  (_, i) => `<li data-gig-id="gig-${i + 1}" data-position="${i + 1}" style="height:40px">gig ${i + 1}</li>`).join('')}</ul>`;

/** Serves a page and its bundle under /app/, with imp.wasm beside it; returns the page path. */
function serveApp(name, body, script) {
  site.serve('/app/imp.wasm', readFileSync(`${ROOT}js/imp.wasm`));
  site.serve(`/app/${name}.js`, script);
  site.serve(`/app/${name}.html`, `<!doctype html><html><head><meta charset="utf-8"></head><body>${body}
    <script type="module" src="/app/${name}.js"></script></body></html>`);
  return `/app/${name}.html`;
}

/**
 * Opens `path` with POST /collect answered 204 and its bodies kept (the route is set on
 * a blank page first, so no request escapes it). imps(path?) lists the impressions' ids.
 */
async function openWithCollect(t, path) {
  site.serve('/app/blank.html', '<!doctype html><title>blank</title>');
  const { context, page, problems } = await open(t, { fixture: '../app/blank.html', waitReady: false });
  const bodies = [];
  await context.route('**/collect', (route) => {
    bodies.push(JSON.parse(decodeBody(route.request().postDataBuffer(), 1 << 20).bytes)); // gzip by default
    return route.fulfill({ status: 204, headers: { 'access-control-allow-origin': '*' } });
  });
  await page.goto(site.url(path));
  const imps = (where) => bodies.filter((b) => where === undefined || b.path === where).flatMap((b) => b.ev)
    .filter((e) => e.e === 'imp').map((e) => e.id).sort();
  return { page, problems, imps };
}

/** The ids of the first `count` impressions `path` sends (at the latest 5 s after them: batch.maxAgeMs). */
async function impressionsFrom(t, path, count) {
  const { problems, imps } = await openWithCollect(t, path);
  await waitFor(() => imps().length >= count, { timeoutMs: 15000, what: `${count} impressions` });
  assert.deepEqual(problems, []);
  return imps();
}

test('README "Use it (module build)": the example tracks the cards on the page', async (t) => {
  const code = snippet('## Use it (module build)', 'js');
  const fixture = serveApp('module', CARDS(6), await bundle(code));
  const ids = await impressionsFrom(t, fixture, 6);
  assert.deepEqual(ids, ['gig-1', 'gig-2', 'gig-3', 'gig-4', 'gig-5', 'gig-6']);
});

test('README "Use it with React": the example under StrictMode counts every card once', async (t) => {
  const code = `${snippet('## Use it with React', 'jsx')}
    import { StrictMode } from 'react';
    import { createRoot } from 'react-dom/client';
    const gigs = Array.from({ length: 5 }, (_, i) => ({ id: 'gig-' + (i + 1), title: 'Gig ' + (i + 1) }));
    createRoot(document.getElementById('root')).render(
      <StrictMode><App query="q-42" gigs={gigs} promoted={{ id: 'promo-1', title: 'Promoted' }} /></StrictMode>);`;
  const fixture = serveApp('react', '<div id="root"></div>', await bundle(code, 'jsx'));
  const ids = await impressionsFrom(t, fixture, 6);
  assert.deepEqual(ids, ['gig-1', 'gig-2', 'gig-3', 'gig-4', 'gig-5', 'promo-1']);
});

test('README "Use it (script tag, no bundler)": the snippet with its stub, consent given from the page', async (t) => {
  const html = snippet('## Use it (script tag, no bundler)', 'html').replace('/static/impression-tracker.js', '/dist/impression-tracker.js');
  site.serve('/app/script-tag.html', `<!doctype html><html><head><meta charset="utf-8"></head><body>${CARDS(4)}${html}</body></html>`);
  const ids = await impressionsFrom(t, '/app/script-tag.html', 4);
  assert.deepEqual(ids, ['gig-1', 'gig-2', 'gig-3', 'gig-4']);
});

test('README "When to call newPageView()": the History API example starts a page view with only the new cards', async (t) => {
  const block = snippet('## When to call `newPageView()`', 'js');
  const history = block.slice(block.indexOf('// History API'));
  const code = `import { createTracker } from 'impression-tracker';
    const tracker = await createTracker({ endpoint: '/collect', batch: { maxAgeMs: 200 } });
    function renderResults(url) {
      const page = new URL(url, location.href).pathname.slice(1);
      document.querySelector('ul').outerHTML = '<ul data-list-id="' + page + '">' + [1, 2, 3].map((i) =>
        '<li data-gig-id="' + page + '-' + i + '" data-position="' + i + '" style="height:40px">' + i + '</li>').join('') + '</ul>';
    }
    ${history}
    window.__navigate = navigate;
    window.__tracker = tracker;`;
  const { page, problems, imps } = await openWithCollect(t, serveApp('history', CARDS(3), await bundle(code)));
  await waitFor(() => imps('/app/history.html').length === 3, { timeoutMs: 15000, what: 'the first page' });
  await page.evaluate(() => window.__navigate('/next'));
  await waitFor(() => imps('/next').length === 3, { timeoutMs: 15000, what: 'the next page' });
  assert.deepEqual(imps('/next'), ['next-1', 'next-2', 'next-3']);
  assert.deepEqual(imps('/app/history.html'), ['gig-1', 'gig-2', 'gig-3']);
  assert.deepEqual(problems, []);
});
