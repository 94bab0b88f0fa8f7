// The demo marketplace page: a gig search results grid with search, category filter,
// infinite scroll, a pop-up that covers part of the grid, and the tracker wired in exactly
// as a consumer would: `import { createTracker } from 'impression-tracker'` (resolved by
// the page's import map to the package's public entry point), one call, cards marked up
// with data-gig-id / data-position / data-list-id. The tracker discovers cards itself.
//
// A new search or category is a new results page: the URL changes (history.pushState),
// the tracker starts a new page view and the cards get a new list id, as a search query
// id would. Infinite scroll appends to the same list.

import { buildCatalogue, search, CATEGORIES } from './catalogue.js';
import { thumbnailSvg, avatarSvg, escapeHtml } from './thumbnails.js';
import { createOverlay } from './overlay.js';

const PAGE_SIZE = 24;
const $ = (selector) => document.querySelector(selector);

// Set by main(); nothing runs at import.
let catalogue = [];
let grid = null;
let sentinel = null;
let statusLine = null;
let overlay = null;

let results = [];
let shown = 0;
let listId = '';
let tracker = null;
let pageView = ''; // the tracker's current page view id: the overlay shows only its events
let lastError = '';
const debugLog = []; // every record from the tracker's debug hook (tests read it)

/** A search query id, as a marketplace's search backend would hand out. */
function newListId() {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return 'q-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function readQuery() {
  const params = new URLSearchParams(location.search);
  return { query: params.get('q') ?? '', category: params.get('category') ?? '' };
}

function cardHtml(gig, position) {
  const stars = `<span class="star" aria-hidden="true">★</span> <b>${gig.rating.toFixed(1)}</b> <span class="muted">(${gig.reviews.toLocaleString('en')})</span>`;
  return `<article class="card" data-gig-id="${gig.id}" data-position="${position}" data-list-id="${listId}">
    <a class="card-link" href="#gig/${gig.id}" aria-label="${escapeHtml(gig.title)}">${thumbnailSvg(gig)}</a>
    <div class="card-body">
      <div class="seller">${avatarSvg(gig)}<span class="seller-name">${escapeHtml(gig.seller)}</span><span class="level">${gig.sellerLevel}</span></div>
      <a class="title" href="#gig/${gig.id}">${escapeHtml(gig.title)}</a>
      <div class="rating">${stars}</div>
    </div>
    <div class="card-foot"><span class="cat">${escapeHtml(gig.categoryName)}</span><span class="price">From <b>$${gig.price}</b></span></div>
  </article>`;
}

function renderMore() {
  if (shown >= results.length) {
    sentinel.textContent = results.length ? 'End of results' : 'No gigs match. Try another search.';
    return;
  }
  const next = results.slice(shown, shown + PAGE_SIZE);
  grid.insertAdjacentHTML('beforeend', next.map((gig, i) => cardHtml(gig, shown + i + 1)).join(''));
  shown += next.length;
  sentinel.textContent = shown < results.length ? 'Loading more gigs…' : 'End of results';
}

/** Runs a search: new list id, fresh grid, first page. `push` records a new URL. */
function runSearch({ query, category: asked }, { push = true, newPageView = true } = {}) {
  // An unknown category (an old link, a typo) is no category: all gigs, labelled as such.
  const category = CATEGORIES.some((c) => c.slug === asked) ? asked : '';
  $('#q').value = query;
  for (const chip of document.querySelectorAll('#categories button')) {
    chip.setAttribute('aria-pressed', String(chip.dataset.category === category));
  }
  if (push) {
    const params = new URLSearchParams();
    if (query) params.set('q', query);
    if (category) params.set('category', category);
    params.sort();
    const overlayOn = new URLSearchParams(location.search).get('overlay');
    if (overlayOn) params.set('overlay', overlayOn);
    history.pushState(null, '', params.size ? `?${params}` : location.pathname);
  }
  grid.replaceChildren();
  if (newPageView && tracker) {
    // A new results page: the tracker ends the old page view and starts a new one, so
    // a gig shown again on the new page earns a new impression, as on a real page load.
    tracker.newPageView();
    overlay.reset();
    pageView = tracker.stats().pageView;
  }
  listId = newListId();
  results = search(catalogue, { query, category });
  shown = 0;
  const label = category ? CATEGORIES.find((c) => c.slug === category)?.name : 'All categories';
  $('#result-count').textContent = `${results.length.toLocaleString('en')} services${query ? ` for “${query}”` : ''} in ${label}`;
  $('#list-id').textContent = listId;
  renderMore();
  window.scrollTo({ top: 0 });
}

function showToast(text) {
  const toast = $('#toast');
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { toast.hidden = true; }, 2500);
}

function wireControls() {
  $('#categories').innerHTML = ['<button type="button" data-category="">All</button>',
    ...CATEGORIES.map((c) => `<button type="button" data-category="${c.slug}">${c.name}</button>`)].join('');
  $('#categories').addEventListener('click', (event) => {
    const chip = event.target.closest('button[data-category]');
    if (chip) runSearch({ query: $('#q').value.trim(), category: chip.dataset.category });
  });
  $('#search').addEventListener('submit', (event) => {
    event.preventDefault();
    const pressed = document.querySelector('#categories button[aria-pressed="true"]');
    runSearch({ query: $('#q').value.trim(), category: pressed?.dataset.category ?? '' });
  });
  window.addEventListener('popstate', () => runSearch(readQuery(), { push: false }));

  // Infinite scroll: the page's own observer on a sentinel below the grid.
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) renderMore();
  }, { rootMargin: '800px 0px' }).observe(sentinel);

  // A click on a card would open the gig page; here it shows what was recorded.
  grid.addEventListener('click', (event) => {
    const card = event.target.closest('[data-gig-id]');
    if (!card) return;
    event.preventDefault();
    const gig = catalogue.find((g) => g.id === card.dataset.gigId);
    showToast(`Opened “${gig?.title ?? card.dataset.gigId}” (position ${card.dataset.position}). The tracker recorded the click.`);
  });

  const toggle = $('#overlay-toggle');
  toggle.checked = new URLSearchParams(location.search).get('overlay') === '1';
  overlay.setEnabled(toggle.checked);
  toggle.addEventListener('change', () => overlay.setEnabled(toggle.checked));

  const modal = $('#promo');
  $('#open-modal').addEventListener('click', () => { modal.hidden = false; });
  $('#close-modal').addEventListener('click', () => { modal.hidden = true; });
}

function describeStats() {
  if (!tracker) return;
  const stats = tracker.stats();
  const sent = stats.transport?.sent ?? 0;
  const queued = (stats.queuedEvents ?? 0) + (stats.transport?.queued ?? 0) + (stats.transport?.inFlight ?? 0);
  statusLine.textContent = stats.active
    ? `tracker on · ${stats.elements} cards watched · ${stats.events} events in ${stats.batches} batches · ${sent} sent · ${queued} waiting`
    : `tracker off${lastError ? `: ${lastError}` : ''}`;
}

async function startTracker() {
  let createTracker;
  let trackerDebug;
  try {
    ({ createTracker } = await import('impression-tracker'));
    ({ trackerDebug } = await import('impression-tracker/debug'));
  } catch (error) {
    statusLine.textContent = `tracker not loaded (${error.message}); the page still works`;
    return;
  }
  try {
    tracker = await createTracker({
      endpoint: new URL('/collect', location.href).href,
      occlusion: true,
      // The debug hook (the opt-in debug entry) sees each event as the tracker queues
      // it, with its page view.
      debug: trackerDebug({
        onEvent(event, { pv }) {
          debugLog.push({ pv, ...event });
          if (!pageView || pv === pageView) overlay.record(event);
        },
      }),
      onError(error) {
        // The tracker never throws into the page; it reports here and, if it cannot go
        // on, becomes a no-op. The page keeps working either way.
        console.warn('[impression-tracker]', error);
        lastError = String(error?.message ?? error);
        statusLine.dataset.error = lastError;
      },
    });
  } catch (error) {
    statusLine.textContent = `tracker failed to start (${error?.message ?? error})`;
    return;
  }
  pageView = tracker.stats().pageView;
  describeStats();
  setInterval(describeStats, 1000);
}

function exposeTestHooks() {
  // For the smoke test and for curious developers in the console.
  window.demo = {
    get tracker() { return tracker; },
    get listId() { return listId; },
    debugLog,
    overlay,
    flush: () => tracker?.flush(),
    search: (query, category = '') => runSearch({ query, category }),
  };
}

/** Starts the page (index.html calls it). */
export async function main() {
  catalogue = buildCatalogue();
  grid = $('#grid');
  sentinel = $('#sentinel');
  statusLine = $('#tracker-status');
  overlay = createOverlay({ root: grid, occluders: () => [$('.topbar'), $('#promo'), $('#toast')] });
  wireControls();
  exposeTestHooks();
  runSearch(readQuery(), { push: false, newPageView: false });
  await startTracker();
  document.documentElement.dataset.trackerReady = tracker?.stats().active ? 'yes' : 'no';
}

