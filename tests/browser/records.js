// What the browser suite reads from the collector's records: waitFor (a condition
// checked on every notification and on an interval, with a timeout naming it), the
// accepted batches, the delivered events, their "pv:s" ids (the collector's dedup
// key), the duplicates among them and the events once each.

/**
 * Resolves with predicate()'s value once it is truthy. Checks on every notification
 * from `subscribe` and every intervalMs; rejects with a message naming `what` after
 * timeoutMs. predicate may be async.
 */
export function waitFor(predicate, { timeoutMs = 10000, intervalMs = 25, what = 'condition', subscribe } = {}) {
  return new Promise((resolve, reject) => {
    let done = false;
    let unsubscribe = () => {};
    let interval = null;
    let busy = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(interval);
      unsubscribe();
      fn(value);
    };
    const check = async () => {
      if (done || busy) return;
      busy = true;
      try {
        const value = await predicate();
        if (value) finish(resolve, value);
      } catch (error) {
        finish(reject, error);
      } finally {
        busy = false;
      }
    };
    const timer = setTimeout(() => finish(reject, new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    if (subscribe) unsubscribe = subscribe(check);
    interval = setInterval(check, intervalMs);
    check();
  });
}

/** POSTs to /collect answered 2xx, each {record, batch} with the parsed body. */
export function acceptedBatches(records) {
  const out = [];
  for (const record of records) {
    if (record.method !== 'POST' || !record.url.startsWith('/collect') || record.status < 200 || record.status >= 300) continue;
    out.push({ record, batch: JSON.parse(record.body) });
  }
  return out;
}

/** Every delivered event as a flat list of {pv, event, batch}. */
export function deliveredEvents(records) {
  const out = [];
  for (const { batch } of acceptedBatches(records)) for (const event of batch.ev) out.push({ pv: batch.pv, event, batch });
  return out;
}

/** The set of "pv:s" of every delivered event (the collector's dedup key). */
export function eventIds(records) {
  return new Set(deliveredEvents(records).map(({ pv, event }) => `${pv}:${event.s}`));
}

/** Delivered events minus distinct ids: how many raw duplicates reached the collector. */
export function duplicateCount(records) {
  return deliveredEvents(records).length - eventIds(records).size;
}

/** Delivered events after dedup by (pv, s), in arrival order. */
export function uniqueEvents(records) {
  const seen = new Set();
  const out = [];
  for (const item of deliveredEvents(records)) {
    const id = `${item.pv}:${item.event.s}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(item);
  }
  return out;
}
