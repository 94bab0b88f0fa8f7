/*
** replay_outbox.c: the delivery lines of the trace format, for the replay tool.
**
** The tool plays the glue: it carries out the outbox's actions against a simulated
** localStorage that lives for the whole trace (so a second `start` + `outbox` is the
** next page load, or a second tab, finding what the first one stored). Lines:
**   obcfg <field> <number>            sets a field of imp_outbox_config (by name)
**   outbox <t> <epoch_ms> <tab>       -> imp_outbox_start
**   next <t> <jitter>                 -> imp_outbox_next, prints the action
**   fetched <t> <ticket> <status> <retry_after_ms> <jitter>  -> imp_outbox_response
**   beaconed <t> <ticket> <0|1|2>     -> imp_outbox_beacon
**   later <t> <ticket> <0|1>          -> imp_outbox_later
**   stored <t> <ticket> <0|1|2>       -> imp_outbox_stored (0 also writes the record)
**   online <t> <0|1>                  -> imp_outbox_online
**   consent <t> <0|1|2>               -> imp_outbox_consent
**   wall <t> <epoch_ms>               -> imp_outbox_wall
**   live <tab> / dead <tab>           that tab holds / no longer holds its Web Lock
**   put <key> <value>                 writes a record (percent-encoded value)
**   scan <t>                          answers a SCAN: imp_outbox_tab_live for each
**                                     live tab, imp_outbox_found for each record in
**                                     key order (removing it when told), scan_done
**   flush <t>                         -> imp_outbox_flush
**   tablive <t> <tab>                 -> imp_outbox_tab_live (tab percent-encoded)
**   found <t> <key> <value>           -> imp_outbox_found (both percent-encoded; a
**                                     record the verdict removes leaves the storage)
**   scandone <t>                      -> imp_outbox_scan_done
**                                     (these four are what the glue's recorder writes
**                                     for a flush and for the steps of a real scan)
**   auto <t> <jitter> <status> <beacon> <store>   calls next until IMP_NONE and
**                                     answers each action at once: fetches with
**                                     <status> (no Retry-After), beacons with
**                                     <beacon>, writes with <store>, fetchLater ok
**   stats                             prints the action record's counters
**   storage                           prints every stored record (key, field line)
** Output: "> KIND #ticket bN nE <body>" for FETCH, BEACON and LATER; "> STORE #ticket
** bN nE <key> <value>" with the record's newline shown as " | "; "> REMOVE <key>",
** "> CANCEL #ticket", "> SCAN" ("> SCAN #1": take the scan lock), "> PURGE"; ". idle <deadline>" when next has
** nothing to do; "~ <verdict> <key>" per record a scan finds. A gzip body (the core's
** `compress`) is shown as its JSON, then "~ gzip <bytes> <hash>" as for a batch.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "replay.h"

#define STORE_MAX 512

typedef struct record {
  char key[IMP_OB_KEY_BYTES + 1];
  char *value;
  size_t len;
} record;

static record storage[STORE_MAX];
static int stored_n;
static char live_tabs[IMP_OB_LIVE_TABS][IMP_OB_TAB_BYTES + 1];
static uint32_t pending_ticket;          /* the STORE awaiting its outcome */
static char pending_key[IMP_OB_KEY_BYTES + 1];
static char *pending_value;
static size_t pending_len;

/*=== MARK: - Simulated storage (Private) ===*/
static int find(const char *key) {
  for (int i = 0; i < stored_n; i++)
    if (strcmp(storage[i].key, key) == 0) return i;
  return -1;
}

static void put(const char *key, const char *value, size_t len) {
  int i = find(key);
  if (i < 0) {
    if (stored_n == STORE_MAX) return;
    i = stored_n++;
    snprintf(storage[i].key, sizeof storage[i].key, "%s", key);
  } else {
    free(storage[i].value);
  }
  storage[i].value = malloc(len + 1);
  if (!storage[i].value) exit(2);
  memcpy(storage[i].value, value, len);
  storage[i].value[len] = '\0';
  storage[i].len = len;
}

static void removal(const char *key) {
  int i = find(key);
  if (i < 0) return;
  free(storage[i].value);
  memmove(storage + i, storage + i + 1, (size_t)(--stored_n - i) * sizeof storage[0]);
}

static int by_key(const void *a, const void *b) {
  return strcmp(((const record *)a)->key, ((const record *)b)->key);
}

/*=== MARK: - Printing actions (Private) ===*/
static const char *const kinds[] = {"NONE", "FETCH",  "BEACON", "LATER", "CANCEL",
                                    "STORE", "REMOVE", "SCAN",   "PURGE"};
static const char *const verdicts[] = {"adopted", "left", "remove"};

static void key_of(char *dst) {
  const imp_action *a = imp_outbox_action_ptr();
  memcpy(dst, imp_outbox_io_ptr(), a->key_bytes);
  dst[a->key_bytes] = '\0';
}

static void print_value(const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (p[i] == '\n') fputs(" | ", stdout);
    else putchar(p[i]);
  }
}

/* Prints the action just written and does what the glue does at once. */
static void show_action(void) {
  const imp_action *a = imp_outbox_action_ptr();
  const uint8_t *io = imp_outbox_io_ptr();
  char key[IMP_OB_KEY_BYTES + 1];
  key_of(key);
  printf("> %s", kinds[a->kind]);
  if (a->kind == IMP_ACT_FETCH || a->kind == IMP_ACT_BEACON || a->kind == IMP_ACT_LATER ||
      a->kind == IMP_ACT_STORE)
    printf(" #%u b%u n%u", a->ticket, a->batch, a->events);
  if (a->kind == IMP_ACT_CANCEL || (a->kind == IMP_ACT_SCAN && a->ticket))
    printf(" #%u", a->ticket); /* SCAN #1: take the scan lock */
  if (a->key_bytes) printf(" %s", key);
  if (a->body_bytes && io[a->key_bytes] == 0x1f) { /* gzip: the JSON stays in the output */
    putchar(' ');
    print_value(imp_output_ptr(), imp_result_ptr()->batch_bytes);
    printf("\n~ gzip %u %08x", a->body_bytes, fnv1a(io, a->body_bytes));
  } else if (a->body_bytes) {
    putchar(' ');
    print_value(io + a->key_bytes, a->body_bytes);
  }
  putchar('\n');
  if (a->kind == IMP_ACT_REMOVE) removal(key);
  if (a->kind == IMP_ACT_PURGE)
    while (stored_n) removal(storage[0].key);
  if (a->kind == IMP_ACT_STORE) {
    free(pending_value);
    pending_value = malloc(a->body_bytes + 1u);
    if (!pending_value) exit(2);
    memcpy(pending_value, io + a->key_bytes, a->body_bytes);
    pending_len = a->body_bytes;
    pending_ticket = a->ticket;
    snprintf(pending_key, sizeof pending_key, "%s", key);
  }
}

/*=== MARK: - Glue steps (Private) ===*/
static int32_t do_stored(double t, uint32_t ticket, int32_t outcome) {
  int32_t s = imp_outbox_stored(t, ticket, outcome);
  if (s == IMP_OK && outcome == IMP_STORE_OK && ticket == pending_ticket)
    put(pending_key, pending_value, pending_len);
  return s;
}

/* Decodes a and b (percent-encoded; b may be NULL) into the io buffer. */
static int io_strings(const char *a, const char *b, uint32_t *alen, uint32_t *blen) {
  return decode_strings(imp_outbox_io_ptr(), IMP_OB_IO_BYTES, a, b, alen, blen);
}

/* found: one record of a real scan; prints the verdict and, as the glue does, removes
** a record the outbox says to remove. */
static int32_t do_found(double t, uint32_t key_len, uint32_t value_len) {
  char key[IMP_OB_KEY_BYTES + 1];
  uint32_t verdict;
  int32_t s = imp_outbox_found(t, key_len, value_len);
  if (s != IMP_OK) return s;
  verdict = imp_outbox_action_ptr()->found;
  memcpy(key, imp_outbox_io_ptr(), key_len); /* key_len <= IMP_OB_KEY_BYTES when IMP_OK */
  key[key_len] = '\0';
  printf("~ %s ", verdicts[verdict]);
  fwrite(key, 1, key_len, stdout); /* every byte, a NUL included */
  putchar('\n');
  /* A key with a NUL byte names no stored record (their keys are C strings). */
  if (verdict == IMP_FOUND_REMOVE && !memchr(key, 0, key_len)) removal(key);
  return s;
}

static int32_t do_scan(double t) {
  int32_t s = IMP_OK;
  qsort(storage, (size_t)stored_n, sizeof storage[0], by_key);
  for (int i = 0; i < (int)IMP_OB_LIVE_TABS && s >= 0; i++) {
    size_t n = strlen(live_tabs[i]);
    if (!n) continue;
    memcpy(imp_outbox_io_ptr(), live_tabs[i], n);
    s = imp_outbox_tab_live(t, (uint32_t)n);
  }
  for (int i = 0; i < stored_n && s >= 0; i++) {
    size_t kl = strlen(storage[i].key);
    if (kl + storage[i].len > IMP_OB_IO_BYTES) continue;
    memcpy(imp_outbox_io_ptr(), storage[i].key, kl);
    memcpy(imp_outbox_io_ptr() + kl, storage[i].value, storage[i].len);
    s = do_found(t, (uint32_t)kl, (uint32_t)storage[i].len);
    if (s != IMP_OK) break;
    if (imp_outbox_action_ptr()->found == IMP_FOUND_REMOVE) i--; /* do_found removed it */
  }
  return s < 0 ? s : imp_outbox_scan_done(t);
}

static int32_t answer(double t, double jitter, int32_t status, int32_t beacon, int32_t store) {
  const imp_action *a = imp_outbox_action_ptr();
  switch (a->kind) {
  case IMP_ACT_FETCH: return imp_outbox_response(t, a->ticket, status, -1.0, jitter);
  case IMP_ACT_BEACON: return imp_outbox_beacon(t, a->ticket, beacon);
  case IMP_ACT_LATER: return imp_outbox_later(t, a->ticket, 1);
  case IMP_ACT_STORE: return do_stored(t, a->ticket, store);
  case IMP_ACT_SCAN: return do_scan(t);
  default: return IMP_OK;
  }
}

static int32_t do_next(double t, double jitter) {
  int32_t s = imp_outbox_next(t, jitter);
  if (s == IMP_OK) show_action();
  else if (s == IMP_NONE) printf(". idle %.15g\n", imp_outbox_action_ptr()->deadline);
  return s;
}

static int32_t do_auto(double t, double jitter, int32_t status, int32_t beacon, int32_t store) {
  for (int i = 0; i < 10000; i++) {
    int32_t s = do_next(t, jitter);
    if (s != IMP_OK) return s;
    s = answer(t, jitter, status, beacon, store);
    if (s < 0) return s;
  }
  return IMP_OK;
}

static void stats(void) {
  const imp_action *a = imp_outbox_action_ptr();
  printf("= held %u/%u stored %u delivered %u beaconed %u lost %u purged %u failures %u\n",
         a->held_batches, a->held_events, a->stored_events, a->delivered, a->beaconed, a->lost,
         a->purged, a->failures);
}

static void show_storage(void) {
  qsort(storage, (size_t)stored_n, sizeof storage[0], by_key);
  for (int i = 0; i < stored_n; i++) {
    const char *nl = memchr(storage[i].value, '\n', storage[i].len);
    int line = nl ? (int)(nl - storage[i].value) : (int)storage[i].len;
    printf("$ %s %.*s\n", storage[i].key, line, storage[i].value);
  }
}

/*=== MARK: - Lines (Private) ===*/
static int set_config(const char *name, double v) {
  imp_outbox_config *c = imp_outbox_config_ptr();
  double *dbl[] = {&c->timeout_ms, &c->lease_ms, &c->max_age_ms, &c->backoff_base_ms,
                   &c->backoff_max_ms, &c->retry_after_max_ms};
  static const char *const dnames[] = {"timeout_ms", "lease_ms", "max_age_ms",
                                       "backoff_base_ms", "backoff_max_ms",
                                       "retry_after_max_ms"};
  uint32_t *u32[] = {&c->max_batches, &c->body_bytes, &c->keepalive_bytes, &c->later_bytes,
                     &c->stored_events, &c->stored_bytes, &c->consent, &c->flags};
  static const char *const unames[] = {"max_batches", "body_bytes", "keepalive_bytes",
                                       "later_bytes", "stored_events", "stored_bytes",
                                       "consent", "flags"};
  for (size_t i = 0; i < sizeof dnames / sizeof *dnames; i++)
    if (!strcmp(name, dnames[i])) return *dbl[i] = v, 1;
  for (size_t i = 0; i < sizeof unames / sizeof *unames; i++)
    if (!strcmp(name, unames[i])) return *u32[i] = to_uint32(v), 1;
  return 0;
}

static int set_live(const char *tab, int alive) {
  int free_at = -1;
  if (strlen(tab) > IMP_OB_TAB_BYTES) return 0;
  for (int i = 0; i < (int)IMP_OB_LIVE_TABS; i++) {
    if (!strcmp(live_tabs[i], tab)) {
      if (!alive) live_tabs[i][0] = '\0';
      return 1;
    }
    if (!live_tabs[i][0] && free_at < 0) free_at = i;
  }
  if (alive && free_at >= 0) snprintf(live_tabs[free_at], sizeof live_tabs[0], "%s", tab);
  return 1;
}

static int put_line(const char *key, const char *value) {
  static uint8_t buf[IMP_OB_IO_BYTES];
  size_t len = 0;
  if (strlen(key) > IMP_OB_KEY_BYTES || !decode_string(value, buf, sizeof buf, &len) ||
      len > sizeof buf)
    return 0;
  put(key, (const char *)buf, len);
  return 1;
}

int replay_outbox_line(char **f, int n, int32_t *status) {
  double d[8];
  uint32_t la = 0, lb = 0;
  const char *cmd = f[0];
  for (int i = 1; i < n && i < 8; i++) d[i] = 0;
#define NUM(i) parse_number(f[i], &d[i])
  *status = IMP_OK;
  if (!strcmp(cmd, "obcfg") && n == 3 && NUM(2)) return set_config(f[1], d[2]);
  if (!strcmp(cmd, "live") && n == 2) return set_live(f[1], 1);
  if (!strcmp(cmd, "dead") && n == 2) return set_live(f[1], 0);
  if (!strcmp(cmd, "put") && n == 3) return put_line(f[1], f[2]);
  if (!strcmp(cmd, "del") && n == 2) return removal(f[1]), 1;
  if (!strcmp(cmd, "stats") && n == 1) return stats(), 1;
  if (!strcmp(cmd, "storage") && n == 1) return show_storage(), 1;
  if (!strcmp(cmd, "outbox") && n == 4 && NUM(1) && NUM(2)) {
    size_t len = strlen(f[3]);
    if (len > IMP_OB_TAB_BYTES) len = IMP_OB_TAB_BYTES + 1u; /* refused by length */
    memcpy(imp_outbox_io_ptr(), f[3], len);
    *status = imp_outbox_start(d[1], d[2], (uint32_t)len);
    return 1;
  }
  if (!strcmp(cmd, "next") && n == 3 && NUM(1) && NUM(2)) {
    *status = do_next(d[1], d[2]);
  } else if (!strcmp(cmd, "flush") && n == 2 && NUM(1)) {
    *status = imp_outbox_flush(d[1]);
  } else if (!strcmp(cmd, "tablive") && n == 3 && NUM(1) && io_strings(f[2], NULL, &la, &lb)) {
    *status = imp_outbox_tab_live(d[1], la);
  } else if (!strcmp(cmd, "found") && n == 4 && NUM(1) && io_strings(f[2], f[3], &la, &lb)) {
    *status = do_found(d[1], la, lb);
  } else if (!strcmp(cmd, "scandone") && n == 2 && NUM(1)) {
    *status = imp_outbox_scan_done(d[1]);
  } else if (!strcmp(cmd, "fetched") && n == 6 && NUM(1) && NUM(2) && NUM(3) && NUM(4) &&
             NUM(5)) {
    *status = imp_outbox_response(d[1], to_uint32(d[2]), to_int32(d[3]), d[4], d[5]);
  } else if (!strcmp(cmd, "beaconed") && n == 4 && NUM(1) && NUM(2) && NUM(3)) {
    *status = imp_outbox_beacon(d[1], to_uint32(d[2]), to_int32(d[3]));
  } else if (!strcmp(cmd, "later") && n == 4 && NUM(1) && NUM(2) && NUM(3)) {
    *status = imp_outbox_later(d[1], to_uint32(d[2]), to_int32(d[3]));
  } else if (!strcmp(cmd, "stored") && n == 4 && NUM(1) && NUM(2) && NUM(3)) {
    *status = do_stored(d[1], to_uint32(d[2]), to_int32(d[3]));
  } else if (!strcmp(cmd, "online") && n == 3 && NUM(1) && NUM(2)) {
    *status = imp_outbox_online(d[1], to_int32(d[2]));
  } else if (!strcmp(cmd, "consent") && n == 3 && NUM(1) && NUM(2)) {
    *status = imp_outbox_consent(d[1], to_int32(d[2]));
  } else if (!strcmp(cmd, "wall") && n == 3 && NUM(1) && NUM(2)) {
    *status = imp_outbox_wall(d[1], d[2]);
  } else if (!strcmp(cmd, "scan") && n == 2 && NUM(1)) {
    *status = do_scan(d[1]);
  } else if (!strcmp(cmd, "auto") && n == 6 && NUM(1) && NUM(2) && NUM(3) && NUM(4) &&
             NUM(5)) {
    *status = do_auto(d[1], d[2], to_int32(d[3]), to_int32(d[4]), to_int32(d[5]));
  } else {
    return 0;
  }
#undef NUM
  return 1;
}
