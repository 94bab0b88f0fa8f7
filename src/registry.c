/*
** registry.c: item ids <-> slots.
**
** An item is known by its id (the card's data-gig-id), never by its DOM node: a
** recycled node registered again with the same id finds the same slot and so the
** same state; a node whose id changes is simply another item. Slots are stable
** for as long as the item lives, so the glue can keep element -> slot.
**
** Lookup is an open-addressing hash table with linear probing (FNV-1a, capacity a
** power of two at least twice max_items, so probes stay short) holding slot + 1.
** Deletion shifts later entries back instead of leaving tombstones, so the table
** never degrades. Items are freed in two cases only: released items at the start of
** a new page view, and, when the table is full, the item released longest ago is
** reused. Its page-view state is saved in the seen set first (seen.c) and comes back
** when its id registers again; an item whose state the full seen set cannot take is
** skipped. Released items form a list in release order (through the timer links,
** which a released item does not use), so the oldest is found without a scan.
*/
#include "imp_internal.h"

static uint32_t hash_id(const uint8_t *s, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
  return h;
}

static uint32_t hash_capacity(uint32_t max_items) {
  uint32_t cap = 8;
  while (cap < 2u * max_items) cap <<= 1;
  return cap;
}

size_t imp_registry_bytes(uint32_t max_items) {
  return (size_t)max_items * sizeof(imp_item) +
         (size_t)hash_capacity(max_items) * sizeof(uint32_t) +
         (size_t)max_items * sizeof(uint32_t);
}

void imp_registry_init(uint8_t *mem) {
  imp_g.items = (imp_item *)(void *)mem;
  mem += (size_t)imp_g.cfg.max_items * sizeof(imp_item);
  imp_g.hash_cap = hash_capacity(imp_g.cfg.max_items);
  imp_g.hash = (uint32_t *)(void *)mem;
  mem += (size_t)imp_g.hash_cap * sizeof(uint32_t);
  imp_g.free_slots = (uint32_t *)(void *)mem;
  __builtin_memset(imp_g.items, 0, (size_t)imp_g.cfg.max_items * sizeof(imp_item));
  __builtin_memset(imp_g.hash, 0, (size_t)imp_g.hash_cap * sizeof(uint32_t));
  /* Pop order gives slot 0 first: deterministic slots for traces. */
  for (uint32_t i = 0; i < imp_g.cfg.max_items; i++)
    imp_g.free_slots[i] = imp_g.cfg.max_items - 1u - i;
  imp_g.free_count = imp_g.cfg.max_items;
  imp_g.item_count = 0;
  imp_g.released_head = imp_g.released_tail = IMP_NIL;
}

/* Index in the hash table of id, or of the empty entry where it would go. */
static uint32_t find(const uint8_t *id, uint32_t n) {
  uint32_t mask = imp_g.hash_cap - 1u;
  uint32_t i = hash_id(id, n) & mask;
  for (;;) {
    uint32_t e = imp_g.hash[i];
    if (e == 0) return i;
    const imp_item *it = &imp_g.items[e - 1u];
    if (it->id_len == n && __builtin_memcmp(it->id, id, n) == 0) return i;
    i = (i + 1u) & mask;
  }
}

static void unhash(uint32_t slot) {
  const imp_item *it = &imp_g.items[slot];
  uint32_t mask = imp_g.hash_cap - 1u;
  uint32_t i = find(it->id, it->id_len);
  imp_g.hash[i] = 0;
  /* Backward-shift deletion: move later entries of the cluster into the gap when
  ** their home position does not lie cyclically in (gap, j]. */
  for (uint32_t j = (i + 1u) & mask; imp_g.hash[j] != 0; j = (j + 1u) & mask) {
    const imp_item *o = &imp_g.items[imp_g.hash[j] - 1u];
    uint32_t home = hash_id(o->id, o->id_len) & mask;
    int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      imp_g.hash[i] = imp_g.hash[j];
      imp_g.hash[j] = 0;
      i = j;
    }
  }
}

static void free_slot(uint32_t slot) {
  unhash(slot);
  imp_g.items[slot].flags = 0;
  imp_g.free_slots[imp_g.free_count++] = slot;
  imp_g.item_count--;
}

/*=== MARK: - Lists of items (Private) ===*/
/* Items chain through timer_prev/timer_next into one list at a time: the armed
** timers (visibility.c) or the released items (below). */
void imp_list_append(uint32_t *head, uint32_t *tail, uint32_t slot) {
  imp_item *it = &imp_g.items[slot];
  it->timer_next = IMP_NIL;
  it->timer_prev = *tail;
  if (*tail != IMP_NIL) imp_g.items[*tail].timer_next = slot;
  else *head = slot;
  *tail = slot;
}

void imp_list_unlink(uint32_t *head, uint32_t *tail, imp_item *it) {
  if (it->timer_prev != IMP_NIL) imp_g.items[it->timer_prev].timer_next = it->timer_next;
  else *head = it->timer_next;
  if (it->timer_next != IMP_NIL) imp_g.items[it->timer_next].timer_prev = it->timer_prev;
  else *tail = it->timer_prev;
  it->timer_prev = it->timer_next = IMP_NIL;
}

/*=== MARK: - The released list (Private) ===*/
void imp_registry_released(uint32_t slot) {
  imp_list_append(&imp_g.released_head, &imp_g.released_tail, slot);
}

static void unlink_released(imp_item *it) {
  imp_list_unlink(&imp_g.released_head, &imp_g.released_tail, it);
}

/* Frees the item released longest ago whose state the seen set can keep; 0 if none. */
static int reuse_oldest_released(void) {
  for (uint32_t s = imp_g.released_head; s != IMP_NIL; s = imp_g.items[s].timer_next) {
    imp_item *it = &imp_g.items[s];
    if (!imp_seen_save(it)) continue;
    unlink_released(it);
    free_slot(s);
    return 1;
  }
  return 0;
}

/*=== MARK: - Registration (Private) ===*/
int32_t imp_registry_register(const uint8_t *id, uint32_t id_len, const uint8_t *list,
                              uint32_t list_len, uint32_t position, uint32_t *slot) {
  uint32_t h = find(id, id_len);
  uint32_t s;
  imp_item *it;
  if (imp_g.hash[h] != 0) {
    s = imp_g.hash[h] - 1u;
    it = &imp_g.items[s];
    if (it->flags & IMP_ITEM_RELEASED) unlink_released(it);
    it->flags &= (uint8_t)~IMP_ITEM_RELEASED;
  } else {
    if (imp_g.free_count == 0) {
      if (!reuse_oldest_released()) return IMP_ERR_FULL;
      h = find(id, id_len); /* the table changed */
    }
    s = imp_g.free_slots[--imp_g.free_count];
    it = &imp_g.items[s];
    __builtin_memset(it, 0, sizeof *it);
    it->flags = IMP_ITEM_USED;
    it->timer_prev = it->timer_next = it->elements = IMP_NIL;
    it->id_len = (uint8_t)id_len;
    __builtin_memcpy(it->id, id, id_len);
    imp_g.hash[h] = s + 1u;
    imp_g.item_count++;
    imp_seen_restore(it);
  }
  it->position = position;
  it->list_len = (uint8_t)list_len;
  __builtin_memcpy(it->list, list, list_len);
  *slot = s;
  return IMP_OK;
}

/* New page view: every released item goes, and so does the seen set. */
void imp_registry_free_released(void) {
  for (uint32_t s = 0; s < imp_g.cfg.max_items; s++)
    if (imp_g.items[s].flags & IMP_ITEM_RELEASED) free_slot(s);
  imp_g.released_head = imp_g.released_tail = IMP_NIL;
  imp_seen_clear();
}
