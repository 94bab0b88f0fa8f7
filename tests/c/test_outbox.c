/*
** test_outbox.c: the outbox's arguments and its retry rules. Every export refuses bad
** arguments with a named status and changes nothing; the retry verdict of each status
** and the backoff bounds; a storage record round-trips and a damaged one is refused.
** The other test_outbox_*.c files: the body and its requests (_body), the page hide
** and the records it leaves (_hide), a page shown again (_shown), time and the storage
** bounds (_storage), scans and what ends them (_scan); tests/replay/delivery and
** tests/fuzz/fuzz_outbox.c cover whole scenarios.
*/
#include "outbox_support.h"

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

static const outbox_test tests[] = {
    test_arguments,
    test_retry_policy,
    test_record_round_trip,
};

int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
