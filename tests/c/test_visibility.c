/*
** test_visibility.c: when an impression and a viewable impression happen: the
** impression ratio, the continuous second and what restarts it (a lower ratio, a
** hidden or frozen page, occlusion), the 30 % rule of large and resized cards, and
** nothing measured before the page is visible (prerender, a hidden start).
** test_visibility_spans.c has the visible spans, clicks and page views.
*/
#include "visibility_support.h"

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
  test_view_ms_0_and_impression_ratio();
  test_continuous_second();
  test_resized_card();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
