/*
** outbox_cut.c: batches cut from the queue into free slots, the events a batch is
** done with, losses and where their count travels, following the page's visibility,
** and the consent purge.
**
** A batch leaves the event queue only when a slot is free: while every slot is
** used the queue keeps the events, and its own bound drops (and counts) the oldest.
** So memory is bounded twice and nothing is lost silently in between.
**
** A loss the outbox itself makes (a batch the collector refuses for good, a stored
** batch past its age) travels as a count: it is added to the "drop" of the oldest
** held batch that no channel has seen yet (same page view first), so the count
** reaches the collector with the data and no copy of that batch can carry another
** value; without such a batch it waits in the queue's drop count for the next cut
** batch, and at a page hide it is written to storage as a drop-only record.
*/
#include "outbox_internal.h"

/*=== MARK: - Cutting (Private) ===*/
/* At a page hide with every slot used: the oldest request in flight whose released
** copy is stored gives up its slot; its answer is still awaited (ob_gone). A request
** that carries only the leading part of the events cannot stand for the record: its
** 2xx leaves the record (no key), which then sends that part again (duplicates the
** collector folds on (pv, s), with the same "drop" under the same batch identity). */
static int let_go_in_flight(void) {
  ob_batch *victim = imp_ob_oldest(1u << OB_FETCH, OB_STORED | OB_RELEASE, OB_STORING);
  if (!victim) return 0;
  imp_ob_gone_in_flight(victim, victim->part == victim->events);
  imp_ob_let_go(victim);
  return 1;
}

/* Moves due batches (every queued event when the page stopped measuring or the
** glue flushes) into free slots. With consent denied they are purged instead. */
void imp_ob_cut(double t) {
  int force = !imp_ob.visible || imp_ob.flushing;
  while (imp_g.rec_count) {
    if (imp_ob.consent == IMP_CONSENT_DENIED) { /* the count of earlier losses stays */
      uint32_t drop = imp_g.drop_pending;
      if (imp_queue_take(t, 1, 0) != IMP_OK) return;
      imp_g.drop_pending = drop;
      imp_act.purged = imp_add_sat(imp_act.purged, imp_res.batch_events);
      continue;
    }
    ob_batch *b = imp_ob_alloc();
    if (!b && !imp_ob.visible && let_go_in_flight()) b = imp_ob_alloc();
    if (!b) return;
    if (imp_queue_take(t, force, 0) != IMP_OK) { /* nothing due: the slot and id go back */
      b->state = OB_FREE;
      imp_ob.next_id--;
      return;
    }
    imp_ob_split(b, imp_out, imp_res.batch_bytes); /* the queue's batch: always one */
    b->created = imp_ob_wall(t);
    /* Cannot be sent now: keep a copy that outlives the page. */
    if (imp_ob.visible && (!imp_ob.online || imp_ob.failures)) b->flags |= OB_WANT_STORE;
  }
}

/* The first n events of b are done with (delivered or counted lost). They leave the
** batch, and so does its "drop" (the request that carried them carried it). Copies
** of the whole, a stored record and a fetchLater registration, would outlive them:
** they go, and the rest gets new ones. */
void imp_ob_drop_front(ob_batch *b, uint32_t n) {
  uint32_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) bytes += b->lens[i];
  uint8_t *events = b->data + b->prefix_len;
  __builtin_memmove(events, events + bytes, b->event_bytes - bytes);
  __builtin_memmove(b->lens, b->lens + n, (b->events - n) * sizeof *b->lens);
  b->events -= n;
  b->event_bytes -= bytes;
  b->drop = b->part = 0;
  b->flags &= ~(uint32_t)OB_HANDED; /* the rest is handed off again at a page hide */
  if (!b->events) {
    imp_ob_free(b);
    return;
  }
  imp_ob_cancel_later(b);
  if (b->flags & (OB_STORED | OB_STORING)) b->flags |= OB_WANT_STORE;
  if (b->flags & OB_STORED) imp_ob_remove_record(b);
}

/*=== MARK: - Losses (Private) ===*/
/* The oldest batch that exists only here and that no channel has seen, so no other
** copy of it can carry another "drop" (a stored copy could have been sent by a page
** that crashed, or be adopted elsewhere). */
static ob_batch *carrier(const uint8_t *prefix, uint32_t prefix_len) {
  ob_batch *best = 0, *best_same = 0;
  OB_EACH_HELD(b) {
    if (b->state != OB_IDLE ||
        (b->flags & (OB_ATTEMPTED | OB_STORED | OB_STORING)) || b->events == 0)
      continue;
    if (!best || b->id < best->id) best = b;
    if (prefix && imp_ob_same(b->data, b->prefix_len, prefix, prefix_len) &&
        (!best_same || b->id < best_same->id))
      best_same = b;
  }
  return best_same ? best_same : best;
}

/* events were lost here (counted in action.lost), and drop more were already lost
** upstream: their sum travels in a held batch's "drop", or the next cut batch's. */
void imp_ob_lose(uint32_t events, uint32_t drop, const uint8_t *prefix, uint32_t prefix_len) {
  uint32_t count = imp_add_sat(events, drop);
  imp_act.lost = imp_add_sat(imp_act.lost, events);
  if (!count) return;
  ob_batch *c = carrier(prefix, prefix_len);
  if (!c) {
    imp_g.drop_pending = imp_add_sat(imp_g.drop_pending, count);
    return;
  }
  c->drop = imp_add_sat(c->drop, count);
}

/*=== MARK: - Page visibility and consent (Private) ===*/
/* Follows imp_vis_measuring(): shown again, what was kept at the hide is sendable,
** and a batch whose released copy is stored (a request that was in flight) is taken
** back only once a scan finds that copy no live tab's (outbox_adopt.c): another tab
** may have adopted it meanwhile. Hidden, the hand-off starts (outbox_send.c). */
void imp_ob_visibility(double t) {
  int visible = imp_vis_measuring();
  if (visible == imp_ob.visible) return;
  imp_ob.visible = visible;
  imp_ob.beacon_bytes = 0;
  OB_EACH_HELD(b) {
    b->flags &= ~(uint32_t)(OB_HANDED | OB_NO_BEACON);
    if (visible && (b->flags & OB_RELEASE) && !(b->flags & OB_STORING)) {
      b->flags |= OB_UNCONFIRMED;
      b->confirm_at = t;
    }
  }
  if (visible) imp_ob.want_scan = 1;
}

/* Consent denied: everything held is dropped (counted as purged, never as "drop"),
** requests and registrations are cancelled, and storage is purged. */
void imp_ob_purge(void) {
  OB_EACH_HELD(b) {
    if (b->state == OB_FETCH) imp_ob_chore(IMP_ACT_CANCEL, b->ticket, 0, 0);
    imp_act.purged = imp_add_sat(imp_act.purged, b->events);
    b->flags &= ~(uint32_t)OB_STORED; /* the purge removes every record */
    imp_ob_free(b);
  }
  for (const ob_gone *g = imp_ob.gone; g < imp_ob.gone + imp_ob.gone_n; g++)
    imp_ob_chore(IMP_ACT_CANCEL, g->ticket, 0, 0);
  imp_ob_cancel_parked();
  imp_ob.gone_n = 0;
  imp_ob.inflight_bytes = imp_ob.later_used = 0; /* nothing is in flight or registered */
  imp_ob.purge = (imp_ob.cfg.flags & IMP_OB_STORAGE) ? 1 : 0;
  imp_ob.want_scan = imp_ob.scanning = 0;
  imp_ob.rescan_at = -1.0; /* no scan while denied: granting asks for one */
  imp_ob.drop_record = imp_ob.drop_ticket = 0;
  imp_ob.failures = 0;
  imp_ob.retry_at = 0;
}
