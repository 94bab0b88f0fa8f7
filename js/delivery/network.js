// network.js: the browser's sending APIs, as the outbox's actions need them: fetch
// with keepalive (answered as a status and a Retry-After in ms), sendBeacon (answered
// as accepted, refused or threw) and fetchLater (registered or refused). Each takes
// the browser functions from `env` (the tracker's: js/tracker/options.js) and never
// throws. No decision is made here: which channel, when and what to retry is the
// outbox's (src/outbox.h).

import { BEACON_ACCEPTED, BEACON_REFUSED, BEACON_THREW } from '../core/outbox.js';

/**
 * Retry-After as ms: delay-seconds (a number too long is the outbox's cap) or an HTTP
 * date (it has hh:mm:ss: Date.parse alone reads "1.5" as a day of 2001); -1, the
 * backoff, when absent, unreadable or a date already past (a clock behind this one's).
 */
export function retryAfterMs(value, wallNow) {
  const text = String(value ?? '').trim();
  if (/^\d+$/.test(text)) return Math.min(text, 1e12) * 1000;
  const wait = /\d:\d\d:\d\d/.test(text) ? Date.parse(text.replace(/\d$/, '$& GMT')) - wallNow : NaN;
  return wait > 0 ? wait : -1;
}

// No cookies, no Referer (the payload carries the path) and no redirect followed: a
// 301, 302 or 303 would turn the POST into a GET without the body, whose 2xx is no
// delivery; fetch fails instead, a network error the outbox retries. A gzip body goes
// to fetch and fetchLater as its bytes with a text/plain Content-Type, a
// CORS-safelisted type: no preflight, and no Blob to make per request. A text body
// gets text/plain from the browser itself. The mode is fetch's default, 'cors'. The init
// has no prototype: fetch reads every member it knows, and one the page added to
// Object.prototype (`cache`, `priority`, `mode`) would be read as ours.
const TEXT = { 'Content-Type': 'text/plain' };
const init = (body, signal, keepalive) => ({
  __proto__: null, method: 'POST', body, headers: typeof body === 'string' ? undefined : TEXT, credentials: 'omit',
  referrerPolicy: 'no-referrer', redirect: 'error', keepalive, signal,
});
// sendBeacon takes no headers: the bytes go in a text/plain Blob (one per page hide).
const beaconBody = (env, body) => (typeof body === 'string' || !env.Blob ? body : new env.Blob([body], { type: 'text/plain' }));

/**
 * POSTs body with keepalive. Resolves [status, retryAfterMs]: [0, -1] for a network
 * error or an abort. The response body is read before it resolves: Chromium counts a
 * keepalive request against its 64 KiB quota until then, even an empty one.
 */
export async function post(env, endpoint, body, signal) {
  try {
    const response = await env.fetch(endpoint, init(body, signal, true));
    await response.arrayBuffer?.().catch(() => {}); // an unreadable body: the status stands
    return [+response.status || 0, retryAfterMs(response.headers?.get('Retry-After'), env.wallNow())];
  } catch {
    return [0, -1];
  }
}

/**
 * sendBeacon: BEACON_ACCEPTED, BEACON_REFUSED (false), BEACON_THREW (the error goes to
 * onError). Without sendBeacon, a keepalive fetch whose answer nobody waits for stands
 * in for it, as sendBeacon is one: accepted once handed over.
 */
export function beacon(env, endpoint, body, onError) {
  try {
    if (env.sendBeacon) return env.sendBeacon(endpoint, beaconBody(env, body)) ? BEACON_ACCEPTED : BEACON_REFUSED;
    Promise.resolve(env.fetch(endpoint, init(body, undefined, true))).catch(() => {});
    return BEACON_ACCEPTED;
  } catch (error) {
    onError(error);
    return BEACON_THREW;
  }
}

/** Registers a fetchLater copy: 1 registered, 0 refused (quota, no fetchLater: env.fetchLater null). */
export function later(env, endpoint, body, signal) {
  try {
    env.fetchLater(endpoint, init(body, signal));
    return 1;
  } catch {
    return 0;
  }
}
