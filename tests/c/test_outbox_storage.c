/*
** test_outbox_storage.c: time and the storage bounds. A batch held past max_age_ms is
** counted lost and sent no more, by the wall clock after a device's sleep; this tab's
** stored copies stay within stored_events, and so do the records a scan leaves for want
** of a slot; a lease that cannot be renewed (storage full) leaves no deadline due.
*/
#include "outbox_support.h"

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

/* Storage full while a held batch's record has a lease to renew (no Web Locks): the
** renewal cannot be written, so its deadline is not given, which the glue's timer
** would answer at once, again and again, with nothing to do. */
static void test_no_renewal_due_without_storage(void) {
  fresh(1);
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  CHECK_INT(imp_outbox_response(10, ACT->ticket, 503, -1, 0.5), IMP_OK, "failing");
  CHECK_INT(store_all(10), IMP_NONE, "its copy stored, with a lease");
  impression(20, "a", 2);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "next");
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "the second batch's copy");
  CHECK_INT(imp_outbox_stored(20, ACT->ticket, IMP_STORE_FULL), IMP_OK, "storage full");
  for (double t = 25000; t <= 35000; t += 5000) { /* past the lease's renewal (20010) */
    while (imp_outbox_next(t, 0.5) == IMP_OK)
      if (ACT->kind == IMP_ACT_FETCH) imp_outbox_response(t, ACT->ticket, 503, -1, 0.5);
    CHECK(ACT->deadline < 0.0 || ACT->deadline > t, "no deadline due at %.0f (%.0f)", t, ACT->deadline);
  }
}

static const outbox_test tests[] = {
    test_held_batch_expires,
    test_wall_clock_after_a_sleep,
    test_storage_bound,
    test_records_left_within_the_share,
    test_no_renewal_due_without_storage,
};

int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
