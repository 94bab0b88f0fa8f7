/*
** test_outbox_hide.c: the page hide and the records it leaves. The hide hands a request
** in flight to storage (a released copy), and cuts the queue even when every slot is in
** flight; a write that lands after events left its batch is removed; a "drop" count with
** no batch to carry it is stored alone (the drop-only record), and one whose write
** outlived its batch is written once; an answer that leaves events of a batch let go
** at the hide, whose copy another tab took, sends no more of it.
*/
#include "outbox_support.h"

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

/* Two events in flight at 10 (all of them, or the first half after a 413): the page is
** hidden at 20 with a scan under way (its lock granted after the hide), which finds
** the released copy taken by another tab. Returns the request's ticket. */
static uint32_t taken_while_hidden(int split) {
  fresh(2);
  impression(10, "a", 1);
  impression(10, "b", 2);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  if (split) {
    imp_outbox_response(15, ACT->ticket, 413, -1, 0.5);
    CHECK_INT(imp_outbox_next(15, 0.5), IMP_OK, "a 413: half as many");
    CHECK_INT(ACT->events, 1, "one event");
  }
  uint32_t ticket = ACT->ticket;
  imp_outbox_online(16, 0);
  imp_outbox_online(17, 1); /* the network back: a scan, whose lock comes after the hide */
  CHECK_INT(imp_outbox_next(17, 0.5), IMP_OK, "a scan");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  imp_page_state(20, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "at the hide");
  kept_record(20);
  CHECK(strstr(kept_value, " -\n") != NULL, "the whole batch is released for any tab");
  found_kept(22, "tabc", 1.7e12 + 30020); /* another tab took it */
  return ticket;
}

/* An answer that leaves events of a batch let go at the hide (a part delivered or
** refused for good, or a 413 that would halve it) lets the batch go: its released copy
** stands for all of it, and that copy is another tab's now. Nothing more of the batch
** leaves this tab: neither a beacon of the rest nor a removal of that tab's record;
** nor is a part refused counted lost here (that tab's copy is refused too, and
** counted there). */
static void test_rest_of_a_copy_taken_while_hidden(void) {
  static const struct { int split; int32_t status; const char *why; } cases[] = {
      {1, 204, "(first half delivered)"},
      {1, 400, "(first half refused)"},
      {0, 413, "(413 on both)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t ticket = taken_while_hidden(cases[i].split);
    const char *why = cases[i].why;
    CHECK_INT(imp_outbox_response(30, ticket, cases[i].status, -1, 0.5), IMP_OK, "answered %s", why);
    CHECK_INT(imp_outbox_next(30, 0.5), IMP_NONE, "no beacon of the rest, no removal %s", why);
    CHECK_INT(ACT->held_batches, 0, "nothing held %s", why);
    CHECK_INT(ACT->delivered, 0, "that tab's batch stands for both events %s", why);
    CHECK_INT(ACT->lost, 0, "nothing counted lost %s", why);
  }
}

static const outbox_test tests[] = {
    test_hide_with_request_in_flight,
    test_events_leave_during_a_write,
    test_hide_with_every_slot_in_flight,
    test_drop_only_record,
    test_drop_record_after_a_write_outlived_its_batch,
    test_rest_of_a_copy_taken_while_hidden,
};

int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
