/*
** visibility.c: page state and the per-item state machine.
**
** Each item has a geometry class from its last observation (OUT: below the
** impression rule; PARTIAL: impression rule met, viewable rule not; FULL: viewable
** rule met and not occluded). Its effective class is its geometry while the page
** measures (a page view is open and the page is visible) and OUT otherwise, and at
** most PARTIAL while something covers the whole viewport (imp_element_cover with
** IMP_ELEMENT_PAGE: a modal). Every
** change of effective class runs one row of the transition table:
**
**                 enter view               reach viewable ratio
**        +-----+  (IMP)           +---------+  (IMP? SPAN_START)  +------+
**        | OUT | ---------------> | PARTIAL | ------------------> | FULL |
**        +-----+ <--------------- +---------+ <------------------ +------+
**          ^        (nothing)                    (SPAN_END)          |
**          +---------------------------------------------------------+
**                  leave view / page hidden, frozen, ended (SPAN_END)
**
**   IMP         impression, once per page view (records first_seen)
**   SPAN_START  a visible span opens; unless already viewable, the viewable timer
**               is armed to fire at span_start + view_ms
**   SPAN_END    the span closes: a "vis" event reports its length (so a collector
**               sums spans), the longest span and the span count; the timer is
**               disarmed, so the next span starts the continuous count again
**
** Clicks and key presses count as clicks; a script click that echoes a key press on
** the same element within echo_ms is not counted (imp_vis_activate).
**
** Time only moves forward (api.c clamps it). Before any change at time t, timers
** due at or before t fire first (imp_vis_advance), each with its own deadline as
** the event time: a card that stays 1000 ms and leaves at 1000 ms is viewable.
** Armed timers form a doubly linked list in arming order; since every deadline is
** span_start + view_ms and span starts only increase, that order is deadline order,
** so the head is always the next deadline and arm/disarm/fire are O(1).
*/
#include "imp_internal.h"

enum { A_IMP = 1, A_SPAN_START = 2, A_SPAN_END = 4 };

static const uint8_t transitions[3][3] = {
    /* from \ to:  OUT         PARTIAL  FULL                 */
    /* OUT     */ {0,          A_IMP,   A_IMP | A_SPAN_START},
    /* PARTIAL */ {0,          0,       A_SPAN_START},
    /* FULL    */ {A_SPAN_END, A_SPAN_END, 0},
};

int imp_vis_measuring(void) {
  return imp_g.page_open && imp_g.page_state == IMP_PAGE_VISIBLE;
}

uint8_t imp_vis_classify(double ratio, double area, int occluded) {
  /* IntersectionObserver reports ratio 1 for an intersecting zero-area target: a
  ** collapsed card has no pixels, so it is never in view. */
  if (!(area > 0.0)) return IMP_OUT;
  double view = area >= imp_g.cfg.large_area ? imp_g.cfg.large_ratio : imp_g.cfg.view_ratio;
  if (!occluded && ratio > 0.0 && ratio + IMP_RATIO_EPSILON >= view) return IMP_FULL;
  if (imp_g.cfg.impression_ratio == 0.0 ? ratio > 0.0
                                    : ratio + IMP_RATIO_EPSILON >= imp_g.cfg.impression_ratio)
    return IMP_PARTIAL;
  return IMP_OUT;
}

/*=== MARK: - Armed timers (Private) ===*/
static uint32_t slot_of(const imp_item *it) { return (uint32_t)(it - imp_g.items); }

static void arm(imp_item *it) {
  it->flags |= IMP_ITEM_ARMED;
  imp_list_append(&imp_g.timer_head, &imp_g.timer_tail, slot_of(it));
}

static void unlink_timer(imp_item *it) {
  if (!(it->flags & IMP_ITEM_ARMED)) return;
  imp_list_unlink(&imp_g.timer_head, &imp_g.timer_tail, it);
  it->flags &= (uint8_t)~IMP_ITEM_ARMED;
}

double imp_vis_next_deadline(void) {
  if (imp_g.timer_head == IMP_LINK_NIL) return -1.0;
  return imp_g.items[imp_g.timer_head].span_start + imp_g.cfg.view_ms;
}

void imp_vis_advance(double t) {
  while (imp_g.timer_head != IMP_LINK_NIL) {
    imp_item *it = &imp_g.items[imp_g.timer_head];
    double due = imp_vis_next_deadline();
    if (due > t) break;
    unlink_timer(it);
    it->flags |= IMP_ITEM_VIEWED;
    imp_queue_push(IMP_EV_VIEW, it, due, 0, 0, 0);
  }
}

/*=== MARK: - Transitions (Private) ===*/
static void impression(imp_item *it, double t) {
  if (it->flags & IMP_ITEM_IMPRESSED) return;
  it->flags |= IMP_ITEM_IMPRESSED;
  it->first_seen = t;
  imp_queue_push(IMP_EV_IMP, it, t, (uint32_t)imp_g.focused, 0, 0);
}

static void enter(imp_item *it, uint8_t to) {
  double t = imp_g.now;
  uint8_t actions = transitions[it->state][to];
  it->state = to;
  if (actions & A_IMP) impression(it, t);
  if (actions & A_SPAN_START) {
    it->span_start = t;
    if (!(it->flags & IMP_ITEM_VIEWED)) arm(it);
  }
  if (actions & A_SPAN_END) {
    uint32_t ms = imp_ms(t - it->span_start);
    unlink_timer(it);
    if (ms > 0) {
      if (ms > it->longest_ms) it->longest_ms = ms;
      if (it->spans < 0xFFFFu) it->spans++;
      imp_queue_push(IMP_EV_VIS, it, t, ms, it->longest_ms, it->spans);
    }
  }
}

/* Runs the machine for one item after its geometry or the page state changed. */
static void update(imp_item *it) {
  uint8_t to = imp_vis_measuring() ? it->geometry : (uint8_t)IMP_OUT;
  if (to == IMP_FULL && imp_g.page_covered) to = IMP_PARTIAL; /* under a modal */
  if (to != it->state) enter(it, to);
  imp_vis_advance(imp_g.now);  /* view_ms == 0 fires at once */
}

void imp_vis_set_geometry(imp_item *it, uint8_t geometry) {
  imp_vis_advance(imp_g.now);
  it->geometry = geometry;
  update(it);
}

void imp_vis_page_changed(void) {
  imp_vis_advance(imp_g.now);
  for (uint32_t s = 0; s < imp_g.cfg.max_items; s++) {
    imp_item *it = &imp_g.items[s];
    if ((it->flags & (IMP_ITEM_USED | IMP_ITEM_RELEASED)) == IMP_ITEM_USED) update(it);
  }
}

void imp_vis_click(imp_item *it) {
  imp_vis_advance(imp_g.now);
  impression(it, imp_g.now);
  imp_queue_push(IMP_EV_CLICK, it, imp_g.now, (uint32_t)imp_g.focused,
                 imp_ms(imp_g.now - it->first_seen),
                 (it->flags & IMP_ITEM_VIEWED) ? 1u : 0u);
}

/* A click or key press on an element. A script click on the element of the last key
** press, less than echo_ms after it, is that key press's echo: not counted. */
int32_t imp_vis_activate(uint32_t element, int32_t kind) {
  int echo = kind == IMP_ACT_SCRIPT && element == imp_g.key_element &&
             imp_g.now - imp_g.key_t < imp_g.cfg.echo_ms;
  imp_g.key_element = kind == IMP_ACT_KEY ? element : IMP_NIL;
  imp_g.key_t = imp_g.now;
  if (echo) return IMP_NONE;
  imp_vis_click(&imp_g.items[imp_g.elements[element].item]);
  return IMP_OK;
}

/* New page view: an item forgets its per-page-view state and keeps its geometry (the
** registry empties the armed-timer list). */
void imp_vis_forget(imp_item *it) {
  it->flags &= (uint8_t)(IMP_ITEM_USED | IMP_ITEM_RELEASED);
  it->state = IMP_OUT;
  it->spans = 0;
  it->longest_ms = 0;
  it->first_seen = 0;
  it->timer_prev = it->timer_next = IMP_LINK_NIL;
}
