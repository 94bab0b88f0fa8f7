/*
** test_seen.c: a card whose slot was given back is still counted once per page view.
** The glue releases cards far from the viewport; when the item table is full the
** slot released longest ago is reused and its state is saved in the seen set. A card
** that comes back gets no second impression or viewable impression, its click keeps
** the time since its impression, and its spans keep counting. When even the seen set
** is full, slots of cards that reported something are not reused (IMP_ERR_FULL, never
** a double count). A new page view empties the set.
*/
#include "support.h"

static void id_of(char *buf, size_t n, uint32_t i) { snprintf(buf, n, "card-%u", i); }

/* Registers card i, shows it fully for 1 s (impression and viewable), releases it. */
static int32_t show_and_release(uint32_t i, double t) {
  char id[32];
  id_of(id, sizeof id, i);
  int32_t s = reg(t, id, "", i + 1);
  if (s != IMP_OK) return s;
  uint32_t slot = RES->slot;
  if ((s = observe(t, slot, 1, 100)) != IMP_OK) return s;
  if ((s = observe(t + 1000, slot, 0, 100)) != IMP_OK) return s;
  return release(t + 1000, slot);
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

int main(void) {
  char id[32];

  /* Cards come back after their slots were reused: state follows the id. */
  CHECK_INT(start_with(4, 64, 8192, 8, 4096, 5000), IMP_OK, "start with 4 items");
  CHECK_INT(page(0, "pv1", "/", 0), IMP_OK, "page");
  for (uint32_t i = 0; i < 12; i++) CHECK_INT(show_and_release(i, 10000.0 * i), IMP_OK, "card %u", i);
  const char *first = drain(200000);
  CHECK_INT(count(first, "imp:"), 12, "12 impressions: %s", first);
  CHECK_INT(count(first, "view:"), 12, "12 viewable impressions");
  CHECK_INT(RES->items, 4, "four slots, reused");
  CHECK_INT(reg(200000, "card-0", "", 1), IMP_OK, "card 0 comes back");
  uint32_t slot = RES->slot;
  CHECK_INT(observe(200000, slot, 1, 100), IMP_OK, "in view again");
  CHECK_INT(click(200500, slot), IMP_OK, "clicked");
  CHECK_INT(observe(201000, slot, 0, 100), IMP_OK, "out of view");
  CHECK_STR(drain(201000), "click:card-0@200500/200500/1 vis:card-0@201000/1000/1000/2",
            "no second impression or viewable; the click counts from the first impression "
            "and says viewed; the span count goes on");

  /* A new page view forgets the saved state. */
  CHECK_INT(page(300000, "pv2", "/", 0), IMP_OK, "new page view");
  CHECK_INT(show_and_release(5, 300000), IMP_OK, "card 5 in the new page view");
  const char *again = drain(301000);
  CHECK_INT(count(again, "imp:card-5@"), 1, "a fresh impression: %s", again);

  /* Cards that never reported anything need no room in the seen set. */
  CHECK_INT(page(400000, "pv3", "/", 0), IMP_OK, "page");
  for (uint32_t i = 0; i < 1000; i++) {
    id_of(id, sizeof id, i);
    if (reg(400000, id, "", 1) != IMP_OK || release(400000, RES->slot) != IMP_OK) {
      CHECK(0, "unseen card %u registers", i);
      break;
    }
  }

  /* When the seen set is full, a reported card's slot is kept: IMP_ERR_FULL. */
  CHECK_INT(page(500000, "pv4", "/", 0), IMP_OK, "page");
  uint32_t n = 0, imps = 0;
  double t = 500000;
  int32_t s = IMP_OK;
  while (n < 1000000u && (s = show_and_release(n, t)) == IMP_OK) {
    n++;
    t += 1000;
    if (n % 4 == 0) imps += (uint32_t)count(drain(t), "imp:");
  }
  imps += (uint32_t)count(drain(t), "imp:");
  CHECK_INT(s, IMP_ERR_FULL, "registration refused once both tables are full");
  CHECK(n > 4, "many more cards than slots were counted (%u)", n);
  CHECK_INT(imps, n, "one impression per card");
  CHECK_INT(show_and_release(0, t), IMP_ERR_FULL, "no slot for a card seen before");
  CHECK_INT(show_and_release(n - 1, t), IMP_OK, "a card still in the table is found");
  char want[96];
  snprintf(want, sizeof want, "vis:card-%u@%.0f/1000/1000/2", n - 1, t + 1000 - 500000);
  CHECK_STR(drain(t + 1000), want, "its second span, no second impression");
  CHECK_INT(page(600000, "pv5", "/", 0), IMP_OK, "a new page view empties both");
  CHECK_INT(show_and_release(0, 600000), IMP_OK, "card 0 registers again");

  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
