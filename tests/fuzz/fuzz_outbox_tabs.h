/*
** fuzz_outbox_tabs.h: the other live tab of fuzz_outbox.c (included there once, after
** its model of storage), which shares the page's localStorage (store[]): its claims,
** the place "taken" of the law and what this tab may not do once it saw a claim. When
** it reads, takes, delivers, fails and dies is fuzz_outbox_tabs_acts.h's.
**
** It runs this tracker under an id of its own (other_id: w1, and a new one after each
** death), and reads storage from a copy of its own that may be stale:
**   it takes a record no live tab owned when it read it: rewrites it, as it read it,
**     with its own owner id and a lease (a record this tab rewrote or removed since is
**     written back as read); its Web Lock is reported held in this tab's scans while it
**     holds a record, or, without Web Locks, its lease is renewed before each of them;
**   confirms its claim IMP_OB_SETTLE_MS later, as its scan does: still standing, the
**     events are its own to deliver (committed); overwritten or removed by this tab
**     before, it forgets them (they are this tab's);
**   delivers a committed record's events (the collector gets them) and removes it, or
**     loses them to a refusal or to age (held past max_age_ms) and counts them and the
**     copy's "drop" (other_counted, fuzz_outbox_tabs_expire.h);
**   or delivers a record no live tab owns and removes it at once (a tab that adopted
**     and delivered it);
**   removes, as its scans do, a record it cannot read, and one no live tab owns older
**     than max_age_ms, counting its events and "drop" (fuzz_outbox_tabs_scan.h);
**   dies with requests out, which reach the collector or not, their records left
**     owned by the dead tab; purges when this tab sees consent revoked, or not yet.
** The events of a record it took are in a place ("taken") until it delivers them. A
** claim is seen by this tab when one of its scans ends IMP_OB_SETTLE_MS or more after
** the claim was written, with the claim standing (the record owned by the other tab,
** or gone after its delivery): from then on this tab must not hold those events
** (except in a request already in flight) nor send them, until that tab dies.
*/
#define MAX_TAKEN 32

typedef struct {
  char key[IMP_OB_KEY_BYTES + 1];
  int state; /* TAKEN, COMMITTED, DELIVERED */
  int pv;
  uint32_t events;
  long long drop, *s;
  uint8_t *json; /* the batch's JSON, to deliver */
  uint32_t json_len;
  double taken_at, created; /* created: its record's, on the wall clock (max_age_ms) */
  int in_flight; /* a request of it is out, unanswered (COMMITTED) */
} taken_rec;
enum { TAKEN = 1, COMMITTED, DELIVERED };

static taken_rec taken[MAX_TAKEN];
static uint32_t taken_n;
static uint8_t other_lost[MAX_PV][MAX_S + 1]; /* the other tab counted it lost */
static long long other_lost_drop[MAX_PV][MAX_S + 1]; /* with this "drop" (first event) */
static long long stale_drops; /* drop-only records it counted from a stale read */
static int other_life = 1; /* other_id is w<other_life> */

static void rec_drop(const char *key);
static int rec_write(const char *key, const uint8_t *value, uint32_t len);
static void scan_removes(const rec *x, int stale, uint32_t read); /* fuzz_outbox_tabs_scan.h */

/*=== MARK: - Record headers: I2 <created> <until> <attempted> <owner>\n ===*/
static const uint8_t *rec_owner(const rec *x, uint32_t *len) {
  const uint8_t *p = x->value + 33, *nl = memchr(x->value, '\n', x->len);
  *len = nl && nl > p ? (uint32_t)(nl - p) : 0u;
  return p;
}

static int owned_by(const rec *x, const char *id) {
  uint32_t n;
  const uint8_t *o = rec_owner(x, &n);
  return n == strlen(id) && !memcmp(o, id, n);
}

static double rec_ms(const rec *x, uint32_t at) { return strtod((const char *)x->value + at, NULL); }

/* Whether no live tab owns a record, as the other tab sees it. */
static int no_live_owner(const rec *x) {
  if (owned_by(x, other_id)) return 0;
  if (owned_by(x, "-")) return 1;
  if (core_alive && owned_by(x, tab)) return 0;
  if (locks) return !(other_live && owned_by(x, prev_tab));
  return rec_ms(x, 17) <= epoch + now;
}

/* Older than max_age_ms: a scan removes it and counts its events and "drop". */
static int too_old(const rec *x) { return epoch + now - rec_ms(x, 3) > imp_ob.cfg.max_age_ms; }

/* Whether the other tab's scan acts on a record: one it cannot read (removed), or
** one no live tab owns (taken, or removed and counted when too old). */
static int scannable(const rec *x) { return x->unreadable || no_live_owner(x); }

/* Writes x, as read, with other_id as owner and a lease from now. */
static void claim_other(const rec *x) {
  const uint8_t *nl = memchr(x->value, '\n', x->len);
  char head[64];
  double until = epoch + now + imp_ob.cfg.lease_ms;
  int n = snprintf(head, sizeof head, "I2 %.13s %013.0f %c %s", (const char *)x->value + 3,
                   until < 9999999999999.0 ? until : 9999999999999.0, x->value[31], other_id);
  uint32_t rest = x->len - (uint32_t)(nl - x->value);
  uint8_t *v = malloc((size_t)n + rest);
  memcpy(v, head, (size_t)n);
  memcpy(v + n, nl, rest);
  char key[IMP_OB_KEY_BYTES + 1];
  snprintf(key, sizeof key, "%s", x->key);
  rec_write(key, v, (uint32_t)n + rest);
  free(v);
}

/* The claim of t stands: the record is the other tab's, or gone once delivered. */
static int claim_stands(const taken_rec *t) {
  int i = find_rec(t->key);
  return t->state == DELIVERED ? i < 0 : i >= 0 && owned_by(&store[i], other_id);
}

/*=== MARK: - The other tab's acts ===*/
static void taken_free(uint32_t i) {
  free(taken[i].json);
  free(taken[i].s);
  taken[i] = taken[--taken_n];
}

/* The other tab delivers t's events (its requests are taken: a refusal would be its
** own to count) and removes its record, unless it dies first (`keep_record`). */
static void deliver_other(taken_rec *t, int keep_record) {
  SAY("  other tab delivers %s (%u events)\n", t->key, t->events);
  if (t->events) collect(t->json, t->json_len, 1, 0);
  else delivered_drops += t->drop;
  if (!keep_record) rec_drop(t->key);
  t->state = DELIVERED;
}

/* Whether store holds x as it was read (else this tab rewrote or removed it since). */
static int read_stands(const rec *x) {
  int i = find_rec(x->key);
  return i >= 0 && store[i].len == x->len && !memcmp(store[i].value, x->value, x->len);
}

/* The record x, as the other tab read it, becomes its own (taken), or, with `at_once`,
** is delivered too. Events this tab holds then, or held since the read (the record
** rewritten or removed, or found held at a check of the law since: held_since()), are
** shared: held without a standing claim (one whose write failed is sent as is, a
** released copy of a hidden page), this tab may send them too, or count them lost
** (max_age_ms, a refusal) while the other tab delivers them.
** A drop-only record read before this tab's scan removed it is counted by both tabs:
** nothing claims those, and no (pv, s) folds a count (stale_drops). A record it
** cannot read, or too old, its scan removes instead (scan_removes()). */
static void take_copy(const rec *x, int at_once, uint32_t read) {
  if (x->unreadable || too_old(x)) {
    scan_removes(x, !read_stands(x), read);
    return;
  }
  for (uint32_t k = 0; taken_n == MAX_TAKEN && k < taken_n; k++)
    if (taken[k].state == DELIVERED) taken_free(k); /* (room: a delivered one goes) */
  if (taken_n == MAX_TAKEN) return;
  const uint8_t *nl = memchr(x->value, '\n', x->len);
  int stale = !read_stands(x);
  at_once |= !x->events; /* a drop-only record is removed and counted, never claimed */
  if (stale && !x->events) stale_drops += x->drop;
  taken_rec *t = &taken[taken_n++];
  snprintf(t->key, sizeof t->key, "%s", x->key);
  t->state = TAKEN;
  t->pv = x->pv;
  t->events = x->events;
  t->drop = x->drop;
  t->s = malloc(sizeof *t->s * (x->events ? x->events : 1u));
  for (uint32_t k = 0; k < x->events; k++) {
    t->s[k] = x->s[k];
    shared[t->pv][t->s[k]] |= (uint8_t)(stale || held_since(t->pv, t->s[k], read));
  }
  t->json_len = x->len - (uint32_t)(nl + 1 - x->value);
  t->json = malloc(t->json_len + 1u);
  memcpy(t->json, nl + 1, t->json_len);
  t->taken_at = now;
  t->created = rec_ms(x, 3);
  t->in_flight = 0;
  SAY("  other tab %s takes %s%s%s\n", other_id, t->key, stale ? " from a stale read" : "",
      at_once ? " and delivers it" : "");
  if (at_once) deliver_other(t, 0);
  else claim_other(x);
}

/* The pick-th record the other tab's scan acts on, if any. */
static int pick_scannable(uint8_t pick) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < store_n; i++) n += (uint32_t)scannable(&store[i]);
  if (!n) return -1;
  n = pick % n;
  for (uint32_t i = 0; i < store_n; i++)
    if (scannable(&store[i]) && !n--) return (int)i;
  return -1;
}

/* The other tab's confirming scans due by now: a claim standing is committed, one
** lost is forgotten. */
static void confirm_claims(void) {
  for (uint32_t i = 0; i < taken_n; i++) {
    if (taken[i].state != TAKEN || now < taken[i].taken_at + IMP_OB_SETTLE_MS) continue;
    if (claim_stands(&taken[i])) taken[i].state = COMMITTED;
    else taken_free(i--);
  }
}

/* This tab writes or removes `key`: a claim of the other tab on it is lost, unless
** that tab's confirming scan came first. */
static void claim_lost(const char *key) {
  confirm_claims();
  for (uint32_t i = 0; i < taken_n; i++)
    if (taken[i].state == TAKEN && !strcmp(taken[i].key, key)) {
      SAY("  this tab overwrites the other tab's claim on %s\n", key);
      taken_free(i--);
    }
}

/*=== MARK: - Hooks for the world ===*/
/* Before this tab's scan lists the records: the other tab's claims due are
** confirmed; it is reported live (Web Locks) or its leases are renewed. */
static void other_tab_before_scan(void) {
  int holds = 0;
  confirm_claims();
  for (uint32_t i = 0; i < taken_n; i++) {
    if (taken[i].state == DELIVERED) continue;
    holds = 1;
    int r = find_rec(taken[i].key);
    if (!locks && r >= 0 && owned_by(&store[r], other_id)) claim_other(&store[r]);
  }
  if (holds && locks) {
    memcpy(imp_outbox_io_ptr(), other_id, strlen(other_id));
    imp_outbox_tab_live(now, (uint32_t)strlen(other_id));
  }
}

/* This tab's scan ended: the claims it saw. */
static void other_tab_after_scan(void) {
  for (uint32_t i = 0; i < taken_n; i++) {
    const taken_rec *t = &taken[i];
    if (now < t->taken_at + IMP_OB_SETTLE_MS || !claim_stands(t) || t->pv < 0) continue;
    SAY("  this tab's scan saw the other tab's claim on %s\n", t->key);
    for (uint32_t k = 0; k < t->events; k++) seen_taken[t->pv][t->s[k]] = 1;
  }
}

/* t's events are in the place "taken": not delivered, and committed or its claim standing. */
static int in_taken_place(const taken_rec *t) {
  return t->state != DELIVERED && (t->state == COMMITTED || claim_stands(t));
}

/* The law's place "taken": the events of the records the other tab holds, with their
** counts; returns the drop-only counts. */
static long long scan_taken(void) {
  long long drops = 0;
  for (uint32_t i = 0; i < taken_n; i++) {
    const taken_rec *t = &taken[i];
    if (in_taken_place(t))
      drops += place_copy(t->pv, t->s, t->events, t->drop, IN_TAKEN, "taken event unknown");
  }
  return drops;
}

/* Counted beyond what is missing for events in the place "taken" only, shared with
** this tab (see take_copy()): each, and the "drop" of its copy; for events the other
** tab counted lost that this tab held too, or that the collector has; and for the
** drop-only records both tabs counted. */
static long long taken_unheard(void) {
  long long n = stale_drops;
  for (uint32_t p = 0; p < pv_n; p++)
    for (uint32_t s = 1; s <= seq_max[p]; s++)
      if (other_lost[p][s] && (shared[p][s] || got[p][s]))
        n += 1 + (other_lost_drop[p][s] > 0 ? other_lost_drop[p][s] : 0);
  for (uint32_t i = 0; i < taken_n; i++) {
    const taken_rec *t = &taken[i];
    if (!in_taken_place(t)) continue;
    for (uint32_t k = 0; k < t->events; k++)
      if (shared[t->pv][t->s[k]] && where[t->pv][t->s[k]] == IN_TAKEN)
        n += 1 + (k == 0 && t->drop > 0 ? t->drop : 0);
  }
  return n;
}

/* A body this tab sends (JSON) must carry no event whose claim by the other tab it saw. */
static void check_send(const uint8_t *json, uint32_t len) {
  json_t *root = json_loadb((const char *)json, len, 0, NULL), *e;
  size_t i;
  const char *pv_text = json_string_value(json_object_get(root, "pv"));
  int pv = pv_text ? pv_index((const uint8_t *)pv_text, (uint32_t)strlen(pv_text)) : -1;
  json_array_foreach(json_object_get(root, "ev"), i, e) {
    json_int_t s = json_integer_value(json_object_get(e, "s"));
    if (pv >= 0 && s >= 1 && s <= MAX_S && seen_taken[pv][s])
      fz_fail("this tab sends an event another tab took, after its scan saw the claim",
              (const char *)json, len);
  }
  json_decref(root);
}
