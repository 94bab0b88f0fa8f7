/*
** test_outbox_body.c: what the outbox sends and when. The body it sends is byte for byte
** the batch the core encodes; with compression the body is gzip and body_bytes caps the
** gzip, and each body is compressed once; a split cuts at event boundaries into valid
** batches (the first keeps "drop"); a fetch with no answer is aborted at timeout_ms and
** retried; one request at a time while the collector fails; a flush cuts what is not
** yet due; retry_ms says the delay a failure set; the keepalive budget.
*/
#include <zlib.h>

#include "outbox_support.h"

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

static const outbox_test tests[] = {
    test_body_is_the_core_batch,
#ifndef IMP_TEST_TINY
    test_gzip_body,
    test_each_body_compressed_once,
#endif
    test_parts_at_event_boundaries,
    test_timeout_and_one_at_a_time,
    test_keepalive_budget,
    test_flush_and_retry_delay,
};

int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
