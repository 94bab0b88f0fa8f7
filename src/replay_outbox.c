/*
** replay_outbox.c: the delivery lines of the trace format, for the replay tool.
**
** The tool plays the glue: it carries out the outbox's actions against a simulated
** localStorage (src/replay_storage.c) that lives for the whole trace (a second `start` +
** `outbox` is the next page load, or a second tab, finding what the first stored). Lines:
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
**   del <key>                         removes a record (another tab delivered it)
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

static uint32_t pending_ticket;          /* the STORE awaiting its outcome */
static char pending_key[IMP_OB_KEY_BYTES + 1];
static char *pending_value;
static size_t pending_len;

/*=== MARK: - Printing actions (Private) ===*/
static const char *const kinds[] = {"NONE", "FETCH",  "BEACON", "LATER", "CANCEL",
                                    "STORE", "REMOVE", "SCAN",   "PURGE"};
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
  if (a->kind == IMP_ACT_REMOVE) storage_remove(key);
  if (a->kind == IMP_ACT_PURGE) storage_clear();
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
    storage_put(pending_key, pending_value, pending_len);
  return s;
}

/* Decodes a and b (percent-encoded; b may be NULL) into the io buffer. */
static int io_strings(const char *a, const char *b, uint32_t *alen, uint32_t *blen) {
  return decode_strings(imp_outbox_io_ptr(), IMP_OB_IO_BYTES, a, b, alen, blen);
}

static int32_t answer(double t, double jitter, int32_t status, int32_t beacon, int32_t store) {
  const imp_action *a = imp_outbox_action_ptr();
  switch (a->kind) {
  case IMP_ACT_FETCH: return imp_outbox_response(t, a->ticket, status, -1.0, jitter);
  case IMP_ACT_BEACON: return imp_outbox_beacon(t, a->ticket, beacon);
  case IMP_ACT_LATER: return imp_outbox_later(t, a->ticket, 1);
  case IMP_ACT_STORE: return do_stored(t, a->ticket, store);
  case IMP_ACT_SCAN: return storage_scan(t);
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

int replay_outbox_line(char **f, int n, int32_t *status) {
  double d[8];
  uint32_t la = 0, lb = 0;
  const char *cmd = f[0];
  for (int i = 1; i < n && i < 8; i++) d[i] = 0;
#define NUM(i) parse_number(f[i], &d[i])
  *status = IMP_OK;
  if (!strcmp(cmd, "obcfg") && n == 3 && NUM(2)) return set_config(f[1], d[2]);
  if (!strcmp(cmd, "live") && n == 2) return storage_set_live(f[1], 1);
  if (!strcmp(cmd, "dead") && n == 2) return storage_set_live(f[1], 0);
  if (!strcmp(cmd, "put") && n == 3) return storage_put_line(f[1], f[2]);
  if (!strcmp(cmd, "del") && n == 2) return storage_remove(f[1]), 1;
  if (!strcmp(cmd, "stats") && n == 1) return stats(), 1;
  if (!strcmp(cmd, "storage") && n == 1) return storage_show(), 1;
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
    *status = storage_found(d[1], la, lb);
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
    *status = storage_scan(d[1]);
  } else if (!strcmp(cmd, "auto") && n == 6 && NUM(1) && NUM(2) && NUM(3) && NUM(4) &&
             NUM(5)) {
    *status = do_auto(d[1], d[2], to_int32(d[3]), to_int32(d[4]), to_int32(d[5]));
  } else {
    return 0;
  }
#undef NUM
  return 1;
}
