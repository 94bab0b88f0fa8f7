/*
** outbox_outcome.c: what an answer from the browser changes.
**
** Fetch: a 2xx is delivered (the batch, its stored copy and its fetchLater copy are
** forgotten; a collector that had been failing is back, so storage is scanned for
** what the failures left there). A request may carry only the batch's leading
** events (see outbox_send.c): an answer concerns those, and the rest stays. The
** other never-retry statuses lose the batch, and its count travels (outbox_cut.c).
** Anything else is a failure: one backoff step per outage wave (requests started
** before the step do not count again), Retry-After in place of the computed delay,
** and an owned copy in storage so the batch outlives the page. A 413 on several
** events makes the next request carry half as many. An answer that leaves events of a
** batch let go at a page hide (a failure while hidden, a part delivered or refused for
** good, a 413) lets the released copy written at the hide stand for them (a part
** refused is counted lost by whoever sends the copy, not here).
** Beacon: accepted is final (beaconed: the browser will send it); refused halves the
** part while a half can fit the budget; thrown stops beacons for the batch.
** Storage: a failed write makes storage unusable for the rest of the page; a write
** that lands after events left its batch is removed (it holds them) and written again.
*/
#include "outbox_internal.h"

/* A batch let go at a page hide (its released copy stored, for any tab) whose answer
** leaves events to send: the copy stands for all of them, and the batch goes. Another
** tab may have taken the copy meanwhile; so this tab sends no more of it (whoever
** adopts the copy sends its events, again for a part delivered: the collector folds
** those on (pv, s)). */
static int released_stands(ob_batch *b) {
  if ((b->flags & (OB_RELEASE | OB_STORING)) != OB_RELEASE) return 0;
  imp_ob_let_go(b);
  return 1;
}

/* The request failed and may succeed later. */
static void failed(double t, ob_batch *b, double retry_after_ms, double jitter) {
  b->flags |= OB_FAILED;
  if (b->wave == imp_ob.wave) {
    imp_ob.failures++;
    imp_ob.wave++;
    /* A Retry-After under the backoff's base (0: "at once") leaves the backoff. */
    double delay = retry_after_ms >= imp_ob.cfg.backoff_base_ms
                       ? retry_after_ms
                       : imp_ob_backoff(imp_ob.failures, jitter, &imp_ob.cfg);
    if (delay > imp_ob.cfg.retry_after_max_ms) delay = imp_ob.cfg.retry_after_max_ms;
    imp_ob.retry_at = t + delay;
    imp_act.retry_ms = delay;
  }
  if (imp_ob.visible) {
    if (!(b->flags & OB_STORED)) b->flags |= OB_WANT_STORE;
    return;
  }
  /* Hidden meanwhile: a released copy stands for it, else the hand-off decides again. */
  if (!released_stands(b)) b->flags &= ~(uint32_t)OB_HANDED;
}

void imp_ob_response(double t, ob_batch *b, int32_t status, double retry_after_ms,
                     double jitter) {
  uint32_t part = b->part;
  int verdict = imp_ob_classify(status);
  int halve = status == 413 && part > 1u; /* the next request carries half as many */
  imp_ob.inflight_bytes -= b->sent_bytes;
  b->state = OB_IDLE;
  if (verdict == OB_RETRY) {
    failed(t, b, retry_after_ms, jitter);
    return;
  }
  if (verdict == OB_OK) {
    if (imp_ob.failures) imp_ob.want_scan = 1;
    imp_ob.failures = 0;
    imp_ob.retry_at = 0.0;
  }
  if ((halve || part < b->events) && released_stands(b)) return; /* events are left */
  if (halve) {
    b->part = (part + 1u) / 2u;
    return;
  }
  if (verdict == OB_OK) imp_act.delivered = imp_add_sat(imp_act.delivered, part);
  else imp_ob_lose(part, b->drop, b->data, b->prefix_len);
  imp_ob_drop_front(b, part);
}

void imp_ob_beacon_outcome(double t, ob_batch *b, int32_t outcome) {
  (void)t;
  b->state = OB_IDLE;
  if (outcome == IMP_BEACON_ACCEPTED) {
    imp_ob.beacon_bytes += b->sent_bytes;
    imp_act.beaconed = imp_add_sat(imp_act.beaconed, b->part);
    imp_ob_drop_front(b, b->part);
    return;
  }
  /* Halving helps only while a half can still fit: otherwise the batch would go out
  ** as many tiny beacons. */
  if (outcome == IMP_BEACON_REFUSED && b->part > 1u && b->depth < IMP_OB_MAX_SPLIT &&
      b->sent_bytes <= 2u * imp_ob_beacon_room()) {
    b->part = (b->part + 1u) / 2u;
    b->depth++;
    return;
  }
  b->flags |= OB_NO_BEACON;
}

void imp_ob_stored_outcome(double t, ob_batch *b, int32_t outcome) {
  (void)t;
  b->flags &= ~(uint32_t)(OB_STORING | OB_CLAIM);
  if (outcome != IMP_STORE_OK) {
    imp_ob.storage_ok = 0;
    b->flags &= ~(uint32_t)OB_RELEASE;
    return;
  }
  b->flags |= OB_STORED;
  if (b->stored_n != b->events) { /* events left while the write was out: it holds them */
    imp_ob_remove_record(b);
    b->flags |= OB_WANT_STORE;
    return;
  }
  /* Released at a hide and not in flight: storage holds it now, for any tab. Its
  ** fetchLater registration stays with the browser. */
  if ((b->flags & OB_RELEASE) && b->state != OB_FETCH) imp_ob_let_go(b);
}
