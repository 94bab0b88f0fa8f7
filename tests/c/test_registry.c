/*
** test_registry.c: item ids <-> slots. Ids up to IMP_MAX_ID_BYTES, empty or too long
** refused, the same id always gives the same slot, state follows the id (a recycled
** node re-registered keeps its state), released items are reused oldest first when
** the table is full, IMP_ERR_FULL when nothing can be reused.
*/
#include "support.h"

static void id_of(char *buf, size_t n, uint32_t i) { snprintf(buf, n, "gig-%u", i); }

int main(void) {
  char big[IMP_MAX_ID_BYTES + 1];
  char id[32];
  uint32_t a, b, c;

  CHECK_INT(start_default(), IMP_OK, "start");
  CHECK_INT(page(0, "pv1", "/search", 0), IMP_OK, "page");

  /* Length limits. */
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

  /* Same id -> same slot; slots are deterministic. */
  CHECK_INT(start_default(), IMP_OK, "restart");
  CHECK_INT(page(0, "pv1", "/search", 0), IMP_OK, "page");
  a = slot_of(0, "gig-a");
  b = slot_of(0, "gig-b");
  CHECK(a != b && a < T_MAX_ITEMS && b < T_MAX_ITEMS, "distinct ids get distinct slots");
  CHECK_INT(slot_of(0, "gig-a"), a, "the same id gets the same slot");
  CHECK_INT(RES->items, 2, "registering a known id adds nothing");
  CHECK_INT(start_default(), IMP_OK, "restart");
  CHECK_INT(slot_of(0, "gig-a"), a, "slots are deterministic (first)");
  CHECK_INT(slot_of(0, "gig-b"), b, "slots are deterministic (second)");

  /* Registration updates position and list. */
  CHECK_INT(page(0, "pv2", "/search", 0), IMP_OK, "page");
  CHECK_INT(reg(0, "gig-a", "q9", 7), IMP_OK, "re-register with a new place");
  CHECK_INT(observe(10, a, 0.2, 1000), IMP_OK, "observe");
  CHECK_INT(take(10, 1), IMP_OK, "take");
  CHECK(strstr(g_batch, "{\"e\":\"imp\",\"s\":1,\"t\":10,\"id\":\"gig-a\",\"pos\":7,\"list\":\"q9\",\"f\":1}") != NULL,
        "the impression carries the new position and list: %s", g_batch);

  /* A recycled node re-registered keeps the item's state. */
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

  /* Reuse of the oldest released item when the table is full; IMP_ERR_FULL. */
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
  c = slot_of(12, "gig-new");
  CHECK_INT(c, slots[2], "the item released longest ago is reused");
  CHECK_INT(RES->items, 4, "still four items");
  CHECK_INT(slot_of(13, "gig-1"), slots[1], "a released item not reused revives in its slot");
  CHECK_INT(reg(14, "gig-2", "", 1), IMP_ERR_FULL, "the reused item is gone; table full");
  CHECK_INT(observe(15, slots[1], 1, 100), IMP_OK, "revived item observed");
  drain(20);
  CHECK(strstr(g_summary, "imp:gig-1") == g_summary && !strstr(g_summary + 1, "imp:gig-1"),
        "the revived item kept its impression: %s", g_summary);

  /* Every slot works at full capacity of the default configuration. */
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

  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
