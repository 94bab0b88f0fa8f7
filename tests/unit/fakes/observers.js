// The fake DOM's observers for the glue's unit tests. A MutationObserver that delivers
// its records in a microtask like the real one; an IntersectionObserver and a
// ResizeObserver the test fires by hand (through the page: `page.intersect`,
// `page.resize`, `page.occlude`). Each lives in its page's lists of live observers
// (`page.observers`); `observerClassesFor(page)` gives the constructors the glue calls.

/** An IntersectionObserver entry for el at `ratio` (a width x height box, at `time`). */
export function entryOf(el, ratio, { width = 300, height = 200, time }, isVisible) {
  return { target: el, time, isIntersecting: ratio > 0, intersectionRatio: ratio, boundingClientRect: { width, height }, isVisible };
}

class FakeMutationObserver {
  constructor(page, callback) {
    this.page = page;
    this.callback = callback;
    this.records = [];
    this.target = null;
  }
  observe(target, options) {
    this.target = target;
    this.options = options;
    this.page.observers.mutation.push(this);
  }
  disconnect() {
    const live = this.page.observers.mutation;
    live.splice(live.indexOf(this), 1);
    this.records = [];
  }
  /** Whether a record is one this observer's options and target ask for. */
  wants(record) {
    const o = this.options;
    if (record.type === 'attributes' && (!o.attributes || (o.attributeFilter && !o.attributeFilter.includes(record.attributeName)))) return false;
    if (record.type === 'childList' && !o.childList) return false;
    return this.target === this.page.document || this.target.contains(record.target);
  }
  take(record) {
    if (!this.wants(record)) return;
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

class FakeIntersectionObserver extends FakeObserver {
  constructor(page, callback, options = {}) {
    super(page.observers.intersection, callback);
    this.options = options;
    // Chromium's IntersectionObserver v2 shows the option on the observer; v1 browsers do not.
    if (page.v2) this.trackVisibility = options.trackVisibility === true;
  }
  observe(el) {
    if (el?.nodeType !== 1) throw new TypeError("Failed to execute 'observe' on 'IntersectionObserver': parameter 1 is not of type 'Element'.");
    super.observe(el);
  }
}

class FakeResizeObserver extends FakeObserver {
  constructor(page, callback) {
    super(page.observers.resize, callback);
  }
}

/** The observer constructors of one page, as the glue finds them in its env. */
export function observerClassesFor(page) {
  return {
    MutationObserver: class MutationObserver extends FakeMutationObserver {
      constructor(callback) {
        super(page, callback);
      }
    },
    IntersectionObserver: class IntersectionObserver extends FakeIntersectionObserver {
      constructor(callback, options) {
        super(page, callback, options);
      }
    },
    ResizeObserver: class ResizeObserver extends FakeResizeObserver {
      constructor(callback) {
        super(page, callback);
      }
    },
  };
}
