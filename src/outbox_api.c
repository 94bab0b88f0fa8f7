/*
** outbox_api.c: the exported functions of the outbox, and the only file that
** defines them.
**
** As in api.c, each function checks every argument before touching state (a bad
** call changes nothing and returns a named status; imp_outbox_start() alone stops
** the outbox first, so a refused start leaves it stopped), never lets time go
** backwards, forwards to the modules, and refreshes the action record: the counters
** and the one deadline at which the glue calls imp_outbox_next() again (the core's
** own deadlines included, so the glue needs a single timer).
*/
#include "outbox_internal.h"

static _Alignas(8) uint8_t ob_arena[IMP_OB_ARENA_BYTES];

/* The defaults, and the record the glue edits before imp_outbox_start(). */
static imp_outbox_config config = {
    5000.0, 30000.0, 86400000.0, 1000.0, 60000.0, 3600000.0,
    16u, 16384u, 49152u, 49152u, 5000u, 524288u,
    IMP_CONSENT_GRANTED, IMP_OB_BEACON | IMP_OB_STORAGE | IMP_OB_ONLINE};

/*=== MARK: - Helpers (Private) ===*/
static int ob_take_time(double t) {
  if (!imp_nonneg(t)) return 0;
  if (t > imp_g.now) imp_g.now = t;
  return 1;
}

/* A random number for jitter: in [0, 1). */
static int jitter_ok(double jitter) { return jitter >= 0.0 && jitter < 1.0; }

static int running(void) { return imp_g.started && imp_ob.started; }

/* Refreshes the action record: the counters, and the one deadline at which the glue
** calls imp_outbox_next() again (the core's own deadlines included). */
static int32_t ob_done(int32_t status) {
  double d = imp_earliest(imp_ob.rescan_at, imp_vis_next_deadline());
  if (imp_ob.scanning) d = imp_earliest(d, imp_ob.scan_until);
  /* A lease is renewed only when a write can be made: shown, storage usable, consent
  ** granted (else its deadline, once due, would call the glue back at once, again
  ** and again, with nothing to do). Each is 0 or 1, and GRANTED the one odd consent. */
  int renewing = imp_ob.visible & imp_ob.storage_ok & imp_ob.consent;
  int idle = 0;
  uint32_t batches = 0, in_slots = 0, events = 0, stored = 0, inflight = 0;
  OB_EACH_HELD(b) {
    in_slots += b < imp_ob.slots + imp_ob.cfg.max_batches; /* not the spare slot */
    idle |= b->state == OB_IDLE;
    batches++;
    events += b->events;
    if (b->flags & OB_STORED) stored += b->stored_n;
    if (b->state == OB_FETCH) {
      inflight += b->part;
      d = imp_earliest(d, b->sent_at + imp_ob.cfg.timeout_ms);
    }
    if (renewing && (b->flags & OB_STORED) && !(b->flags & OB_RELEASE))
      d = imp_earliest(d, b->renew_at);
  }
  if (in_slots < imp_ob.cfg.max_batches) d = imp_earliest(d, imp_queue_deadline()); /* room */
  if (idle && imp_ob.visible && imp_ob.online && imp_ob.retry_at > imp_g.now)
    d = imp_earliest(d, imp_ob.retry_at);
  imp_act.deadline = d;
  imp_act.held_batches = batches;
  imp_act.held_events = events;
  imp_act.stored_events = stored;
  imp_act.failures = imp_ob.failures;
  imp_act.inflight_events = inflight;
  return imp_done(status); /* the core's counters too: the outbox cuts from its queue */
}

/*=== MARK: - Accessors (Public) ===*/
IMP_API imp_outbox_config *imp_outbox_config_ptr(void) { return &config; }
IMP_API imp_action *imp_outbox_action_ptr(void) { return &imp_act; }
IMP_API uint8_t *imp_outbox_io_ptr(void) { return imp_ob_io; }

/*=== MARK: - Start-up (Public) ===*/
static int config_ok(const imp_outbox_config *c) {
  /* backoff_max_ms: finite and >= backoff_base_ms (so positive) */
  return imp_positive(c->timeout_ms) && imp_positive(c->lease_ms) && imp_positive(c->max_age_ms) &&
         imp_positive(c->backoff_base_ms) && imp_nonneg(c->backoff_max_ms - c->backoff_base_ms) &&
         imp_nonneg(c->retry_after_max_ms) &&
         c->max_batches - 1u < IMP_OB_MAX_BATCHES &&
         c->body_bytes - IMP_BATCH_MIN_CAP <= IMP_BATCH_HARD_CAP - IMP_BATCH_MIN_CAP &&
         c->keepalive_bytes >= c->body_bytes && c->keepalive_bytes <= 65536u &&
         c->later_bytes <= 65536u && c->stored_events >= 1u && c->stored_bytes >= 4096u &&
         c->consent <= IMP_CONSENT_DENIED && c->flags <= 31u;
}

IMP_API int32_t imp_outbox_start(double t, double epoch_ms, uint32_t tab_len) {
  imp_ob.started = 0;
  if (!imp_g.started) return IMP_ERR_STATE;
  if (!imp_nonneg(t) || !imp_nonneg(epoch_ms) || !imp_ob_tab_ok(imp_ob_io, tab_len)) return IMP_ERR_ARG;
  if (!config_ok(&config)) return IMP_ERR_CONFIG;
  if ((size_t)(config.max_batches + 1u) * IMP_OB_SLOT_BYTES > IMP_OB_ARENA_BYTES)
    return IMP_ERR_MEMORY;
  ob_take_time(t);
  __builtin_memset(&imp_ob, 0, sizeof imp_ob);
  __builtin_memset(&imp_act, 0, sizeof imp_act);
  imp_ob.cfg = config;
  imp_ob_init_slots(ob_arena);
  imp_ob.epoch_ms = epoch_ms;
  imp_ob.tab_len = tab_len;
  __builtin_memcpy(imp_ob.tab, imp_ob_io, tab_len);
  imp_ob.online = (config.flags & IMP_OB_ONLINE) != 0;
  imp_ob.consent = (int)config.consent;
  imp_ob.storage_ok = 1;
  imp_ob.visible = imp_vis_measuring();
  imp_ob.want_scan = 1;
  imp_ob.rescan_at = -1.0;
  if (imp_ob.consent == IMP_CONSENT_DENIED) imp_ob_purge();
  imp_ob.started = 1;
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_next(double t, double jitter) {
  if (!running()) return IMP_ERR_STATE;
  if (!jitter_ok(jitter) || !ob_take_time(t)) return IMP_ERR_ARG;
  imp_vis_advance(imp_g.now);
  return ob_done(imp_ob_next_action(imp_g.now, jitter));
}

/* Cuts every queued event into batches now, as far as free slots allow (the rest
** waits for the next cut); the next imp_outbox_next() sends them. */
IMP_API int32_t imp_outbox_flush(double t) {
  if (!running()) return IMP_ERR_STATE;
  if (!ob_take_time(t)) return IMP_ERR_ARG;
  imp_vis_advance(imp_g.now);
  imp_ob.flushing = 1;
  imp_ob_cut(imp_g.now);
  imp_ob.flushing = 0;
  return ob_done(IMP_OK);
}

/*=== MARK: - Outcomes (Public) ===*/
IMP_API int32_t imp_outbox_response(double t, uint32_t ticket, int32_t status,
                                    double retry_after_ms, double jitter) {
  if (!running()) return IMP_ERR_STATE;
  if (status < 0 || status > 999 || !jitter_ok(jitter) ||
      !(retry_after_ms == -1.0 || imp_nonneg(retry_after_ms)) || !ob_take_time(t))
    return IMP_ERR_ARG;
  ob_batch *b = imp_ob_by_ticket(ticket, OB_FETCH);
  if (!b) return ob_done(imp_ob_gone_answer(ticket, status) ? IMP_OK : IMP_NONE);
  imp_ob_response(imp_g.now, b, status, retry_after_ms, jitter);
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_beacon(double t, uint32_t ticket, int32_t outcome) {
  if (!running()) return IMP_ERR_STATE;
  if (outcome < IMP_BEACON_REFUSED || outcome > IMP_BEACON_THREW || !ob_take_time(t))
    return IMP_ERR_ARG;
  ob_batch *b = imp_ob_by_ticket(ticket, OB_BEACON);
  if (!b) return ob_done(IMP_NONE);
  imp_ob_beacon_outcome(imp_g.now, b, outcome);
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_later(double t, uint32_t ticket, int32_t ok) {
  if (!running()) return IMP_ERR_STATE;
  if ((ok != 0 && ok != 1) || !ob_take_time(t)) return IMP_ERR_ARG;
  ob_batch *b = imp_ob_by_ticket(ticket, 0);
  if (!b) return ob_done(IMP_NONE);
  if (!ok) {
    imp_ob.later_used -= b->later_bytes;
    b->later_ticket = 0;
    b->flags |= OB_LATER_NO;
  }
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_stored(double t, uint32_t ticket, int32_t outcome) {
  if (!running()) return IMP_ERR_STATE;
  if (outcome < IMP_STORE_OK || outcome > IMP_STORE_THREW || !ob_take_time(t))
    return IMP_ERR_ARG;
  if (ticket && ticket == imp_ob.drop_ticket) { /* the drop-only record */
    if (outcome == IMP_STORE_OK)
      imp_g.drop_pending -= imp_ob.drop_record < imp_g.drop_pending ? imp_ob.drop_record
                                                                     : imp_g.drop_pending;
    else
      imp_ob.storage_ok = 0;
    imp_ob.drop_ticket = imp_ob.drop_record = 0;
    return ob_done(IMP_OK);
  }
  ob_batch *b = imp_ob_by_ticket(ticket, OB_STORING);
  if (!b) return ob_done(IMP_NONE);
  imp_ob_stored_outcome(imp_g.now, b, outcome);
  return ob_done(IMP_OK);
}

/*=== MARK: - Environment (Public) ===*/
IMP_API int32_t imp_outbox_online(double t, int32_t online) {
  if (!running()) return IMP_ERR_STATE;
  if ((online != 0 && online != 1) || !ob_take_time(t)) return IMP_ERR_ARG;
  int back = online && !imp_ob.online;
  if (back) {
    imp_ob.want_scan = 1;
    if (imp_ob.retry_at > imp_g.now) imp_ob.retry_at = imp_g.now;
  }
  OB_EACH_HELD(b) {
    if (back && !imp_ob.failures && !(b->flags & (OB_STORED | OB_STORING | OB_CLAIM)))
      b->flags &= ~(uint32_t)OB_WANT_STORE; /* sendable again: no copy needed */
    if (!online && imp_ob.visible && b->state == OB_IDLE && !(b->flags & OB_STORED))
      b->flags |= OB_WANT_STORE; /* what waits now should outlive the page */
  }
  imp_ob.online = online;
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_consent(double t, int32_t consent) {
  if (!running()) return IMP_ERR_STATE;
  if (consent < IMP_CONSENT_PENDING || consent > IMP_CONSENT_DENIED || !ob_take_time(t))
    return IMP_ERR_ARG;
  if (consent == IMP_CONSENT_DENIED && imp_ob.consent != IMP_CONSENT_DENIED) imp_ob_purge();
  /* A scan needs consent from its start to its end (what it adopts is claimed by a
  ** write, which pending would hold back while another tab claims the record too):
  ** pending or denied ends it, and granting asks for another. */
  if (consent != IMP_CONSENT_GRANTED) imp_ob.scanning = 0;
  else if (imp_ob.consent != IMP_CONSENT_GRANTED) imp_ob.want_scan = 1;
  imp_ob.consent = consent;
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_wall(double t, double epoch_ms) {
  if (!running()) return IMP_ERR_STATE;
  if (!imp_nonneg(epoch_ms) || !ob_take_time(t)) return IMP_ERR_ARG;
  imp_ob.epoch_ms = epoch_ms;
  return ob_done(IMP_OK);
}

/*=== MARK: - Scans (Public) ===*/
IMP_API int32_t imp_outbox_tab_live(double t, uint32_t tab_len) {
  if (!running() || !imp_ob.scanning) return IMP_ERR_STATE;
  if (!imp_ob_tab_ok(imp_ob_io, tab_len) || !ob_take_time(t)) return IMP_ERR_ARG;
  if (imp_ob.live_n == IMP_OB_LIVE_TABS) return ob_done(IMP_NONE);
  imp_ob.live[imp_ob.live_n][0] = (uint8_t)tab_len;
  __builtin_memcpy(imp_ob.live[imp_ob.live_n++] + 1, imp_ob_io, tab_len);
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_found(double t, uint32_t key_len, uint32_t value_len) {
  if (!running() || !imp_ob.scanning) return IMP_ERR_STATE;
  if (key_len < 1u || key_len > IMP_OB_KEY_BYTES || value_len > IMP_OB_IO_BYTES - key_len ||
      !ob_take_time(t))
    return IMP_ERR_ARG;
  imp_act.found = imp_ob_found(imp_g.now, imp_ob_io, key_len, imp_ob_io + key_len, value_len);
  return ob_done(IMP_OK);
}

IMP_API int32_t imp_outbox_scan_done(double t) {
  if (!running()) return IMP_ERR_STATE;
  if (!imp_ob.scanning) return IMP_NONE; /* ended meanwhile: consent not granted */
  if (!ob_take_time(t)) return IMP_ERR_ARG;
  imp_ob_scan_done(imp_g.now);
  return ob_done(IMP_OK);
}
