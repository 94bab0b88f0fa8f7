/*
** fuzz_outbox_law.h: the conservation law of fuzz_outbox.c, checked after every step
** over every event (pv, s) the core has made:
**  - an event in the queue is nowhere else; no two held batches share an event;
**  - missing events (in no place: queue, held in memory, stored, taken by the other
**    tab until it delivers them, delivered) equal
**    the counted ones: the queue's pending "drop", the "drop" of every held or
**    delivered batch (once per batch identity, pv + first s; a held copy never
**    carries more than a delivered copy of it), drop-only records, consent purges,
**    what a crash, a page death with storage unusable, or a consent purge lost
**    (measured as it happens; zero for a clean page death), and what the other tab
**    counted lost (a refusal for good, a record too old); the count may exceed what
**    is missing only by events (and the "drop" of their copy) the collector holds
**    from a request whose answer the outbox never heard, expired since, by events the
**    other tab holds that this tab held too without a standing claim (a claim whose
**    write failed, a released copy, a record the other tab wrote back from a stale
**    read) and counted lost, and by events both tabs counted lost, or that the other
**    tab counted lost (a refusal, a batch it held past max_age_ms, a scan that found
**    them too old) and the collector has or this tab holds or held since; an excuse whose over-count went (this tab let its copy go
**    uncounted) is returned;
**  - once a scan of this tab ended IMP_OB_SETTLE_MS or more after the other tab's
**    claim on a record was written, with the claim standing, this tab holds none of
**    its events (but in a request in flight) and sends none again (fetch, beacon,
**    fetchLater) while that tab lives; the collector may get an event twice otherwise
**    (counted apart, as the collector folds copies on (pv, s)).
** It owns the places (queue, memory, storage; "taken" is fuzz_outbox_tabs.h's), the
** count of what is missing and counted, and the excuses for counting more.
*/
static void mark(int pv, long long s, uint8_t bit, const char *what) {
  if (pv < 0 || s < 1 || s > MAX_S) fz_fail(what, NULL, 0);
  if (bit == IN_MEMORY && (where[pv][s] & IN_MEMORY)) fz_fail("two held batches share an event", NULL, 0);
  where[pv][s] |= bit;
}

/* Drop of a copy of the batch whose first event is (pv, s): counted once per batch. */
static void held_copy(int pv, long long s, long long drop) {
  if (delivered_drop[pv][s] >= 0) {
    if (drop > delivered_drop[pv][s]) fz_fail("a held copy carries more drop than its delivered copy", NULL, 0);
    return;
  }
  if (drop > held_drop[pv][s]) held_drop[pv][s] = drop;
}

/*=== MARK: - The places ===*/
static void scan_queue(void) {
  static uint8_t ev[IMP_EVENT_MAX_BYTES];
  for (uint32_t i = 0; i < imp_g.rec_count; i++) {
    const imp_event_rec *r = &imp_g.recs[(imp_g.rec_head + i) % imp_g.cfg.max_queue];
    const imp_pageview *p = &imp_g.pvs[r->pv];
    for (uint32_t k = 0; k < r->len; k++) ev[k] = imp_g.ring[(r->off + k) % imp_g.cfg.queue_bytes];
    mark(pv_index(p->id, p->id_len), event_s(ev, r->len), IN_QUEUE, "queued event unknown");
  }
}

static long long scan_memory(void) {
  long long drops = 0;
  check_n++;
  for (uint32_t i = 0; i < imp_ob.nslots; i++) {
    const ob_batch *b = &imp_ob.slots[i];
    if (b->state == OB_FREE) continue;
    int pv = prefix_pv(b->data, b->prefix_len);
    const uint8_t *e = b->data + b->prefix_len;
    long long first = -1;
    for (uint32_t k = 0; k < b->events; k++) {
      long long s = event_s(e, b->lens[k]);
      if (first < 0) first = s;
      mark(pv, s, IN_MEMORY, "held event unknown");
      held_at[pv][s] = check_n;
      if (b->state != OB_FETCH && seen_taken[pv][s])
        fz_fail("this tab holds an event another tab took, after its scan saw the claim", NULL, 0);
      e += b->lens[k];
    }
    if (b->events) held_copy(pv, first, b->drop);
    else drops += b->drop;
  }
  return drops;
}

/* Marks the events of a stored or taken copy of a batch in place `bit`, with its drop;
** returns the count of a drop-only copy. */
static long long place_copy(int pv, const long long *s, uint32_t events, long long drop,
                            uint8_t bit, const char *what) {
  if (!events) return drop;
  for (uint32_t k = 0; k < events; k++) mark(pv, s[k], bit, what);
  held_copy(pv, s[0], drop);
  return 0;
}

static long long scan_storage(void) {
  long long drops = 0;
  for (uint32_t i = 0; i < store_n; i++) {
    const rec *x = &store[i];
    if (!owned_by(x, other_id)) /* (else in the place "taken") */
      drops += place_copy(x->pv, x->s, x->events, x->drop, IN_STORE, "stored event unknown");
  }
  return drops;
}

/* missing - counted - allowed: 0 while the law holds. */
static long long imbalance(void) {
  long long missing = 0, counted = delivered_drops + allowed + purged_before + other_counted;
  note_seq();
  for (uint32_t p = 0; p < pv_n; p++) { /* only these rows are marked */
    memset(where[p], 0, sizeof where[p]);
    memset(held_drop[p], 0, sizeof held_drop[p]);
  }
  if (core_alive) {
    scan_queue();
    counted += imp_g.drop_pending + scan_memory() + imp_act.purged;
  }
  counted += scan_storage() + scan_taken();
  for (uint32_t p = 0; p < pv_n; p++)
    for (uint32_t s = 1; s <= seq_max[p]; s++) {
      if ((where[p][s] & IN_QUEUE) && ((where[p][s] & ~IN_QUEUE) || got[p][s]))
        fz_fail("a queued event is also held or delivered", NULL, 0);
      if (!where[p][s] && !got[p][s]) {
        missing++;
        SAY("  missing %s s=%u\n", pv_ids[p], s);
      }
      counted += held_drop[p][s];
    }
  SAY("  law: missing %lld counted %lld (delivered drops %lld, allowed %lld, purged %lld, "
      "pending %u)\n", missing, counted, delivered_drops, allowed,
      purged_before + (core_alive ? imp_act.purged : 0), core_alive ? imp_g.drop_pending : 0);
  return missing - counted;
}

/* Whether this tab holds event (pv, s) in memory. */
static int this_tab_holds(int pv, long long s) {
  for (uint32_t i = 0; core_alive && i < imp_ob.nslots; i++) {
    const ob_batch *b = &imp_ob.slots[i];
    const uint8_t *e = b->data + b->prefix_len;
    if (b->state == OB_FREE || prefix_pv(b->data, b->prefix_len) != pv) continue;
    for (uint32_t k = 0; k < b->events; e += b->lens[k++])
      if (event_s(e, b->lens[k]) == s) return 1;
  }
  return 0;
}

/* Whether this tab holds event (pv, s) in memory, or held it at a check of the law
** since `read` (the last check before the other tab's read). */
static int held_since(int pv, long long s, uint32_t read) {
  return this_tab_holds(pv, s) || (held_at[pv][s] && held_at[pv][s] >= read);
}

/* Events the collector holds from a request whose answer the outbox never heard (a
** timeout that had landed, a 5xx after storing), or that both tabs held (shared: a
** record the other tab wrote back from a stale read, and left when it died, is a
** copy this tab never sent), and that no batch holds any more, with the "drop" such
** a copy carried: if their batch was held past max_age_ms, the outbox counted them
** lost, and its "drop" again, not knowing; and events the other tab holds that this
** tab held too (taken_unheard()). */
static long long unheard(void) {
  long long n = taken_unheard();
  for (uint32_t p = 0; p < pv_n; p++)
    for (uint32_t s = 1; s <= seq_max[p]; s++)
      if (got[p][s] && (!heard[p][s] || shared[p][s]) && !where[p][s])
        n += 1 + (delivered_drop[p][s] > 0 ? delivered_drop[p][s] : 0);
  return n;
}

/* imbalance(), less what unheard() excuses (counted beyond what is missing), and
** plus an excuse whose over-count is gone (taken_given_back()). */
static long long excused_imbalance(void) {
  long long d = imbalance();
  if (d > 0 && excused > 0) {
    long long back = taken_given_back(d < excused ? d : excused);
    excused -= back;
    allowed += back;
    d -= back;
  }
  if (d < 0 && excused - d <= unheard()) {
    excused -= d;
    allowed += d;
    d = 0;
  }
  return d;
}

static void check_law(void) {
  if (excused_imbalance() != 0) fz_fail("conservation: missing events differ from counted ones", NULL, 0);
}
