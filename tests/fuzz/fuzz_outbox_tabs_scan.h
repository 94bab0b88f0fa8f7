/*
** fuzz_outbox_tabs_scan.h: what the other live tab's scans remove (fuzz_outbox_tabs.h
** reads and takes; fuzz_outbox_tabs_acts.h says when), as a real tracker's scan does:
**   a record it cannot read (an earlier format, a value cut short: written by a tab of
**     another tracker version) is removed, and nothing is counted;
**   a record no live tab owns, older than max_age_ms, is removed, and its events and
**     "drop" are counted lost there (the "drop" that tab carries on: other_counted).
** It acts on its read, which may be stale, as its takes do: this tab may have removed
** the record since (delivered, or counted lost by its own scan), or rewritten it (a
** removal by key takes this tab's claim with it: its confirming scan forgets the
** batch). Events this tab held since the read (the record rewritten or removed, or
** found held at a check of the law since: an adopted record whose claim could not be
** written, held and counted lost here at max_age_ms), or holds now (a released copy
** in flight), are shared: both tabs may count them, or the collector may have them too
** (an allowed over-count, taken_unheard()); a drop-only record both tabs removed is
** counted by both (stale_drops). Such an over-count, once excused, goes again when
** this tab lets its copy go uncounted (a batch whose record is gone is forgotten, its
** request going on alone, then cancelled), or when the other tab dies with its copy
** in memory (this tab counted them; that tab's copy, uncounted, is gone):
** taken_given_back() returns that excuse.
*/
static uint8_t given_back[MAX_PV][MAX_S + 1]; /* its excuse returned (once an event) */
static uint8_t died_with[MAX_PV][MAX_S + 1];  /* shared, in the other tab's memory as it died */
static long long died_drop[MAX_PV][MAX_S + 1]; /* the "drop" of that copy (first event) */

/* Up to `most` of the excuse for events the other tab counted lost, or died with,
** that this tab held (shared), and that are now in no place and not delivered: the
** over-count they made is gone. Each event returns once, with the "drop" of its copy. */
static long long taken_given_back(long long most) {
  long long n = 0;
  for (uint32_t p = 0; p < pv_n && n < most; p++)
    for (uint32_t s = 1; s <= seq_max[p] && n < most; s++)
      if ((other_lost[p][s] || died_with[p][s]) && shared[p][s] && !where[p][s] && !got[p][s] &&
          !given_back[p][s]) {
        long long drop = other_lost[p][s] ? other_lost_drop[p][s] : died_drop[p][s];
        given_back[p][s] = 1;
        n += 1 + (drop > 0 ? drop : 0);
      }
  return n < most ? n : most;
}

/* The other tab's scan removes x, as read (stale: this tab wrote or removed it since),
** and counts what it carried unless it could not read it. */
static void scan_removes(const rec *x, int stale, uint32_t read) {
  SAY("  other tab %s removes %s%s (%s)\n", other_id, x->key, stale ? " from a stale read" : "",
      x->unreadable ? "unreadable" : "older than max_age_ms");
  if (!x->unreadable) {
    for (uint32_t k = 0; k < x->events; k++) {
      other_lost[x->pv][x->s[k]] = 1;
      shared[x->pv][x->s[k]] |= (uint8_t)(stale || held_since(x->pv, x->s[k], read));
    }
    if (x->events) other_lost_drop[x->pv][x->s[0]] = x->drop;
    else if (stale) stale_drops += x->drop;
    other_counted += x->events + x->drop;
  }
  rec_drop(x->key);
}

/* A tab of another tracker version writes a record this one cannot read: an earlier
** format (I1), or a value cut short. */
static void foreign_record_appears(uint8_t pick) {
  static const char *const values[] = {
      "I1 1700000000000 0000000000000 0 v0\n{\"v\":0,\"ev\":[]}",
      "I2 1700000000000 17000",
  };
  char key[IMP_OB_KEY_BYTES + 1];
  snprintf(key, sizeof key, "q:1700000000000:v%u:1", pick % 4u);
  SAY("  a tab of another version writes %s\n", key);
  rec_write_unreadable(key, values[(pick >> 2) % 2u]);
}

/* The other tab's last scan: what it cannot read goes. */
static void scan_removes_unreadable(void) {
  for (uint32_t i = 0; i < store_n; i++)
    if (store[i].unreadable) scan_removes(&store[i--], 0, check_n + 1u);
}
