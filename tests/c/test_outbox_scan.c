/*
** test_outbox_scan.c: scans of storage and what ends them. A fetchLater copy parked at a
** hide ends with the next scan, and one the parked list has no room for at once;
** consent revoked or turned pending during a scan ends it, and the answer to a request
** it cancelled is heard no more; a scan whose lock never comes is given up after
** timeout_ms and the next takes the lock; a later format's record is left, one this
** version cannot read is removed; a purge leaves no rescan due.
*/
#include "outbox_support.h"

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

/* Consent turned pending while the glue waits for the scan lock ends the scan too:
** what it took (a released copy it holds, or a record to adopt) would be claimed by a
** write that pending holds back, while another tab takes the record and confirms its
** own claim. Its records are refused, and the scan that granting asks for finds the
** record that tab's: the copy here is forgotten, no claim is written over it. */
static void test_scan_ended_by_pending_consent(void) {
  in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "shown again");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  CHECK_INT(imp_outbox_consent(31, IMP_CONSENT_PENDING), IMP_OK, "consent pending");
  kept_into_io();
  CHECK_INT(imp_outbox_found(32, kept_key_len, kept_value_len), IMP_ERR_STATE,
            "its released copy: refused");
  CHECK_INT(imp_outbox_scan_done(32), IMP_NONE, "nothing to end");
  CHECK_INT(imp_outbox_next(33, 0.5), IMP_NONE, "pending: nothing written");
  CHECK_INT(imp_outbox_consent(40, IMP_CONSENT_GRANTED), IMP_OK, "granted");
  scan_finds_kept(41, "tab2", 1.8e12); /* another tab's claim, its lease running */
  CHECK_INT(ACT->held_batches, 0, "the copy here is forgotten");
  while (imp_outbox_next(42, 0.5) == IMP_OK)
    CHECK(ACT->kind != IMP_ACT_STORE, "no claim written (action %d)", ACT->kind);
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

/* Consent revoked after a scan found another live tab's record: the scan it would
** have asked for lease_ms later goes with the purge (granting asks for one), so no
** deadline is left due with nothing to do, which the glue's timer would answer at
** once, again and again. */
static void test_no_deadline_due_after_purge(void) {
  start_scanning();
  CHECK_INT(found_verdict("q:1700000000000:tab2:0",
                          "I2 1700000000000 1800000000000 0 tab2\n{\"v\":1,\"pv\":\"p\",\"path\":\"/\","
                          "\"at\":5,\"drop\":0,\"ev\":[{\"e\":\"imp\",\"s\":1,\"t\":1,\"id\":\"a\"}]}"),
            IMP_FOUND_LEFT, "another live tab's: left, scanned again later");
  CHECK_INT(imp_outbox_scan_done(2), IMP_OK, "scan done");
  CHECK(ACT->deadline > 2.0, "a rescan asked for (%.0f)", ACT->deadline);
  CHECK_INT(imp_outbox_consent(3, IMP_CONSENT_DENIED), IMP_OK, "consent revoked");
  CHECK_INT(imp_outbox_next(3, 0.5), IMP_OK, "the purge");
  CHECK_INT(imp_outbox_next(3, 0.5), IMP_NONE, "then nothing");
  CHECK_INT(imp_outbox_next(100000, 0.5), IMP_NONE, "nothing later");
  CHECK(ACT->deadline < 0.0 || ACT->deadline > 100000.0, "no deadline due (%.0f)", ACT->deadline);
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

static const outbox_test tests[] = {
    test_parked_registration_ends_with_the_scan,
    test_parked_overflow_cancelled,
    test_scan_ended_by_consent,
    test_scan_ended_by_pending_consent,
    test_later_format_left,
    test_scan_lock_never_granted,
    test_answer_after_purge,
    test_no_deadline_due_after_purge,
};

int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
