/*
** test_outbox_shown.c: a page shown again after a hide. A request's released copy is
** taken back only if a scan finds it still released (another tab that took it sends it,
** and the request's answer then changes nothing here); a late answer to a request whose
** record was adopted again counts nothing twice; a request let go at a hide that lands
** counts its events delivered, once; an adopted batch whose claim cannot be written
** is sent unconfirmed, and one whose claim waits while the page is hidden is forgotten
** when another tab takes its record first.
*/
#include "outbox_support.h"

/* Answers the request at t, then checks that nothing more happens here, ever, but a
** scan once the lease of the tab that took the record is over (`rescan`: that tab may
** be gone by then), which finds the record gone. */
static void nothing_follows(double t, uint32_t ticket, int32_t status, int rescan,
                            const char *why) {
  CHECK_INT(imp_outbox_response(t, ticket, status, -1, 0.0), IMP_OK, "answered %s", why);
  CHECK_INT(imp_outbox_next(t, 0.5), IMP_NONE, "no retry, write or removal %s", why);
  if (rescan) {
    CHECK_INT(imp_outbox_next(t + 1e6, 0.5), IMP_OK, "a scan %s", why);
    CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan %s", why);
    imp_outbox_scan_done(t + 1e6); /* delivered and removed by that tab */
  }
  CHECK_INT(imp_outbox_next(t + 2e6, 0.5), IMP_NONE, "ever %s", why);
  CHECK_INT(ACT->held_batches, 0, "nothing held %s", why);
  CHECK_INT(ACT->lost, 0, "nothing counted lost %s", why);
  CHECK_INT(ACT->delivered, 0, "nothing counted delivered %s", why);
}

/* The fetch just returned (one event) lands at t: its event is counted delivered once,
** and its record is removed. */
static void lands_and_record_removed(double t) {
  CHECK_INT(imp_outbox_response(t, ACT->ticket, 204, -1, 0.0), IMP_OK, "lands");
  CHECK_INT(ACT->delivered, 1, "delivered once");
  CHECK_INT(imp_outbox_next(t, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_REMOVE, "its record is removed");
}

/* Shown again, a request's released copy is taken back only if a scan finds it still
** released. Another tab that adopted it while the page was hidden sends it (its batch
** stands for the events), so here the request's answer changes nothing: a failure is
** not retried, a 2xx neither removes that tab's record nor counts the events. */
static void test_shown_again_after_another_tab_took_it(void) {
  uint32_t ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  scan_finds_kept(30, "tabc", 1.7e12 + 30020);
  nothing_follows(40, ticket, 503, 1, "(adopted elsewhere, request fails)");
  ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  scan_finds_kept(30, "tabc", 1.7e12 + 30020);
  nothing_follows(40, ticket, 204, 1, "(adopted elsewhere, request lands)");
  ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "a scan");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  imp_outbox_scan_done(30); /* the record is gone: delivered and removed elsewhere */
  nothing_follows(40, ticket, 503, 0, "(removed elsewhere)");
}

/* A scan while the page is hidden again finds the copy still released: it is to be
** claimed, which waits for the page to show (nothing is written while hidden). Shown
** at 40, a scan finds the record as `owner` says. Returns the request's ticket. */
static uint32_t claim_waits_while_hidden(const char *owner) {
  uint32_t ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  CHECK_INT(imp_outbox_next(30, 0.5), IMP_OK, "a scan asked for");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan asked for");
  imp_page_state(31, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(31, 0.5), IMP_NONE, "hidden again: its released copy stands");
  found_kept(32, NULL, 0); /* its lock granted while hidden: still released */
  CHECK_INT(imp_outbox_next(32, 0.5), IMP_NONE, "no claim written while hidden");
  imp_page_state(40, IMP_PAGE_VISIBLE);
  scan_finds_kept(40, owner, owner ? 1.7e12 + 30020 : 0);
  return ticket;
}

/* Another tab takes the record while the claim waits: the batch is forgotten and its
** claim never written over that tab's; still released, the claim is written. */
static void test_claim_waiting_while_hidden(void) {
  uint32_t ticket = claim_waits_while_hidden("tabc");
  nothing_follows(41, ticket, 503, 1, "(taken elsewhere before its claim was written)");
  claim_waits_while_hidden(NULL);
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "then");
  kept_record(40);
  CHECK(strstr(kept_value, " tab1\n") != NULL, "still released: claimed by this tab");
}

/* The tab that took the released copy dies with it, its lease running: this tab's
** request lands (counted by that tab's batch, not here), and the scan after the lease
** finds the record no live tab's and adopts it, so it does not stay in storage for
** good (it is sent again: the collector keeps one copy). */
static void test_copy_taken_by_a_tab_that_dies(void) {
  uint32_t ticket = in_flight_at_hide();
  imp_page_state(30, IMP_PAGE_VISIBLE);
  scan_finds_kept(30, "tabc", 1.7e12 + 30020);
  CHECK_INT(imp_outbox_response(40, ticket, 204, -1, 0.0), IMP_OK, "the request lands");
  CHECK_INT(ACT->delivered, 0, "that tab's batch stands for the events");
  CHECK_INT(imp_outbox_next(30000, 0.5), IMP_NONE, "nothing while its lease runs");
  scan_finds_kept(30030, "tabc", 1.7e12 + 30020);
  CHECK_INT(imp_outbox_next(30030, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "adopted: claimed as this tab's");
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
  lands_and_record_removed(1040);
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

/* A claim that cannot be written (storage full): storage is unusable for the rest of the
** page, no scan can confirm the claim, and the adopted batch is sent as it is, not
** held unsent: a tab that reads the record meanwhile may send it too (the collector
** folds the copies on (pv, s)), or count it lost when it is too old while this tab
** counts it lost as well (an over-count of a loss, never a loss). */
static void test_claim_not_written(void) {
  let_go_at_hide();
  imp_page_state(40, IMP_PAGE_VISIBLE);
  scan_finds_kept(40, NULL, 0);
  CHECK_INT(ACT->found, IMP_FOUND_ADOPTED, "its record is adopted");
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "the claim");
  imp_outbox_stored(40, ACT->ticket, IMP_STORE_FULL);
  CHECK_INT(imp_outbox_next(40, 0.5), IMP_OK, "then");
  CHECK_INT(ACT->kind, IMP_ACT_FETCH, "sent unconfirmed");
  lands_and_record_removed(50);
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

static const outbox_test tests[] = {
    test_late_answer_after_adoption,
    test_shown_again_after_another_tab_took_it,
    test_claim_waiting_while_hidden,
    test_copy_taken_by_a_tab_that_dies,
    test_shown_again_takes_back_its_copy,
    test_request_let_go_lands,
    test_claim_not_written,
};

int main(void) { return run_tests(tests, sizeof tests / sizeof tests[0]); }
