/*
** fuzz_outbox.c: libFuzzer target for delivery: the conservation law.
**
** The input drives a small world around the core and its outbox: cards that are
** registered, observed, clicked; page state, page views, time; a network whose
** answers (2xx, 408, 413, 429 with Retry-After, 5xx, 400, network errors, no answer
** at all) and whose reach of the collector for a failed request are chosen by the
** input; sendBeacon that accepts or refuses; fetchLater; a localStorage that works,
** is full or throws; online/offline; consent changes; page loads (a clean one after a
** page hide, or a crash) whose storage the next load finds, an earlier tab that
** still holds its Web Lock or lets it go, a device that sleeps (the wall clock
** goes on, the page's stands: imp_outbox_wall), and another live tab that shares
** storage and, between this tab's actions, takes records no live tab owns and
** delivers them, or delivers and removes one at once (fuzz_outbox_tabs.h). The glue's
** part is played exactly: every action imp_outbox_next() returns is carried out.
**
** Answers may come late, as the browser's do: a scan may wait for its Web Lock while
** anything else happens (consent revoked, and granted again, the page hidden, another
** scan asked for; not done timeout_ms later it is given up, and the next scan takes
** the lock at once), and a request the outbox cancelled (timed out, purged) may still
** answer. A late report must be harmless: a scan the outbox ended meanwhile is
** refused (imp_outbox_found: IMP_ERR_STATE, which ends the glue's scan) or has
** nothing to end (imp_outbox_scan_done: IMP_NONE); an answer to a cancelled request
** is IMP_NONE. Any other refusal fails, and the law below holds across them.
**
** After every step the law is checked over every event (pv, s) the core has made:
**  - an event in the queue is nowhere else; no two held batches share an event;
**  - missing events (in no place: queue, held in memory, stored, taken by the other
**    tab until it delivers them, delivered) equal
**    the counted ones: the queue's pending "drop", the "drop" of every held or
**    delivered batch (once per batch identity, pv + first s; a held copy never
**    carries more than a delivered copy of it), drop-only records, consent purges,
**    and what a crash, a page death with storage unusable, or a consent purge lost
**    (measured as it happens; zero for a clean page death); the count may exceed
**    what is missing only by events (and the "drop" of their copy) the collector
**    holds from a request whose answer the outbox never heard, expired since, and
**    by events the other tab holds that this tab held too without a standing claim
**    (a claim whose write failed, a released copy) and counted lost;
**  - once a scan of this tab ended IMP_OB_SETTLE_MS or more after the other tab's
**    claim on a record was written, with the claim standing, this tab holds none of
**    its events (but in a request in flight) and sends none again (fetch, beacon,
**    fetchLater); the collector may get an event twice otherwise (counted apart);
** and at the end, with the network back and time passing, every event is delivered
** or counted in a delivered "drop", and nothing is left held or stored.
*/
#include <zlib.h>

#include "fuzz_common.h"
#include "outbox_internal.h"

#define MAX_PV 48
#define MAX_S 1024
#define MAX_REC 256
#define MAX_PENDING 12
#define TAB_OTHER "w1" /* the other live tab: fuzz_outbox_tabs.h */

typedef struct {
  char key[IMP_OB_KEY_BYTES + 1];
  uint8_t *value;
  uint32_t len;
  /* The record parsed once, when written (a value never changes after): its page
  ** view, events, their sequence numbers and its drop. */
  int pv;
  uint32_t events;
  long long drop, *s;
} rec;
typedef struct { uint32_t ticket; uint8_t *body; uint32_t len; } req;

static char pv_ids[MAX_PV][16];
static uint32_t pv_n, pv_cur, seq_max[MAX_PV];
static uint8_t where[MAX_PV][MAX_S + 1];     /* place bits of the current check   */
static uint8_t got[MAX_PV][MAX_S + 1];       /* delivered                         */
static uint8_t heard[MAX_PV][MAX_S + 1];     /* delivered, and the outbox heard it (2xx, beacon) */
static uint8_t refused[MAX_PV][MAX_S + 1];   /* the collector refuses it for good */
static long long delivered_drop[MAX_PV][MAX_S + 1], held_drop[MAX_PV][MAX_S + 1];
static long long delivered_drops, purged_before, allowed;
static long long excused; /* counted beyond what is missing: see unheard() */
static rec store[MAX_REC];
static uint32_t store_n;
static req fetches[MAX_PENDING], laters[64];
static uint32_t fetch_n, later_n;
static uint32_t cancelled[MAX_PENDING], cancelled_n; /* tickets whose answer may still come */
static int scan_waits; /* scans waiting for their Web Lock, granted in order */
static int scan_open;  /* a scan the outbox asked for and has not ended (the model's view) */
static double scan_asked; /* when: not done timeout_ms later, the outbox gives it up */
static double epoch;      /* the wall clock at time 0: a sleep moves it on, not `now` */
static int core_alive, storage_mode, net_up, hidden, load, other_live, locks;
static int settle; /* the end: every fetch is answered 204 at once */
static double now;
static char tab[8], prev_tab[8];
static uint8_t seen_taken[MAX_PV][MAX_S + 1]; /* this tab saw another tab's claim on it */
static long long twice; /* events the collector got more than once */

enum { IN_QUEUE = 1, IN_MEMORY = 2, IN_STORE = 4, IN_TAKEN = 8 };

/* The other tab (fuzz_outbox_tabs.h). */
static long long scan_taken(void);
static int owned_by(const rec *x, const char *id);
static void claim_lost(const char *key);
static long long taken_unheard(void);

/*=== MARK: - Parsing what the core wrote ===*/
static int pv_index(const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i < pv_n; i++)
    if (strlen(pv_ids[i]) == n && !memcmp(pv_ids[i], p, n)) return (int)i;
  return -1;
}

/* The pv of a header prefix {"v":1,"pv":"<id>",... (ids are plain ASCII here). */
static int prefix_pv(const uint8_t *p, uint32_t n) {
  const uint32_t at = 13; /* strlen("{\"v\":1,\"pv\":\"") */
  uint32_t end = at;
  while (end < n && p[end] != '"') end++;
  return n > at ? pv_index(p + at, end - at) : -1;
}

static long long event_s(const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i + 4 < n; i++)
    if (!memcmp(p + i, "\"s\":", 4)) return strtoll((const char *)p + i + 4, NULL, 10);
  return -1;
}

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
    if (!owned_by(x, TAB_OTHER)) /* (else in the place "taken") */
      drops += place_copy(x->pv, x->s, x->events, x->drop, IN_STORE, "stored event unknown");
  }
  return drops;
}

/* FUZZ_VERBOSE=1 prints every step, action and check (to read a crashing input). */
static int verbose = -1;
#define SAY(...) do { if (verbose) fprintf(stderr, __VA_ARGS__); } while (0)

static void note_seq(void);

/* missing - counted - allowed: 0 while the law holds. */
static long long imbalance(void) {
  long long missing = 0, counted = delivered_drops + allowed + purged_before;
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

/* Events the collector holds from a request whose answer the outbox never heard (a
** timeout that had landed, a 5xx after storing) and that no batch holds any more, with
** the "drop" such a copy carried: if their batch was held past max_age_ms, the outbox
** counted them lost, and its "drop" again, not knowing; and events the other tab
** holds that this tab held too (taken_unheard()). */
static long long unheard(void) {
  long long n = taken_unheard();
  for (uint32_t p = 0; p < pv_n; p++)
    for (uint32_t s = 1; s <= seq_max[p]; s++)
      if (got[p][s] && !heard[p][s] && !where[p][s])
        n += 1 + (delivered_drop[p][s] > 0 ? delivered_drop[p][s] : 0);
  return n;
}

/* imbalance(), less what unheard() excuses (counted beyond what is missing). */
static long long excused_imbalance(void) {
  long long d = imbalance();
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

/*=== MARK: - The collector ===*/
/* The collector receives a body; with `beaconed`, even one it would refuse counts.
** `told`: the outbox hears of it (a 2xx, an accepted beacon). */
static void collect(const uint8_t *body, uint32_t len, int beaconed, int told) {
  json_error_t err;
  json_t *root = json_loadb((const char *)body, len, 0, &err), *ev, *e;
  size_t i;
  if (!root) fz_fail("a sent body is not strict JSON", (const char *)body, len);
  const char *pv_text = json_string_value(json_object_get(root, "pv"));
  json_t *drop = json_object_get(root, "drop");
  ev = json_object_get(root, "ev");
  int pv = pv_text ? pv_index((const uint8_t *)pv_text, (uint32_t)strlen(pv_text)) : -1;
  if (pv < 0 || !json_is_integer(drop) || !json_is_array(ev) || !json_array_size(ev))
    fz_fail("a sent body is not a batch", (const char *)body, len);
  json_array_foreach(ev, i, e) {
    json_int_t s = json_integer_value(json_object_get(e, "s"));
    if (!beaconed && s >= 1 && s <= MAX_S && refused[pv][s]) { /* refused whole, any copy */
      json_decref(root);
      return;
    }
  }
  json_array_foreach(ev, i, e) {
    json_int_t s = json_integer_value(json_object_get(e, "s"));
    if (s < 1 || s > MAX_S) fz_fail("a sent event has no s", (const char *)body, len);
    if (i == 0) SAY("  collector: %s s=%lld drop=%lld (%zu events)\n", pv_text, (long long)s,
                    (long long)json_integer_value(drop), json_array_size(ev));
    if (i == 0 && delivered_drop[pv][s] < 0) {
      delivered_drop[pv][s] = json_integer_value(drop);
      delivered_drops += json_integer_value(drop);
    }
    if (got[pv][s] && (beaconed || !told)) twice++; /* (told alone: the heard answer) */
    got[pv][s] = 1;
    heard[pv][s] |= (uint8_t)told;
  }
  json_decref(root);
}

/*=== MARK: - Storage ===*/
static int find_rec(const char *key) {
  for (uint32_t i = 0; i < store_n; i++)
    if (!strcmp(store[i].key, key)) return (int)i;
  return -1;
}

/* Parses a record as it is written (see rec). */
static void parse_rec(rec *x) {
  static ob_record r;
  static ob_batch b;
  static uint8_t slot[IMP_OB_SLOT_BYTES];
  imp_ob_bind(&b, slot);
  if (!imp_ob_parse_record(x->value, x->len, &r, &b)) fz_fail("a stored record does not parse", NULL, 0);
  x->events = b.events;
  x->drop = b.drop;
  x->pv = b.events ? prefix_pv(b.data, b.prefix_len) : -1;
  x->s = malloc(sizeof *x->s * (b.events ? b.events : 1u));
  const uint8_t *e = b.data + b.prefix_len;
  for (uint32_t k = 0; k < b.events; k++) {
    x->s[k] = event_s(e, b.lens[k]);
    e += b.lens[k];
  }
}

static void rec_free(rec *x) {
  free(x->value);
  free(x->s);
}

static void rec_drop(const char *key) {
  int i = find_rec(key);
  if (i < 0) return;
  rec_free(&store[i]);
  store[i] = store[--store_n];
}

static int rec_write(const char *key, const uint8_t *value, uint32_t len) {
  int i = find_rec(key);
  if (i < 0) {
    if (store_n == MAX_REC) return 0;
    i = (int)store_n++;
    snprintf(store[i].key, sizeof store[i].key, "%s", key);
  } else {
    rec_free(&store[i]);
  }
  store[i].value = malloc(len);
  memcpy(store[i].value, value, len);
  store[i].len = len;
  parse_rec(&store[i]);
  return 1;
}

static int by_key(const void *a, const void *b) {
  return strcmp(((const rec *)a)->key, ((const rec *)b)->key);
}

#include "fuzz_outbox_tabs.h"

/* This tab's writes and removals (the other tab's claim on the key may be lost). */
static void rec_remove(const char *key) {
  claim_lost(key);
  rec_drop(key);
}

static int rec_put(const char *key, const uint8_t *value, uint32_t len) {
  claim_lost(key);
  return rec_write(key, value, len);
}

/*=== MARK: - The glue ===*/
/* The JSON the collector reads from the body of the last action (a copy, to free):
** with the core's compress the body must be one gzip member, which is inflated; a
** body over body_bytes must carry a single event (nothing smaller can be cut). */
static uint8_t *action_json(uint32_t *len) {
  const imp_action *a = imp_outbox_action_ptr();
  const uint8_t *body = imp_outbox_io_ptr();
  if (a->body_bytes > imp_ob.cfg.body_bytes && a->events > 1)
    fz_fail("a body over body_bytes carries several events", (const char *)body, a->body_bytes);
  if (!imp_g.cfg.compress) {
    uint8_t *copy = malloc(a->body_bytes + 1u);
    memcpy(copy, body, a->body_bytes);
    *len = a->body_bytes;
    return copy;
  }
  uint8_t *json = malloc(IMP_OB_IO_BYTES);
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + 15) != Z_OK) abort();
  z.next_in = (Bytef *)(uintptr_t)body;
  z.avail_in = a->body_bytes;
  z.next_out = json;
  z.avail_out = IMP_OB_IO_BYTES;
  int s = inflate(&z, Z_FINISH);
  *len = (uint32_t)z.total_out;
  inflateEnd(&z);
  if (s != Z_STREAM_END || z.avail_in != 0)
    fz_fail("a compressed body is not one gzip member", (const char *)body, a->body_bytes);
  return json;
}

static void remember(req *list, uint32_t *n, uint32_t cap, uint32_t ticket) {
  if (*n == cap) return;
  list[*n].ticket = ticket;
  list[*n].body = action_json(&list[*n].len);
  (*n)++;
}

static void forget(req *list, uint32_t *n, uint32_t i) {
  free(list[i].body);
  list[i] = list[--*n];
}

/* One scan, as the glue runs it when its lock is granted. The records are listed
** then; the live tabs' ids are told (a refusal skips the id). A scan the outbox ended
** meanwhile (consent revoked) refuses the records (the glue stops) and has nothing
** to end; one it still has open takes every call. */
static int32_t scan(void) {
  int32_t s = IMP_OK;
  other_tab_before_scan();
  qsort(store, store_n, sizeof store[0], by_key);
  if (other_live && locks) {
    memcpy(imp_outbox_io_ptr(), prev_tab, strlen(prev_tab));
    imp_outbox_tab_live(now, (uint32_t)strlen(prev_tab));
  }
  for (uint32_t i = 0; i < store_n; i++) {
    uint32_t kl = (uint32_t)strlen(store[i].key);
    memcpy(imp_outbox_io_ptr(), store[i].key, kl);
    memcpy(imp_outbox_io_ptr() + kl, store[i].value, store[i].len);
    s = imp_outbox_found(now, kl, store[i].len);
    SAY("  found %s: status %d verdict %u\n", store[i].key, s, imp_outbox_action_ptr()->found);
    if (!scan_open && s == IMP_ERR_STATE) return IMP_OK; /* ended meanwhile */
    if (s != IMP_OK) return s;
    if (!scan_open) fz_fail("a scan ended by a purge takes a record", NULL, 0);
    if (imp_outbox_action_ptr()->found == IMP_FOUND_REMOVE) rec_remove(store[i--].key);
  }
  s = imp_outbox_scan_done(now);
  if (s >= 0 && s != (scan_open ? IMP_OK : IMP_NONE)) fz_fail("scan_done: open and ended confused", NULL, 0);
  if (s == IMP_OK) other_tab_after_scan();
  scan_open = 0;
  return s;
}

/* The SCAN action: the scan runs now, or when its lock is granted (a later step). One
** that takes the lock (ticket 1: the one before waited too long) runs now; the
** requests still waiting are granted later, as a browser does. */
static int32_t scan_action(uint8_t luck) {
  scan_open = 1;
  scan_asked = now;
  if (settle || !(luck & 1) || scan_waits == 4 || imp_act.ticket) return scan();
  scan_waits++;
  return IMP_OK;
}

static int32_t store_action(uint8_t luck) {
  const imp_action *a = imp_outbox_action_ptr();
  char key[IMP_OB_KEY_BYTES + 1];
  int outcome = storage_mode;
  memcpy(key, imp_outbox_io_ptr(), a->key_bytes);
  key[a->key_bytes] = '\0';
  if (outcome == IMP_STORE_OK && !settle && (luck & 63) == 63) outcome = IMP_STORE_FULL;
  if (outcome == IMP_STORE_OK &&
      !rec_put(key, imp_outbox_io_ptr() + a->key_bytes, a->body_bytes))
    outcome = IMP_STORE_FULL;
  SAY("  store outcome %d (%u records)\n", outcome, store_n);
  return imp_outbox_stored(now, a->ticket, outcome);
}

static int32_t cancel_action(uint8_t luck) {
  uint32_t ticket = imp_outbox_action_ptr()->ticket;
  for (uint32_t i = 0; i < fetch_n; i++)
    if (fetches[i].ticket == ticket) {
      /* an aborted request may have reached the collector already */
      if (net_up && (luck & 1)) collect(fetches[i].body, fetches[i].len, 0, 0);
      if ((luck & 2) && cancelled_n < MAX_PENDING) cancelled[cancelled_n++] = ticket;
      forget(fetches, &fetch_n, i);
      return IMP_OK;
    }
  for (uint32_t i = 0; i < later_n; i++)
    if (laters[i].ticket == ticket) {
      forget(laters, &later_n, i);
      break;
    }
  return IMP_OK;
}

static int32_t beacon_action(uint8_t luck) {
  const imp_action *a = imp_outbox_action_ptr();
  int outcome = (luck % 8u) < 5u ? IMP_BEACON_ACCEPTED : (luck % 8u) < 7u ? IMP_BEACON_REFUSED
                                                                           : IMP_BEACON_THREW;
  /* Accepted is final: the browser sends it, and what the collector then does is
  ** not knowable (the Beacon API says nothing), so it counts as delivered. */
  if (outcome == IMP_BEACON_ACCEPTED) {
    uint32_t len;
    uint8_t *json = action_json(&len);
    collect(json, len, 1, 1);
    free(json);
  }
  return imp_outbox_beacon(now, a->ticket, outcome);
}

static int verdict_of(const uint8_t *body, uint32_t len, int refuse);

/* A working collector's answer: 204, or 400 for a body with a refused event. */
static int32_t answer_at_once(uint32_t ticket, const uint8_t *body, uint32_t len) {
  int refuse = verdict_of(body, len, 0) == 2;
  uint32_t delivered = imp_act.delivered;
  if (!refuse) collect(body, len, 0, 0);
  int32_t s = imp_outbox_response(now, ticket, refuse ? 400 : 204, -1.0, 0.5);
  if (imp_act.delivered != delivered) collect(body, len, 0, 1); /* the outbox heard it */
  return s;
}

/* Carries out one action; luck is an input byte for the outcomes chosen at once. */
static int32_t perform(uint8_t luck) {
  const imp_action *a = imp_outbox_action_ptr();
  char key[IMP_OB_KEY_BYTES + 1];
  if (a->kind == IMP_ACT_FETCH || a->kind == IMP_ACT_BEACON || a->kind == IMP_ACT_LATER) {
    uint32_t len;
    uint8_t *json = action_json(&len);
    check_send(json, len);
    free(json);
  }
  switch (a->kind) {
  case IMP_ACT_FETCH:
    if (!settle && fetch_n < MAX_PENDING) {
      remember(fetches, &fetch_n, MAX_PENDING, a->ticket);
      return IMP_OK;
    }
    {
      uint32_t len;
      uint8_t *json = action_json(&len);
      int32_t s = answer_at_once(a->ticket, json, len);
      free(json);
      return s;
    }
  case IMP_ACT_BEACON: return beacon_action(luck);
  case IMP_ACT_LATER:
    if (luck & 4) return imp_outbox_later(now, a->ticket, 0);
    remember(laters, &later_n, 64, a->ticket);
    return imp_outbox_later(now, a->ticket, 1);
  case IMP_ACT_CANCEL: return cancel_action(luck);
  case IMP_ACT_STORE: return store_action(luck);
  case IMP_ACT_REMOVE:
    memcpy(key, imp_outbox_io_ptr(), a->key_bytes);
    key[a->key_bytes] = '\0';
    rec_remove(key);
    return IMP_OK;
  case IMP_ACT_SCAN: return scan_action(luck);
  case IMP_ACT_PURGE:
    while (store_n) rec_remove(store[0].key);
    return IMP_OK;
  default: fz_fail("unknown action", NULL, 0);
  }
}

static void expect_ok(int32_t s, const char *what) {
  if (s < 0) {
    imp_status_name(s);
    fprintf(stderr, "%s: %s\n", what, (const char *)imp_text_ptr());
    fz_fail("a glue call was refused", NULL, 0);
  }
}

/* Runs the glue's loop until the outbox has nothing to do now. */
static void pump(fz_in *in) {
  for (int i = 0;; i++) {
    if (i == 5000) fz_fail("the outbox does not settle", NULL, 0);
    if (scan_open && now >= scan_asked + imp_ob.cfg.timeout_ms) scan_open = 0; /* given up */
    int32_t s = imp_outbox_next(now, fz_u8(in) / 256.0);
    expect_ok(s, "next");
    if (s == IMP_NONE) return;
    SAY(" action %u #%u b%u n%u %.*s\n", imp_act.kind, imp_act.ticket, imp_act.batch,
        imp_act.events, (int)(imp_act.key_bytes + imp_act.body_bytes), (const char *)imp_ob_io);
    expect_ok(perform(fz_u8(in)), "outcome");
    other_tab_between();
  }
}

/*=== MARK: - Page loads ===*/
static void note_seq(void) {
  if (core_alive && imp_g.seq > seq_max[pv_cur]) seq_max[pv_cur] = imp_g.seq;
}

static int begin_pv(void) {
  if (pv_n == MAX_PV) return 0;
  note_seq();
  snprintf(pv_ids[pv_n], sizeof pv_ids[0], "L%dP%u", load, pv_n);
  size_t n = strlen(pv_ids[pv_n]);
  memcpy(imp_input_ptr(), pv_ids[pv_n], n);
  memcpy(imp_input_ptr() + n, "/x", 2);
  pv_cur = pv_n++;
  expect_ok(imp_page_begin(now, (uint32_t)n, 2, hidden ? IMP_FLAG_HIDDEN : 0u), "page");
  note_seq();
  return 1;
}

static int start_load(fz_in *in) {
  uint8_t a = fz_u8(in), b = fz_u8(in);
  imp_outbox_config *c = imp_outbox_config_ptr();
  load++;
  imp_config *core = imp_config_ptr();
  imp_config_defaults();
  core->max_items = 9;
  core->max_queue = 8u + a % 24u;
  core->queue_bytes = 4096u + (a & 1u) * 4096u;
  core->batch_events = 1u + (a >> 1) % 6u;
  core->batch_bytes = 4096;
  core->compress = (a >> 4) & 1u; /* with it, batches may be cut up to 60 KiB of JSON */
  core->window_bits = 8;
  core->batch_age_ms = 2000;
  core->view_ms = 500;
  expect_ok(imp_start(), "start");
  hidden = 0;
  core_alive = 1;
  if (!begin_pv()) return 0;
  c->max_batches = 1u + b % 4u;
  c->body_bytes = 4096;
  c->keepalive_bytes = 4096u + (b >> 2) % 4u * 4096u;
  c->later_bytes = 8192;
  c->consent = (b & 0x70) == 0x70 ? IMP_CONSENT_PENDING : IMP_CONSENT_GRANTED;
  locks = (b & 0x80) != 0;
  c->flags = IMP_OB_BEACON | IMP_OB_STORAGE | (net_up ? IMP_OB_ONLINE : 0u) |
             ((b & 8) ? IMP_OB_LATER : 0u) | (locks ? IMP_OB_LOCKS : 0u);
  snprintf(tab, sizeof tab, "t%d", load);
  memcpy(imp_outbox_io_ptr(), tab, strlen(tab));
  expect_ok(imp_outbox_start(now, epoch, (uint32_t)strlen(tab)), "outbox start");
  pump(in);
  return 1;
}

/* The page goes away: after a page hide (clean) or at once (crash). Requests in
** flight may still reach the collector; fetchLater copies are sent. */
static void die(fz_in *in, int crash) {
  int clean = 0;
  if (!crash) {
    expect_ok(imp_page_state(now, IMP_PAGE_HIDDEN), "hide");
    hidden = 1;
    pump(in);
    clean = imp_ob.storage_ok && imp_ob.consent == IMP_CONSENT_GRANTED;
  }
  note_seq();
  for (uint32_t i = 0; i < store_n; i++)
    SAY("  record %s: %.*s\n", store[i].key, (int)(memchr(store[i].value, '\n', store[i].len) ?
        (const uint8_t *)memchr(store[i].value, '\n', store[i].len) - store[i].value : store[i].len),
        (const char *)store[i].value);
  SAY("  death: queued %u, outbox visible %d, page open %d state %d, held %u\n", imp_g.rec_count,
      imp_ob.visible, imp_g.page_open, imp_g.page_state, imp_act.held_batches);
  for (uint32_t i = 0; i < imp_ob.nslots; i++)
    SAY("  slot %u: b%u state %u flags %x events %u\n", i, imp_ob.slots[i].id,
        imp_ob.slots[i].state, imp_ob.slots[i].flags, imp_ob.slots[i].events);
  check_law();
  while (fetch_n) {
    if (net_up && (fz_u8(in) & 1)) collect(fetches[0].body, fetches[0].len, 0, 0);
    forget(fetches, &fetch_n, 0);
  }
  while (later_n) {
    check_send(laters[0].body, laters[0].len);
    if (net_up) collect(laters[0].body, laters[0].len, 0, 0);
    forget(laters, &later_n, 0);
  }
  purged_before += imp_act.purged;
  core_alive = 0;
  scan_waits = scan_open = 0; /* the page's lock requests go with it */
  cancelled_n = 0;
  long long lost = excused_imbalance();
  if (lost < 0) fz_fail("a page death made a loss count twice", NULL, 0);
  if (clean && lost != 0) fz_fail("a clean page death lost events", NULL, 0);
  allowed += lost;
  snprintf(prev_tab, sizeof prev_tab, "%s", tab);
  other_live = locks && (fz_u8(in) & 1);
}

/*=== MARK: - Steps ===*/
static const int32_t statuses[] = {204, 200, 503, 500, 429, 408, 0, 413, 400, 404, 422, 302};

/* What the collector knows of this body's events: 1 has one, 2 refuses one. With
** `refuse`, every event of the body it does not hold yet is marked refused (a body
** refused for one poison event leaves the events it took before taken). */
static int verdict_of(const uint8_t *body, uint32_t len, int refuse) {
  json_t *root = json_loadb((const char *)body, len, 0, NULL), *e;
  size_t i;
  int known = 0;
  const char *pv_text = json_string_value(json_object_get(root, "pv"));
  int pv = pv_text ? pv_index((const uint8_t *)pv_text, (uint32_t)strlen(pv_text)) : -1;
  json_array_foreach(json_object_get(root, "ev"), i, e) {
    json_int_t s = json_integer_value(json_object_get(e, "s"));
    if (pv < 0 || s < 1 || s > MAX_S) continue;
    if (refuse && !got[pv][s]) refused[pv][s] = 1;
    if (refused[pv][s]) known = 2;
    else if (got[pv][s] && known == 0) known = 1;
  }
  json_decref(root);
  return known;
}

static int never_retried(int32_t status) {
  return status == 400 || status == 401 || status == 403 || status == 410 || status == 413 ||
         status == 422;
}

static size_t json_events(const req *r) {
  json_t *root = json_loadb((const char *)r->body, r->len, 0, NULL);
  size_t n = json_array_size(json_object_get(root, "ev"));
  json_decref(root);
  return n;
}

static void respond(fz_in *in) {
  if (!fetch_n) return;
  uint32_t i = fz_u8(in) % fetch_n;
  uint8_t pick = fz_u8(in);
  int32_t status = net_up ? statuses[pick % 12u] : 0;
  /* A collector refuses a batch for what it holds, whichever copy: a copy of one it
  ** took is taken too (removed by (pv, s)), one with a refused event is refused. (A
  ** real collector that refuses one copy after taking another makes the tracker
  ** count events lost that arrived.) Only a fresh refusal marks the body's events
  ** refused: one refused for an event refused before says nothing of the others, and
  ** marking them would make a later copy part taken (an aborted request that arrived)
  ** and part refused, whose refusal counts as lost the events that arrived. */
  int known = net_up ? verdict_of(fetches[i].body, fetches[i].len, 0) : 0;
  if (known == 2) status = 400;
  else if (known == 1 && never_retried(status)) status = 204;
  if (!known && never_retried(status) && (status != 413 || json_events(&fetches[i]) == 1))
    verdict_of(fetches[i].body, fetches[i].len, 1);
  double retry_after = status == 429 || status == 503 ? (double)(fz_u8(in) % 4u) * 1000.0 - 1.0 : -1.0;
  if (retry_after < 0) retry_after = -1.0;
  /* a failed request may still have been stored by the collector (a lost answer) */
  if ((status >= 200 && status < 300) || (net_up && status >= 500 && (pick & 0x80)))
    collect(fetches[i].body, fetches[i].len, 0, 0);
  SAY("  answer #%u: %d (known %d)\n", fetches[i].ticket, (int)status, known);
  uint32_t delivered = imp_act.delivered;
  int32_t s = imp_outbox_response(now, fetches[i].ticket, status, retry_after, fz_u8(in) / 256.0);
  expect_ok(s, "response");
  if (imp_act.delivered != delivered) collect(fetches[i].body, fetches[i].len, 0, 1); /* heard */
  forget(fetches, &fetch_n, i);
}

/* The oldest scan waiting for its lock runs. */
static void grant_scan(void) {
  if (!scan_waits) return;
  scan_waits--;
  SAY("  scan lock granted (scan %s)\n", scan_open ? "open" : "ended");
  expect_ok(scan(), "a late scan");
}

/* A request the outbox cancelled answers after all: nothing changes. */
static void late_answer(fz_in *in) {
  if (!cancelled_n) return;
  uint32_t i = fz_u8(in) % cancelled_n;
  int32_t s = imp_outbox_response(now, cancelled[i], statuses[fz_u8(in) % 12u], -1.0, 0.5);
  SAY("  late answer #%u: %d\n", cancelled[i], s);
  if (s != IMP_NONE) fz_fail("an answer to a cancelled request was heard", NULL, 0);
  cancelled[i] = cancelled[--cancelled_n];
}

static void track(fz_in *in, uint8_t op) {
  uint8_t x = fz_u8(in);
  char id[2] = {(char)('a' + x % 8u), 0};
  switch (op) {
  case 0:
    memcpy(imp_input_ptr(), id, 1);
    if (imp_item_register(now, 1, 0, x % 5u) == IMP_OK &&
        imp_g.items[imp_result_ptr()->slot].elements == IMP_NIL)
      imp_element_add(now, 1, 0, x % 5u); /* one element per card, as the glue adds */
    break;
  case 1: imp_element_observe(now, x % 8u, (double)(fz_u8(in) % 5u) / 4.0, 100.0); break;
  case 2:
    hidden = !hidden;
    imp_page_state(now, hidden ? IMP_PAGE_HIDDEN : IMP_PAGE_VISIBLE);
    break;
  case 3: imp_activate(now, x % 8u, IMP_ACT_CLICK); break;
  case 4: imp_element_remove(now, x % 8u); break;
  default:
    imp_page_end(now);
    note_seq();
    begin_pv();
  }
}

/* One step of the world; 0 when the input asks for more than the model holds. */
static int step(fz_in *in) {
  uint8_t op = fz_u8(in);
  now += (double)(fz_u8(in) % 64u) * 16.0;
  SAY("step %u at %.0f\n", op % 18u, now);
  switch (op % 18u) {
  case 0: case 1: case 2: case 3: case 4: case 5: track(in, op % 16u); break;
  case 6: case 7: respond(in); break;
  case 8:
    net_up = !net_up;
    expect_ok(imp_outbox_online(now, net_up), "online");
    break;
  case 9: storage_mode = fz_u8(in) % 8u == 0 ? 1 + fz_u8(in) % 2 : 0; break;
  case 10: {
    uint8_t c = fz_u8(in);
    int32_t consent = c % 16u == 0 ? IMP_CONSENT_DENIED : c % 3u == 0 ? IMP_CONSENT_PENDING : IMP_CONSENT_GRANTED;
    long long before = imbalance();
    expect_ok(imp_outbox_consent(now, consent), "consent");
    if (consent == IMP_CONSENT_DENIED) scan_open = 0; /* the purge ends a scan */
    pump(in);
    if (consent == IMP_CONSENT_DENIED) allowed += imbalance() - before; /* withheld on purpose */
    break;
  }
  case 11: case 12:
    die(in, op % 18u == 12);
    if (!start_load(in)) return 0;
    break;
  case 13: other_live = 0; break;
  case 14:
    if (fz_u8(in) & 1) {
      now += (double)fz_u16(in) * 2.0;
      break;
    }
    epoch += (double)fz_u16(in) * 4000.0; /* the device sleeps (up to 73 h): the page's clock stands */
    if (core_alive) expect_ok(imp_outbox_wall(now, epoch), "wall");
    break;
  case 15:
    if (op >= 128) other_tab_step(in);
    else imp_tick(now);
    break;
  case 16: grant_scan(); break;
  case 17: late_answer(in); break;
  default: imp_tick(now); break;
  }
  if (core_alive) pump(in);
  note_seq();
  check_law();
  /* room is left for the loads and page views of recover() */
  return pv_n + 4u < MAX_PV && imp_g.seq < MAX_S - 64u;
}

/*=== MARK: - The end: the network is back and time passes ===*/
static void recover(fz_in *in) {
  SAY("the end: the network is back\n");
  settle = 1;
  net_up = 1;
  storage_mode = 0;
  other_live = 0;
  expect_ok(imp_outbox_online(now, 1), "online");
  while (scan_waits) grant_scan(); /* every lock comes in the end */
  while (fetch_n) {
    expect_ok(answer_at_once(fetches[0].ticket, fetches[0].body, fetches[0].len), "response");
    forget(fetches, &fetch_n, 0);
  }
  other_tab_finishes();
  if (hidden || !imp_ob.storage_ok) { /* a fresh load, with storage that works */
    die(in, 0);
    if (!start_load(in)) return;
  }
  other_live = 0; /* the earlier tab is gone for good */
  if (imp_ob.consent == IMP_CONSENT_PENDING) expect_ok(imp_outbox_consent(now, 1), "consent");
  memcpy(imp_input_ptr(), "z", 1); /* one more event, to carry a pending "drop" */
  expect_ok(imp_element_add(now, 1, 0, 0), "register");
  uint32_t z = imp_result_ptr()->element;
  expect_ok(imp_element_observe(now, z, 1.0, 100.0), "observe");
  for (int round = 0; round < 300; round++) {
    now += 61000.0;
    expect_ok(imp_tick(now), "tick");
    /* a loss counted after the last event waits for the next event: make one */
    if (imp_g.drop_pending && !imp_g.rec_count) expect_ok(imp_activate(now, z, IMP_ACT_CLICK), "click");
    pump(in);
    check_law();
    if (!imp_act.held_batches && !store_n && !imp_g.rec_count && !imp_g.drop_pending) break;
  }
  SAY("  end: held %u, records %u, queued %u, pending %u, delivered twice %lld; outbox online "
      "%d consent %d storage %d visible %d scanning %d\n", imp_act.held_batches, store_n,
      imp_g.rec_count, imp_g.drop_pending, twice, imp_ob.online, imp_ob.consent,
      imp_ob.storage_ok, imp_ob.visible, imp_ob.scanning);
  for (uint32_t i = 0; i < store_n; i++)
    SAY("  record %s: %.*s\n", store[i].key, (int)store[i].len, (const char *)store[i].value);
  if (imp_act.held_batches || store_n || imp_g.rec_count || imp_g.drop_pending)
    fz_fail("with the network back, events are still held or stored", NULL, 0);
}

static void reset_world(void) {
  for (uint32_t i = 0; i < store_n; i++) rec_free(&store[i]);
  while (fetch_n) forget(fetches, &fetch_n, 0);
  while (later_n) forget(laters, &later_n, 0);
  store_n = pv_n = pv_cur = 0;
  memset(seq_max, 0, sizeof seq_max);
  memset(got, 0, sizeof got);
  memset(heard, 0, sizeof heard);
  memset(refused, 0, sizeof refused);
  memset(delivered_drop, 0xff, sizeof delivered_drop); /* -1: no copy delivered */
  delivered_drops = purged_before = allowed = excused = 0;
  core_alive = storage_mode = hidden = load = other_live = locks = settle = 0;
  scan_waits = scan_open = 0;
  epoch = 1.7e12;
  cancelled_n = 0;
  other_tab_reset();
  net_up = 1;
  now = 0;
  prev_tab[0] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = {data, size};
  if (verbose < 0) verbose = getenv("FUZZ_VERBOSE") != NULL;
  reset_world();
  if (!start_load(&in)) return 0;
  while (in.n)
    if (!step(&in)) break;
  if (imp_ob.consent != IMP_CONSENT_DENIED) recover(&in);
  check_law();
  return 0;
}
