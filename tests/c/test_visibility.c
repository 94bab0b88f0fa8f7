/*
** test_visibility.c: the per-item state machine and the page state.
**
** Page views begin at T0 = 1000 (not 0) so a mix-up between the caller's time base
** and "ms since the page view began" shows. Event times in the summaries are
** relative to the page view; tick and observe times are absolute (T0 + x).
*/
#include "support.h"

#define T0 1000.0
#define AREA 10000.0 /* a small card */

static uint32_t fresh(const char *pv, uint32_t flags) {
  start_default();
  page(T0, pv, "/search", flags);
  return slot_of(T0, "a");
}

static void obs(double x, uint32_t slot, double ratio) {
  CHECK_INT(observe(T0 + x, slot, ratio, AREA), IMP_OK, "observe %g at +%g", ratio, x);
}

/* Impression once per page view. */
static void test_impression_once_per_page_view(void) {
  uint32_t a = fresh("p1", 0);
  obs(100, a, 0.01);
  obs(200, a, 0);
  obs(300, a, 0.01);
  obs(400, a, 0.4);
  CHECK_STR(drain(T0 + 500), "imp:a@100", "one impression per page view, any pixel counts");
  obs(600, a, 0);
  CHECK_STR(drain(T0 + 700), "", "leaving a partial view reports no span");
}

/* Viewable at exactly view_ms continuous. */
static void test_viewable_at_view_ms(void) {
  uint32_t a = fresh("p2", 0);
  CHECK(RES->next_deadline == -1.0, "nothing pending: next_deadline -1");
  obs(0, a, 1);
  CHECK(RES->next_deadline == T0 + 1000, "next_deadline is the viewable timer (%g)",
        RES->next_deadline);
  CHECK_INT(imp_tick(T0 + 999), IMP_OK, "tick at 999 ms");
  CHECK_STR(drain(T0 + 999), "imp:a@0", "999 ms continuous is not viewable");
  CHECK_INT(imp_tick(T0 + 1000), IMP_OK, "tick at 1000 ms");
  CHECK(RES->next_deadline == T0 + 1000 + T_BATCH_AGE,
        "after the timer fired, the next deadline is the batch age (%g)", RES->next_deadline);
  CHECK_STR(drain(T0 + 1000), "view:a@1000", "1000 ms continuous is viewable");
  CHECK(RES->next_deadline == -1.0, "nothing pending after the drain");
  CHECK_INT(imp_tick(T0 + 5000), IMP_OK, "tick later");
  CHECK_STR(drain(T0 + 5000), "", "viewable once per page view");
}

/* A late observation first fires the timer that came due before it. */
static void test_late_observation_fires_due_timer(void) {
  uint32_t a = fresh("p3", 0);
  obs(0, a, 1);
  obs(1500, a, 0);
  CHECK_STR(drain(T0 + 1500), "imp:a@0 view:a@1000 vis:a@1500/1500/1500/1",
            "the timer due at 1000 fires at its own time before the card leaves");
}

/* The timer restarts when the ratio drops below the threshold. */
static void test_timer_restarts_below_ratio(void) {
  uint32_t a = fresh("p4", 0);
  obs(0, a, 1);
  obs(600, a, 0.49);
  obs(700, a, 0.5);
  CHECK(RES->next_deadline == T0 + 1700, "timer restarted at 700 (%g)", RES->next_deadline);
  imp_tick(T0 + 1699);
  CHECK_STR(drain(T0 + 1699), "imp:a@0 vis:a@600/600/600/1",
            "600 ms + 999 ms is not continuous");
  imp_tick(T0 + 1700);
  CHECK_STR(drain(T0 + 1700), "view:a@1700", "viewable 1000 ms after the restart");
}

/* The timer restarts when the page is hidden, and when it is frozen. */
static void test_timer_restarts_when_hidden_or_frozen(void) {
  uint32_t a;
  for (int32_t st = IMP_PAGE_HIDDEN; st <= IMP_PAGE_FROZEN; st++) {
    a = fresh(st == IMP_PAGE_HIDDEN ? "p5" : "p6", 0);
    obs(0, a, 1);
    CHECK_INT(imp_page_state(T0 + 500, st), IMP_OK, "page state %d at 500", (int)st);
    CHECK(RES->next_deadline != T0 + 1000, "no viewable timer while not visible");
    imp_tick(T0 + 1000);
    CHECK_INT(imp_page_state(T0 + 800, IMP_PAGE_VISIBLE), IMP_OK, "visible again (late time)");
    CHECK(RES->next_deadline == T0 + 2000, "timer restarted at the clamped time 1000 (%g)",
          RES->next_deadline);
    imp_tick(T0 + 1999);
    CHECK_STR(drain(T0 + 1999), "imp:a@0 vis:a@500/500/500/1",
              "state %d: span ends at 500, no viewable yet", (int)st);
    imp_tick(T0 + 2000);
    CHECK_STR(drain(T0 + 2000), "view:a@2000", "state %d: viewable after 1000 ms visible",
              (int)st);
  }
}

/* 30 % rule for cards of 242,500 px^2 or more. */
static void test_large_card_rule(void) {
  uint32_t a = fresh("p7", 0);
  uint32_t b = slot_of(T0, "b");
  CHECK_INT(observe(T0, a, 0.3, 242500), IMP_OK, "large card at 30 %%");
  CHECK_INT(observe(T0, b, 0.3, 242499), IMP_OK, "smaller card at 30 %%");
  imp_tick(T0 + 3000);
  CHECK_STR(drain(T0 + 3000), "imp:a@0 imp:b@0 view:a@1000",
            "30 %% is viewable at 242500 px^2, not at 242499");
  CHECK_INT(observe(T0 + 3000, a, 0.29, 242500), IMP_OK, "large card at 29 %%");
  CHECK_STR(drain(T0 + 3000), "vis:a@3000/3000/3000/1", "29 %% ends the large card's span");
}

/* Occlusion blocks viewable. */
static void test_occlusion_blocks_viewable(void) {
  uint32_t a = fresh("p8", 0);
  CHECK_INT(observe(T0, a, 1, AREA), IMP_OK, "fully in view");
  CHECK_INT(imp_element_cover(T0, element_of(a), IMP_COVER_COVERED), IMP_OK, "but occluded");
  imp_tick(T0 + 3000);
  CHECK_STR(drain(T0 + 3000), "imp:a@0", "occluded: impression, no viewable");
  CHECK_INT(imp_element_cover(T0 + 3000, element_of(a), IMP_COVER_CLEAR), IMP_OK,
            "the modal closes");
  imp_tick(T0 + 4000);
  CHECK_STR(drain(T0 + 4000), "view:a@4000", "viewable 1000 ms after the occlusion ends");
}

/* Prerender measures nothing until visible; so does a page that starts hidden. */
static void test_nothing_measured_until_visible(void) {
  uint32_t a;
  for (uint32_t flag = IMP_FLAG_HIDDEN; flag <= IMP_FLAG_PRERENDER; flag <<= 1) {
    a = fresh(flag == IMP_FLAG_HIDDEN ? "p9" : "p10", flag);
    obs(100, a, 1);
    CHECK(RES->next_deadline == -1.0, "flag %u: no timer", flag);
    imp_tick(T0 + 2000);
    CHECK_INT(click(T0 + 2000, a), IMP_OK, "click works while not visible");
    CHECK_STR(drain(T0 + 2000), "imp:a@2000 click:a@2000/0/0",
              "flag %u: nothing measured; a click records its impression", flag);
    CHECK_INT(imp_page_state(T0 + 2500, IMP_PAGE_VISIBLE), IMP_OK, "activation");
    imp_tick(T0 + 3500);
    CHECK_STR(drain(T0 + 3500), "view:a@3500",
              "flag %u: the last geometry counts from activation", flag);
  }
  a = fresh("p11", IMP_FLAG_PRERENDER);
  obs(100, a, 1);
  CHECK_INT(imp_page_state(T0 + 2500, IMP_PAGE_VISIBLE), IMP_OK, "activation");
  imp_tick(T0 + 3500);
  CHECK_STR(drain(T0 + 3500), "imp:a@2500 view:a@3500",
            "prerendered card in view: impression at activation");
}

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

/* view_ms 0 and impression_ratio. */
static void test_view_ms_0_and_impression_ratio(void) {
  uint32_t a;
  CHECK_INT(start_plain(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, T_BATCH_EVENTS, T_BATCH_BYTES,
                      5000, 0.5, 0, 242500, 0.3, 0.5),
            IMP_OK, "start with view_ms 0 and impression_ratio 0.5");
  support_reset(T_BATCH_BYTES);
  page(T0, "p17", "/", 0);
  a = slot_of(T0, "a");
  obs(10, a, 0.49);
  CHECK_STR(drain(T0 + 10), "", "below the impression ratio: nothing");
  obs(20, a, 0.5);
  CHECK_STR(drain(T0 + 20), "imp:a@20 view:a@20", "view_ms 0: viewable at once");
}

/* The continuous second across what the README names: a 10 ms hide at 900 ms
** restarts it; losing focus (blur) does not pause it (only the tab's visibility
** counts); the ratio dancing around 0.5 restarts it at each dip. */
static void test_continuous_second(void) {
  uint32_t a = fresh("p18", 0);
  obs(0, a, 1);
  imp_page_state(T0 + 900, IMP_PAGE_HIDDEN);
  imp_page_state(T0 + 910, IMP_PAGE_VISIBLE);
  imp_tick(T0 + 1909);
  CHECK_STR(drain(T0 + 1909), "imp:a@0 vis:a@900/900/900/1", "a 10 ms hide restarts the second");
  imp_tick(T0 + 1910);
  CHECK_STR(drain(T0 + 1910), "view:a@1910", "viewable 1000 ms after the tab is visible again");
  a = fresh("p19", 0);
  obs(0, a, 1);
  CHECK_INT(imp_page_focus(T0 + 500, 0), IMP_OK, "blur at 500");
  imp_tick(T0 + 1000);
  CHECK_STR(drain(T0 + 1000), "imp:a@0 view:a@1000", "blur does not pause the second");
  a = fresh("p20", 0);
  for (int i = 0; i < 30; i++) obs(16.0 * i, a, i % 2 ? 0.49 : 0.51);
  imp_tick(T0 + 2000);
  CHECK(strstr(drain(T0 + 2000), "view:") == NULL, "0.49/0.51 each frame is never viewable");
  CHECK_INT(observe(T0 + 2000, a, 0.51, AREA), IMP_OK, "holds 0.51");
  imp_tick(T0 + 3000);
  CHECK(strstr(drain(T0 + 3000), "view:a@3000") != NULL, "viewable after a full second at 0.51");
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

/* A card resized in view: its rule follows the area of each observation. Small at
** 40 % is not viewable; grown large at 40 % the 30 % rule starts its second then;
** shrunk back at 40 % the span ends. */
static void test_resized_card(void) {
  uint32_t a = fresh("p23", 0);
  CHECK_INT(observe(T0, a, 0.4, AREA), IMP_OK, "small at 40 %%");
  CHECK_INT(observe(T0 + 500, a, 0.4, 300000), IMP_OK, "large at 40 %%");
  imp_tick(T0 + 1499);
  CHECK_STR(drain(T0 + 1499), "imp:a@0", "the second counts from the resize");
  imp_tick(T0 + 1500);
  CHECK_STR(drain(T0 + 1500), "view:a@1500", "viewable under the 30 %% rule");
  CHECK_INT(observe(T0 + 2000, a, 0.4, AREA), IMP_OK, "small again at 40 %%");
  CHECK_STR(drain(T0 + 2000), "vis:a@2000/1500/1500/1", "below 50 %% for a small card: span ends");
}

int main(void) {
  test_impression_once_per_page_view();
  test_viewable_at_view_ms();
  test_late_observation_fires_due_timer();
  test_timer_restarts_below_ratio();
  test_timer_restarts_when_hidden_or_frozen();
  test_large_card_rule();
  test_occlusion_blocks_viewable();
  test_nothing_measured_until_visible();
  test_spans_reported();
  test_clicks();
  test_new_page_view_resets_dedup();
  test_time_going_backwards();
  test_view_ms_0_and_impression_ratio();
  test_continuous_second();
  test_new_page_view_at_900_ms();
  test_resized_card();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
