/*
** test_queue.c: the event queue and the batch policy. A batch is due at
** batch_events events, at batch_bytes bytes or batch_age_ms after its oldest
** event; take without force only takes a due batch; no batch exceeds batch_bytes;
** queue overflow drops the oldest events and the next batch reports "drop"; a batch
** holds one page view; sequence numbers are unique and increasing.
*/
#include "support.h"

/* Registers item "<prefix><i>" and makes one impression event for it at time t. */
static int32_t one_event(double t, const char *prefix, uint32_t i) {
  char id[IMP_MAX_ID_BYTES + 1];
  snprintf(id, sizeof id, "%s%u", prefix, i);
  if (reg(t, id, "", i + 1) != IMP_OK) return IMP_ERR_STATE;
  return observe(t, RES->slot, 0.1, 100);
}

static long long field(const char *json, const char *key) {
  char pat[32];
  const char *p;
  snprintf(pat, sizeof pat, "\"%s\":", key);
  p = strstr(json, pat);
  return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Ready at batch_events; take without force only when ready. */
static void test_ready_at_batch_events(void) {
  CHECK_INT(start_with(16, 64, 8192, 3, 4096, 5000), IMP_OK, "start: batches of 3 events");
  CHECK_INT(page(100, "pv1", "/search", 0), IMP_OK, "page at 100");
  CHECK_INT(take(100, 1), IMP_NONE, "empty queue: nothing even with force");
  one_event(110, "e", 0);
  one_event(120, "e", 1);
  CHECK_INT(RES->ready, 0, "2 events: not ready");
  CHECK_INT(RES->queued_events, 2, "2 queued");
  CHECK_INT(take(120, 0), IMP_NONE, "not ready: take without force gets nothing");
  one_event(130, "e", 2);
  one_event(140, "e", 3);
  CHECK_INT(RES->ready, 1, "4 events: ready");
  CHECK_INT(RES->seq, 4, "result.seq is the last sequence number");
  CHECK_INT(take(150, 0), IMP_OK, "ready: take without force");
  CHECK_INT(RES->batch_events, 3, "the batch holds batch_events events");
  CHECK_INT(RES->batch_bytes, strlen(g_batch), "batch_bytes is the batch length");
  CHECK_STR(g_batch,
            "{\"v\":1,\"pv\":\"pv1\",\"path\":\"/search\",\"at\":50,\"drop\":0,\"ev\":["
            "{\"e\":\"imp\",\"s\":1,\"t\":10,\"id\":\"e0\",\"pos\":1,\"f\":1},"
            "{\"e\":\"imp\",\"s\":2,\"t\":20,\"id\":\"e1\",\"pos\":2,\"f\":1},"
            "{\"e\":\"imp\",\"s\":3,\"t\":30,\"id\":\"e2\",\"pos\":3,\"f\":1}]}",
            "the exact batch bytes, oldest first, at = ms since the page view began");
  CHECK_INT(RES->ready, 0, "1 left: not ready");
  CHECK_INT(RES->queued_events, 1, "1 left queued");
  CHECK_INT(take(150, 0), IMP_NONE, "not ready again");
  CHECK_INT(take(150, 1), IMP_OK, "force takes the rest");
  CHECK_INT(field(g_batch, "s"), 4, "sequence continues across batches");
  CHECK_INT(RES->queued_events, 0, "queue empty");
  CHECK_INT(RES->queued_bytes, 0, "no queued bytes");
  CHECK_INT(take(150, 1), IMP_NONE, "empty again");
}

/* Ready at age (on the core test_ready_at_batch_events left, its queue empty). */
static void test_ready_at_age(void) {
  one_event(1000, "f", 0);
  CHECK(RES->next_deadline == 6000.0, "next_deadline is the oldest event + age (%g)",
        RES->next_deadline);
  imp_tick(5999);
  CHECK_INT(RES->ready, 0, "not ready 4999 ms after the oldest event");
  CHECK_INT(take(5999, 0), IMP_NONE, "not taken before its age");
  imp_tick(6000);
  CHECK_INT(RES->ready, 1, "ready at batch_age_ms");
  CHECK_INT(take(6000, 0), IMP_OK, "taken at its age");
  CHECK(RES->next_deadline == -1.0, "nothing pending after it");
}

/* Ready at bytes, and no batch above batch_bytes. */
static void test_ready_at_bytes(void) {
  char prefix[IMP_MAX_ID_BYTES + 1];
  CHECK_INT(start_with(16, 200, 16384, 200, 4096, 1e9), IMP_OK, "start: byte-bound batches");
  page(0, "pv2", "/", 0);
  memset(prefix, 'b', sizeof prefix);
  prefix[120] = '\0';
  uint32_t n = 0, max_unready = 0;
  while (RES->ready == 0 && n < 100) {
    one_event(1, prefix, n++);
    if (!RES->ready) max_unready = RES->queued_bytes;
  }
  CHECK(RES->ready == 1 && n < 100, "ready by bytes after %u events", n);
  CHECK(max_unready < 4096, "not ready while the queued bytes fit (%u)", max_unready);
  uint32_t got = 0;
  CHECK_INT(take(2, 0), IMP_OK, "take the byte-bound batch");
  got += RES->batch_events;
  int ok = RES->batch_bytes <= 4096;
  while (take(2, 1) == IMP_OK) {
    got += RES->batch_events;
    if (RES->batch_bytes > 4096) ok = 0;
  }
  CHECK(ok, "no batch above batch_bytes");
  CHECK_INT(got, n, "every event delivered once");
}

/* Worst-case escaping still respects the cap, and one event always fits. */
static void test_worst_case_escaping(void) {
  int ok = 1;
  CHECK_INT(start_with(16, 100, 40000, 100, IMP_BATCH_MIN_CAP, 1e9), IMP_OK,
            "start: minimum batch cap");
  char pv[IMP_MAX_PV_BYTES], path[IMP_MAX_PATH_BYTES], id[IMP_MAX_ID_BYTES],
      list[IMP_MAX_LIST_BYTES];
  memset(pv, 0x01, sizeof pv);
  memset(path, 0x02, sizeof path);
  put2(pv, sizeof pv, path, sizeof path);
  CHECK_INT(imp_page_begin(0, sizeof pv, sizeof path, IMP_FLAG_WEBDRIVER | IMP_FLAG_GPC),
            IMP_OK, "page with a fully escaped header");
  memset(list, '"', sizeof list);
  for (uint32_t i = 0; i < 12; i++) {
    memset(id, 0x1F, sizeof id);
    id[0] = (char)('A' + i % 26);
    id[1] = (char)('A' + i / 26);
    put2(id, sizeof id, list, sizeof list);
    if (imp_element_add(1, sizeof id, sizeof list, 4294967295u) != IMP_OK) ok = 0;
    if (imp_activate(1, RES->element, IMP_ACT_CLICK) != IMP_OK) ok = 0;
  }
  CHECK(ok, "24 large events queued");
  CHECK_INT(RES->dropped, 0, "none dropped");
  support_reset(IMP_BATCH_MIN_CAP);
  drain(2);
  CHECK_INT(g_invalid, 0, "every batch valid and within the minimum cap");
  CHECK(strstr(g_drained, "\"wd\":1,\"gpc\":1,\"at\":2,") != NULL, "wd and gpc in the header");
  CHECK(strstr(g_drained, "\"ev\":[]") == NULL, "no empty batch");
}

/* Queue overflow drops the oldest and reports it; imp_report_dropped. */
static void test_queue_overflow(void) {
  CHECK_INT(start_with(16, 4, 8192, 4, 4096, 1e9), IMP_OK, "start: queue of 4");
  page(0, "pv3", "/", 0);
  for (uint32_t i = 0; i < 6; i++) one_event(10 + i, "q", i);
  CHECK_INT(RES->queued_events, 4, "4 held");
  CHECK_INT(RES->dropped, 2, "2 dropped");
  CHECK_INT(take(20, 1), IMP_OK, "take");
  CHECK_INT(field(g_batch, "drop"), 2, "the next batch reports drop 2");
  CHECK(strstr(g_batch, "\"s\":3,") && strstr(g_batch, "\"s\":6,") && !strstr(g_batch, "\"s\":2,"),
        "the oldest were dropped: %s", g_batch);
  one_event(30, "q", 6);
  CHECK_INT(take(30, 1), IMP_OK, "take");
  CHECK_INT(field(g_batch, "drop"), 0, "drop is reported once");
  CHECK_INT(imp_report_dropped(5), IMP_OK, "caller reports 5 lost");
  CHECK_INT(RES->dropped, 7, "dropped counts since start");
  CHECK_INT(take(31, 1), IMP_NONE, "a drop alone makes no batch");
  one_event(40, "q", 7);
  CHECK_INT(take(40, 1), IMP_OK, "take");
  CHECK_INT(field(g_batch, "drop"), 5, "caller-reported drops go in the next batch");
  CHECK_INT(imp_report_dropped(0xFFFFFFFFu), IMP_OK, "a huge drop count");
  CHECK_INT(imp_report_dropped(2), IMP_OK, "and two more");
  CHECK(RES->dropped == 0xFFFFFFFFu, "dropped saturates instead of wrapping (%u)", RES->dropped);
  one_event(50, "q", 8);
  CHECK_INT(take(50, 1), IMP_OK, "take");
  CHECK(strstr(g_batch, "\"drop\":4294967295,") != NULL, "drop saturates in the batch: %s", g_batch);
}

/* Queue bytes overflow. */
static void test_queue_bytes_overflow(void) {
  char prefix[IMP_MAX_ID_BYTES + 1];
  CHECK_INT(start_with(64, 1000, 4096, 100, 4096, 1e9), IMP_OK, "start: 4096 queue bytes");
  page(0, "pv4", "/", 0);
  memset(prefix, 'y', sizeof prefix);
  prefix[100] = '\0';
  for (uint32_t i = 0; i < 40; i++) one_event(1, prefix, i);
  CHECK(RES->queued_bytes <= 4096, "queued bytes bounded (%u)", RES->queued_bytes);
  CHECK(RES->dropped > 0 && RES->dropped + RES->queued_events == 40,
        "dropped %u + queued %u == 40", RES->dropped, RES->queued_events);
}

/* One page view per batch; sequence numbers restart per page view. */
static void test_one_page_view_per_batch(void) {
  CHECK_INT(start_with(16, 64, 8192, 50, 16384, 1e9), IMP_OK, "start");
  page(0, "pvA", "/a", 0);
  one_event(10, "x", 0);
  one_event(20, "x", 1);
  page(100, "pvB", "/b", 0);
  one_event(110, "y", 0);
  CHECK_INT(RES->seq, 3, "seq restarts in a new page view (x0, x1 still in view, then y0)");
  CHECK_INT(take(150, 1), IMP_OK, "first batch");
  CHECK(strstr(g_batch, "\"pv\":\"pvA\",\"path\":\"/a\",\"at\":150,") != NULL &&
            !strstr(g_batch, "pvB") && RES->batch_events == 2,
        "the first batch is page view A only, at relative to A");
  CHECK_INT(take(150, 1), IMP_OK, "second batch");
  CHECK(strstr(g_batch, "\"pv\":\"pvB\",\"path\":\"/b\",\"at\":50,") != NULL &&
            strstr(g_batch, "{\"e\":\"imp\",\"s\":1,\"t\":0,\"id\":\"x0\"") != NULL &&
            strstr(g_batch, "{\"e\":\"imp\",\"s\":3,\"t\":10,\"id\":\"y0\"") != NULL &&
            RES->batch_events == 3,
        "the second batch is page view B, s from 1: %s", g_batch);
}

/* imp_peek_event: the newest events, as queued, without taking them. */
static void test_peek_event(void) {
  CHECK_INT(start_with(16, 4, 8192, 4, 4096, 1e9), IMP_OK, "start: queue of 4");
  CHECK_INT(imp_peek_event(0), IMP_NONE, "nothing queued: nothing to peek");
  page(0, "pvP", "/", 0);
  for (uint32_t i = 0; i < 6; i++) one_event(10 + i, "p", i);
  CHECK_INT(RES->events, 6, "events counts every event queued since start");
  CHECK_INT(imp_peek_event(0), IMP_OK, "peek the newest");
  CHECK(RES->text_bytes > 0 && memcmp(imp_text_ptr(), "{\"e\":\"imp\",\"s\":6,", 17) == 0,
        "the newest is s 6");
  CHECK_INT(imp_peek_event(3), IMP_OK, "peek the oldest still queued");
  CHECK(memcmp(imp_text_ptr(), "{\"e\":\"imp\",\"s\":3,", 17) == 0, "the oldest queued is s 3");
  CHECK_INT(imp_peek_event(4), IMP_NONE, "s 1 and 2 were dropped: nothing to peek");
  CHECK_INT(RES->queued_events, 4, "peeking takes nothing");
  CHECK_INT(take(20, 1), IMP_OK, "take");
  CHECK(strstr(g_batch, "\"s\":3,") && strstr(g_batch, "\"s\":6,"), "the batch still holds them");
}

int main(void) {
  test_ready_at_batch_events();
  test_ready_at_age();
  test_ready_at_bytes();
  test_worst_case_escaping();
  test_queue_overflow();
  test_queue_bytes_overflow();
  test_one_page_view_per_batch();
  test_peek_event();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
