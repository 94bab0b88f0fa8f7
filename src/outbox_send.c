/*
** outbox_send.c: what the glue does next: the action, its channel and its timing
** (what an answer then changes is outbox_outcome.c's).
**
** One action per call, in this order (a batch held past max_age_ms is first counted
** lost, as a stored one is): removals and cancels already decided; with
** consent denied, the storage purge; a fetch past its timeout (aborted, counted as
** a network error); then, with consent granted:
**   page measuring  a scan of storage when one is wanted; the owned copies that
**                   should be written (a batch that cannot be sent now, an adopted
**                   record being claimed, a raised "drop"); a fetchLater copy of
**                   every unconfirmed batch within its budget; and, online and past
**                   the backoff, a fetch of the oldest waiting batch: one at a time
**                   while the collector fails, else within the keepalive budget.
**   page hidden     each batch once: in flight, a released copy goes to storage (the
**                   request goes on); waiting, a batch that failed (or any, while
**                   the collector fails or the page is offline) goes to storage
**                   released, else to sendBeacon within the keepalive budget
**                   (a refused beacon carries half as many events next time, at most
**                   IMP_OB_MAX_SPLIT times), else to storage, else it stays in memory
**                   with its fetchLater copy. Finally a "drop" count no batch could
**                   carry is stored alone.
** A request carries the batch's leading events: all of them, or as many as fit
** body_bytes (an adopted record, a raised "drop"), or the part a refusal left.
*/
#include "outbox_internal.h"

/*=== MARK: - Helpers (Private) ===*/
/* Asked only once imp_ob_next_action() has found consent granted. */
static int storage_usable(void) {
  return (imp_ob.cfg.flags & IMP_OB_STORAGE) && imp_ob.storage_ok;
}

/* Adopted batches whose claim is not confirmed yet (outbox_adopt.c) are not sent; with
** storage unusable no scan can confirm them, and they go as any batch. */
static uint32_t unconfirmed(void) { return imp_ob.storage_ok ? OB_UNCONFIRMED : 0u; }

/* The action record: kind, ticket, batch, and the key and body in the io buffer. */
static void set_action(uint32_t kind, const ob_batch *b, uint32_t ticket, uint32_t key_bytes,
                       uint32_t body_bytes) {
  imp_act.kind = kind;
  imp_act.ticket = ticket;
  imp_act.batch = b ? b->id : 0u;
  imp_act.events = b ? b->events : 0u;
  imp_act.key_bytes = key_bytes;
  imp_act.body_bytes = body_bytes;
}

/*=== MARK: - Emitting (Private) ===*/
static int emit_chore(void) {
  const ob_chore *c = imp_ob_take_chore();
  if (!c) return 0;
  set_action(c->kind, 0, c->ticket, c->key_len, 0);
  __builtin_memcpy(imp_ob_io, c->key, c->key_len);
  return 1;
}

/* Whether `events` and `bytes` fit a storage share (this tab's copies; the records a
** scan leaves). */
int imp_ob_share_fits(uint32_t events, uint32_t bytes) {
  return events <= imp_ob.cfg.stored_events && bytes <= imp_ob.cfg.stored_bytes;
}

/* Frees room in this tab's storage share for `need` events and `bytes` by removing
** the copies of other held batches (oldest first, not in flight and not being
** written, as `keep` is; they stay in memory). */
static int make_room(const ob_batch *keep, uint32_t need, uint32_t bytes) {
  for (;;) {
    uint32_t events = need, size = bytes;
    OB_EACH_HELD(b) {
      if (b == keep || !(b->flags & OB_STORED)) continue;
      events += b->stored_n;
      size += b->stored_len;
    }
    if (imp_ob_share_fits(events, size)) return 1;
    ob_batch *victim = imp_ob_oldest(1u << OB_IDLE | 1u << OB_BEACON, OB_STORED,
                                     OB_STORING | OB_RELEASE | OB_UNCONFIRMED);
    if (!victim) return 0;
    imp_ob_remove_record(victim);
  }
}

/* Writes b's record (owned, or released for any tab). 0 when it cannot be stored. */
static int emit_store(double t, ob_batch *b, int released) {
  if (!storage_usable()) return 0;
  if (!b->key_len) b->key_len = imp_ob_make_key(b, b->key);
  __builtin_memcpy(imp_ob_io, b->key, b->key_len);
  double until = imp_ob_wall(t) + imp_ob.cfg.lease_ms;
  uint32_t len = imp_ob_encode_record(b, released, until, imp_ob_io + b->key_len,
                                      IMP_OB_IO_BYTES - b->key_len);
  b->flags = (b->flags & ~(uint32_t)OB_WANT_STORE) | OB_STORING;
  if (!len || !make_room(b, b->events, len + b->key_len)) { /* (a claim not written: sent as is) */
    b->flags &= ~(uint32_t)(OB_CLAIM | OB_STORING | OB_UNCONFIRMED);
    return 0;
  }
  b->flags = (b->flags & ~(uint32_t)OB_RELEASE) | (released ? OB_RELEASE : 0u);
  if (b->flags & OB_CLAIM) /* the scan that confirms it (outbox_adopt.c) */
    imp_ob.rescan_at = b->confirm_at = t + IMP_OB_SETTLE_MS;
  b->store_ticket = ++imp_ob.next_ticket;
  b->stored_n = b->events;
  b->stored_len = len + b->key_len;
  b->renew_at = (imp_ob.cfg.flags & IMP_OB_LOCKS) || released
                    ? -1.0 : t + imp_ob.cfg.lease_ms * (2.0 / 3.0);
  set_action(IMP_ACT_STORE, b, b->store_ticket, b->key_len, len);
  return 1;
}

/* How many leading events b's next request carries: at most the part a refusal left
** (all, else), halved until the body fits body_bytes. Their body is left in the io
** buffer, its length in imp_ob.body_len (0xFFFFFFFF when it does not fit the io
** buffer; a field, not an out-parameter, so that no caller needs a stack frame). */
static uint32_t send_count(const ob_batch *b) {
  uint32_t n = b->part ? b->part : b->events;
  while ((imp_ob.body_len = imp_ob_encode_body(b, n)) > imp_ob.cfg.body_bytes && n > 1u)
    n = (n + 1u) / 2u;
  return n;
}

/* Sends the body of b's first n events, len bytes, already in the io buffer. */
static void emit_body(uint32_t kind, ob_batch *b, uint32_t n, uint32_t len) {
  b->part = n;
  b->ticket = ++imp_ob.next_ticket;
  b->sent_bytes = len;
  b->flags |= OB_ATTEMPTED;
  set_action(kind, b, b->ticket, 0, len);
  imp_act.events = n;
}

static void emit_fetch(double t, ob_batch *b, uint32_t n, uint32_t len) {
  emit_body(IMP_ACT_FETCH, b, n, len);
  b->state = OB_FETCH;
  b->sent_at = t;
  b->wave = imp_ob.wave;
  imp_ob.inflight_bytes += b->sent_bytes;
}

/*=== MARK: - Deciding (Private) ===*/
static int timeout_action(double t, double jitter) {
  OB_EACH_HELD(b) {
    if (b->state != OB_FETCH || t < b->sent_at + imp_ob.cfg.timeout_ms) continue;
    set_action(IMP_ACT_CANCEL, b, b->ticket, 0, 0);
    imp_ob_response(t, b, 0, -1.0, jitter);
    return 1;
  }
  return 0;
}

/* A batch older than max_age_ms is counted lost, held in memory as stored: no copy
** of it goes out after the collector's deduplication window, which that age bounds. */
static void expire_held(double t) {
  OB_EACH_HELD(b) {
    if (b->state != OB_IDLE || !(imp_ob_wall(t) - b->created > imp_ob.cfg.max_age_ms)) continue;
    uint32_t n = b->events, drop = b->drop;
    imp_ob_drop_front(b, n); /* freed first: it cannot carry its own count */
    imp_ob_lose(n, drop, b->data, b->prefix_len);
  }
}

static int fetch_action(double t) {
  if (!imp_ob.online || t < imp_ob.retry_at) return 0;
  if (imp_ob.failures && imp_ob_oldest(1u << OB_FETCH, 0, 0)) return 0; /* one at a time while failing */
  ob_batch *b = imp_ob_oldest(1u << OB_IDLE, 0, unconfirmed());
  if (!b) return 0;
  uint32_t n = send_count(b), len = imp_ob.body_len;
  if (imp_ob.inflight_bytes && imp_ob.inflight_bytes + len > imp_ob.cfg.keepalive_bytes)
    return 0;
  emit_fetch(t, b, n, len);
  return 1;
}

static int visible_action(double t) {
  if (storage_usable() && imp_ob.want_scan && !imp_ob.scanning) {
    set_action(IMP_ACT_SCAN, 0, (uint32_t)imp_ob.want_scan - 1u, 0, 0); /* 2: take the lock */
    imp_ob.want_scan = 0;
    imp_ob.scanning = 1;
    imp_ob.scan_until = t + imp_ob.cfg.timeout_ms;
    imp_ob.live_n = imp_ob.left_events = imp_ob.left_bytes = 0;
    return 1;
  }
  OB_EACH_HELD(b) {
    if (b->flags & OB_STORING) continue;
    /* Without Web Locks, an owned record's lease is renewed before it runs out. */
    if ((b->flags & OB_STORED) && !(b->flags & OB_RELEASE) && b->renew_at >= 0.0 &&
        t >= b->renew_at)
      b->flags |= OB_WANT_STORE;
    if ((b->flags & OB_WANT_STORE) && emit_store(t, b, 0)) return 1;
  }
  return fetch_action(t);
}

/* The page hide, one batch at a time (see the top of this file). */
static int hand_off(double t, ob_batch *b) {
  if ((b->flags & unconfirmed()) && b->state != OB_FETCH) { /* its record stands for it */
    imp_ob_let_go(b);
    return 0;
  }
  int store_first = imp_ob.failures || !imp_ob.online || (b->flags & (OB_FAILED | OB_NO_BEACON));
  if (b->state == OB_FETCH) {
    b->flags |= OB_HANDED;
    return !(b->flags & OB_STORED && b->flags & OB_RELEASE) && emit_store(t, b, 1);
  }
  if (store_first && emit_store(t, b, 1)) return 1;
  if (imp_ob.online && (imp_ob.cfg.flags & IMP_OB_BEACON) && !(b->flags & OB_NO_BEACON)) {
    uint32_t n = send_count(b), len = imp_ob.body_len;
    if (len <= imp_ob_beacon_room()) {
      emit_body(IMP_ACT_BEACON, b, n, len);
      b->state = OB_BEACON;
      return 1;
    }
  }
  if (emit_store(t, b, 1)) return 1;
  b->flags |= OB_HANDED; /* kept in memory until the page is shown */
  return 0;
}

static int hidden_action(double t) {
  for (;;) {
    ob_batch *b = imp_ob_oldest(1u << OB_IDLE | 1u << OB_FETCH, 0, OB_HANDED | OB_STORING);
    if (!b) return 0;
    if (hand_off(t, b)) return 1;
  }
}

/* A fetchLater copy of every unconfirmed batch, within its budget (consent granted:
** imp_ob_next_action() asks only then). */
static int later_action(void) {
  if (!(imp_ob.cfg.flags & IMP_OB_LATER)) return 0;
  OB_EACH_HELD(b) {
    if ((b->state != OB_IDLE && b->state != OB_FETCH) ||
        b->later_ticket || (b->flags & (OB_LATER_NO | unconfirmed())))
      continue;
    uint32_t len = imp_ob_encode_body(b, b->events); /* a copy of all its events */
    if (len > imp_ob.cfg.body_bytes || imp_ob.later_used + len > imp_ob.cfg.later_bytes)
      continue;
    b->later_ticket = ++imp_ob.next_ticket;
    b->later_bytes = len;
    b->flags |= OB_ATTEMPTED; /* the browser may send this copy: its "drop" is fixed */
    imp_ob.later_used += len;
    set_action(IMP_ACT_LATER, b, b->later_ticket, 0, len);
    return 1;
  }
  return 0;
}

/* Hidden, every batch dealt with: a "drop" count still waiting for a batch is
** stored alone, so the next page load carries it. */
static int drop_record_action(double t) {
  static IMP_NEAR ob_batch carrier_less; /* no events, no buffers: created and drop */
  if (!imp_g.drop_pending || imp_ob.drop_ticket || !storage_usable()) return 0;
  /* and only once no beacon and no write is awaited */
  if (imp_ob_oldest(1u << OB_BEACON, 0, 0) || imp_ob_oldest(OB_HELD, OB_STORING, 0)) return 0;
  carrier_less.created = imp_ob_wall(t);
  carrier_less.drop = imp_g.drop_pending;
  uint32_t key_len = imp_ob_make_key(&carrier_less, imp_ob_io);
  uint32_t len = imp_ob_encode_record(&carrier_less, 1, 0.0, imp_ob_io + key_len,
                                      IMP_OB_IO_BYTES - key_len);
  imp_ob.drop_record = carrier_less.drop;
  imp_ob.drop_ticket = ++imp_ob.next_ticket;
  set_action(IMP_ACT_STORE, 0, imp_ob.drop_ticket, key_len, len);
  return 1;
}

int32_t imp_ob_next_action(double t, double jitter) {
  set_action(IMP_ACT_NONE, 0, 0, 0, 0);
  imp_ob_visibility(t);
  expire_held(t); /* before the chores: its removal is one */
  if (emit_chore()) return IMP_OK;
  if (imp_ob.consent == IMP_CONSENT_DENIED) {
    imp_ob_cut(t);
    if (!imp_ob.purge) return IMP_NONE;
    imp_ob.purge = 0;
    set_action(IMP_ACT_PURGE, 0, 0, 0, 0);
    return IMP_OK;
  }
  if (timeout_action(t, jitter)) return IMP_OK;
  if (imp_ob.rescan_at >= 0.0 && t >= imp_ob.rescan_at) {
    imp_ob.rescan_at = -1.0;
    imp_ob.want_scan = 1;
  }
  /* A scan not done timeout_ms after it was asked for waits for a lock that does not
  ** come (its holder hangs): it is given up, and the next scan takes the lock. */
  if (imp_ob.scanning && t >= imp_ob.scan_until) {
    imp_ob.scanning = 0;
    imp_ob.want_scan = 2;
  }
  imp_ob_cut(t);
  if (imp_ob.consent != IMP_CONSENT_GRANTED) return IMP_NONE;
  if (imp_ob.visible ? visible_action(t) : hidden_action(t)) return IMP_OK;
  if (later_action()) return IMP_OK;
  if (!imp_ob.visible && drop_record_action(t)) return IMP_OK;
  return IMP_NONE;
}
