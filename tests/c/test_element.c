/*
** test_element.c: elements (several DOM elements of one item), the v2 cover state,
** the page covered, activations and the key-press echo, and the text buffer.
**
** The golden traces in tests/replay/ (same-id-elements, covered-until-looked,
** late-v2-entry, key-echo) show the rules end to end; this file checks what a trace
** shows less well: argument checks, bounds, ties, handles given back, and that no call
** here touches a batch.
*/
#include "support.h"

#define AREA 10000.0

/* Adds an element of item `id`; returns its handle (UINT32_MAX on failure). */
static uint32_t elem(double t, const char *id) {
  put2(id, strlen(id), "", 0);
  return imp_element_add(t, (uint32_t)strlen(id), 0, 0) == IMP_OK ? RES->element : UINT32_MAX;
}

static void see(double t, uint32_t e, double ratio) {
  CHECK_INT(imp_element_observe(t, e, ratio, AREA), IMP_OK, "element %u at ratio %g (t %g)",
            e, ratio, t);
}

/* The test configuration (support.h), with occlusion and the echo window set. */
static void start_occlusion(uint32_t occlusion, double echo_ms) {
  start_default();
  imp_config_ptr()->occlusion = occlusion;
  imp_config_ptr()->echo_ms = echo_ms;
  CHECK_INT(imp_start(), IMP_OK, "start (occlusion %u, echo_ms %g)", occlusion, echo_ms);
  page(0, "pv", "/", 0);
}

static void arguments(void) {
  start_default();
  CHECK_INT(imp_element_observe(0, 0, 1, AREA), IMP_ERR_STATE, "observe before a page view");
  page(0, "pv", "/", 0);
  put2("a", 1, "", 0);
  CHECK_INT(imp_element_add(T_NAN, 1, 0, 0), IMP_ERR_ARG, "add: NaN time");
  CHECK_INT(imp_element_add(0, 0, 0, 0), IMP_ERR_ID, "add: empty id");
  CHECK_INT(imp_element_add(0, 1, IMP_MAX_LIST_BYTES + 1, 0), IMP_ERR_TOO_LONG, "add: long list");
  uint32_t e = elem(0, "a");
  CHECK_INT(e, 0, "the first handle is 0");
  CHECK_INT(imp_element_observe(0, e, 1.5, AREA), IMP_ERR_ARG, "observe: ratio above 1");
  CHECK_INT(imp_element_observe(0, e, 0.5, -1), IMP_ERR_ARG, "observe: negative area");
  CHECK_INT(imp_element_observe(0, e + 1, 0.5, AREA), IMP_ERR_SLOT, "observe: unknown handle");
  CHECK_INT(imp_element_observe(0, IMP_MAX_ID_BYTES * 1000u, 0.5, AREA), IMP_ERR_SLOT,
            "observe: handle out of range");
  CHECK_INT(imp_element_cover(0, e, 3), IMP_ERR_ARG, "cover: unknown state");
  CHECK_INT(imp_element_cover(0, e, -1), IMP_ERR_ARG, "cover: negative state");
  CHECK_INT(imp_activate(0, e, 3), IMP_ERR_ARG, "activate: unknown kind");
  CHECK_INT(imp_activate(T_INF, e, 0), IMP_ERR_ARG, "activate: infinite time");
  CHECK_INT(imp_element_remove(T_NAN, e), IMP_ERR_ARG, "remove: NaN time");
  CHECK_STR(drain(1), "", "refused calls change nothing");
  CHECK_INT(imp_element_remove(1, e), IMP_OK, "remove");
  CHECK_INT(imp_element_remove(1, e), IMP_ERR_SLOT, "a handle given back is unknown");
  CHECK_INT(imp_activate(1, e, 0), IMP_ERR_SLOT, "activate: handle given back");
}

/* Handles are bounded by max_items; when all are held nothing is registered. */
static void bounds(void) {
  start_default();
  page(0, "pv", "/", 0);
  char id[16];
  for (uint32_t i = 0; i < T_MAX_ITEMS; i++) {
    snprintf(id, sizeof id, "c%u", i % 2u); /* two items, many elements each */
    if (elem(0, id) == UINT32_MAX) break;
  }
  CHECK_INT(RES->items, 2, "max_items elements of two items");
  put2("new", 3, "", 0);
  CHECK_INT(imp_element_add(0, 3, 0, 0), IMP_ERR_FULL, "every handle held: IMP_ERR_FULL");
  CHECK_INT(RES->items, 2, "and nothing was registered");
  CHECK_INT(imp_element_remove(0, 1), IMP_OK, "one handle given back");
  CHECK_INT(elem(0, "new"), 1, "the handle given back is the next one");
  CHECK_INT(RES->items, 3, "a new item");
}

/* The most visible element feeds the item; the earliest on a tie. */
static void most_visible(void) {
  start_default();
  page(0, "pv", "/", 0);
  uint32_t a = elem(0, "x"), b = elem(0, "x");
  CHECK(a != b && a != UINT32_MAX && b != UINT32_MAX, "two handles for one id");
  /* At ratio 0.4 a small element is partly in view, a large one (>= large_area)
  ** viewable: on a tie the earliest added (a, small) feeds the item. */
  see(100, b, 1);
  see(200, a, 0.4);
  CHECK_INT(imp_element_observe(300, b, 0.4, 300000.0), IMP_OK, "b, large, at 0.4");
  CHECK_STR(drain(400), "imp:x@100 vis:x@300/200/200/1", "a tie: the earliest element counts");
  see(500, a, 1);
  CHECK_INT(imp_element_remove(600, b), IMP_OK, "remove the less visible one");
  see(1600, a, 1);
  CHECK_STR(drain(1700), "view:x@1500", "the other one keeps feeding the item");
  CHECK_INT(imp_element_remove(1800, a), IMP_OK, "giving the last element back");
  CHECK_STR(drain(1800), "vis:x@1800/1300/1300/2", "releases the item: its span ends");
  CHECK_INT(imp_element_observe(1900, a, 1, AREA), IMP_ERR_SLOT, "and the handle is not held");
}

static void cover(void) {
  start_occlusion(1, 1000);
  uint32_t e = elem(0, "c");
  see(100, e, 1);
  CHECK_INT(imp_tick(2000), IMP_OK, "tick");
  CHECK_STR(drain(2000), "imp:c@100", "occlusion on: covered until v2 looks");
  CHECK_INT(imp_element_cover(2100, e, IMP_COVER_CLEAR), IMP_OK, "v2: clear");
  see(2200, e, 0.9); /* a change within view keeps what v2 said */
  CHECK_INT(imp_tick(3100), IMP_OK, "tick");
  CHECK_STR(drain(3100), "view:c@3100", "clear since 2100: viewable at 3100");

  start_occlusion(0, 1000);
  e = elem(0, "c");
  see(100, e, 1);
  CHECK_INT(imp_element_cover(200, e, IMP_COVER_COVERED), IMP_OK, "v2: covered");
  CHECK_INT(imp_element_cover(300, e, IMP_COVER_OUTSIDE), IMP_OK, "v2: outside");
  CHECK_INT(imp_tick(2000), IMP_OK, "tick");
  CHECK_STR(drain(2000), "imp:c@100 vis:c@200/100/100/1",
            "occlusion off: clear until covered, and outside changes nothing");
}

/* The page covered (IMP_ELEMENT_PAGE: something over the whole viewport, a modal): every
** element in view counts as covered, whatever v2 said, until the page is clear again. */
static void page_covered(void) {
  start_default();
  CHECK_INT(imp_element_cover(0, IMP_ELEMENT_PAGE, IMP_COVER_COVERED), IMP_OK,
            "the page covered before its page view");
  page(0, "pv", "/", 0);
  uint32_t a = elem(0, "a");
  see(100, a, 1);
  CHECK_INT(imp_tick(1500), IMP_OK, "tick");
  CHECK_STR(drain(1500), "imp:a@100", "covered: an impression, no viewable time");
  CHECK_INT(imp_element_cover(1600, IMP_ELEMENT_PAGE, IMP_COVER_CLEAR), IMP_OK, "the page clear");
  CHECK_INT(imp_tick(2600), IMP_OK, "tick");
  CHECK_INT(imp_element_cover(2700, IMP_ELEMENT_PAGE, IMP_COVER_COVERED), IMP_OK, "covered again");
  CHECK_STR(drain(2700), "view:a@2600 vis:a@2700/1100/1100/1",
            "viewable a second after the page was clear; the span ends when it is covered");
  CHECK_INT(imp_element_cover(2800, IMP_ELEMENT_PAGE, IMP_COVER_OUTSIDE), IMP_ERR_ARG,
            "the page is never outside");
  CHECK_INT(imp_element_cover(2900, a, IMP_COVER_CLEAR), IMP_OK, "v2 says a is clear");
  uint32_t b = elem(3000, "b");
  see(3100, b, 1);
  CHECK_INT(imp_tick(5000), IMP_OK, "tick");
  CHECK_STR(drain(5000), "imp:b@3100", "an element clear, or one that enters, is still covered");
  CHECK_INT(imp_page_end(5100), IMP_OK, "the page view ends");
  CHECK_INT(imp_element_cover(5200, IMP_ELEMENT_PAGE, IMP_COVER_CLEAR), IMP_OK,
            "the page clear between page views");
  page(5300, "pv2", "/", 0);
  see(5400, a, 1);
  CHECK_INT(imp_tick(6400), IMP_OK, "tick");
  CHECK_STR(drain(6400), "[pv=pv2] imp:a@0 imp:b@0 view:a@1000 view:b@1000",
            "clear since: both viewable in the next page view (times from its start)");
}

static void echo(void) {
  start_occlusion(0, 250);
  uint32_t a = elem(0, "a"), b = elem(0, "b");
  CHECK_INT(imp_activate(100, a, IMP_ACT_KEY), IMP_OK, "key press");
  CHECK_INT(imp_activate(349, a, IMP_ACT_SCRIPT), IMP_NONE, "its echo within echo_ms: IMP_NONE");
  CHECK_INT(imp_activate(400, a, IMP_ACT_KEY), IMP_OK, "key press");
  CHECK_INT(imp_element_remove(410, a), IMP_OK, "its element given back");
  a = elem(420, "a");
  CHECK_INT(imp_activate(430, a, IMP_ACT_SCRIPT), IMP_OK,
            "a handle given back forgets the key press");
  CHECK_INT(imp_activate(500, b, IMP_ACT_KEY), IMP_OK, "key press on b");
  CHECK_INT(imp_activate(600, b, IMP_ACT_SCRIPT), IMP_NONE, "echo on b");
  CHECK_INT(imp_activate(610, b, IMP_ACT_SCRIPT), IMP_OK, "one echo per key press");
  CHECK_STR(drain(700), "imp:a@100 click:a@100/0/0 click:a@400/300/0 click:a@430/330/0 "
                        "imp:b@500 click:b@500/0/0 click:b@610/110/0",
            "each counted click once, its impression first");
}

/* Status names and peeked events use the text buffer: a batch taken stays intact. */
static void text_buffer(void) {
  start_default();
  page(0, "pv", "/", 0);
  uint32_t e = elem(0, "t");
  see(10, e, 1);
  CHECK_INT(take(20, 1), IMP_OK, "take a batch");
  see(30, e, 0);
  uint32_t bytes = RES->batch_bytes;
  char copy[IMP_BATCH_HARD_CAP + 1];
  memcpy(copy, imp_output_ptr(), bytes);
  CHECK_INT(imp_peek_event(0), IMP_OK, "peek");
  CHECK(RES->text_bytes > 0 && memcmp(imp_text_ptr(), "{\"e\":\"vis\"", 10) == 0,
        "the peeked event is in the text buffer");
  CHECK_INT(imp_status_name(IMP_ERR_SLOT), IMP_OK, "a status name");
  CHECK_STR((const char *)imp_text_ptr(), "IMP_ERR_SLOT", "in the text buffer");
  CHECK(RES->batch_bytes == bytes && memcmp(copy, imp_output_ptr(), bytes) == 0,
        "the batch and its length are untouched");
}

int main(void) {
  arguments();
  bounds();
  most_visible();
  cover();
  page_covered();
  echo();
  text_buffer();
  CHECK_INT(g_invalid, 0, "every drained batch was valid");
  return test_done();
}
