// Small fakes of the browser for the glue's unit tests: elements with attributes and a
// tree, a document and window with capture-aware listeners, a MutationObserver that
// delivers records in a microtask like the real one, an IntersectionObserver the test
// fires by hand, a fake clock with timers and idle callbacks, and a recording transport.
// Only what the glue uses is modelled; selectors are attribute selectors ("[name]" or
// '[name="value"]'), comma-separated.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const wasmBytes = () => readFileSync(new URL('../../../js/imp.wasm', import.meta.url));

function selectorMatches(el, selector) {
  return selector.split(',').some((part) => {
    const m = /^\s*\[([\w-]+)(?:="([^"]*)")?\]\s*$/.exec(part);
    if (!m) throw new SyntaxError(`fake DOM: unsupported selector ${selector}`);
    const value = el.getAttribute(m[1]);
    return value !== null && (m[2] === undefined || value === m[2]);
  });
}

class FakeEventTarget {
  constructor() {
    this.listeners = [];
  }
  addEventListener(type, fn, capture) {
    this.listeners.push({ type, fn, capture: capture === true || capture?.capture === true });
  }
  removeEventListener(type, fn, capture) {
    const c = capture === true || capture?.capture === true;
    this.listeners = this.listeners.filter((l) => !(l.type === type && l.fn === fn && l.capture === c));
  }
  dispatch(type, props = {}) {
    const event = { type, target: this, ...props };
    for (const l of [...this.listeners]) if (l.type === type) l.fn(event);
    return event;
  }
}

export class FakeElement extends FakeEventTarget {
  constructor(doc, tagName = 'DIV', attrs = {}) {
    super();
    this.ownerDocument = doc;
    this.tagName = tagName;
    this.nodeType = 1;
    this.attrs = new Map(Object.entries(attrs).map(([k, v]) => [k, String(v)]));
    this.children = [];
    this.parentNode = null;
  }
  get isConnected() {
    let node = this;
    while (node.parentNode) node = node.parentNode;
    return node === this.ownerDocument;
  }
  getAttribute(name) {
    return this.attrs.has(name) ? this.attrs.get(name) : null;
  }
  setAttribute(name, value) {
    this.attrs.set(name, String(value));
    this.ownerDocument.mutated({ type: 'attributes', target: this, attributeName: name, addedNodes: [], removedNodes: [] });
  }
  removeAttribute(name) {
    this.attrs.delete(name);
    this.ownerDocument.mutated({ type: 'attributes', target: this, attributeName: name, addedNodes: [], removedNodes: [] });
  }
  append(...nodes) {
    for (const node of nodes) {
      if (node.parentNode) node.remove();
      node.parentNode = this;
      this.children.push(node);
      this.ownerDocument.mutated({ type: 'childList', target: this, addedNodes: [node], removedNodes: [] });
    }
    return this;
  }
  remove() {
    const parent = this.parentNode;
    if (!parent) return;
    parent.children.splice(parent.children.indexOf(this), 1);
    this.parentNode = null;
    this.ownerDocument.mutated({ type: 'childList', target: parent, addedNodes: [], removedNodes: [this] });
  }
  matches(selector) {
    return selectorMatches(this, selector);
  }
  closest(selector) {
    for (let node = this; node && node.nodeType === 1; node = node.parentNode) if (node.matches(selector)) return node;
    return null;
  }
  querySelectorAll(selector) {
    const out = [];
    const walk = (node) => {
      for (const child of node.children) {
        if (child.matches(selector)) out.push(child);
        walk(child);
      }
    };
    walk(this);
    return out;
  }
  contains(node) {
    for (; node; node = node.parentNode) if (node === this) return true;
    return false;
  }
}

/** An IntersectionObserver entry for el at `ratio` (a width x height box, at `time`). */
export function entryOf(el, ratio, { width = 300, height = 200, time }, isVisible) {
  return { target: el, time, isIntersecting: ratio > 0, intersectionRatio: ratio, boundingClientRect: { width, height }, isVisible };
}

/** A page: window, document, observers, a clock, and helpers to drive them. */
export function createPage({ visibilityState = 'visible', prerendering = false, focused = true, gpc, webdriver = false, v2 = true } = {}) {
  const clock = { t: 1000, timers: [], idle: [], nextId: 1 };
  const observers = { mutation: [], intersection: [], resize: [] };
  const window = new FakeEventTarget();
  window.onscrollend = null; // a browser with the scrollend event (Safari has none)
  const document = new FakeEventTarget();
  Object.assign(document, {
    nodeType: 9,
    isConnected: true,
    baseURI: 'https://shop.example/search', // what a relative endpoint resolves against
    visibilityState,
    prerendering,
    hasFocus: () => page.focused,
    querySelectorAll: (selector) => [
      ...(document.documentElement.matches(selector) ? [document.documentElement] : []),
      ...document.documentElement.querySelectorAll(selector),
    ],
    createElement: (tag, attrs) => new FakeElement(document, tag, attrs),
    mutated(record) {
      for (const mo of observers.mutation) mo.take(record);
    },
  });
  const html = new FakeElement(document, 'HTML');
  html.parentNode = document;
  document.documentElement = html;
  document.body = new FakeElement(document, 'BODY');
  html.children.push(document.body);
  document.body.parentNode = html;

  class MutationObserver {
    constructor(callback) {
      this.callback = callback;
      this.records = [];
      this.target = null;
    }
    observe(target, options) {
      this.target = target;
      this.options = options;
      observers.mutation.push(this);
    }
    disconnect() {
      observers.mutation.splice(observers.mutation.indexOf(this), 1);
      this.records = [];
    }
    take(record) {
      const o = this.options;
      if (record.type === 'attributes' && (!o.attributes || (o.attributeFilter && !o.attributeFilter.includes(record.attributeName)))) return;
      if (record.type === 'childList' && !o.childList) return;
      if (!(this.target === document || this.target.contains(record.target))) return;
      if (!this.records.length) {
        queueMicrotask(() => {
          const list = this.records.splice(0);
          if (list.length) this.callback(list, this);
        });
      }
      this.records.push(record);
    }
    takeRecords() {
      return this.records.splice(0);
    }
  }

  // What the observer fakes share: the targets watched, and the list of live observers.
  class FakeObserver {
    constructor(live, callback) {
      this.live = live;
      this.callback = callback;
      this.targets = new Set();
      live.push(this);
    }
    observe(el) {
      this.targets.add(el);
    }
    unobserve(el) {
      this.targets.delete(el);
    }
    disconnect() {
      this.targets.clear();
      this.live.splice(this.live.indexOf(this), 1);
    }
  }

  class IntersectionObserver extends FakeObserver {
    constructor(callback, options = {}) {
      super(observers.intersection, callback);
      this.options = options;
      // Chromium's IntersectionObserver v2 shows the option on the observer; v1 browsers do not.
      if (v2) this.trackVisibility = options.trackVisibility === true;
    }
    observe(el) {
      if (el?.nodeType !== 1) throw new TypeError("Failed to execute 'observe' on 'IntersectionObserver': parameter 1 is not of type 'Element'.");
      super.observe(el);
    }
  }

  class ResizeObserver extends FakeObserver {
    constructor(callback) {
      super(observers.resize, callback);
    }
  }

  const env = {
    window,
    document,
    // No Blob: the transport then hands fetch and sendBeacon the gzip bytes themselves,
    // which a test can read synchronously (bodyText); transport.test.js checks the Blob.
    Blob: null,
    navigator: { webdriver, globalPrivacyControl: gpc },
    location: { pathname: '/search' },
    IntersectionObserver,
    MutationObserver,
    ResizeObserver,
    now: () => clock.t,
    setTimeout: (fn, ms) => {
      const id = clock.nextId++;
      clock.timers.push({ id, at: clock.t + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout: (id) => {
      clock.timers = clock.timers.filter((timer) => timer.id !== id);
    },
    requestIdleCallback: (fn) => {
      const id = clock.nextId++;
      clock.idle.push({ id, fn });
      return id;
    },
    cancelIdleCallback: (id) => {
      clock.idle = clock.idle.filter((idle) => idle.id !== id);
    },
    getRandomValues: (array) => {
      for (let i = 0; i < array.length; i++) array[i] = (page.randomSeed++ * 37 + i) & 255;
      return array;
    },
  };

  const page = {
    window,
    document,
    env,
    clock,
    observers,
    focused,
    randomSeed: 1,
    el: (attrs = {}, tag = 'DIV') => new FakeElement(document, tag, attrs),
    /** The geometry observer of small cards (v1: every card, every frame). */
    get io() {
      return observers.intersection.find((o) => !o.options.trackVisibility);
    },
    /** The occlusion observer (v2), if the tracker made one. */
    get occlusionIo() {
      return observers.intersection.find((o) => o.options.trackVisibility);
    },
    /** Delivers pending mutation records, then runs idle callbacks (discovery). */
    async settle() {
      await new Promise((resolve) => setImmediate(resolve));
      for (const idle of clock.idle.splice(0)) idle.fn({ didTimeout: false, timeRemaining: () => 50 });
      await new Promise((resolve) => setImmediate(resolve));
    },
    /** Moves the clock forward, running due timers in order. */
    advance(ms) {
      const end = clock.t + ms;
      for (;;) {
        const due = clock.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        clock.timers.splice(clock.timers.indexOf(due), 1);
        clock.t = Math.max(clock.t, due.at);
        due.fn();
      }
      clock.t = end;
    },
    /**
     * Fires the geometry observer's entry for an element at the current time, then, as
     * Chromium does, the occlusion observer's if it watches the element by then (v2
     * says isVisible, true unless given; v2Looks false: v2 skips this frame, as it does
     * within 100 ms of its last look at the element).
     */
    intersect(el, ratio, { width = 300, height = 200, isVisible = true, v2Looks = true, time = clock.t } = {}) {
      const io = observers.intersection.find((o) => !o.options.trackVisibility && o.targets.has(el));
      if (!io) throw new Error('element is not observed');
      io.callback([entryOf(el, ratio, { width, height, time }, false)], io); // v1 entries: Chromium says false
      const v2 = page.occlusionIo;
      if (v2Looks && v2?.targets.has(el)) v2.callback([entryOf(el, ratio, { width, height, time }, ratio > 0 && isVisible)], v2);
    },
    /**
     * A card's box changes size in place: the resize observers that watch it are told
     * (an IntersectionObserver sends nothing unless a threshold is crossed).
     */
    resize(el, width, height) {
      el.getBoundingClientRect = () => ({ width, height });
      for (const ro of observers.resize) if (ro.targets.has(el)) ro.callback([{ target: el }], ro);
    },
    /** Fires only the occlusion observer's entry: a card covered or uncovered in place. */
    occlude(el, covered, { ratio = 1, width = 300, height = 200, time = clock.t } = {}) {
      const v2 = page.occlusionIo;
      if (!v2?.targets.has(el)) throw new Error('element is not watched for occlusion');
      v2.callback([entryOf(el, ratio, { width, height, time }, !covered)], v2);
    },
    /** A lifecycle event: document events reach the window's capture listeners. */
    lifecycle(type, props = {}) {
      const target = type === 'visibilitychange' || type === 'freeze' || type === 'resume' || type === 'prerenderingchange' ? document : window;
      for (const l of [...window.listeners]) if (l.type === type) l.fn({ type, target, ...props });
    },
    hide() {
      document.visibilityState = 'hidden';
      page.lifecycle('visibilitychange');
    },
    show() {
      document.visibilityState = 'visible';
      page.lifecycle('visibilitychange');
    },
    click(el, props = {}) {
      const composedPath = () => {
        const path = [];
        for (let node = el; node; node = node.parentNode) path.push(node);
        return [...path, window];
      };
      return document.dispatch(props.type || 'click', { target: el, detail: 1, button: 0, composedPath, ...props });
    },
    key(el, key, props = {}) {
      return document.dispatch('keydown', { target: el, key, ...props });
    },
  };
  return page;
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
