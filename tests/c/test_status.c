/*
** test_status.c: triggers every status code of imp.h on purpose, checks its name,
** and proves the result record is written by successful calls (it is pre-filled
** with 0xFF before each one, as yyjson's test_err_code.c does).
*/
#include "support.h"

static void poison(void) { memset(RES, 0xFF, sizeof *RES); }

/* The fields every successful call writes. */
static int written(void) {
  const imp_result *r = RES;
  return r->next_deadline == r->next_deadline && r->ready <= 1 && 
         r->queued_events != 0xFFFFFFFFu && r->queued_bytes != 0xFFFFFFFFu &&
         r->dropped != 0xFFFFFFFFu && r->items != 0xFFFFFFFFu && r->seq != 0xFFFFFFFFu;
}

static void check_name(int32_t status, const char *want) {
  poison();
  int32_t s = imp_status_name(status);
  CHECK_INT(s, IMP_OK, "imp_status_name(%d) is IMP_OK", (int)status);
  CHECK_STR((const char *)imp_text_ptr(), want, "imp_status_name(%d) is %s", (int)status,
            want);
  CHECK_INT(RES->text_bytes, strlen(want), "imp_status_name(%d) length", (int)status);
}

/* Names first: they work before imp_start(). */
static void test_status_names(void) {
  check_name(IMP_OK, "IMP_OK");
  check_name(IMP_NONE, "IMP_NONE");
  check_name(IMP_ERR_ARG, "IMP_ERR_ARG");
  check_name(IMP_ERR_STATE, "IMP_ERR_STATE");
  check_name(IMP_ERR_CONFIG, "IMP_ERR_CONFIG");
  check_name(IMP_ERR_MEMORY, "IMP_ERR_MEMORY");
  check_name(IMP_ERR_ID, "IMP_ERR_ID");
  check_name(IMP_ERR_TOO_LONG, "IMP_ERR_TOO_LONG");
  check_name(IMP_ERR_SLOT, "IMP_ERR_SLOT");
  check_name(IMP_ERR_FULL, "IMP_ERR_FULL");
  CHECK_INT(IMP_STATUS_MIN, IMP_ERR_FULL, "IMP_STATUS_MIN is the lowest status");
  CHECK_INT(imp_status_name(IMP_STATUS_MIN - 1), IMP_ERR_ARG, "unknown low status is ARG");
  CHECK_STR((const char *)imp_text_ptr(), "IMP_UNKNOWN", "unknown low status name");
  CHECK_INT(imp_status_name(2), IMP_ERR_ARG, "unknown high status is ARG");
  CHECK_STR((const char *)imp_text_ptr(), "IMP_UNKNOWN", "unknown high status name");
  CHECK_INT(imp_abi_version(), IMP_ABI_VERSION, "imp_abi_version");
  CHECK_INT(sizeof(imp_result), IMP_RESULT_BYTES, "result record is IMP_RESULT_BYTES");
}

/* IMP_ERR_STATE: not started (a refused configuration leaves the core stopped). */
static void test_state_not_started(void) {
  CHECK_INT(start_plain(0, 1024, 262144, 50, 16384, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "IMP_ERR_CONFIG: max_items 0");
  CHECK_INT(imp_tick(1), IMP_ERR_STATE, "IMP_ERR_STATE: tick when not started");
  CHECK_INT(imp_take_batch(1, 1), IMP_ERR_STATE, "IMP_ERR_STATE: take when not started");
  CHECK_INT(imp_report_dropped(1), IMP_ERR_STATE, "IMP_ERR_STATE: drop when not started");
  CHECK_INT(page(0, "pv", "/", 0), IMP_ERR_STATE, "IMP_ERR_STATE: page when not started");
  CHECK_INT(imp_element_cover(1, IMP_ELEMENT_PAGE, IMP_COVER_COVERED), IMP_ERR_STATE,
            "IMP_ERR_STATE: the page covered when not started");
}

/* IMP_ERR_CONFIG: one bad value at a time. */
static void test_config(void) {
  CHECK_INT(start_plain(65536, 1024, 262144, 50, 16384, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "CONFIG: max_items 65536");
  CHECK_INT(start_plain(16, 0, 262144, 1, 16384, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "CONFIG: max_queue 0");
  CHECK_INT(start_plain(16, 64, 4095, 8, 16384, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "CONFIG: queue_bytes 4095");
  CHECK_INT(start_plain(16, 64, 8192, 65, 16384, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "CONFIG: batch_events above max_queue");
  CHECK_INT(start_plain(16, 64, 8192, 8, IMP_BATCH_MIN_CAP - 1, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "CONFIG: batch_bytes below the minimum");
  CHECK_INT(start_plain(16, 64, 8192, 8, IMP_BATCH_HARD_CAP + 1, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "CONFIG: batch_bytes above the hard cap");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, -1, 0.5, 1000, 242500, 0.3, 0), IMP_ERR_CONFIG,
            "CONFIG: negative batch age");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, 0, 1000, 242500, 0.3, 0), IMP_ERR_CONFIG,
            "CONFIG: view_ratio 0");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, 1.5, 1000, 242500, 0.3, 0), IMP_ERR_CONFIG,
            "CONFIG: view_ratio 1.5");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, T_NAN, 1000, 242500, 0.3, 0), IMP_ERR_CONFIG,
            "CONFIG: view_ratio NaN");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, 0.5, -1, 242500, 0.3, 0), IMP_ERR_CONFIG,
            "CONFIG: negative view_ms");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, 0.5, T_INF, 242500, 0.3, 0),
            IMP_ERR_CONFIG, "CONFIG: infinite view_ms");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, 0.5, 1000, 0, 0.3, 0), IMP_ERR_CONFIG,
            "CONFIG: large_area 0");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, 0.5, 1000, 242500, 0, 0), IMP_ERR_CONFIG,
            "CONFIG: large_ratio 0");
  CHECK_INT(start_plain(16, 64, 8192, 8, 4096, 5000, 0.5, 1000, 242500, 0.3, 1.01),
            IMP_ERR_CONFIG, "CONFIG: impression_ratio above 1");
}

/* IMP_ERR_MEMORY: valid values, more than the arena holds. */
static void test_memory(void) {
  CHECK_INT(start_plain(65535, 65535, 0xFFFFFFFFu, 50, 16384, 5000, 0.5, 1000, 242500, 0.3, 0),
            IMP_ERR_MEMORY, "IMP_ERR_MEMORY: largest configuration");
  CHECK_INT(imp_tick(1), IMP_ERR_STATE, "core stays stopped after IMP_ERR_MEMORY");
}

/* IMP_OK, with the record written. */
static void test_ok_writes_record(void) {
  poison();
  CHECK_INT(start_default(), IMP_OK, "IMP_OK: start with defaults");
  CHECK(written(), "start writes the result record");
  CHECK(RES->next_deadline == -1.0, "nothing pending after start");
  CHECK_INT(RES->items, 0, "no items after start");
}

/* IMP_NONE: nothing queued. */
static void test_none(void) {
  poison();
  CHECK_INT(imp_take_batch(0, 1), IMP_NONE, "IMP_NONE: take with an empty queue");
  CHECK(written(), "IMP_NONE writes the result record");
  CHECK_INT(RES->batch_bytes, 0, "IMP_NONE: batch_bytes 0");
  CHECK_INT(RES->batch_events, 0, "IMP_NONE: batch_events 0");
}

/* IMP_ERR_STATE: no page view open. Returns the item it registered. */
static uint32_t test_state_no_page_view(void) {
  poison();
  CHECK_INT(reg(0, "a", "", 1), IMP_OK, "register before any page view");
  CHECK(written() && RES->slot != 0xFFFFFFFFu, "register writes the slot");
  uint32_t a = RES->slot;
  CHECK_INT(observe(0, a, 1, 100), IMP_ERR_STATE, "IMP_ERR_STATE: observe, no page");
  CHECK_INT(click(0, a), IMP_ERR_STATE, "IMP_ERR_STATE: click, no page");
  CHECK_INT(imp_page_end(0), IMP_ERR_STATE, "IMP_ERR_STATE: end, no page");
  return a;
}

/* IMP_ERR_ARG (a: the item test_state_no_page_view registered). */
static void test_arg(uint32_t a) {
  poison();
  CHECK_INT(page(10, "pv1", "/search", 0), IMP_OK, "page begins");
  CHECK(written(), "page_begin writes the result record");
  poison();
  CHECK_INT(imp_tick(T_NAN), IMP_ERR_ARG, "ARG: NaN time");
  CHECK_INT(imp_tick(-1), IMP_ERR_ARG, "ARG: negative time");
  CHECK_INT(imp_tick(T_INF), IMP_ERR_ARG, "ARG: infinite time");
  CHECK_INT(observe(20, a, 1.5, 100), IMP_ERR_ARG, "ARG: ratio above 1");
  CHECK_INT(observe(20, a, -0.1, 100), IMP_ERR_ARG, "ARG: negative ratio");
  CHECK_INT(observe(20, a, T_NAN, 100), IMP_ERR_ARG, "ARG: NaN ratio");
  CHECK_INT(observe(20, a, 1, -1), IMP_ERR_ARG, "ARG: negative area");
  CHECK_INT(imp_element_cover(20, element_of(a), 3), IMP_ERR_ARG, "ARG: cover 3");
  CHECK_INT(imp_activate(20, element_of(a), 3), IMP_ERR_ARG, "ARG: activation kind 3");
  CHECK_INT(imp_page_state(20, 4), IMP_ERR_ARG, "ARG: unknown page state");
  CHECK_INT(imp_page_state(20, -1), IMP_ERR_ARG, "ARG: negative page state");
  CHECK_INT(imp_page_focus(20, 2), IMP_ERR_ARG, "ARG: focus 2");
  CHECK_INT(imp_take_batch(20, 2), IMP_ERR_ARG, "ARG: force 2");
  CHECK_INT(page(20, "pv2", "/", 1u << 10), IMP_ERR_ARG, "ARG: unknown page flag");
  CHECK_INT(RES->queued_events, 0xFFFFFFFFu, "a refused call leaves the record alone");
}

/* IMP_ERR_ID and IMP_ERR_TOO_LONG. */
static void test_id_and_too_long(void) {
  char big[2048];
  memset(big, 'x', sizeof big);
  CHECK_INT(reg_n(20, big, 0, "", 1), IMP_ERR_ID, "IMP_ERR_ID: empty id");
  CHECK_INT(reg_n(20, big, IMP_MAX_ID_BYTES + 1, "", 1), IMP_ERR_ID, "IMP_ERR_ID: 129 bytes");
  put2("id", 2, big, IMP_MAX_LIST_BYTES + 1);
  CHECK_INT(imp_item_register(20, 2, IMP_MAX_LIST_BYTES + 1, 1), IMP_ERR_TOO_LONG,
            "IMP_ERR_TOO_LONG: list id 65 bytes");
  put2(big, IMP_MAX_PV_BYTES + 1, "/", 1);
  CHECK_INT(imp_page_begin(20, IMP_MAX_PV_BYTES + 1, 1, 0), IMP_ERR_TOO_LONG,
            "IMP_ERR_TOO_LONG: page view id too long");
  put2("pv", 2, big, IMP_MAX_PATH_BYTES + 1);
  CHECK_INT(imp_page_begin(20, 2, IMP_MAX_PATH_BYTES + 1, 0), IMP_ERR_TOO_LONG,
            "IMP_ERR_TOO_LONG: path too long");
  CHECK_INT(imp_page_begin(20, 0, 1, 0), IMP_ERR_ARG, "IMP_ERR_ARG: empty page view id");
}

/* IMP_ERR_SLOT (a: that item; its element is given back here). */
static void test_slot(uint32_t a) {
  uint32_t e = element_of(a);
  CHECK_INT(imp_element_observe(20, 0xFFFFFFFFu, 1, 100), IMP_ERR_SLOT, "SLOT: huge handle");
  CHECK_INT(imp_activate(20, T_MAX_ITEMS, IMP_ACT_CLICK), IMP_ERR_SLOT,
            "SLOT: handle == max_items");
  CHECK_INT(imp_element_remove(20, e), IMP_OK, "the element is given back");
  CHECK_INT(imp_element_remove(20, e), IMP_ERR_SLOT, "SLOT: given back twice");
  CHECK_INT(imp_element_observe(20, e, 1, 100), IMP_ERR_SLOT, "SLOT: observe a handle given back");
  CHECK_INT(imp_activate(20, e, IMP_ACT_CLICK), IMP_ERR_SLOT, "SLOT: click a handle given back");
}

/* IMP_ERR_FULL: the table filled with live items. */
static void test_full(void) {
  CHECK_INT(page(30, "pv3", "/", 0), IMP_OK, "new page view frees released items");
  int ok = 1;
  for (uint32_t i = 0; i < T_MAX_ITEMS; i++) {
    char id[16];
    snprintf(id, sizeof id, "i%u", i);
    if (reg(30, id, "", i + 1) != IMP_OK) ok = 0;
  }
  CHECK(ok, "max_items registrations succeed");
  CHECK_INT(RES->items, T_MAX_ITEMS, "items == max_items");
  CHECK_INT(reg(30, "one-more", "", 1), IMP_ERR_FULL, "IMP_ERR_FULL: table full");
  CHECK_INT(reg(30, "i0", "", 1), IMP_OK, "a known id still registers when full");
}

/* Every successful call writes the record. */
static void test_every_success_writes_record(void) {
  poison();
  CHECK_INT(imp_tick(40), IMP_OK, "tick");
  CHECK(written(), "tick writes the result record");
  poison();
  CHECK_INT(imp_page_state(40, IMP_PAGE_HIDDEN), IMP_OK, "state");
  CHECK(written(), "page_state writes the result record");
  poison();
  CHECK_INT(imp_page_focus(40, 0), IMP_OK, "focus");
  CHECK(written(), "page_focus writes the result record");
  poison();
  CHECK_INT(imp_report_dropped(2), IMP_OK, "report dropped");
  CHECK(written() && RES->dropped == 2, "report_dropped writes the result record");
  poison();
  CHECK_INT(imp_page_end(50), IMP_OK, "end");
  CHECK(written(), "page_end writes the result record");
}

/* In this order: from test_ok_writes_record on, each test starts on the core as the one
** before left it. */
int main(void) {
  test_status_names();
  test_state_not_started();
  test_config();
  test_memory();
  test_ok_writes_record();
  test_none();
  uint32_t a = test_state_no_page_view();
  test_arg(a);
  test_id_and_too_long();
  test_slot(a);
  test_full();
  test_every_success_writes_record();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
