// The fake DOM's nodes for the glue's unit tests: an event target with capture-aware
// listeners, and elements with attributes, a tree, attribute selectors ("[name]" or
// '[name="value"]', comma-separated) and the mutation records their changes send to
// their document (`document.mutated(record)`). Only what the glue uses is modelled.

function selectorMatches(el, selector) {
  return selector.split(',').some((part) => {
    const m = /^\s*\[([\w-]+)(?:="([^"]*)")?\]\s*$/.exec(part);
    if (!m) throw new SyntaxError(`fake DOM: unsupported selector ${selector}`);
    const value = el.getAttribute(m[1]);
    return value !== null && (m[2] === undefined || value === m[2]);
  });
}

export class FakeEventTarget {
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

/** The page's document: the root of the tree, which hands mutation records to `observers.mutation`. */
export class FakeDocument extends FakeEventTarget {
  constructor(page, { visibilityState, prerendering }) {
    super();
    this.page = page;
    this.nodeType = 9;
    this.isConnected = true;
    this.baseURI = 'https://shop.example/search'; // what a relative endpoint resolves against
    this.visibilityState = visibilityState;
    this.prerendering = prerendering;
    this.documentElement = new FakeElement(this, 'HTML');
    this.documentElement.parentNode = this;
    this.body = new FakeElement(this, 'BODY');
    this.documentElement.children.push(this.body);
    this.body.parentNode = this.documentElement;
  }
  hasFocus() {
    return this.page.focused;
  }
  querySelectorAll(selector) {
    const html = this.documentElement;
    return [...(html.matches(selector) ? [html] : []), ...html.querySelectorAll(selector)];
  }
  createElement(tag, attrs) {
    return new FakeElement(this, tag, attrs);
  }
  mutated(record) {
    for (const mo of this.page.observers.mutation) mo.take(record);
  }
}
