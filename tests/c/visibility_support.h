/*
** visibility_support.h: what the state machine's tests share (tests/c/test_visibility*.c).
** Page views begin at T0 = 1000 (not 0) so a mix-up between the caller's time base
** and "ms since the page view began" shows. Event times in the summaries are
** relative to the page view; tick and observe times are absolute (T0 + x). fresh()
** starts the core with the defaults, opens page view pv and registers card "a";
** obs() observes a small card at T0 + x.
*/
#ifndef IMP_TEST_VISIBILITY_SUPPORT_H
#define IMP_TEST_VISIBILITY_SUPPORT_H

#include "support.h"

#define T0 1000.0
#define AREA 10000.0 /* a small card */

static inline uint32_t fresh(const char *pv, uint32_t flags) {
  start_default();
  page(T0, pv, "/search", flags);
  return slot_of(T0, "a");
}

static inline void obs(double x, uint32_t slot, double ratio) {
  CHECK_INT(observe(T0 + x, slot, ratio, AREA), IMP_OK, "observe %g at +%g", ratio, x);
}

#endif
