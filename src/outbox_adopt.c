/*
** outbox_adopt.c: scans of storage, and which stored records this tab takes.
**
** A scan is wanted at start, when the page is shown again, when the network comes
** back, when a failing collector recovers, and lease_ms after a scan that found
** records of another live tab. The glue lists the tracker's records, one
** imp_outbox_found() each, then imp_outbox_scan_done(), inside the Web Lock that lets
** one tab scan at a time. A scan not done timeout_ms after it was asked for waits for
** a lock that does not come (the tab holding it hangs or is frozen): it is given up,
** and the next scan takes the lock from that tab (outbox_send.c). For each record:
**   a later format (field line I3 .. I9)         -> leave (its own tracker reads it)
**   unreadable                                   -> remove (nothing can be counted)
**   owned by another live tab                    -> leave (scan again later), also
**                                                   when held here (that tab may die)
**   already held here                            -> leave
**   older than max_age_ms                        -> remove; its events and "drop"
**                                                   are counted lost and travel
**   a drop-only record                           -> remove; its count travels
**   no free slot                                 -> leave (scan again on delivery)
**     while the records left fit a storage share (stored_events, stored_bytes) of
**     their own; beyond it (hide after hide while the collector is down) -> remove;
**     their events are counted lost
**   otherwise                                    -> adopt: held here, and the record
**                                                   is rewritten with this tab as owner
** A tab is live when the glue reported its Web Lock held during this scan, or,
** without Web Locks, while the lease written in its record runs.
**
** An adopted batch is not sent yet. Each renderer reads localStorage from its own
** copy, which another tab's writes reach by messages that the Web Locks do not wait
** for: a scan may still see a record released that another tab claimed (or removed
** after delivering it) moments before, and two tabs would send it. So a claim is
** confirmed by a scan at least IMP_OB_SETTLE_MS after it is written, when every tab's writes of
** that moment have arrived: still ours, the batch is sent; owned by another tab or
** gone, the batch is forgotten here (its record stays theirs; nothing is counted).
** Two tabs that claimed the same record both see the write that storage kept last.
** A page shown again still holds the batches whose requests were in flight at the
** hide, their released copies in storage for any tab: each is unconfirmed from the
** show, and the next scan decides: its record no live tab's, the batch claims it
** (then waits for the confirming scan, as an adopted one); a live tab's or gone, the
** batch is forgotten and its request goes on alone. A claim decided while the page is
** hidden is written when it shows, unless a scan first finds the record taken.
*/
#include "outbox_internal.h"

static ob_batch *held_here(const uint8_t *key, uint32_t key_len) {
  OB_EACH_HELD(b) {
    if (imp_ob_same(b->key, b->key_len, key, key_len)) return b;
  }
  return 0;
}

/* Another tab took b's record, or delivered and removed it: b is forgotten, its
** record left as it is. A request of b's still in flight goes on without it: its
** answer changes nothing (that tab's batch stands for those events). */
static void forget(ob_batch *b) {
  if (b->state == OB_FETCH) imp_ob_gone_in_flight(b, 0);
  b->flags &= ~(uint32_t)(OB_STORED | OB_STORING);
  imp_ob_free(b);
}

static int ours(const ob_record *r) {
  return imp_ob_same(r->owner, r->owner_len, imp_ob.tab, imp_ob.tab_len);
}

static int owner_live(double t, const ob_record *r) {
  if (!r->owner_len || ours(r)) return 0;
  if (!(imp_ob.cfg.flags & IMP_OB_LOCKS)) return r->until > imp_ob_wall(t);
  for (uint32_t i = 0; i < imp_ob.live_n; i++)
    if (imp_ob_same(imp_ob.live[i] + 1, imp_ob.live[i][0], r->owner, r->owner_len)) return 1;
  return 0;
}

/* The record's batch, parsed into `found` (a scratch slot), becomes b, with the
** record's key: held here, and claimed (rewritten with this tab as owner). */
static void adopt(ob_batch *b, const ob_batch *found, const ob_record *r, const uint8_t *key,
                  uint32_t key_len) {
  uint8_t *data = b->data;
  uint32_t id = b->id;
  *b = *found;
  imp_ob_bind(b, data);
  b->id = id;
  b->state = OB_IDLE;
  __builtin_memcpy(b->data, found->data, IMP_OB_SLOT_BYTES); /* prefix, events, lengths */
  __builtin_memcpy(b->key, key, key_len);
  b->key_len = key_len;
  b->stored_n = found->events;
  b->stored_len = 0; /* another tab's share until it is rewritten as ours */
  b->flags = OB_STORED | OB_CLAIM | OB_WANT_STORE | OB_UNCONFIRMED | OB_CHECK |
             (r->attempted ? OB_ATTEMPTED : 0u);
}

uint32_t imp_ob_found(double t, const uint8_t *key, uint32_t key_len, const uint8_t *value,
                      uint32_t value_len) {
  static IMP_NEAR ob_record r;
  static IMP_NEAR ob_batch found;
  static _Alignas(8) uint8_t found_slot[IMP_OB_SLOT_BYTES];
  if (key_len < 3u || __builtin_memcmp(key, "q:", 2) ||
      (value_len > 1u && value[0] == 'I' && value[1] > '2' && value[1] <= '9'))
    return IMP_FOUND_LEFT; /* (I3..I9: a later format, which the tracker that wrote it reads) */
  __builtin_memset(&found, 0, sizeof found);
  imp_ob_bind(&found, found_slot);
  int readable = imp_ob_parse_record(value, value_len, &r, &found);
  /* Another live tab's record: scanned again after its lease, also when a copy of it
  ** is held here (that tab may die with it, and a forgotten copy's record is no one's). */
  int live = readable && owner_live(t, &r);
  if (live) imp_ob.rescan_at = imp_earliest(imp_ob.rescan_at, t + imp_ob.cfg.lease_ms);
  ob_batch *held = held_here(key, key_len);
  if (held) {
    /* its claim stands, or its released copy is no live tab's: free to take back */
    if (readable && (ours(&r) || ((held->flags & (OB_RELEASE | OB_CLAIM)) && !live)))
      held->flags |= OB_CHECK;
    return IMP_FOUND_LEFT;
  }
  if (!readable) return IMP_FOUND_REMOVE;
  if (live) return IMP_FOUND_LEFT;
  ob_batch *b = 0;
  int expired = found.events == 0 || imp_ob_wall(t) - r.created > imp_ob.cfg.max_age_ms;
  if (!expired && !(b = imp_ob_alloc())) {
    uint32_t events = imp_ob.left_events + found.events;
    uint32_t bytes = imp_ob.left_bytes + key_len + value_len;
    expired = !imp_ob_share_fits(events, bytes);
    if (!expired) {
      imp_ob.left_events = events;
      imp_ob.left_bytes = bytes;
      imp_ob.scan_on_free = 1;
      return IMP_FOUND_LEFT;
    }
  }
  imp_ob_unpark(key, key_len, &found);
  if (expired) { /* counted lost: its deferred copy must not be sent */
    imp_ob_cancel_later(&found);
    imp_ob_lose(found.events, found.drop, found.data, found.prefix_len);
    return IMP_FOUND_REMOVE;
  }
  adopt(b, &found, &r, key, key_len);
  return IMP_FOUND_ADOPTED;
}

/* The batches due for their check, when the scan found their record standing: a
** claim is confirmed; a released copy (no live tab's) is claimed (rewritten as ours),
** and confirmed by a scan IMP_OB_SETTLE_MS after that. Not found standing, they are
** forgotten; so is a claim not written yet (decided while the page was hidden, when
** nothing is written) whose record this scan found another live tab's, or gone. */
void imp_ob_scan_done(double t) {
  imp_ob.scanning = 0;
  OB_EACH_HELD(b) {
    if ((b->flags & (OB_UNCONFIRMED | OB_CLAIM)) == OB_UNCONFIRMED && t >= b->confirm_at) {
      if (!(b->flags & OB_CHECK)) forget(b);
      else if (b->flags & OB_RELEASE)
        b->flags = (b->flags & ~(uint32_t)OB_RELEASE) | OB_CLAIM | OB_WANT_STORE;
      else b->flags &= ~(uint32_t)OB_UNCONFIRMED;
    } else if ((b->flags & (OB_CLAIM | OB_STORING | OB_CHECK)) == OB_CLAIM) {
      forget(b); /* its claim not written yet, and its record taken or gone meanwhile */
    }
    b->flags &= ~(uint32_t)OB_CHECK;
  }
  imp_ob_cancel_parked();
}
