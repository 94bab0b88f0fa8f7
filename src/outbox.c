/*
** outbox.c: the table of held batches: slots, the ring of chores (removals and
** cancels), the lists of requests let go at a page hide and of parked fetchLater
** registrations, and the searches over held batches (by ticket, the oldest by state).
** Cutting from the queue, losses and page visibility are in outbox_cut.c.
*/
#include "outbox_internal.h"

IMP_NEAR imp_action imp_act;
IMP_NEAR imp_outbox imp_ob;
IMP_NEAR uint8_t imp_ob_io[IMP_OB_IO_BYTES];
static ob_batch slot_table[IMP_OB_MAX_BATCHES + 1u];
static ob_chore chore_table[IMP_OB_CHORES]; /* a ring: imp_ob.chore_head, chore_count */

/*=== MARK: - Slots (Private) ===*/
void imp_ob_bind(ob_batch *b, uint8_t *slot) {
  b->data = slot;
  b->lens = (uint16_t *)(void *)(slot + IMP_OB_PREFIX_BYTES + IMP_BATCH_HARD_CAP);
}

void imp_ob_init_slots(uint8_t *mem) {
  __builtin_memset(slot_table, 0, sizeof slot_table);
  imp_ob.slots = slot_table;
  imp_ob.nslots = imp_ob.cfg.max_batches + 1u;
  for (uint32_t i = 0; i < imp_ob.nslots; i++)
    imp_ob_bind(&slot_table[i], mem + (size_t)i * IMP_OB_SLOT_BYTES);
}

int imp_ob_same(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn) {
  return an == bn && !__builtin_memcmp(a, b, an);
}

int imp_ob_tab_ok(const uint8_t *s, uint32_t n) {
  if (n < 1u || n > IMP_OB_TAB_BYTES) return 0;
  for (uint32_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z'))) return 0;
  return 1;
}

/* A free slot, or NULL. While the page measures, the spare slot stays free, so the
** hand-off at a page hide can cut what is queued even with every other slot used. */
ob_batch *imp_ob_alloc(void) {
  ob_batch *end = imp_ob.slots + (imp_ob.visible ? imp_ob.cfg.max_batches : imp_ob.nslots);
  for (ob_batch *b = imp_ob.slots; b < end; b++) {
    if (b->state != OB_FREE) continue;
    uint8_t *data = b->data;
    __builtin_memset(b, 0, sizeof *b);
    imp_ob_bind(b, data);
    b->id = ++imp_ob.next_id;
    b->state = OB_IDLE;
    return b;
  }
  return 0;
}

/* The held batch after b in slot order (the first when b is NULL); NULL after the last. */
ob_batch *imp_ob_next_held(ob_batch *b) {
  for (b = b ? b + 1 : imp_ob.slots; b < imp_ob.slots + imp_ob.nslots; b++)
    if (b->state != OB_FREE) return b;
  return 0;
}

/* The oldest removal or cancel waiting, taken off the ring; NULL when none. */
const ob_chore *imp_ob_take_chore(void) {
  if (!imp_ob.chore_count) return 0;
  const ob_chore *c = &chore_table[imp_ob.chore_head];
  imp_ob.chore_head = (imp_ob.chore_head + 1u) % IMP_OB_CHORES;
  imp_ob.chore_count--;
  return c;
}

void imp_ob_chore(uint32_t kind, uint32_t ticket, const uint8_t *key, uint32_t key_len) {
  if (imp_ob.chore_count == IMP_OB_CHORES) /* cannot happen with the sizes above */
    imp_ob_take_chore();
  ob_chore *c = &chore_table[(imp_ob.chore_head + imp_ob.chore_count++) % IMP_OB_CHORES];
  c->kind = kind;
  c->ticket = ticket;
  c->key_len = key_len;
  if (key_len) __builtin_memcpy(c->key, key, key_len);
}

/* Cancels b's fetchLater copy, if it has one. */
void imp_ob_cancel_later(ob_batch *b) {
  if (!b->later_ticket) return;
  imp_ob_chore(IMP_ACT_CANCEL, b->later_ticket, 0, 0);
  imp_ob.later_used -= b->later_bytes;
  b->later_ticket = 0;
}

/* Removes b's stored copy (written, or being written); b stays as it is held. */
void imp_ob_remove_record(ob_batch *b) {
  imp_ob_chore(IMP_ACT_REMOVE, 0, b->key, b->key_len);
  b->flags &= ~(uint32_t)(OB_STORED | OB_CLAIM | OB_RELEASE | OB_UNCONFIRMED); /* ours alone */
  b->key_len = 0;
}

/* Forgets a batch: its stored copy is removed and its fetchLater copy cancelled. */
void imp_ob_free(ob_batch *b) {
  if (b->flags & (OB_STORED | OB_STORING)) imp_ob_remove_record(b);
  imp_ob_cancel_later(b);
  b->state = OB_FREE;
  if (imp_ob.scan_on_free) {
    imp_ob.scan_on_free = 0;
    imp_ob.want_scan = 1;
  }
}

/* Adds to a list of outstanding requests (the oldest dropped when full: a request
** let go, answered then without a removal; the parked list never fills, see below). */
static void remember(ob_gone *list, uint32_t *n, uint32_t ticket, uint32_t bytes,
                     const ob_batch *b) {
  if (*n == IMP_OB_GONE) __builtin_memmove(list, list + 1, sizeof *list * --*n);
  ob_gone *g = &list[(*n)++];
  g->ticket = ticket;
  g->bytes = bytes;
  g->events = b->events;
  g->key_len = b->key_len;
  __builtin_memcpy(g->key, b->key, b->key_len);
}

/* Lets a batch go to storage (released for any tab): nothing is removed, and its
** fetchLater registration stays with the browser (parked), unless the list is full:
** then it is cancelled (its record is stored, safe from a crash), so no registration
** is left that nothing would cancel. */
void imp_ob_let_go(ob_batch *b) {
  if (imp_ob.parked_n == IMP_OB_GONE) imp_ob_cancel_later(b);
  if (b->later_ticket) remember(imp_ob.parked, &imp_ob.parked_n, b->later_ticket, b->later_bytes, b);
  b->state = OB_FREE;
}

/* Cancels every parked registration: after a scan, those whose record it did not take
** back (another tab did, or it was delivered and removed; one it left is stored, so
** safe from a crash), which nothing would ever cancel otherwise. */
void imp_ob_cancel_parked(void) {
  for (const ob_gone *g = imp_ob.parked; g < imp_ob.parked + imp_ob.parked_n; g++) {
    imp_ob_chore(IMP_ACT_CANCEL, g->ticket, 0, 0);
    imp_ob.later_used -= g->bytes;
  }
  imp_ob.parked_n = 0;
}

/* A scan took the record `key` (adopted as b, or removed and counted): a request let
** go with it no longer stands for it, and its parked registration, if any, leaves
** the list for b (b's own fetchLater copy from then on). */
void imp_ob_unpark(const uint8_t *key, uint32_t key_len, ob_batch *b) {
  for (ob_gone *g = imp_ob.gone; g < imp_ob.gone + imp_ob.gone_n; g++)
    if (imp_ob_same(g->key, g->key_len, key, key_len)) g->key_len = 0;
  for (ob_gone *g = imp_ob.parked; g < imp_ob.parked + imp_ob.parked_n; g++) {
    if (!imp_ob_same(g->key, g->key_len, key, key_len)) continue;
    b->later_ticket = g->ticket;
    b->later_bytes = g->bytes;
    *g = imp_ob.parked[--imp_ob.parked_n];
    return;
  }
}

/* The held batch awaiting `ticket` as `what`: its request in that state (OB_FETCH,
** OB_BEACON), its storage write (OB_STORING) or its fetchLater registration (0). */
ob_batch *imp_ob_by_ticket(uint32_t ticket, uint32_t what) {
  if (!ticket) return 0;
  OB_EACH_HELD(b) {
    uint32_t awaited = what == OB_STORING ? ((b->flags & OB_STORING) ? b->store_ticket : 0u)
                       : what             ? (b->state == what ? b->ticket : 0u)
                                          : b->later_ticket;
    if (awaited == ticket) return b;
  }
  return 0;
}

/* The oldest held batch (lowest id) in one of `states` (bits 1 << state) with every
** flag of `want` and none of `skip`, or NULL. */
ob_batch *imp_ob_oldest(uint32_t states, uint32_t want, uint32_t skip) {
  ob_batch *best = 0;
  OB_EACH_HELD(b) {
    if ((states >> b->state & 1u) && (b->flags & (want | skip)) == want &&
        (!best || b->id < best->id))
      best = b;
  }
  return best;
}

double imp_ob_wall(double t) { return imp_ob.epoch_ms + t; }

/* Keepalive bytes left for a beacon: the budget less fetches in flight and the
** beacons of this hide. */
uint32_t imp_ob_beacon_room(void) {
  uint32_t used = imp_ob.inflight_bytes + imp_ob.beacon_bytes;
  return used >= imp_ob.cfg.keepalive_bytes ? 0u : imp_ob.cfg.keepalive_bytes - used;
}

/* b's request goes on without b (ob_gone). While `stands`, its 2xx removes b's record
** and counts its events delivered; else its answer only ends it. */
void imp_ob_gone_in_flight(const ob_batch *b, int stands) {
  if (imp_ob.gone_n == IMP_OB_GONE) imp_ob.inflight_bytes -= imp_ob.gone[0].bytes;
  remember(imp_ob.gone, &imp_ob.gone_n, b->ticket, b->sent_bytes, b);
  if (!stands) imp_ob.gone[imp_ob.gone_n - 1u].key_len = 0;
}

/* The answer to a request let go at a page hide. Delivered, its record goes and its
** events count as delivered, unless a scan took the record since (imp_ob_unpark: its
** batch, or its count, stands for them then). A request that carried a part leaves
** the record, which sends that part again: its events count then. */
int imp_ob_gone_answer(uint32_t ticket, int32_t status) {
  for (ob_gone *g = imp_ob.gone; g < imp_ob.gone + imp_ob.gone_n; g++) {
    if (g->ticket != ticket) continue;
    imp_ob.inflight_bytes -= g->bytes;
    if (imp_ob_classify(status) == OB_OK && g->key_len) {
      imp_act.delivered = imp_add_sat(imp_act.delivered, g->events);
      imp_ob_chore(IMP_ACT_REMOVE, 0, g->key, g->key_len);
    }
    *g = imp_ob.gone[--imp_ob.gone_n];
    return 1;
  }
  return 0;
}
