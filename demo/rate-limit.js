// Per-client token buckets for the collector: each client address may send `burst`
// requests at once and `perSecond` on average after that. It owns only the arithmetic;
// the clock is injected (`now`, ms) so tests drive it without waiting.

/**
 * @param {{burst?: number, perSecond?: number, now?: () => number, maxClients?: number}} [options]
 */
export function createRateLimiter({ burst = 120, perSecond = 20, now = Date.now, maxClients = 10000 } = {}) {
  /** @type {Map<string, {tokens: number, updated: number}>} */
  const buckets = new Map();

  function refill(bucket, at) {
    const elapsed = Math.max(0, at - bucket.updated) / 1000;
    bucket.tokens = Math.min(burst, bucket.tokens + elapsed * perSecond);
    bucket.updated = at;
  }

  /** Forgets clients whose bucket is full again, so the map stays bounded. */
  function prune(at) {
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= burst) buckets.delete(key);
    }
    // Still too many (a flood from many addresses): drop the oldest entries.
    for (const key of buckets.keys()) {
      if (buckets.size <= maxClients) break;
      buckets.delete(key);
    }
  }

  return {
    /**
     * Takes one token for `client`. Returns {ok: true} or {ok: false, retryAfter} where
     * retryAfter is whole seconds until a token is available again (at least 1).
     */
    take(client) {
      const at = now();
      let bucket = buckets.get(client);
      if (!bucket) {
        if (buckets.size >= maxClients) prune(at);
        bucket = { tokens: burst, updated: at };
        buckets.set(client, bucket);
      } else {
        refill(bucket, at);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
    },
  };
}
