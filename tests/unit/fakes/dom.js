// Small fakes of the browser for the glue's unit tests: a page (`createPage`) with its
// window and document (./element.js), its observers (./observers.js), a fake clock with
// timers and idle callbacks (./clock.js), and the helpers a test drives them with; the
// network the delivery driver sees (`fakeNetwork`), recording every body. This file owns
// the page record and its helpers; it re-exports what tests take from the other fakes.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { advanceClock, clockEnv, createClock, runIdle } from './clock.js';
import { FakeDocument, FakeElement, FakeEventTarget } from './element.js';
import { entryOf, observerClassesFor } from './observers.js';

export { FakeElement } from './element.js';
export { entryOf } from './observers.js';

export const wasmBytes = () => readFileSync(new URL('../../../js/imp.wasm', import.meta.url));

const DOCUMENT_EVENTS = new Set(['visibilitychange', 'freeze', 'resume', 'prerenderingchange']);

/** A page: window, document, observers, a clock, and helpers to drive them. */
class FakePage {
  constructor({ visibilityState = 'visible', prerendering = false, focused = true, gpc, webdriver = false, v2 = true }) {
    this.v2 = v2;
    this.focused = focused;
    this.randomSeed = 1;
    this.clock = createClock();
    this.observers = { mutation: [], intersection: [], resize: [] };
    this.window = new FakeEventTarget();
    this.window.onscrollend = null; // a browser with the scrollend event (Safari has none)
    this.document = new FakeDocument(this, { visibilityState, prerendering });
    this.env = pageEnv(this, { gpc, webdriver });
  }
  el(attrs = {}, tag = 'DIV') {
    return new FakeElement(this.document, tag, attrs);
  }
  /** The geometry observer of small cards (v1: every card, every frame). */
  get io() {
    return this.observers.intersection.find((o) => !o.options.trackVisibility);
  }
  /** The occlusion observer (v2), if the tracker made one. */
  get occlusionIo() {
    return this.observers.intersection.find((o) => o.options.trackVisibility);
  }
  /** Delivers pending mutation records, then runs idle callbacks (discovery). */
  async settle() {
    await new Promise((resolve) => setImmediate(resolve));
    runIdle(this.clock);
    await new Promise((resolve) => setImmediate(resolve));
  }
  /** Moves the clock forward, running due timers in order. */
  advance(ms) {
    advanceClock(this.clock, ms);
  }
  /**
   * Fires the geometry observer's entry for an element at the current time, then, as
   * Chromium does, the occlusion observer's if it watches the element by then (v2
   * says isVisible, true unless given; v2Looks false: v2 skips this frame, as it does
   * within 100 ms of its last look at the element).
   */
  intersect(el, ratio, { width = 300, height = 200, isVisible = true, v2Looks = true, time = this.clock.t } = {}) {
    const io = this.observers.intersection.find((o) => !o.options.trackVisibility && o.targets.has(el));
    if (!io) throw new Error('element is not observed');
    io.callback([entryOf(el, ratio, { width, height, time }, false)], io); // v1 entries: Chromium says false
    const v2 = this.occlusionIo;
    if (v2Looks && v2?.targets.has(el)) v2.callback([entryOf(el, ratio, { width, height, time }, ratio > 0 && isVisible)], v2);
  }
  /**
   * A card's box changes size in place: the resize observers that watch it are told
   * (an IntersectionObserver sends nothing unless a threshold is crossed).
   */
  resize(el, width, height) {
    el.getBoundingClientRect = () => ({ width, height });
    for (const ro of this.observers.resize) if (ro.targets.has(el)) ro.callback([{ target: el }], ro);
  }
  /** Fires only the occlusion observer's entry: a card covered or uncovered in place. */
  occlude(el, covered, { ratio = 1, width = 300, height = 200, time = this.clock.t } = {}) {
    const v2 = this.occlusionIo;
    if (!v2?.targets.has(el)) throw new Error('element is not watched for occlusion');
    v2.callback([entryOf(el, ratio, { width, height, time }, !covered)], v2);
  }
  /** A lifecycle event: document events reach the window's capture listeners. */
  lifecycle(type, props = {}) {
    const target = DOCUMENT_EVENTS.has(type) ? this.document : this.window;
    for (const l of [...this.window.listeners]) if (l.type === type) l.fn({ type, target, ...props });
  }
  hide() {
    this.document.visibilityState = 'hidden';
    this.lifecycle('visibilitychange');
  }
  show() {
    this.document.visibilityState = 'visible';
    this.lifecycle('visibilitychange');
  }
  // The event's path, as a browser's composedPath() gives it: el, its ancestors, window.
  path(el) {
    return () => {
      const path = [];
      for (let node = el; node; node = node.parentNode) path.push(node);
      return [...path, this.window];
    };
  }
  click(el, props = {}) {
    return this.document.dispatch(props.type || 'click', { target: el, detail: 1, button: 0, composedPath: this.path(el), ...props });
  }
  key(el, key, props = {}) {
    return this.document.dispatch('keydown', { target: el, key, composedPath: this.path(el), ...props });
  }
}

/** The browser globals the glue is given (options.env) for one page. */
function pageEnv(page, { gpc, webdriver }) {
  return {
    window: page.window,
    document: page.document,
    // No Blob: the transport then hands fetch and sendBeacon the gzip bytes themselves,
    // which a test can read synchronously (bodyText); delivery-browser.test.js checks the Blob.
    Blob: null,
    navigator: { webdriver, globalPrivacyControl: gpc },
    location: { pathname: '/search' },
    ...observerClassesFor(page),
    ...clockEnv(page.clock),
    getRandomValues: (array) => {
      for (let i = 0; i < array.length; i++) array[i] = (page.randomSeed++ * 37 + i) & 255;
      return array;
    },
  };
}

/** A new page; options: visibilityState, prerendering, focused, gpc, webdriver, v2. */
export function createPage(options = {}) {
  return new FakePage(options);
}

/** A request body as text: JSON as is, gzip bytes inflated. */
export function bodyText(body) {
  return typeof body === 'string' ? body : gunzipSync(body).toString('utf8');
}

/**
 * The network the delivery driver sees: fetch (answered 204, or `status`), sendBeacon
 * (accepts) and no storage, recording every body. `env` goes into options.env.
 */
export function fakeNetwork({ status = 204 } = {}) {
  const t = {
    status, // the answer to every fetch; a test may change it
    calls: [],
    get sends() {
      return t.calls.filter((c) => c.kind === 'fetch' || c.kind === 'beacon');
    },
    get bodies() {
      return t.sends.map((c) => bodyText(c.body));
    },
    get events() {
      return t.bodies.flatMap((body) => JSON.parse(body).ev);
    },
    env: {
      fetch: (url, init) => {
        t.calls.push({ kind: 'fetch', url, body: init.body, keepalive: init.keepalive });
        return Promise.resolve({ status: t.status, headers: { get: () => null }, arrayBuffer: async () => new ArrayBuffer(0) });
      },
      sendBeacon: (url, body) => t.calls.push({ kind: 'beacon', url, body }) > 0,
      fetchLater: null,
      localStorage: null,
    },
  };
  return t;
}
