// backoff.js: retry timing and the retry decision for collector responses.
//
// Owns three pure functions and their constants: which HTTP statuses are retried
// (408, 429, 5xx, network errors and timeouts, reported as status 0) and which are
// never retried (400, 401, 403, 410, 413, 422: the batch is dropped and counted);
// the exponential backoff (1 s doubling to 60 s, +-20 % jitter, never above the cap);
// and the parsing of a Retry-After header (delay-seconds or an HTTP date).
// Nothing here reads a clock or a random source: callers pass them in.

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60000;
export const BACKOFF_JITTER = 0.2;
/** A Retry-After longer than this is clamped (a misconfigured collector must not park a batch for days). */
export const RETRY_AFTER_MAX_MS = 3600000;

/** Statuses that mean "this batch will never be accepted": drop it and count it. */
export const NEVER_RETRY = [400, 401, 403, 410, 413, 422];

/**
 * Classifies one attempt's outcome.
 * @param {number} status HTTP status, or 0 for a network error, abort or timeout
 * @returns {'ok'|'retry'|'drop'}
 *   'ok' for 2xx; 'drop' for the NEVER_RETRY statuses; 'retry' for everything else
 *   (0, 408, 429, 5xx, and unexpected statuses such as 404 or 3xx, which are treated as
 *   a collector fault: retried with backoff, bounded by the batch age limit).
 */
export function classifyStatus(status) {
  if (status >= 200 && status < 300) return 'ok';
  if (NEVER_RETRY.includes(status)) return 'drop';
  return 'retry';
}

/**
 * Delay before the next attempt after `failures` consecutive failures (1, 2, 3...).
 * 1 s, 2 s, 4 s ... capped at 60 s; each multiplied by a factor in [0.8, 1.2)
 * drawn from `random()`, then clamped to the cap, so no delay ever exceeds 60 s.
 */
export function backoffDelayMs(failures, random = Math.random) {
  let r;
  try { r = random(); } catch { /* r stays undefined: 0.5 below */ }
  if (!(r >= 0 && r < 1)) r = 0.5;
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(Math.max(1, Math.floor(failures) || 1) - 1, 30));
  return Math.round(Math.min(BACKOFF_MAX_MS, exponential * (1 - BACKOFF_JITTER + 2 * BACKOFF_JITTER * r)));
}

/**
 * Parses a Retry-After header value into a delay in ms from `nowMs`.
 * Accepts delay-seconds ("120") or an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT").
 * Returns null when absent or unparseable; a date in the past gives 0.
 * The result is clamped to RETRY_AFTER_MAX_MS.
 */
export function parseRetryAfter(value, nowMs) {
  const text = String(value ?? '').trim();
  // HTTP dates start with a day name
  const ms = /^\d+$/.test(text) ? text * 1000 : /^[a-z]{3}/i.test(text) ? Math.max(0, Date.parse(text) - nowMs) : NaN;
  return ms >= 0 ? Math.min(RETRY_AFTER_MAX_MS, ms) : null;
}
