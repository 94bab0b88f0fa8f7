/*
** test_seen.c: a card whose slot was given back is still counted once per page view.
** The glue releases cards far from the viewport; when the item table is full the
** slot released longest ago is reused and its state is saved in the seen set. A card
** that comes back gets no second impression or viewable impression, its click keeps
** the time since its impression, and its spans keep counting. When even the seen set
** is full, slots of cards that reported something are not reused (IMP_ERR_FULL, never
** a double count). A new page view empties the set. And over 400 page views of 150
** cards each on 16 slots (ids recurring, lists changing, cards coming back after their
** slot was reused) every card counts once per page view and every click names its card.
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

/* 1 when `got` holds one click, on card `id`, that says the card was viewed. */
static int clicked_viewed(const char *got, const char *id) {
  char want[48];
  int viewed = 0;
  snprintf(want, sizeof want, "click:%s@", id);
  const char *at = strstr(got, want);
  return count(got, "click:") == 1 && at && sscanf(at + strlen(want), "%*f/%*f/%d", &viewed) == 1 &&
         viewed == 1;
}

/* Card `card` of page view `view` registered with a list that changes from one
** registration to the next, shown for 1 s (clicked at 500 ms when `clicks`) and
** released; returns what it queued. */
static const char *show_card(double t, uint32_t view, uint32_t card, int clicks, uint32_t *bad) {
  char id[32], list[16];
  id_of(id, sizeof id, card);
  snprintf(list, sizeof list, "list-%u", (view + card + (uint32_t)clicks) % 3u);
  if (reg(t, id, list, card + 1) != IMP_OK) (*bad)++;
  uint32_t slot = RES->slot;
  if (observe(t, slot, 1, 100) != IMP_OK || (clicks && click(t + 500, slot) != IMP_OK) ||
      observe(t + 1000, slot, 0, 100) != IMP_OK || release(t + 1000, slot) != IMP_OK)
    (*bad)++;
  return drain(t + 1000);
}

/* Hundreds of page views, each of many more cards than slots, ids that recur across
** page views, lists that change (old id records become garbage: the id heap compacts)
** and cards that come back after their slot was reused (their state comes back from
** the seen set): each page view counts each card once, and a click names its own
** card and says it was viewed. */
static void many_page_views(void) {
  char id[32], pv[16];
  CHECK_INT(start_with(16, 64, 8192, 8, 4096, 5000), IMP_OK, "start with 16 items");
  double t = 0;
  uint32_t bad = 0, wrong = 0;
  for (uint32_t view = 0; view < 400 && !bad; view++) {
    snprintf(pv, sizeof pv, "pv%u", view);
    if (page(t, pv, "/", 0) != IMP_OK) bad++;
    uint32_t imps = 0, clicks = 0, first = view * 37u % 400u;
    for (uint32_t i = 0; i < 150; i++, t += 1000) {
      imps += (uint32_t)count(show_card(t, view, first + i, 0, &bad), "imp:");
      if (i % 10 != 9 || i < 20) continue;
      t += 1000; /* card i - 20 again: 20 cards later its slot was reused */
      const char *got = show_card(t, view, first + i - 20, 1, &bad);
      id_of(id, sizeof id, first + i - 20);
      imps += (uint32_t)count(got, "imp:");
      clicks += (uint32_t)clicked_viewed(got, id);
    }
    if (imps != 150 || clicks != 13) {
      CHECK(0, "page view %u: %u impressions (150), %u clicks (13)", view, imps, clicks);
      wrong++;
    }
  }
  CHECK_INT(bad, 0, "every call accepted");
  CHECK_INT(wrong, 0, "each of 400 page views counted each card once, each click on its card");
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

  many_page_views();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
