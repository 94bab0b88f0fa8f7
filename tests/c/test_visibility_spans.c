/*
** test_visibility_spans.c: what else the per-item state machine reports, and across
** page views: visible spans (ended on leave, hide, release and page end), clicks (time
** since the impression, seen, focus), a new page view (dedup reset, geometry kept, a
** second cut short at 900 ms) and time that goes backwards.
*/
#include "visibility_support.h"

/* Visible spans reported on leave, hide, page end and release. */
static void test_spans_reported(void) {
  uint32_t a = fresh("p12", 0);
  uint32_t b = slot_of(T0, "b");
  obs(0, a, 1);
  obs(300, a, 0);
  obs(400, a, 1);
  CHECK_INT(observe(T0 + 400, b, 1, AREA), IMP_OK, "b in view");
  imp_page_state(T0 + 1000, IMP_PAGE_HIDDEN);
  imp_page_state(T0 + 1100, IMP_PAGE_VISIBLE);
  CHECK_STR(drain(T0 + 1100),
            "imp:a@0 vis:a@300/300/300/1 imp:b@400 vis:a@1000/600/600/2 vis:b@1000/600/600/1",
            "spans end on leave and on hide, with ms/max/n");
  imp_tick(T0 + 2100);
  CHECK_INT(release(T0 + 2150, b), IMP_OK, "b released");
  CHECK_INT(imp_page_end(T0 + 2200), IMP_OK, "page end");
  CHECK_STR(drain(T0 + 2200),
            "view:a@2100 view:b@2100 vis:b@2150/1050/1050/2 vis:a@2200/1100/1100/3",
            "spans end on release and page end; max and n carry on");
  CHECK_INT(observe(T0 + 2300, a, 1, AREA), IMP_ERR_STATE, "observe after page end");
  CHECK_INT(click(T0 + 2300, a), IMP_ERR_STATE, "click after page end");
}

/* Clicks. */
static void test_clicks(void) {
  uint32_t a = fresh("p13", 0);
  uint32_t b = slot_of(T0, "b");
  uint32_t c = slot_of(T0, "c");
  obs(0, a, 1);
  CHECK_INT(click(T0 + 400, a), IMP_OK, "click before viewable");
  imp_tick(T0 + 1000);
  CHECK_INT(click(T0 + 1600, a), IMP_OK, "click after viewable");
  CHECK_INT(observe(T0 + 1700, b, 0.2, AREA), IMP_OK, "b partly in view");
  CHECK_INT(click(T0 + 1800, b), IMP_OK, "click on b");
  CHECK_INT(imp_page_focus(T0 + 1850, 0), IMP_OK, "window loses focus");
  CHECK_INT(click(T0 + 1900, c), IMP_OK, "click on an item never seen");
  CHECK_STR(drain(T0 + 2000),
            "imp:a@0 click:a@400/400/0 view:a@1000 click:a@1600/1600/1 imp:b@1700 "
            "click:b@1800/100/0 imp:c@1900 click:c@1900/0/0",
            "clicks carry since and seen; an unseen item gets its impression first");
  CHECK(strstr(g_drained, "{\"e\":\"imp\",\"s\":7,\"t\":1900,\"id\":\"c\",\"f\":0}") != NULL &&
            strstr(g_drained, "{\"e\":\"click\",\"s\":8,\"t\":1900,\"id\":\"c\",\"f\":0,\"since\":0,\"seen\":0}") != NULL &&
            strstr(g_drained, "{\"e\":\"imp\",\"s\":1,\"t\":0,\"id\":\"a\",\"f\":1}") != NULL,
        "focus is recorded on impression and click");
}

/* A new page view (bfcache restore) resets dedup and keeps geometry. */
static void test_new_page_view_resets_dedup(void) {
  uint32_t a = fresh("p14", 0);
  obs(0, a, 1);
  imp_tick(T0 + 1000);
  CHECK_INT(page(T0 + 2000, "p15", "/search", 0), IMP_OK, "bfcache restore: new page view");
  CHECK(RES->next_deadline == T0 + 3000, "the new page view arms the timer (%g)",
        RES->next_deadline);
  imp_tick(T0 + 3000);
  CHECK_STR(drain(T0 + 3000),
            "imp:a@0 view:a@1000 vis:a@2000/2000/2000/1 [pv=p15] imp:a@0 view:a@1000",
            "the old span closes in the old page view; the new one counts afresh");
  obs(3100, a, 0);
  CHECK_STR(drain(T0 + 3100), "vis:a@1100/1100/1100/1", "span numbers restart");
}

/* Time that goes backwards is the latest time. */
static void test_time_going_backwards(void) {
  uint32_t a = fresh("p16", 0);
  imp_tick(T0 + 600);
  obs(500, a, 1);
  CHECK_STR(drain(T0 + 600), "imp:a@600", "a late observation is stamped with the latest time");
}

/* A new page view while a card is at 0.9 s: no viewable in the old page view, the
** new one counts its second from the call. */
static void test_new_page_view_at_900_ms(void) {
  uint32_t a = fresh("p21", 0);
  obs(0, a, 1);
  CHECK_INT(page(T0 + 900, "p22", "/next", 0), IMP_OK, "newPageView at 900 ms");
  imp_tick(T0 + 1899);
  CHECK_STR(drain(T0 + 1899), "imp:a@0 vis:a@900/900/900/1 [pv=p22] imp:a@0",
            "old page view: impression and a 900 ms span, no viewable");
  imp_tick(T0 + 1900);
  CHECK_STR(drain(T0 + 1900), "view:a@1000", "new page view: viewable 1000 ms after the call");
}

int main(void) {
  test_spans_reported();
  test_clicks();
  test_new_page_view_resets_dedup();
  test_time_going_backwards();
  test_new_page_view_at_900_ms();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
