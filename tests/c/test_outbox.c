/*
** test_outbox.c: the outbox's rules one by one. Every export refuses bad arguments
** with a named status and changes nothing; the retry verdict of each status and
** the backoff bounds; the body it sends is byte for byte the batch the core encodes;
** a storage record round-trips and a damaged one is refused; a split cuts at event
** boundaries into valid batches (the first keeps "drop"); with compression the body
** is gzip and body_bytes caps the gzip; a fetch with no answer is
** aborted at timeout_ms and retried; one request at a time while the collector
** fails; the keepalive budget; the page hide hands a request in flight to storage,
** and cuts the queue even when every slot is in flight; a late answer to a request
** whose record was adopted again counts nothing twice; a flush cuts what is not yet
** due; retry_ms says the delay a failure set; a batch held past max_age_ms is counted
** lost and sent no more, by the wall clock after a device's sleep; this tab's stored
** copies stay within stored_events, and so do the records a scan leaves for want of a
** slot; a fetchLater copy parked at a hide ends with the next scan, and one the parked
** list has no room for at once; consent revoked during a scan ends it, and the answer
** to a request it cancelled is heard no more; a scan whose lock never comes is given
** up after timeout_ms and the next takes the lock; a request let go at a hide that
** lands counts its events delivered, once; a later format's record is left.
** (tests/replay/delivery and tests/fuzz/fuzz_outbox.c cover whole scenarios.)
*/
#include <zlib.h>

#include "support.h"
#include "outbox_internal.h"

#ifdef IMP_TEST_TINY
#define T_OB_BATCHES 3u /* the tiny build's outbox arena holds 4 slots */
#else
#define T_OB_BATCHES 16u
#endif

#define ACT (imp_outbox_action_ptr())
#define CFG (imp_outbox_config_ptr())

static imp_outbox_config defaults;

static int32_t ob_start(double t) {
  *CFG = defaults;
  CFG->max_batches = T_OB_BATCHES;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  return imp_outbox_start(t, 1.7e12, 4);
}

/* Core and outbox (max_batches slots) started, a page view open, storage scanned
** (empty). */
static void fresh_with(uint32_t batch_events, uint32_t max_batches) {
  start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, batch_events, T_BATCH_BYTES, 5000);
  page(0, "pv1", "/s", 0);
  *CFG = defaults;
  CFG->max_batches = max_batches;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  imp_outbox_start(0, 1.7e12, 4);
  if (imp_outbox_next(0, 0.5) == IMP_OK && ACT->kind == IMP_ACT_SCAN) imp_outbox_scan_done(0);
}

static void fresh(uint32_t batch_events) { fresh_with(batch_events, T_OB_BATCHES); }

/* One impression of a new card "<prefix><i>" at time t. */
static void impression(double t, const char *prefix, unsigned i) {
  char id[IMP_MAX_ID_BYTES + 1];
  snprintf(id, sizeof id, "%s%u", prefix, i);
  reg(t, id, "", 0);
  observe(t, RES->slot, 0.2, 100);
}

static char body[IMP_OB_IO_BYTES + 1];
static const char *body_text(void) {
  memcpy(body, imp_outbox_io_ptr() + ACT->key_bytes, ACT->body_bytes);
  body[ACT->body_bytes] = '\0';
  return body;
}

/* Breaks field k of the configuration (k = 0..; returns its name, or NULL past the end). */
static const char *break_config(imp_outbox_config *c, int k) {
  switch (k) {
  case 0: c->timeout_ms = 0; return "timeout_ms 0";
  case 1: c->lease_ms = T_NAN; return "lease_ms NaN";
  case 2: c->max_age_ms = T_INF; return "max_age_ms infinite";
  case 3: c->backoff_base_ms = -1; return "backoff_base_ms negative";
  case 4: c->backoff_max_ms = c->backoff_base_ms / 2; return "backoff_max_ms below the base";
  case 5: c->retry_after_max_ms = -1; return "retry_after_max_ms negative";
  case 6: c->max_batches = 0; return "max_batches 0";
  case 7: c->max_batches = IMP_OB_MAX_BATCHES + 1u; return "max_batches above the limit";
  case 8: c->body_bytes = IMP_BATCH_MIN_CAP - 1u; return "body_bytes below 4096";
  case 9: c->body_bytes = IMP_BATCH_HARD_CAP + 1u; return "body_bytes above 61440";
  case 10: c->keepalive_bytes = c->body_bytes - 1u; return "keepalive_bytes below body_bytes";
  case 11: c->keepalive_bytes = 65537; return "keepalive_bytes above 64 KiB";
  case 12: c->later_bytes = 65537; return "later_bytes above 64 KiB";
  case 13: c->stored_events = 0; return "stored_events 0";
  case 14: c->stored_bytes = 4095; return "stored_bytes below 4096";
  case 15: c->consent = 3; return "consent 3";
  case 16: c->flags = 32; return "unknown flag";
  default: return NULL;
  }
}

static void test_arguments(void) {
  defaults = *CFG;
  CHECK_INT(imp_outbox_next(0, 0.5), IMP_ERR_STATE, "next before any start");
  CHECK_INT(imp_outbox_found(0, 1, 1), IMP_ERR_STATE, "found before any start");
  CHECK_INT(imp_outbox_wall(0, 1.7e12), IMP_ERR_STATE, "wall before any start");
  CHECK_INT(ob_start(0), IMP_ERR_STATE, "outbox start before imp_start");
  start_default();
  page(0, "pv1", "/s", 0);
  memcpy(imp_outbox_io_ptr(), "Tab", 3);
  CHECK_INT(imp_outbox_start(0, 1.7e12, 3), IMP_ERR_ARG, "tab id with a capital");
  CHECK_INT(imp_outbox_start(0, 1.7e12, 0), IMP_ERR_ARG, "empty tab id");
  memcpy(imp_outbox_io_ptr(), "abcdefghijklmnopq", 17);
  CHECK_INT(imp_outbox_start(0, 1.7e12, 17), IMP_ERR_ARG, "tab id of 17 bytes");
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  CHECK_INT(imp_outbox_start(T_NAN, 1.7e12, 4), IMP_ERR_ARG, "NaN time");
  CHECK_INT(imp_outbox_start(0, -1, 4), IMP_ERR_ARG, "negative epoch");
  for (int k = 0;; k++) {
    *CFG = defaults;
    CFG->max_batches = T_OB_BATCHES;
    const char *name = break_config(CFG, k);
    if (!name) break;
    memcpy(imp_outbox_io_ptr(), "tab1", 4);
    CHECK_INT(imp_outbox_start(0, 1.7e12, 4), IMP_ERR_CONFIG, "config refused: %s", name);
  }
  *CFG = defaults;
  CFG->max_batches = T_OB_BATCHES + 8u;
#ifndef IMP_TEST_TINY
  CFG->max_batches = IMP_OB_MAX_BATCHES;
#endif
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  CHECK_INT(imp_outbox_start(0, 1.7e12, 4), IMP_ERR_MEMORY, "more batches than the arena holds");
  CHECK_INT(imp_outbox_next(0, 0.5), IMP_ERR_STATE, "a refused start leaves it stopped");

  CHECK_INT(ob_start(0), IMP_OK, "start with the defaults");
  CHECK_INT(imp_outbox_next(0, 1.0), IMP_ERR_ARG, "jitter 1 is outside [0, 1)");
  CHECK_INT(imp_outbox_next(0, T_NAN), IMP_ERR_ARG, "jitter NaN");
  CHECK_INT(imp_outbox_next(-1, 0.5), IMP_ERR_ARG, "negative time");
  CHECK_INT(imp_outbox_response(0, 1, -1, -1, 0.5), IMP_ERR_ARG, "status -1");
  CHECK_INT(imp_outbox_response(0, 1, 1000, -1, 0.5), IMP_ERR_ARG, "status 1000");
  CHECK_INT(imp_outbox_response(0, 1, 503, -2, 0.5), IMP_ERR_ARG, "Retry-After -2");
  CHECK_INT(imp_outbox_response(0, 1, 503, T_NAN, 0.5), IMP_ERR_ARG, "Retry-After NaN");
  CHECK_INT(imp_outbox_beacon(0, 1, 3), IMP_ERR_ARG, "beacon outcome 3");
  CHECK_INT(imp_outbox_later(0, 1, 2), IMP_ERR_ARG, "fetchLater outcome 2");
  CHECK_INT(imp_outbox_stored(0, 1, -1), IMP_ERR_ARG, "storage outcome -1");
  CHECK_INT(imp_outbox_online(0, 2), IMP_ERR_ARG, "online 2");
  CHECK_INT(imp_outbox_consent(0, 3), IMP_ERR_ARG, "consent 3");
  CHECK_INT(imp_outbox_found(0, 4, 4), IMP_ERR_STATE, "found outside a scan");
  CHECK_INT(imp_outbox_tab_live(0, 4), IMP_ERR_STATE, "tab_live outside a scan");
  CHECK_INT(imp_outbox_scan_done(0), IMP_NONE, "scan_done outside a scan: nothing to end");
  CHECK_INT(imp_outbox_next(0, 0.5), IMP_OK, "first action");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "the first action is a scan of storage");
  CHECK_INT(imp_outbox_found(0, 0, 4), IMP_ERR_ARG, "empty key");
  CHECK_INT(imp_outbox_found(0, IMP_OB_KEY_BYTES + 1u, 4), IMP_ERR_ARG, "key too long");
  CHECK_INT(imp_outbox_found(0, 4, IMP_OB_IO_BYTES), IMP_ERR_ARG, "value past the buffer");
  CHECK_INT(imp_outbox_response(0, 77, 204, -1, 0.5), IMP_NONE, "unknown ticket: nothing");
  CHECK_INT(imp_outbox_scan_done(0), IMP_OK, "scan done");
  CHECK_INT(imp_outbox_next(0, 0.5), IMP_NONE, "nothing to do");
  CHECK_INT(ACT->deadline, -1, "and no deadline");
}

static void test_retry_policy(void) {
  static const int32_t retry[] = {0, 302, 404, 408, 429, 500, 503, 599, 199};
  static const int32_t never[] = {400, 401, 403, 410, 413, 422};
  for (size_t i = 0; i < sizeof retry / sizeof *retry; i++)
    CHECK_INT(imp_ob_classify(retry[i]), OB_RETRY, "status %d is retried", (int)retry[i]);
  for (size_t i = 0; i < sizeof never / sizeof *never; i++)
    CHECK_INT(imp_ob_classify(never[i]), OB_NEVER, "status %d is never retried", (int)never[i]);
  CHECK_INT(imp_ob_classify(204), OB_OK, "204 is delivered");
  CHECK_INT(imp_ob_classify(299), OB_OK, "299 is delivered");
  const imp_outbox_config *c = &defaults;
  CHECK_INT(imp_ob_backoff(1, 0.5, c), 1000, "first failure: 1 s at jitter 0.5");
  CHECK_INT(imp_ob_backoff(2, 0.5, c), 2000, "second: 2 s");
  CHECK_INT(imp_ob_backoff(3, 0.0, c), 3200, "third at the lowest jitter: 4 s * 0.8");
  CHECK_INT(imp_ob_backoff(6, 0.5, c), 32000, "sixth: 32 s");
  CHECK_INT(imp_ob_backoff(7, 0.999, c), 60000, "seventh: capped at 60 s even with jitter");
  CHECK_INT(imp_ob_backoff(4000000000u, 0.0, c), 48000, "huge failure counts stay at the cap");
}

/* The body the outbox sends equals, byte for byte, the batch imp_take_batch encodes
** for the same events at the same time. */
static void test_body_is_the_core_batch(void) {
  char core_batch[IMP_BATCH_HARD_CAP + 1];
  for (int run = 0; run < 2; run++) {
    start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, 3, T_BATCH_BYTES, 5000);
    page(0, "pv\"1", "/caf\xc3\xa9", IMP_FLAG_GPC | IMP_FLAG_WEBDRIVER);
    imp_report_dropped(2);
    impression(10, "a\\", 1);
    impression(20, "b", 2);
    impression(30, "c", 3);
    if (run == 0) {
      take(40, 0);
      snprintf(core_batch, sizeof core_batch, "%s", g_batch);
      continue;
    }
    ob_start(0);
    imp_outbox_next(40, 0.5); /* the scan */
    imp_outbox_scan_done(40);
    CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "a fetch");
    CHECK_INT(ACT->kind, IMP_ACT_FETCH, "of the due batch");
    CHECK_STR(body_text(), core_batch, "the body is the core's batch, byte for byte");
  }
}

static int body_events(const char *text, long long *first_s, long long *last_s, long long *drop);

#ifndef IMP_TEST_TINY /* (its arena is too small for 50 long ids) */
/* Inflates the gzip body of the last action into out; its length, or -1. */
static long inflate_body(char *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + 15) != Z_OK) return -1;
  z.next_in = imp_outbox_io_ptr() + ACT->key_bytes;
  z.avail_in = ACT->body_bytes;
  z.next_out = (Bytef *)out;
  z.avail_out = (uInt)cap - 1u;
  int s = inflate(&z, Z_FINISH);
  long n = (s == Z_STREAM_END && z.avail_in == 0) ? (long)z.total_out : -1;
  inflateEnd(&z);
  if (n >= 0) out[n] = '\0';
  return n;
}

/* 50 impressions of cards with 128-byte ids: alike (they compress well) or drawn
** from 64 letters at random (they do not). */
static void many_cards_with(int random_ids, uint32_t flags) {
  static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint32_t x = 12345;
  start_args(64, 64, 65536, 50, 16384, 5000, 0.5, T_VIEW_MS, 242500.0, 0.3, 0.0, 1, 15);
  page(0, "pv1", "/s", 0);
  *CFG = defaults;
  CFG->max_batches = T_OB_BATCHES;
  CFG->body_bytes = 4096;
  CFG->flags |= flags;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  imp_outbox_start(0, 1.7e12, 4);
  if (imp_outbox_next(0, 0.5) == IMP_OK && ACT->kind == IMP_ACT_SCAN) imp_outbox_scan_done(0);
  for (unsigned i = 0; i < 50; i++) {
    char id[IMP_MAX_ID_BYTES + 1];
    for (unsigned k = 0; k < IMP_MAX_ID_BYTES; k++) {
      x = x * 1103515245u + 12345u;
      id[k] = random_ids ? letters[(x >> 16) & 63u] : (char)('a' + k % 7u);
    }
    snprintf(id, 8, "%05u-", i);
    id[6] = 'x'; /* over the NUL */
    id[IMP_MAX_ID_BYTES] = '\0';
    reg(10, id, "", 0);
    observe(10, RES->slot, 0.2, 100);
  }
}

static void many_cards(int random_ids) { many_cards_with(random_ids, 0); }

/* With the core's compress, a body is the gzip of the batch's JSON, and body_bytes
** caps the gzip: a batch whose JSON is larger goes whole when its gzip fits, and is
** split at event boundaries when it does not. */
static void test_gzip_body(void) {
  static char json[IMP_BATCH_HARD_CAP + 1];
  long long first, last, drop;
  many_cards(0);
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "a fetch");
  CHECK_INT(ACT->events, 50, "alike events: one body carries all 50");
  CHECK(ACT->body_bytes <= 4096, "its gzip fits body_bytes (%u)", ACT->body_bytes);
  long n = inflate_body(json, sizeof json);
  CHECK(n > 4096, "though its JSON does not (%ld)", n);
  CHECK(n == (long)RES->batch_bytes && !memcmp(json, imp_output_ptr(), (size_t)n),
        "the gzip inflates to the JSON left in the output buffer");
  CHECK_INT(body_events(json, &first, &last, &drop), 50, "a batch of 50");
  many_cards(1);
  uint32_t sent = 0, requests = 0;
  while (imp_outbox_next(40, 0.5) == IMP_OK && ACT->kind == IMP_ACT_FETCH) {
    CHECK(ACT->body_bytes <= 4096, "random ids: each gzip fits body_bytes (%u)", ACT->body_bytes);
    CHECK(inflate_body(json, sizeof json) > 0, "and inflates");
    CHECK_INT(body_events(json, &first, &last, &drop), (int)ACT->events, "to its events");
    CHECK_INT(first, sent + 1, "the next events in order");
    sent += ACT->events;
    requests++;
    imp_outbox_response(40, ACT->ticket, 204, -1, 0.5);
  }
  CHECK(requests > 1 && sent == 50, "split into %u requests carrying all %u", requests, sent);
}

/* The encoder runs once per body: cutting a batch that fits even stored does not
** compress it, the body the size check settled on is the one sent, and the
** fetchLater copy of the same events reuses its bytes. */
static void test_each_body_compressed_once(void) {
  static uint8_t sent[IMP_OB_IO_BYTES];
  many_cards_with(0, IMP_OB_LATER);
  uint64_t before = imp_encoder_counts.calls;
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "a fetch");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "of the whole batch");
  CHECK_INT((int)(imp_encoder_counts.calls - before), 1, "one gzip for the cut and the body");
  uint32_t len = ACT->body_bytes;
  memcpy(sent, imp_outbox_io_ptr(), len);
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "then its fetchLater copy");
  CHECK_INT(ACT->kind, IMP_ACT_LATER, "a LATER action");
  CHECK_INT((int)(imp_encoder_counts.calls - before), 1, "with no second gzip");
  CHECK(ACT->body_bytes == len && !memcmp(sent, imp_outbox_io_ptr(), len), "and the same bytes");
}
#endif

static void test_record_round_trip(void) {
  static ob_record r;
  static ob_batch got;
  static uint8_t got_slot[IMP_OB_SLOT_BYTES];
  ob_batch *b;
  imp_ob_bind(&got, got_slot);
  fresh(3);
  impression(10, "a", 1);
  impression(20, "b", 2);
  impression(30, "c", 3);
  imp_outbox_next(40, 0.5);
  b = imp_ob_by_ticket(ACT->ticket, OB_FETCH);
  CHECK(b != NULL, "the fetched batch is held");
  if (!b) return;
  b->drop = 7;
  uint32_t len = imp_ob_encode_record(b, 0, 1.7e12 + 99, (uint8_t *)body, sizeof body);
  CHECK(len > 0, "record encoded");
  CHECK_INT(imp_ob_parse_record((uint8_t *)body, len, &r, &got), 1, "and parsed back");
  CHECK_INT(got.events, 3, "events");
  CHECK_INT(got.drop, 7, "drop");
  CHECK_INT(got.at, b->at, "at");
  CHECK_INT(got.created, b->created, "created");
  CHECK_INT(r.attempted, 1, "attempted (it was fetched)");
  CHECK_INT(r.until, 1.7e12 + 99, "lease");
  CHECK(r.owner_len == 4 && !memcmp(r.owner, "tab1", 4), "owner");
  CHECK(got.prefix_len == b->prefix_len && got.event_bytes == b->event_bytes &&
        !memcmp(got.data, b->data, b->prefix_len + b->event_bytes) &&
        !memcmp(got.lens, b->lens, b->events * sizeof *b->lens),
        "the prefix and events byte for byte");
  const char *json = strchr(body, '\n') + 1;
  json_t *root = json_loadb(json, len - (uint32_t)(json - body), 0, NULL);
  CHECK(root != NULL, "the value holds strict JSON");
  json_decref(root);
  len = imp_ob_encode_record(b, 1, 0, (uint8_t *)body, sizeof body);
  CHECK(imp_ob_parse_record((uint8_t *)body, len, &r, &got) && r.owner_len == 0, "released: no owner");
  /* Damage, one kind at a time. */
  char *nl = strchr(body, '\n');
  uint32_t head = (uint32_t)(nl - body);
  CHECK_INT(imp_ob_parse_record((uint8_t *)body, len - 1, &r, &got), 0, "truncated");
  CHECK_INT(imp_ob_parse_record((uint8_t *)body, head, &r, &got), 0, "field line only");
  body[1] = '1';
  CHECK_INT(imp_ob_parse_record((uint8_t *)body, len, &r, &got), 0, "another version");
  body[1] = '2';
  body[head + 1] = '[';
  CHECK_INT(imp_ob_parse_record((uint8_t *)body, len, &r, &got), 0, "prefix not a batch header");
  body[head + 1] = '{';
  body[len - 3] = ']';
  CHECK_INT(imp_ob_parse_record((uint8_t *)body, len, &r, &got), 0, "event not closed");
  body[len - 3] = '}';
  body[len - 5] = '\n';
  CHECK_INT(imp_ob_parse_record((uint8_t *)body, len, &r, &got), 0, "control byte in an event");
#define T_TIMES "I2 1700000000000 0000000000000"
  const char *bad[] = {T_TIMES " 0 -\n\"at\":0,\"drop\":3,\"ev\":[]}",
                       T_TIMES " 2 -\n\"at\":0,\"drop\":3,\"ev\":[]}",
                       T_TIMES " 0 A\n\"at\":0,\"drop\":3,\"ev\":[]}",
                       T_TIMES " 0 \n\"at\":0,\"drop\":3,\"ev\":[]}",
                       T_TIMES " 0 -\"at\":0,\"drop\":3,\"ev\":[]}",
                       "I2 170000000000 0000000000000 0 -\n\"at\":0,\"drop\":3,\"ev\":[]}",
                       T_TIMES " 0 -\n\"at\":0,\"drop\":4294967296,\"ev\":[]}",
                       T_TIMES " 0 -\n\"at\":0,\"drop\":03,\"ev\":[]}",
                       T_TIMES " 0 -\n\"at\":0,\"drop\":3,\"ev\":[{\"s\":1}]}",
                       T_TIMES " 0 -\n{\"v\":1,\"pv\":\"p\",\"at\":0,\"drop\":3,\"ev\":[]}",
                       T_TIMES " 0 -\n\"at\":0,\"drop\":3,\"ev\":[]} "};
  CHECK_INT(imp_ob_parse_record((const uint8_t *)bad[0], (uint32_t)strlen(bad[0]), &r, &got), 1,
            "a drop-only record parses");
  CHECK(got.events == 0 && got.drop == 3 && got.prefix_len == 0, "its count, no events");
  for (size_t i = 1; i < sizeof bad / sizeof *bad; i++)
    CHECK_INT(imp_ob_parse_record((const uint8_t *)bad[i], (uint32_t)strlen(bad[i]), &r, &got), 0,
              "refused: %.60s", bad[i]);
}

/* Parses a body; returns its event count and writes the s values and drop. */
static int body_events(const char *text, long long *first_s, long long *last_s, long long *drop) {
  json_error_t err;
  json_t *root = json_loads(text, 0, &err), *ev;
  if (!root) return -1;
  ev = json_object_get(root, "ev");
  int n = (int)json_array_size(ev);
  *drop = jint(root, "drop");
  *first_s = n ? jint(json_array_get(ev, 0), "s") : -1;
  *last_s = n ? jint(json_array_get(ev, (size_t)n - 1), "s") : -1;
  json_decref(root);
  return n;
}

/* A 413 makes the next request carry the first half of the events (ids that look
** like event boundaries inside their strings do not fool the cut); the first part
** carries "drop"; only a single event refused 413 is lost. */
static void test_parts_at_event_boundaries(void) {
  long long first, last, drop;
  fresh(3);
  imp_report_dropped(5);
  impression(10, "a},{\"e\":\"imp\"", 1);
  impression(20, "b\\\"}", 2);
  impression(30, "{c", 3);
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "fetch");
  CHECK_INT(body_events(body_text(), &first, &last, &drop), 3, "three events");
  CHECK_INT(imp_outbox_response(50, ACT->ticket, 413, -1, 0.5), IMP_OK, "413");
  CHECK_INT(ACT->failures, 0, "a 413 is not a collector failure");
  CHECK_INT(imp_outbox_next(50, 0.5), IMP_OK, "at once");
  CHECK_INT(body_events(body_text(), &first, &last, &drop), 2, "the first half (rounded up)");
  CHECK(first == 1 && last == 2 && drop == 5, "s 1..2, and the drop");
  uint32_t part = ACT->ticket;
  CHECK_INT(imp_outbox_next(50, 0.5), IMP_NONE, "one request per batch");
  CHECK_INT(imp_outbox_response(60, part, 204, -1, 0.5), IMP_OK, "204");
  CHECK_INT(ACT->held_events, 1, "the rest stays");
  CHECK_INT(imp_outbox_next(60, 0.5), IMP_OK, "and goes");
  CHECK_INT(body_events(body_text(), &first, &last, &drop), 1, "one event");
  CHECK(first == 3 && drop == 0, "s 3, drop 0 (the first part carried it)");
  imp_outbox_response(70, ACT->ticket, 413, -1, 0.5);
  CHECK_INT(ACT->lost, 1, "a single event refused 413 is lost");
  CHECK_INT(ACT->delivered, 2, "the others delivered");
  CHECK_INT(ACT->held_batches, 0, "nothing held");
}

static void test_timeout_and_one_at_a_time(void) {
  fresh(1);
  impression(10, "a", 1);
  impression(10, "b", 2);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch a");
  uint32_t ta = ACT->ticket;
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch b (the collector is fine)");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "two in flight");
  uint32_t tb = ACT->ticket;
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_NONE, "then wait");
  CHECK_INT(ACT->deadline, 10 + 5000, "until the timeout");
  CHECK_INT(imp_outbox_next(5010, 0.5), IMP_OK, "at the timeout");
  CHECK_INT(ACT->kind, IMP_ACT_CANCEL, "the request is aborted");
  CHECK_INT(ACT->ticket, ta, "the older one first");
  CHECK_INT(ACT->failures, 1, "and counted as a failure");
  CHECK_INT(imp_outbox_next(5010, 0.5), IMP_OK, "the other is aborted too");
  CHECK_INT(ACT->ticket, tb, "b");
  CHECK_INT(ACT->failures, 1, "same outage wave: one backoff step");
  CHECK_INT(imp_outbox_response(5011, ta, 204, -1, 0.5), IMP_NONE, "a late answer is ignored");
  while (imp_outbox_next(5010, 0.5) == IMP_OK) /* owned copies while failing */
    if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(5010, ACT->ticket, IMP_STORE_OK);
  CHECK_INT(ACT->deadline, 6010, "retry after 1 s");
  CHECK_INT(imp_outbox_next(6010, 0.5), IMP_OK, "retry");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "one fetch");
  CHECK_INT(imp_outbox_next(6010, 0.5), IMP_NONE, "only one while the collector fails");
  imp_outbox_response(6020, ACT->ticket, 204, -1, 0.5);
}

/* imp_outbox_flush() cuts queued events that are not yet due, so the next action sends
** them; a failure's delay (backoff or Retry-After, a Retry-After under a second leaving
** the backoff) is in action.retry_ms. */
static void test_flush_and_retry_delay(void) {
  fresh(4); /* a batch is due only after 4 events or its age */
  CHECK_INT(imp_outbox_flush(T_NAN), IMP_ERR_ARG, "flush at NaN");
  impression(10, "a", 1);
  impression(10, "b", 2);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_NONE, "two events are not due");
  CHECK_INT(imp_outbox_flush(11), IMP_OK, "flush");
  CHECK_INT(imp_g.rec_count, 0, "the queue is empty");
  CHECK_INT(ACT->held_events, 2, "both events held by the outbox");
  CHECK_INT(imp_outbox_next(11, 0.5), IMP_OK, "sent now");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "by fetch");
  CHECK_INT(ACT->events, 2, "both");
  uint32_t ticket = ACT->ticket;
  CHECK_INT(imp_outbox_flush(12), IMP_OK, "a flush with nothing queued");
  CHECK_INT(imp_outbox_response(20, ticket, 429, 5000, 0.5), IMP_OK, "429");
  CHECK_INT(ACT->failures, 1, "a failure");
  CHECK_INT(ACT->retry_ms, 5000, "Retry-After's delay");
  while (imp_outbox_next(20, 0.5) == IMP_OK)
    if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(20, ACT->ticket, IMP_STORE_OK);
  CHECK_INT(ACT->deadline, 5020, "the retry at 5 s");
  CHECK_INT(imp_outbox_next(5020, 0.5), IMP_OK, "retried");
  CHECK_INT(imp_outbox_response(5030, ACT->ticket, 503, -1, 0.5), IMP_OK, "503");
  CHECK_INT(ACT->retry_ms, 2000, "the second backoff step at jitter 0.5");
  while (imp_outbox_next(5030, 0.5) == IMP_OK) {
  }
  CHECK_INT(imp_outbox_next(7030, 0.5), IMP_OK, "retried again");
  CHECK_INT(imp_outbox_response(7040, ACT->ticket, 503, 0, 0.5), IMP_OK, "503, Retry-After: 0");
  CHECK_INT(ACT->retry_ms, 4000, "under a second: the third backoff step, not at once");
  while (imp_outbox_next(7040, 0.5) == IMP_OK) {
  }
  CHECK_INT(imp_outbox_next(11040, 0.5), IMP_OK, "retried after the backoff");
  imp_outbox_response(11050, ACT->ticket, 204, -1, 0.5);
}

/* Eight clicks on a card with the longest id and list: a batch of over 2 KiB. */
static void big_batch(double t) {
  char id[IMP_MAX_ID_BYTES + 1], list[IMP_MAX_LIST_BYTES + 1];
  memset(id, 'x', sizeof id - 1);
  memset(list, 'l', sizeof list - 1);
  id[sizeof id - 1] = list[sizeof list - 1] = 0;
  reg(t, id, list, 1);
  for (int i = 0; i < 8; i++) click(t, RES->slot);
}

static void test_keepalive_budget(void) {
  start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, 8, T_BATCH_BYTES, 5000);
  page(0, "pv1", "/s", 0);
  *CFG = defaults;
  CFG->max_batches = T_OB_BATCHES;
  CFG->body_bytes = CFG->keepalive_bytes = 4096;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  CHECK_INT(imp_outbox_start(0, 1.7e12, 4), IMP_OK, "keepalive budget = body size (4 KiB)");
  imp_outbox_next(0, 0.5);
  imp_outbox_scan_done(0);
  big_batch(10);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "the first fetch");
  uint32_t first = ACT->ticket, bytes = ACT->body_bytes;
  CHECK(bytes > 2048u, "a batch over half the budget (%u bytes)", bytes);
  big_batch(10);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_NONE, "the second does not fit beside it");
  imp_outbox_response(20, first, 204, -1, 0.5);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "once it is answered");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "the second goes");
}

/* A record as storage holds it: key then value (the last one kept_record() saw). */
static char kept_key[IMP_OB_KEY_BYTES], kept_value[8192 + 1]; /* value NUL-terminated */
static uint32_t kept_key_len, kept_value_len;

/* Keeps the record of the STORE action just returned, then reports it written. */
static void kept_record(double t) {
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "a write");
  kept_key_len = ACT->key_bytes;
  kept_value_len = ACT->body_bytes;
  memcpy(kept_key, imp_outbox_io_ptr(), kept_key_len);
  memcpy(kept_value, imp_outbox_io_ptr() + kept_key_len, kept_value_len);
  kept_value[kept_value_len] = 0;
  imp_outbox_stored(t, ACT->ticket, IMP_STORE_OK);
}

/* A scan of storage that finds the kept record, as written unless owner is given: then
** with that owner ("-": released) and its lease running until `until` (wall ms); then
** the scan ends. */
static void scan_finds_kept(double t, const char *owner, double until) {
  CHECK_INT(imp_outbox_next(t, 0.5), IMP_OK, "a scan");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  char *out = (char *)imp_outbox_io_ptr();
  memcpy(out, kept_key, kept_key_len);
  const char *batch = strchr(kept_value, '\n') + 1;
  int len = (int)kept_value_len;
  if (owner) {
    double created;
    int attempted;
    CHECK_INT(sscanf(kept_value, "I2 %lf %*f %d", &created, &attempted), 2, "a field line");
    len = snprintf(out + kept_key_len, 64, "I2 %.0f %013.0f %d %s\n", created, until, attempted, owner);
    len += snprintf(out + kept_key_len + len, sizeof kept_value, "%s", batch);
  } else
    memcpy(out + kept_key_len, kept_value, kept_value_len);
  CHECK_INT(imp_outbox_found(t, kept_key_len, (uint32_t)len), IMP_OK, "found");
  imp_outbox_scan_done(t);
}

/* One batch in flight when the page is hidden at 20: its released copy is written
** (kept: kept_record()) and the request goes on. Returns the request's ticket. */
static uint32_t in_flight_at_hide(void) {
  fresh(1);
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  uint32_t ticket = ACT->ticket;
  imp_page_state(20, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "at the hide");
  kept_record(20);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_NONE, "the request goes on");
  return ticket;
}

static void test_hide_with_request_in_flight(void) {
  uint32_t t = in_flight_at_hide();
  CHECK(strstr(kept_value, " -\n") != NULL, "the request in flight gets a copy released for any tab");
  CHECK_INT(imp_outbox_response(30, t, 204, -1, 0.5), IMP_OK, "it lands while the page lives");
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "so");
  CHECK_INT(ACT->kind, IMP_ACT_REMOVE, "its stored copy is removed");
}

/* A write that lands after events left its batch would hold them: it is removed
** and the rest written again. */
static void test_events_leave_during_a_write(void) {
  fresh(2);
  impression(10, "a", 1);
  impression(10, "b", 2);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  imp_outbox_response(20, ACT->ticket, 503, -1, 0.5);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "an owned copy after the failure");
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "store");
  CHECK_INT(ACT->events, 2, "of both events");
  uint32_t write = ACT->ticket;
  char key[IMP_OB_KEY_BYTES + 1];
  memcpy(key, imp_outbox_io_ptr(), ACT->key_bytes);
  key[ACT->key_bytes] = 0;
  CHECK_INT(imp_outbox_next(1020, 0.5), IMP_OK, "the retry goes before the write is answered");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "fetch");
  imp_outbox_response(1030, ACT->ticket, 413, -1, 0.5);
  CHECK_INT(imp_outbox_next(1030, 0.5), IMP_OK, "a 413: half as many");
  CHECK_INT(ACT->events, 1, "one event");
  imp_outbox_response(1040, ACT->ticket, 204, -1, 0.5);
  CHECK_INT(imp_outbox_stored(1040, write, IMP_STORE_OK), IMP_OK, "the write lands now");
  CHECK_INT(imp_outbox_next(1040, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_REMOVE, "the record holding both is removed");
  memcpy(body, imp_outbox_io_ptr(), ACT->key_bytes);
  body[ACT->key_bytes] = 0;
  CHECK_STR(body, key, "that record");
  while (imp_outbox_next(1040, 0.5) == IMP_OK && ACT->kind == IMP_ACT_SCAN)
    imp_outbox_scan_done(1040); /* the collector answered 2xx: storage is scanned */
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "the rest is written again");
  CHECK_INT(ACT->events, 1, "one event");
}

/* Answers every STORE at t with OK until another action comes; returns its status. */
static int32_t store_all(double t) {
  int32_t s;
  while ((s = imp_outbox_next(t, 0.5)) == IMP_OK && ACT->kind == IMP_ACT_STORE)
    imp_outbox_stored(t, ACT->ticket, IMP_STORE_OK);
  return s;
}

/* A page hide with every slot in flight, each request carrying only part of its
** batch after a 413: a request with a released copy still gives up its slot, so the
** queue is handed off and a clean page death loses nothing. Its 2xx then leaves the
** record, which holds the events the request did not carry. */
static void test_hide_with_every_slot_in_flight(void) {
  fresh_with(2, 1); /* one slot, and the spare only a page hide uses */
  impression(10, "a", 1);
  impression(10, "a", 2);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch the first batch");
  imp_outbox_response(11, ACT->ticket, 413, -1, 0.5);
  CHECK_INT(imp_outbox_next(11, 0.5), IMP_OK, "half of it");
  CHECK_INT(ACT->events, 1, "one event in flight");
  uint32_t first_part = ACT->ticket;
  impression(20, "b", 1);
  impression(20, "b", 2);
  imp_page_state(30, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "hidden");
  kept_record(30); /* the released copy of the part in flight */
  CHECK_INT(store_all(30), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_BEACON, "the queued batch goes by beacon from the spare slot");
  uint32_t beacon = ACT->ticket;
  imp_page_state(40, IMP_PAGE_VISIBLE);
  imp_outbox_beacon(40, beacon, IMP_BEACON_THREW);
  scan_finds_kept(40, NULL, 0); /* still released: taken back */
  CHECK_INT(store_all(40), IMP_OK, "shown again: owned copies, then");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "the refused batch is fetched");
  imp_outbox_response(41, ACT->ticket, 413, -1, 0.5);
  CHECK_INT(imp_outbox_next(41, 0.5), IMP_OK, "half of it too");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "fetch");
  CHECK_INT(ACT->held_batches, 2, "both slots hold a batch in flight");
  CHECK_INT(click(50, 0), IMP_OK, "one more event, a click");
  imp_page_state(60, IMP_PAGE_HIDDEN);
  int beacons = 0;
  while (imp_outbox_next(60, 0.5) == IMP_OK) {
    if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(60, ACT->ticket, IMP_STORE_OK);
    if (ACT->kind == IMP_ACT_BEACON) {
      beacons++;
      imp_outbox_beacon(60, ACT->ticket, IMP_BEACON_ACCEPTED);
    }
  }
  CHECK_INT(imp_g.rec_count, 0, "the hide cut the queue");
  CHECK_INT(beacons, 1, "and its batch went by beacon");
  CHECK_INT(ACT->beaconed, 1, "the click");
  CHECK_INT(ACT->lost, 0, "nothing lost");
  CHECK_INT(imp_outbox_response(70, first_part, 204, -1, 0.5), IMP_OK, "the part let go lands");
  CHECK_INT(imp_outbox_next(70, 0.5), IMP_NONE, "its record stays: it holds the other event");
}

/* Fails the request at t, then checks that nothing more happens here, ever. */
static void nothing_follows(double t, uint32_t ticket, int32_t status, const char *why) {
  CHECK_INT(imp_outbox_response(t, ticket, status, -1, 0.0), IMP_OK, "answered %s", why);
  CHECK_INT(imp_outbox_next(t, 0.5), IMP_NONE, "no retry, write or removal %s", why);
  CHECK_INT(imp_outbox_next(t + 1e6, 0.5), IMP_NONE, "ever %s", why);
  CHECK_INT(ACT->held_batches, 0, "nothing held %s", why);
  CHECK_INT(ACT->lost, 0, "nothing counted lost %s", why);
  CHECK_INT(ACT->delivered, 0, "nothing counted delivered %s", why);
}

/* Shown again, a request's released copy is taken back only if a scan finds it still
** released. Another tab that adopted it while the page was hidden sends it (its batch
** stands for the events), so here the request's answer changes nothing: a failure is
** not retried, a 2xx neither removes that tab's record nor counts the events. */
static void test_shown_again_after_another_tab_took_it(void) {
  uint32_t ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  scan_finds_kept(30, "tabc", 1.7e12 + 30020);
  nothing_follows(40, ticket, 503, "(adopted elsewhere, request fails)");
  ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  scan_finds_kept(30, "tabc", 1.7e12 + 30020);
  nothing_follows(40, ticket, 204, "(adopted elsewhere, request lands)");
  ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "a scan");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  imp_outbox_scan_done(30); /* the record is gone: delivered and removed elsewhere */
  nothing_follows(40, ticket, 503, "(removed elsewhere)");
}

/* Still released (or owned by a tab that is gone), the copy is claimed (rewritten as
** this tab's) and, as an adopted one, confirmed a second later: a failed request is
** not retried before that. */
static void test_shown_again_takes_back_its_copy(void) {
  uint32_t ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  scan_finds_kept(30, NULL, 0);
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "then");
  kept_record(30);
  CHECK(strstr(kept_value, " tab1\n") != NULL, "claimed by this tab");
  CHECK_INT(imp_outbox_response(31, ticket, 503, -1, 0.0), IMP_OK, "the request fails");
  CHECK_INT(imp_outbox_next(900, 0.5), IMP_NONE, "its backoff is over, but not retried yet");
  scan_finds_kept(1030, NULL, 0); /* a second after the claim: still this tab's */
  CHECK_INT(imp_outbox_next(1030, 0.5), IMP_OK, "confirmed");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "retried");
  CHECK_INT(imp_outbox_response(1040, ACT->ticket, 204, -1, 0.0), IMP_OK, "lands");
  CHECK_INT(ACT->delivered, 1, "delivered once");
  CHECK_INT(imp_outbox_next(1040, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_REMOVE, "its record is removed");
  in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  scan_finds_kept(30, "tabc", 1.7e12 + 25); /* adopted by a tab whose lease ran out */
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "claimed, as a record of a tab that is gone");
}

/* One slot: a request in flight gets a released copy at a hide (kept: kept_record()),
** then lets its slot go for a click; the queued batch and the click go by beacon.
** Returns its ticket. */
static uint32_t let_go_at_hide(void) {
  fresh_with(1, 1);
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  uint32_t early = ACT->ticket;
  impression(20, "b", 1);
  imp_page_state(30, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "at the hide");
  kept_record(30); /* the request in flight gets a released copy */
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_BEACON, "the queued batch goes by beacon from the spare slot");
  uint32_t beacon = ACT->ticket;
  CHECK_INT(click(35, 0), IMP_OK, "a click while both slots are busy");
  CHECK_INT(store_all(35), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_BEACON, "the request let go its slot: the click goes by beacon");
  imp_outbox_beacon(35, ACT->ticket, IMP_BEACON_ACCEPTED);
  imp_outbox_beacon(35, beacon, IMP_BEACON_ACCEPTED);
  CHECK_INT(ACT->held_batches, 0, "nothing held: the record stands for the request");
  return early;
}

/* let_go_at_hide(), then shown again the record is adopted, claimed, confirmed a
** second later and sent again (at 1040). *early: the request let go; returns the
** ticket of the adopted copy's request. */
static uint32_t let_go_then_adopted(uint32_t *early) {
  *early = let_go_at_hide();
  imp_page_state(40, IMP_PAGE_VISIBLE);
  scan_finds_kept(40, NULL, 0);
  CHECK_INT(ACT->found, IMP_FOUND_ADOPTED, "its record is adopted");
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "then");
  kept_record(40); /* the claim */
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_NONE, "not sent before the claim is confirmed");
  scan_finds_kept(1040, NULL, 0); /* a second later */
  CHECK_INT(imp_outbox_next(1040, 0.5), IMP_OK, "the claim still this tab's");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "sent again");
  return ACT->ticket;
}

/* An answer to a request let go at a page hide, after its record was adopted again:
** a never-retry status changes nothing here (the adopted batch gets its own answer),
** so the events are counted lost once. */
static void test_late_answer_after_adoption(void) {
  uint32_t early, again = let_go_then_adopted(&early);
  CHECK_INT(imp_outbox_response(1050, early, 400, -1, 0.5), IMP_OK, "the early request is refused late");
  CHECK_INT(ACT->lost, 0, "which counts nothing here");
  CHECK_INT(ACT->held_events, 1, "and leaves the adopted batch");
  CHECK_INT(imp_outbox_next(1050, 0.5), IMP_NONE, "and its record");
  CHECK_INT(imp_outbox_response(1060, again, 400, -1, 0.5), IMP_OK, "the adopted copy is refused");
  CHECK_INT(ACT->lost, 1, "its event is counted lost, once");
  CHECK_INT(imp_g.drop_pending, 1, "and travels in the next batch's drop");
  again = let_go_then_adopted(&early);
  CHECK_INT(imp_outbox_response(1050, early, 204, -1, 0.5), IMP_OK, "the early request lands late");
  CHECK_INT(ACT->delivered, 0, "the adopted batch will count it");
  CHECK_INT(imp_outbox_response(1060, again, 204, -1, 0.5), IMP_OK, "the adopted copy lands");
  CHECK_INT(ACT->delivered, 1, "its event is delivered, once");
  again = let_go_then_adopted(&early);
  CHECK_INT(imp_outbox_response(1050, again, 204, -1, 0.5), IMP_OK, "the adopted copy lands first");
  CHECK_INT(ACT->delivered, 1, "its event is delivered");
  CHECK_INT(ACT->held_batches, 0, "and the batch is done");
  CHECK_INT(imp_outbox_response(1060, early, 204, -1, 0.5), IMP_OK, "the early request lands late");
  CHECK_INT(ACT->delivered, 1, "its event is not delivered twice");
}

/* A page hide with a "drop" count and no batch to carry it: the count is stored alone
** (released, no header, no events), and leaves the queue once written. */
static void test_drop_only_record(void) {
  static ob_record r;
  static ob_batch got;
  static uint8_t got_slot[IMP_OB_SLOT_BYTES];
  imp_ob_bind(&got, got_slot);
  fresh(1);
  imp_report_dropped(3);
  imp_page_state(10, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "at the hide");
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "a record is written");
  CHECK_INT(imp_ob_parse_record(imp_outbox_io_ptr() + ACT->key_bytes, ACT->body_bytes, &r, &got),
            1, "that parses");
  CHECK(got.events == 0 && got.drop == 3 && got.prefix_len == 0 && r.owner_len == 0,
        "released, with the count and nothing else");
  CHECK_INT(imp_outbox_stored(10, ACT->ticket, IMP_STORE_OK), IMP_OK, "written");
  CHECK_INT(imp_g.drop_pending, 0, "the count left the queue");
}

/* A batch delivered while its stored copy was being written leaves its slot free; a
** "drop" count with no batch to carry it is still stored alone at the next hide. */
static void test_drop_record_after_a_write_outlived_its_batch(void) {
  fresh(1);
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  imp_outbox_response(20, ACT->ticket, 503, -1, 0.5);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "after the failure");
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "an owned copy is written");
  uint32_t write = ACT->ticket;
  CHECK_INT(imp_outbox_next(1020, 0.5), IMP_OK, "the retry goes before the write is answered");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "fetch");
  imp_outbox_response(1030, ACT->ticket, 204, -1, 0.5);
  CHECK_INT(ACT->held_batches, 0, "delivered: nothing held");
  CHECK_INT(imp_outbox_stored(1030, write, IMP_STORE_OK), IMP_NONE, "the write of a batch gone");
  imp_report_dropped(3);
  imp_page_state(1040, IMP_PAGE_HIDDEN);
  int drop_record = 0;
  while (imp_outbox_next(1040, 0.5) == IMP_OK)
    if (ACT->kind == IMP_ACT_STORE) {
      drop_record = ACT->batch == 0;
      imp_outbox_stored(1040, ACT->ticket, IMP_STORE_OK);
    }
  CHECK(drop_record, "the count is stored alone at the hide");
  CHECK_INT(imp_g.drop_pending, 0, "and left the queue");
}

/* A batch held in memory past max_age_ms (a page left open: a sleeping laptop, a
** collector down for a day) is counted lost, as its stored copy would be: no copy of
** it goes out after the collector's deduplication window, which that age bounds. */
static void test_held_batch_expires(void) {
  fresh(1);
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  imp_outbox_response(20, ACT->ticket, 503, -1, 0.5);
  while (imp_outbox_next(20, 0.5) == IMP_OK)
    if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(20, ACT->ticket, IMP_STORE_OK);
  CHECK_INT(ACT->stored_events, 1, "an owned copy is stored");
  double day = defaults.max_age_ms;
  while (imp_outbox_next(10 + day, 0.5) == IMP_OK && ACT->kind != IMP_ACT_FETCH)
    if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(10 + day, ACT->ticket, IMP_STORE_OK);
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "at 24 hours: still retried");
  imp_outbox_response(10 + day, ACT->ticket, 503, -1, 0.5);
  int sent = 0, removed = 0;
  while (imp_outbox_next(11 + day + 60000, 0.5) == IMP_OK) {
    sent += ACT->kind == IMP_ACT_FETCH;
    removed += ACT->kind == IMP_ACT_REMOVE;
  }
  CHECK_INT(sent, 0, "past 24 hours: no copy goes out");
  CHECK_INT(removed, 1, "its stored copy is removed");
  CHECK_INT(ACT->held_batches, 0, "nothing held");
  CHECK_INT(ACT->lost, 1, "the event is counted lost");
  CHECK_INT(imp_g.drop_pending, 1, "and its count waits for the next batch");
}

/* The device slept: performance.now() stood still while the wall clock went on. Told
** the wall clock (imp_outbox_wall), the outbox ages a batch held since then by it (past
** max_age_ms: counted lost, sent no more) and dates the batches it cuts by it. */
static void test_wall_clock_after_a_sleep(void) {
  fresh(1);
  CHECK_INT(imp_outbox_wall(5, -1), IMP_ERR_ARG, "a negative wall clock");
  CHECK_INT(imp_outbox_wall(5, T_NAN), IMP_ERR_ARG, "NaN");
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  imp_outbox_response(20, ACT->ticket, 503, -1, 0.5);
  double woke = 1.7e12 + 25.0 * 3600e3; /* asleep 25 hours, the page's clock at 30 */
  CHECK_INT(imp_outbox_wall(30, woke), IMP_OK, "the wall clock, after the sleep");
  int sent = 0;
  while (imp_outbox_next(2000, 0.5) == IMP_OK) sent += ACT->kind == IMP_ACT_FETCH;
  CHECK_INT(sent, 0, "25 h old by the wall clock: not sent again");
  CHECK_INT(ACT->lost, 1, "counted lost");
  impression(2010, "a", 2);
  imp_outbox_online(2010, 0); /* offline: the batch is stored at once */
  int dated = 0;
  while (imp_outbox_next(2010, 0.5) == IMP_OK)
    if (ACT->kind == IMP_ACT_STORE) {
      char want[32];
      snprintf(want, sizeof want, "q:%.0f:", woke + 2010);
      dated = !strncmp((const char *)imp_outbox_io_ptr(), want, strlen(want));
      imp_outbox_stored(2010, ACT->ticket, IMP_STORE_OK);
    }
  CHECK(dated, "a batch cut after it is dated by the wall clock");
}

/* Performs every action at t (fetches answered `status`, writes landing, scans finding
** nothing), checking that this tab's stored copies stay within `bound` events; returns
** the removals asked for. */
static uint32_t drive_at(double t, int32_t status, uint32_t bound) {
  uint32_t removed = 0;
  while (imp_outbox_next(t, 0.5) == IMP_OK) {
    if (ACT->kind == IMP_ACT_FETCH) imp_outbox_response(t, ACT->ticket, status, -1, 0.5);
    else if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(t, ACT->ticket, IMP_STORE_OK);
    else if (ACT->kind == IMP_ACT_SCAN) imp_outbox_scan_done(t);
    else removed += ACT->kind == IMP_ACT_REMOVE;
    CHECK(ACT->stored_events <= bound, "stored copies within the bound at %.0f (%u)", t,
          ACT->stored_events);
  }
  return removed;
}

/* This tab's copies stay within stored_events: the oldest copy is removed to make room,
** its batch stays in memory (nothing is lost) and is delivered once the collector is
** back. */
static void test_storage_bound(void) {
  start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, 1, T_BATCH_BYTES, 5000);
  page(0, "pv1", "/s", 0);
  *CFG = defaults;
  CFG->max_batches = T_OB_BATCHES;
  CFG->stored_events = 2;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  CHECK_INT(imp_outbox_start(0, 1.7e12, 4), IMP_OK, "start with room for two events");
  drive_at(0, 503, 2);
  uint32_t removed = 0;
  for (unsigned i = 1; i <= 3; i++) {
    impression(10.0 * i, "a", i);
    removed += drive_at(10.0 * i, 503, 2); /* failing: each batch gets an owned copy */
  }
  CHECK_INT(removed, 1, "the third copy removes the oldest");
  CHECK_INT(ACT->stored_events, 2, "two copies stored");
  CHECK_INT(ACT->held_events, 3, "three events held in memory");
  removed = drive_at(100000, 204, 2);
  CHECK_INT(ACT->delivered, 3, "all three delivered once the collector is back");
  CHECK_INT(ACT->lost, 0, "nothing lost");
  CHECK_INT(removed, 2, "the two copies left removed");
  CHECK_INT(ACT->stored_events, 0, "nothing stored");
}

/* Records a scan leaves for want of a free slot have a storage share of their own
** (stored_events, stored_bytes): beyond it they are removed and their events counted
** lost, so hide after hide while the collector is down cannot fill the origin's
** storage. */
static void test_records_left_within_the_share(void) {
  static char keys[4][IMP_OB_KEY_BYTES], values[4][8192];
  static uint32_t key_lens[4], value_lens[4];
  fresh(1);
  for (unsigned i = 1; i <= 4; i++) impression(10, "a", i);
  imp_outbox_online(20, 0);
  imp_page_state(20, IMP_PAGE_HIDDEN); /* offline: each batch is stored, released */
  unsigned n = 0;
  while (imp_outbox_next(20, 0.5) == IMP_OK && ACT->kind == IMP_ACT_STORE && n < 4) {
    key_lens[n] = ACT->key_bytes;
    value_lens[n] = ACT->body_bytes;
    memcpy(keys[n], imp_outbox_io_ptr(), key_lens[n]);
    memcpy(values[n], imp_outbox_io_ptr() + key_lens[n], value_lens[n]);
    imp_outbox_stored(20, ACT->ticket, IMP_STORE_OK);
    n++;
  }
  CHECK_INT(n, 4, "four released records");
  /* The next page load: one slot, room in storage for two events. */
  start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, 1, T_BATCH_BYTES, 5000);
  page(0, "pv2", "/s", 0);
  *CFG = defaults;
  CFG->max_batches = 1;
  CFG->stored_events = 2;
  memcpy(imp_outbox_io_ptr(), "tab2", 4);
  CHECK_INT(imp_outbox_start(100, 1.7e12, 4), IMP_OK, "start");
  CHECK_INT(imp_outbox_next(100, 0.5), IMP_OK, "first action");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  static const uint32_t verdict[4] = {IMP_FOUND_ADOPTED, IMP_FOUND_LEFT, IMP_FOUND_LEFT, IMP_FOUND_REMOVE};
  for (unsigned i = 0; i < 4; i++) {
    memcpy(imp_outbox_io_ptr(), keys[i], key_lens[i]);
    memcpy(imp_outbox_io_ptr() + key_lens[i], values[i], value_lens[i]);
    CHECK_INT(imp_outbox_found(100, key_lens[i], value_lens[i]), IMP_OK, "found %u", i);
    CHECK_INT(ACT->found, verdict[i], "record %u: adopted, two left within the share, removed", i);
  }
  CHECK_INT(imp_outbox_scan_done(100), IMP_OK, "scan done");
  CHECK_INT(ACT->lost, 1, "the one removed is counted lost");
}

/* Performs every action due at t (fetches answered `status`, writes and fetchLater
** registrations accepted, scans finding nothing); returns the CANCEL of `ticket` seen
** (1) or not (0), and sets *later to the last fetchLater ticket registered. */
static int drive_later(double t, int32_t status, uint32_t ticket, uint32_t *later) {
  int cancelled = 0;
  while (imp_outbox_next(t, 0.5) == IMP_OK) {
    if (ACT->kind == IMP_ACT_FETCH) imp_outbox_response(t, ACT->ticket, status, -1, 0.5);
    else if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(t, ACT->ticket, IMP_STORE_OK);
    else if (ACT->kind == IMP_ACT_LATER) imp_outbox_later(t, *later = ACT->ticket, 1);
    else if (ACT->kind == IMP_ACT_SCAN) imp_outbox_scan_done(t);
    else if (ACT->kind == IMP_ACT_BEACON) imp_outbox_beacon(t, ACT->ticket, IMP_BEACON_ACCEPTED);
    else cancelled |= ACT->kind == IMP_ACT_CANCEL && ACT->ticket == ticket;
  }
  return cancelled;
}

/* A fetchLater registration parked at a hide (its batch let go to storage, released)
** whose record the next scan does not take back (another tab adopted and delivered
** it) is cancelled: nothing awaits it any more, and its bytes return to the budget. */
static void start_with_later(void) {
  start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, 1, T_BATCH_BYTES, 5000);
  page(0, "pv1", "/s", 0);
  *CFG = defaults;
  CFG->max_batches = T_OB_BATCHES;
  CFG->flags |= IMP_OB_LATER;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  CHECK_INT(imp_outbox_start(0, 1.7e12, 4), IMP_OK, "start with fetchLater");
}

static void test_parked_registration_ends_with_the_scan(void) {
  start_with_later();
  uint32_t later = 0;
  drive_later(0, 503, 0, &later);
  impression(10, "a", 1);
  drive_later(10, 503, 0, &later); /* failing: an owned copy and a fetchLater copy */
  CHECK(later != 0, "a fetchLater copy registered");
  imp_page_state(20, IMP_PAGE_HIDDEN);
  CHECK_INT(drive_later(20, 503, later, &later), 0, "hidden: released to storage, its copy parked");
  CHECK_INT(ACT->held_batches, 0, "the batch let go");
  imp_page_state(30, IMP_PAGE_VISIBLE); /* the scan finds nothing: another tab took it */
  CHECK_INT(drive_later(30, 503, later, &later), 1, "the parked copy is cancelled after the scan");
}

/* More batches let go with a fetchLater copy than the parked list holds (a second hide
** while the scan of a show still waits for its lock): every registration is
** cancelled in the end, none left with the browser to be sent for ever after. */
static void test_parked_overflow_cancelled(void) {
  static uint8_t registered[4096];
  start_with_later();
  int waiting_scan = 0, parked = 0;
  unsigned card = 0;
  for (unsigned round = 0; round <= IMP_OB_GONE / T_OB_BATCHES; round++) { /* > IMP_OB_GONE let go */
    double t = 10.0 + 100.0 * round;
    for (unsigned i = 0; i < T_OB_BATCHES; i++) {
      impression(t, "a", card++);
      release(t, RES->slot); /* the card leaves: its slot is free for the next */
    }
    while (imp_outbox_next(t, 0.5) == IMP_OK) {
      if (ACT->kind == IMP_ACT_FETCH) imp_outbox_response(t, ACT->ticket, 503, -1, 0.5);
      else if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(t, ACT->ticket, IMP_STORE_OK);
      else if (ACT->kind == IMP_ACT_LATER) {
        imp_outbox_later(t, ACT->ticket, 1);
        registered[ACT->ticket] = 1;
      } else if (ACT->kind == IMP_ACT_SCAN && round == 0) imp_outbox_scan_done(t);
      else if (ACT->kind == IMP_ACT_SCAN) waiting_scan = 1; /* its lock is not granted yet */
      else if (ACT->kind == IMP_ACT_CANCEL) registered[ACT->ticket] = 0;
    }
    imp_page_state(t + 50, IMP_PAGE_HIDDEN); /* failing: each batch is let go, its copy parked */
    while (imp_outbox_next(t + 50, 0.5) == IMP_OK) {
      if (ACT->kind == IMP_ACT_STORE) imp_outbox_stored(t + 50, ACT->ticket, IMP_STORE_OK);
      else if (ACT->kind == IMP_ACT_CANCEL) registered[ACT->ticket] = 0;
    }
    parked = 0;
    for (unsigned k = 0; k < sizeof registered; k++) parked += registered[k];
    imp_page_state(t + 60, IMP_PAGE_VISIBLE);
  }
  CHECK(waiting_scan, "a later show's scan waits");
  CHECK(parked > 0 && parked <= (int)IMP_OB_GONE, "at most %u registrations parked (%d)", IMP_OB_GONE, parked);
  CHECK_INT(imp_outbox_scan_done(300), IMP_OK, "the scan ends");
  while (imp_outbox_next(300, 0.5) == IMP_OK)
    if (ACT->kind == IMP_ACT_CANCEL) registered[ACT->ticket] = 0;
  parked = 0;
  for (unsigned k = 0; k < sizeof registered; k++) parked += registered[k];
  CHECK_INT(parked, 0, "every registration cancelled");
}

/* Core and outbox started, a page view open, the first scan of storage asked for. */
static void start_scanning(void) {
  start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, 1, T_BATCH_BYTES, 5000);
  page(0, "pv1", "/s", 0);
  CHECK_INT(ob_start(0), IMP_OK, "start");
  CHECK_INT(imp_outbox_next(0, 0.5), IMP_OK, "first action");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
}

/* Consent revoked while the glue waits for the scan lock ends the scan: the records it
** then reports are refused, and its late scan_done has nothing to end. */
static void test_scan_ended_by_consent(void) {
  start_scanning();
  CHECK_INT(imp_outbox_consent(5, IMP_CONSENT_DENIED), IMP_OK, "consent revoked");
  memcpy(imp_outbox_io_ptr(), "q:k1x", 5);
  CHECK_INT(imp_outbox_found(6, 4, 1), IMP_ERR_STATE, "a record after the scan ended");
  CHECK_INT(imp_outbox_scan_done(6), IMP_NONE, "the late scan_done: nothing to end");
  CHECK_INT(imp_outbox_next(6, 0.5), IMP_OK, "the outbox goes on");
  CHECK_INT(ACT->kind, IMP_ACT_PURGE, "purging what was stored");
  CHECK_INT(imp_outbox_consent(7, IMP_CONSENT_GRANTED), IMP_OK, "granted again");
  CHECK_INT(imp_outbox_next(7, 0.5), IMP_OK, "next");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a new scan");
  CHECK_INT(imp_outbox_scan_done(8), IMP_OK, "which ends");
}

/* A scan whose lock is never granted (the tab holding it hangs) is given up after
** timeout_ms: the next scan takes the lock, so stored records are not left for the
** page's life; a scan after it waits for the lock again. */
static void test_scan_lock_never_granted(void) {
  start_scanning();
  CHECK_INT(ACT->ticket, 0, "the first scan waits for the lock");
  CHECK_INT(imp_outbox_next(4999, 0.5), IMP_NONE, "waited for up to timeout_ms");
  CHECK(ACT->deadline == 5000.0, "the timer is set for then (%.0f)", ACT->deadline);
  CHECK_INT(imp_outbox_next(5000, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan again");
  CHECK_INT(ACT->ticket, 1, "that takes the lock");
  CHECK_INT(imp_outbox_scan_done(5001), IMP_OK, "which ends");
  CHECK_INT(imp_outbox_next(5001, 0.5), IMP_NONE, "no timer left for it");
  CHECK(ACT->deadline < 0.0 || ACT->deadline > 5001.0, "deadline %.0f", ACT->deadline);
  imp_page_state(6000, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(6000, 0.5), IMP_NONE, "hidden");
  imp_page_state(7000, IMP_PAGE_VISIBLE);
  CHECK_INT(imp_outbox_next(7000, 0.5), IMP_OK, "shown again");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  CHECK_INT(ACT->ticket, 0, "that waits for the lock");
  imp_page_state(8000, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(8000, 0.5), IMP_NONE, "hidden");
  CHECK_INT(imp_outbox_next(12000, 0.5), IMP_NONE, "hidden when it is given up");
  CHECK_INT(imp_outbox_found(12001, 3, 0), IMP_ERR_STATE, "a late grant finds it over");
  CHECK(ACT->deadline < 0.0, "and no timer left (%.0f)", ACT->deadline);
  imp_page_state(13000, IMP_PAGE_VISIBLE);
  CHECK_INT(imp_outbox_next(13000, 0.5), IMP_OK, "shown again");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
}

/* A record of a later format version is left for the tracker that wrote it; one this
** version cannot read otherwise is removed. */
static uint32_t found_verdict(const char *key, const char *value) {
  uint32_t key_len = (uint32_t)strlen(key), value_len = (uint32_t)strlen(value);
  memcpy(imp_outbox_io_ptr(), key, key_len);
  memcpy(imp_outbox_io_ptr() + key_len, value, value_len);
  CHECK_INT(imp_outbox_found(1, key_len, value_len), IMP_OK, "found %s", key);
  return ACT->found;
}

static void test_later_format_left(void) {
  start_scanning();
  CHECK_INT(found_verdict("q:1", "I3 anything\n{}"), IMP_FOUND_LEFT, "I3: left");
  CHECK_INT(found_verdict("q:2", "I9"), IMP_FOUND_LEFT, "I9: left");
  CHECK_INT(found_verdict("q:3", "I1 1 2 0 -\n{}"), IMP_FOUND_REMOVE, "I1: removed");
  CHECK_INT(found_verdict("q:4", "I2 damaged"), IMP_FOUND_REMOVE, "a damaged I2: removed");
  CHECK_INT(found_verdict("q:5", "I:"), IMP_FOUND_REMOVE, "no version: removed");
  CHECK_INT(imp_outbox_scan_done(2), IMP_OK, "scan done");
  CHECK_INT(ACT->lost, 0, "nothing counted");
}

/* Consent revoked with a request in flight: it is cancelled and its events purged; its
** answer, when it comes anyway (after consent was given again too), changes nothing. */
static void test_answer_after_purge(void) {
  fresh(1);
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "in flight");
  uint32_t ticket = ACT->ticket;
  CHECK_INT(imp_outbox_consent(20, IMP_CONSENT_DENIED), IMP_OK, "consent revoked");
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "next");
  CHECK_INT(ACT->kind, IMP_ACT_CANCEL, "the request is aborted");
  CHECK_INT(ACT->ticket, ticket, "that one");
  CHECK_INT(ACT->purged, 1, "its event purged");
  CHECK_INT(imp_outbox_response(30, ticket, 204, -1, 0.5), IMP_NONE, "its answer: not heard");
  CHECK_INT(imp_outbox_consent(40, IMP_CONSENT_GRANTED), IMP_OK, "granted again");
  CHECK_INT(imp_outbox_response(50, ticket, 503, -1, 0.5), IMP_NONE, "still not heard");
  CHECK_INT(ACT->delivered, 0, "nothing delivered");
  CHECK_INT(ACT->purged, 1, "nothing purged twice");
  CHECK_INT(ACT->failures, 0, "no failure");
  CHECK_INT(ACT->held_events, 0, "nothing held");
}

/* A request let go at a hide (its slot needed, its released copy stored) that lands
** after: its record goes, and its events count as delivered, once. */
static void test_request_let_go_lands(void) {
  uint32_t early = let_go_at_hide();
  CHECK_INT(ACT->beaconed, 2, "two events beaconed");
  CHECK_INT(imp_outbox_response(40, early, 204, -1, 0.5), IMP_OK, "the request let go lands");
  CHECK_INT(ACT->delivered, 1, "its event counts as delivered");
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "next");
  CHECK_INT(ACT->kind, IMP_ACT_REMOVE, "its record goes");
  CHECK_INT(imp_outbox_response(41, early, 204, -1, 0.5), IMP_NONE, "a second answer is no one's");
  CHECK_INT(ACT->delivered, 1, "counted once");
}

int main(void) {
  test_arguments();
  test_retry_policy();
  test_body_is_the_core_batch();
  test_record_round_trip();
#ifndef IMP_TEST_TINY
  test_gzip_body();
  test_each_body_compressed_once();
#endif
  test_parts_at_event_boundaries();
  test_timeout_and_one_at_a_time();
  test_keepalive_budget();
  test_hide_with_request_in_flight();
  test_events_leave_during_a_write();
  test_flush_and_retry_delay();
  test_hide_with_every_slot_in_flight();
  test_late_answer_after_adoption();
  test_shown_again_after_another_tab_took_it();
  test_shown_again_takes_back_its_copy();
  test_drop_only_record();
  test_drop_record_after_a_write_outlived_its_batch();
  test_held_batch_expires();
  test_wall_clock_after_a_sleep();
  test_storage_bound();
  test_records_left_within_the_share();
  test_parked_registration_ends_with_the_scan();
  test_parked_overflow_cancelled();
  test_scan_ended_by_consent();
  test_later_format_left();
  test_scan_lock_never_granted();
  test_answer_after_purge();
  test_request_let_go_lands();
  CHECK_INT(g_invalid, 0, "every batch drained was valid");
  return test_done();
}
