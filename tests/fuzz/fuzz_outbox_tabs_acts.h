/*
** fuzz_outbox_tabs_acts.h: what the other live tab of fuzz_outbox.c does, and when
** (its claims, its place "taken" and the checks on this tab: fuzz_outbox_tabs.h).
** Between the core's actions (at a step, or after a number of this tab's actions the
** input picks) it:
**   reads a record no live tab owns into its copy of storage and takes it from that
**     copy: at once, after some of this tab's actions, or at a later step. As real
**     tabs interleave, this tab may have rewritten or removed the record since (its
**     claim, a delivery, a loss it counted): the claim writes the record back as read.
**     A read is acted on while it is under IMP_OB_SETTLE_MS old: the core gives every
**     tab's writes that long to reach every copy (src/outbox_adopt.c), and a tab
**     claims within its scan, right after it reads;
**   delivers a free record at once and removes it (a tab that adopted and delivered
**     it), or a committed one; or its request for a committed one fails: a network
**     error or a 5xx (which the collector may have stored) keeps the record to retry
**     later; a 4xx for events the collector refuses (answered as this tab's requests
**     are) loses them, and that tab counts them and the copy's "drop"; so does its
**     outbox's next action (at a step the input picks) for a batch it holds, not in
**     flight, past max_age_ms: its collector failed for that long, or the device slept;
**   sends a committed record and leaves the request out until an answer (a delivery,
**     a failure) or its death;
**   dies with its records owned (its Web Lock released, or without Web Locks its
**     lease left to run out), possibly between delivering a record and removing it,
**     or with requests out, each lost with the page, stored by the collector or
**     refused by it unheard; this tab must adopt and deliver those events (the
**     collector may get some twice). Another tab (a new id) takes its place;
**   purges with this tab when consent is revoked (consent is the site's), or not yet;
**   (a tab of another tracker version writes a record neither can read.)
** At the end, with the network back, it delivers everything it committed.
*/
static rec read_copy; /* the other tab's copy of one record, as it read it */
static double read_at;
static uint32_t read_check; /* the last check of the law before the read */
static int take_after = -1; /* this tab's actions before the take of read_copy */

static void read_forget(void) {
  free(read_copy.value);
  free(read_copy.s);
  memset(&read_copy, 0, sizeof read_copy);
  take_after = -1;
}

/* The other tab reads the pick-th record it may take into its copy. */
static void read_record(uint8_t pick) {
  int i = pick_scannable(pick);
  read_forget();
  if (i < 0) return;
  const rec *x = &store[i];
  read_copy = *x;
  read_copy.value = malloc(x->len);
  memcpy(read_copy.value, x->value, x->len);
  read_copy.s = malloc(sizeof *x->s * (x->events ? x->events : 1u));
  memcpy(read_copy.s, x->s, sizeof *x->s * x->events);
  read_at = now;
  read_check = check_n;
  SAY("  other tab %s reads %s\n", other_id, x->key);
}

/* The other tab takes the record it read, unless the read is too old or it holds
** that record already (its own writes reach its copy at once). */
static void take_read(void) {
  int mine = 0;
  for (uint32_t k = 0; read_copy.value && k < taken_n; k++)
    mine |= !strcmp(taken[k].key, read_copy.key);
  if (read_copy.value && !mine && now - read_at < IMP_OB_SETTLE_MS)
    take_copy(&read_copy, 0, read_check);
  read_forget();
}

/* The pick-th committed record, if any. */
static taken_rec *pick_committed(uint8_t pick) {
  for (uint32_t k = 0; k < taken_n; k++)
    if (taken[(k + pick) % taken_n].state == COMMITTED) return &taken[(k + pick) % taken_n];
  return NULL;
}

/* A refusal for good: the collector answers as it does this tab (a copy of a batch
** it took is taken: 2xx), and the other tab counts the events and the "drop". */
static void refused_to_other(taken_rec *t) {
  int known = verdict_of(t->json, t->json_len, 0);
  if (known == 1) {
    deliver_other(t, 0);
    return;
  }
  if (!known) verdict_of(t->json, t->json_len, 1);
  SAY("  other tab's request for %s refused: %u events lost\n", t->key, t->events);
  other_loses(t, 0);
}

/* The other tab's request for a committed record fails: how % 4 is a network error,
** a 5xx the collector stored, a 5xx, or a refusal for good. */
static void other_request_fails(uint8_t how, uint8_t pick) {
  taken_rec *t = pick_committed(pick);
  if (!t || !t->events) return;
  SAY("  other tab's request for %s fails (%u)\n", t->key, how % 4u);
  t->in_flight = 0;
  if (how % 4u == 1u && net_up) collect(t->json, t->json_len, 0, 0);
  if (how % 4u == 3u && net_up) refused_to_other(t);
}

/* The other tab sends a committed record's events: the request stays out until an
** answer (a delivery, a failure) or the tab's death. */
static void send_other(taken_rec *t) {
  SAY("  other tab sends %s (%u events)\n", t->key, t->events);
  t->in_flight = 1;
}

/* A request out when its tab dies, fate % 3: lost with the page (as with the network
** down), reached the collector (stored, its answer lost), or refused by it for good
** (unheard); its record stays, owned by the dead tab. */
static void request_dies(const taken_rec *t, uint8_t fate) {
  int refusal = fate % 3u == 2u && !verdict_of(t->json, t->json_len, 0);
  SAY("  other tab's request for %s %s\n", t->key,
      !net_up || fate % 3u == 0 ? "is lost with the page"
      : refusal ? "is refused by the collector, unheard" : "reached the collector");
  if (!net_up || fate % 3u == 0) return;
  if (refusal) verdict_of(t->json, t->json_len, 1);
  else collect(t->json, t->json_len, 0, 0);
}

/* The shared events of t (the place "taken"), as its tab dies: an over-count excused
** for them goes with that tab's copy (taken_given_back()). */
static void note_died_with(const taken_rec *t) {
  if (!in_taken_place(t) || t->pv < 0) return;
  for (uint32_t k = 0; k < t->events; k++)
    died_with[t->pv][t->s[k]] |= shared[t->pv][t->s[k]];
  if (t->events) died_drop[t->pv][t->s[0]] = t->drop;
}

/* The other tab dies with what it holds: its records, owned by an id no live tab has,
** are this tab's to adopt (with Web Locks at once, else when their leases run out);
** its requests out reach the collector or not (the input picks each fate). Only a
** batch whose record this tab removed (a consent purge) was in that tab's memory
** alone, and is lost with it. */
static void other_tab_dies(fz_in *in) {
  int memory_only = 0;
  SAY("  other tab %s dies\n", other_id);
  for (uint32_t i = 0; i < taken_n; i++) {
    if (taken[i].state == COMMITTED && taken[i].in_flight) request_dies(&taken[i], fz_u8(in));
    memory_only |= taken[i].state == COMMITTED && !claim_stands(&taken[i]);
    note_died_with(&taken[i]);
    for (uint32_t k = 0; taken[i].pv >= 0 && k < taken[i].events; k++)
      seen_taken[taken[i].pv][taken[i].s[k]] = 0;
  }
  while (taken_n) taken_free(0);
  read_forget();
  snprintf(other_id, sizeof other_id, "w%d", ++other_life);
  long long lost = excused_imbalance();
  if (lost < 0 || (lost && !memory_only))
    fz_fail("the other tab's death lost events its records kept", NULL, 0);
  allowed += lost;
}

/* Consent is the site's: the other tab sees it revoked as this tab does, and purges.
** What it held goes (counted with this tab's purge, as withheld on purpose); a request
** of its out, cancelled, may have reached the collector; every record goes. */
static void other_tab_purges(fz_in *in) {
  SAY("  other tab %s sees consent revoked, and purges\n", other_id);
  for (uint32_t i = 0; i < taken_n; i++)
    if (taken[i].state == COMMITTED && taken[i].in_flight && net_up && (fz_u8(in) & 1))
      collect(taken[i].json, taken[i].json_len, 0, 0);
  while (taken_n) taken_free(0);
  read_forget();
  while (store_n) rec_drop(store[0].key);
}

/*=== MARK: - Hooks for the world ===*/
/* A step of the other tab, c % 8: take now (0), or deliver at once (3); read, and take
** after some of this tab's actions (1) or at a later step (4, 5); a record's age over
** max_age_ms makes the take a removal that counts it, an unreadable one a removal
** (fuzz_outbox_tabs_scan.h); with (c >> 3) % 8 == 7, 4 is instead a tab of another
** version writing a record this one cannot read; deliver a committed record (2: with
** c & 0x80 it dies before removing it, unless drop-only: both tabs would carry that
** count, which no (pv, s) folds; with c & 0x08 it sends it, and the request stays out
** until the next answer or its death); a request of its fails (6: with c & 0x20 its
** outbox acts next, and what it holds past max_age_ms, not in flight, is counted lost
** there, fuzz_outbox_tabs_expire.h); it dies (7). */
static void other_tab_step(fz_in *in) {
  uint8_t c = fz_u8(in), pick = fz_u8(in);
  int i;
  taken_rec *t;
  confirm_claims();
  switch (c % 8u) {
  case 0:
  case 3:
    if ((i = pick_scannable(pick)) < 0) break;
    /* what it does with a record (takes it, or removes it too old) reaches its own copy
    ** at once: a read of that record it still holds is done with */
    if (read_copy.value && !strcmp(read_copy.key, store[i].key)) read_forget();
    take_copy(&store[i], c % 8u == 3, check_n + 1u);
    break;
  case 1:
    read_record(pick);
    take_after = 1 + (c >> 3) % 8;
    break;
  case 4:
    if ((c >> 3) % 8u == 7u) foreign_record_appears(pick);
    else read_record(pick);
    break;
  case 5: take_read(); break;
  case 6:
    other_request_fails(c >> 3, pick);
    if (c & 0x20) other_tab_expires(); /* its outbox's next action */
    break;
  case 7: other_tab_dies(in); break;
  default:
    if ((t = pick_committed(pick)) == NULL) break;
    if ((c & 0x88) == 0x08 && t->events && !t->in_flight) {
      send_other(t);
      break;
    }
    deliver_other(t, c >> 7 && t->events); /* (see below) */
    if (c >> 7) other_tab_dies(in);
  }
}

/* After each of this tab's actions: a take the input timed. */
static void other_tab_between(void) {
  if (take_after < 0 || take_after-- > 0) return;
  take_read();
}

/* The end: the other tab confirms, delivers everything it holds, and goes. */
static void other_tab_finishes(void) {
  now += IMP_OB_SETTLE_MS;
  scan_removes_unreadable();
  confirm_claims();
  for (uint32_t i = 0; i < taken_n; i++)
    if (taken[i].state == COMMITTED) deliver_other(&taken[i], 0);
  while (taken_n) taken_free(0);
  read_forget();
}

static void other_tab_reset(void) {
  while (taken_n) taken_free(0);
  read_forget();
  memset(seen_taken, 0, sizeof seen_taken);
  memset(shared, 0, sizeof shared);
  memset(held_at, 0, sizeof held_at);
  check_n = 0;
  memset(other_lost, 0, sizeof other_lost);
  memset(other_lost_drop, 0, sizeof other_lost_drop);
  memset(given_back, 0, sizeof given_back);
  memset(died_with, 0, sizeof died_with);
  memset(died_drop, 0, sizeof died_drop);
  stale_drops = 0;
  other_counted = 0;
  other_life = 1;
  snprintf(other_id, sizeof other_id, "w%d", other_life);
  twice = 0;
}
