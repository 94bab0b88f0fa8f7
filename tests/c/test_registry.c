/*
** test_registry.c: item ids <-> slots. Ids up to IMP_MAX_ID_BYTES, empty or too long
** refused, the same id always gives the same slot, state follows the id (a recycled
** node re-registered keeps its state), released items are reused oldest first when
** the table is full, IMP_ERR_FULL when nothing can be reused.
*/
#include "support.h"

static void id_of(char *buf, size_t n, uint32_t i) { snprintf(buf, n, "gig-%u", i); }

/* A 128-byte id that starts with its number. */
static void long_id(char *buf, uint32_t i) {
  memset(buf, 'L', IMP_MAX_ID_BYTES);
  buf[snprintf(buf, 16, "%u-", i)] = 'L';
}

static int32_t reg_long(double t, uint32_t i, const char *list) {
  char id[IMP_MAX_ID_BYTES];
  long_id(id, i);
  return reg_n(t, id, sizeof id, list, i + 1);
}

/* Ids live in the id heap (max(8192, 40 B per slot)): the longest ids fill it before
** the slots run out; IMP_ERR_FULL then, until a released item gives its record back;
** the records kept slide to the front and their items still find and send their ids. */
static void test_id_heap(void) {
  char list[IMP_MAX_LIST_BYTES + 1], id[IMP_MAX_ID_BYTES];
  memset(list, 'q', IMP_MAX_LIST_BYTES);
  list[IMP_MAX_LIST_BYTES] = '\0';
  CHECK_INT(start_with(64, T_MAX_QUEUE, T_QUEUE_BYTES, T_BATCH_EVENTS, T_BATCH_BYTES, 1e9),
            IMP_OK, "start: 64 slots, an 8192-byte id heap");
  CHECK_INT(page(0, "pv-heap", "/", 0), IMP_OK, "page");
  uint32_t n = 0, slots[64];
  int32_t status;
  while ((status = reg_long(0, n, list)) == IMP_OK) slots[n++] = RES->slot;
  CHECK_INT(n, 8192 / (4 + IMP_MAX_ID_BYTES + IMP_MAX_LIST_BYTES), "41 of the longest ids fit");
  CHECK_INT(status, IMP_ERR_FULL, "the next one: IMP_ERR_FULL, with slots still free");
  CHECK_INT(RES->items, n, "and nothing registered");
  CHECK_INT(reg(0, "short", "", 1), IMP_OK, "a short id fits in what is left");
  CHECK_INT(release(0, slots[0]), IMP_OK, "release the first");
  CHECK_INT(release(0, slots[5]), IMP_OK, "and the sixth");
  CHECK_INT(reg_long(0, 1000, list), IMP_OK, "a released item makes room");
  CHECK_INT(reg_long(0, 1001, list), IMP_OK, "another one");
  CHECK_INT(reg_long(0, 1002, list), IMP_ERR_FULL, "then full again");
  int found = 1;
  for (uint32_t i = 1; i < n; i++) {
    if (i == 5) continue;
    uint32_t before = RES->items;
    if (reg_long(0, i, list) != IMP_OK || RES->slot != slots[i] || RES->items != before) found = 0;
  }
  CHECK(found, "every kept id still finds its slot after the records moved");
  CHECK_INT(observe(10, slots[40], 0.2, 100), IMP_OK, "observe the last one registered");
  CHECK_INT(take(10, 1), IMP_OK, "take");
  long_id(id, 40);
  char want[IMP_MAX_ID_BYTES + IMP_MAX_LIST_BYTES + 64];
  snprintf(want, sizeof want, "\"id\":\"%.*s\",\"pos\":41,\"list\":\"%s\"", IMP_MAX_ID_BYTES, id, list);
  CHECK(strstr(g_batch, want) != NULL, "its event carries its id and list: %s", g_batch);
  CHECK_INT(reg_long(20, 40, ""), IMP_OK, "the same item without a list: a smaller record");
  CHECK_INT(observe(20, slots[40], 0, 100), IMP_OK, "out");
  CHECK_INT(click(30, slots[40]), IMP_OK, "click");
  CHECK_INT(take(30, 1), IMP_OK, "take");
  CHECK(strstr(g_batch, "\"pos\":41,\"f\":1,\"since\":20") != NULL, "its click has no list: %s", g_batch);
}

/* Length limits. */
static void test_length_limits(void) {
  char big[IMP_MAX_ID_BYTES + 1];
  CHECK_INT(start_default(), IMP_OK, "start");
  CHECK_INT(page(0, "pv1", "/search", 0), IMP_OK, "page");
  memset(big, 'z', sizeof big);
  CHECK_INT(reg_n(0, big, IMP_MAX_ID_BYTES, "", 1), IMP_OK, "a 128-byte id registers");
  uint32_t s128 = RES->slot;
  CHECK_INT(reg_n(0, big, IMP_MAX_ID_BYTES + 1, "", 1), IMP_ERR_ID, "a 129-byte id is refused");
  CHECK_INT(reg_n(0, big, 0, "", 1), IMP_ERR_ID, "an empty id is refused");
  CHECK_INT(reg_n(0, big, 1, "", 1), IMP_OK, "a 1-byte id registers");
  CHECK(RES->slot != s128, "a prefix of an id is another item");
  CHECK_INT(reg_n(0, "a\0b", 3, "", 1), IMP_OK, "an id with a NUL byte registers");
  uint32_t nul1 = RES->slot;
  CHECK_INT(reg_n(0, "a\0c", 3, "", 1), IMP_OK, "another id differing after the NUL");
  CHECK(RES->slot != nul1, "ids are compared as bytes, not C strings");
  CHECK_INT(RES->items, 4, "four items");
  CHECK_INT(release(0, s128), IMP_OK, "release");
  CHECK_INT(page(0, "pv1b", "/search", 0), IMP_OK, "new page view");
  CHECK_INT(RES->items, 3, "a new page view frees released items");
}

/* Same id -> same slot; slots are deterministic. Returns gig-a's slot on the restarted core. */
static uint32_t test_same_id_same_slot(void) {
  CHECK_INT(start_default(), IMP_OK, "restart");
  CHECK_INT(page(0, "pv1", "/search", 0), IMP_OK, "page");
  uint32_t a = slot_of(0, "gig-a");
  uint32_t b = slot_of(0, "gig-b");
  CHECK(a != b && a < T_MAX_ITEMS && b < T_MAX_ITEMS, "distinct ids get distinct slots");
  CHECK_INT(slot_of(0, "gig-a"), a, "the same id gets the same slot");
  CHECK_INT(RES->items, 2, "registering a known id adds nothing");
  CHECK_INT(start_default(), IMP_OK, "restart");
  CHECK_INT(slot_of(0, "gig-a"), a, "slots are deterministic (first)");
  CHECK_INT(slot_of(0, "gig-b"), b, "slots are deterministic (second)");
  return a;
}

/* Registration updates position and list (a: gig-a, on the core test_same_id_same_slot left). */
static void test_registration_updates_place(uint32_t a) {
  CHECK_INT(page(0, "pv2", "/search", 0), IMP_OK, "page");
  CHECK_INT(reg(0, "gig-a", "q9", 7), IMP_OK, "re-register with a new place");
  CHECK_INT(observe(10, a, 0.2, 1000), IMP_OK, "observe");
  CHECK_INT(take(10, 1), IMP_OK, "take");
  CHECK(strstr(g_batch, "{\"e\":\"imp\",\"s\":1,\"t\":10,\"id\":\"gig-a\",\"pos\":7,\"list\":\"q9\",\"f\":1}") != NULL,
        "the impression carries the new position and list: %s", g_batch);
}

/* A recycled node re-registered keeps the item's state (a: gig-a, as the test before left it). */
static void test_recycled_node_keeps_state(uint32_t a) {
  CHECK_INT(observe(100, a, 1, 1000), IMP_OK, "in view");
  CHECK_INT(imp_tick(1100), IMP_OK, "tick to viewable");
  CHECK_INT(release(1200, a), IMP_OK, "node leaves the DOM");
  CHECK_STR(drain(1200), "view:gig-a@1100 vis:gig-a@1200/1100/1100/1",
            "release reports the open span");
  CHECK_INT(observe(1300, a, 1, 1000), IMP_ERR_SLOT, "released slot is refused");
  CHECK_INT(reg(1300, "gig-a", "q9", 7), IMP_OK, "re-register the id");
  CHECK_INT(RES->slot, a, "it finds the same slot");
  CHECK_INT(observe(1300, a, 1, 1000), IMP_OK, "in view again");
  CHECK_INT(imp_tick(2500), IMP_OK, "tick");
  CHECK_INT(release(2600, a), IMP_OK, "release again");
  CHECK_STR(drain(2600), "vis:gig-a@2600/1300/1300/2",
            "no second impression or viewable; span 2 counted after span 1");
}

/* Reuse of the oldest released item when the table is full; IMP_ERR_FULL. */
static void test_reuse_oldest_released(void) {
  char id[32];
  CHECK_INT(start_with(4, 64, 8192, 8, 4096, 5000), IMP_OK, "start with 4 items");
  CHECK_INT(page(0, "pv3", "/", 0), IMP_OK, "page");
  uint32_t slots[4];
  for (uint32_t i = 0; i < 4; i++) {
    id_of(id, sizeof id, i);
    slots[i] = slot_of(0, id);
  }
  CHECK_INT(RES->items, 4, "table full");
  CHECK_INT(reg(0, "gig-new", "", 1), IMP_ERR_FULL, "IMP_ERR_FULL with nothing released");
  CHECK_INT(observe(5, slots[1], 1, 100), IMP_OK, "item 1 seen");
  CHECK_INT(release(10, slots[2]), IMP_OK, "release item 2 first");
  CHECK_INT(release(11, slots[1]), IMP_OK, "release item 1 second");
  uint32_t c = slot_of(12, "gig-new");
  CHECK_INT(c, slots[2], "the item released longest ago is reused");
  CHECK_INT(RES->items, 4, "still four items");
  CHECK_INT(slot_of(13, "gig-1"), slots[1], "a released item not reused revives in its slot");
  CHECK_INT(reg(14, "gig-2", "", 1), IMP_ERR_FULL, "the reused item is gone; table full");
  CHECK_INT(observe(15, slots[1], 1, 100), IMP_OK, "revived item observed");
  drain(20);
  CHECK(strstr(g_summary, "imp:gig-1") == g_summary && !strstr(g_summary + 1, "imp:gig-1"),
        "the revived item kept its impression: %s", g_summary);
}

/* Every slot works at full capacity of the default configuration. */
static void test_every_slot_at_capacity(void) {
  char id[32];
  CHECK_INT(start_default(), IMP_OK, "restart");
  int ok = 1;
  for (uint32_t i = 0; i < T_MAX_ITEMS; i++) {
    id_of(id, sizeof id, i);
    if (reg(0, id, "", i + 1) != IMP_OK || RES->slot >= T_MAX_ITEMS) ok = 0;
  }
  CHECK(ok, "max_items distinct ids register");
  for (uint32_t i = 0; i < T_MAX_ITEMS; i += 2) {
    id_of(id, sizeof id, i);
    if (reg(0, id, "", i + 1) != IMP_OK) ok = 0;
    if (release(0, RES->slot) != IMP_OK) ok = 0;
  }
  CHECK(ok, "half of them released");
  for (uint32_t i = 0; i < T_MAX_ITEMS; i += 2) {
    id_of(id, sizeof id, i + 100000);
    if (reg(0, id, "", i + 1) != IMP_OK) ok = 0;
  }
  CHECK(ok, "released slots are all reused when full");
  for (uint32_t i = 1; i < T_MAX_ITEMS; i += 2) {
    id_of(id, sizeof id, i);
    uint32_t before = RES->items;
    if (reg(0, id, "", i + 1) != IMP_OK || RES->items != before) ok = 0;
  }
  CHECK(ok, "the kept items are still found after the hash table changed");
}

int main(void) {
  test_length_limits();
  uint32_t a = test_same_id_same_slot();
  test_registration_updates_place(a);
  test_recycled_node_keeps_state(a);
  test_reuse_oldest_released();
  test_every_slot_at_capacity();
  test_id_heap();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
