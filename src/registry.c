/*
** registry.c: item ids <-> slots.
**
** An item is known by its id (the card's data-gig-id), never by its DOM node: a
** recycled node registered again with the same id finds the same slot and so the
** same state; a node whose id changes is simply another item. Slots are stable
** for as long as the item lives, so the glue can keep element -> slot.
**
** Lookup is an open-addressing hash table with linear probing (the high half of the
** id's 64-bit FNV-1a hash, the seen set's key; capacity a power of two at least twice
** max_items, so probes stay short) holding slot + 1.
** Deletion shifts later entries back instead of leaving tombstones, so the table
** never degrades. Items are freed in two cases only: released items at the start of
** a new page view, and, when the table is full, the item released longest ago is
** reused. Its page-view state is saved in the seen set first (seen.c) and comes back
** when its id registers again; an item whose state the full seen set cannot take is
** skipped. Released items form a list in release order (through the timer links,
** which a released item does not use), so the oldest is found without a scan. The
** same reuse makes room in the id heap (ids.c) when an item's ids find none there.
**
** Slots, links and hash entries are 16 bits (max_items is at most 65535).
*/
#include "imp_internal.h"

/* The high half of the id's 64-bit hash (seen.c), as the seen set uses it. */
static uint32_t hash_id(const uint8_t *s, uint32_t n) { return (uint32_t)(imp_hash64(s, n) >> 32); }

static uint32_t hash_capacity(uint32_t max_items) {
  uint32_t cap = 8;
  while (cap < 2u * max_items) cap <<= 1;
  return cap;
}

/* The item table, the hash, the free stack, then the ids' part (ids.c). */
size_t imp_registry_bytes(uint32_t max_items) {
  return (size_t)max_items * sizeof(imp_item) +
         imp_align8((size_t)hash_capacity(max_items) * sizeof(uint16_t) +
                    (size_t)max_items * sizeof(uint16_t)) +
         imp_ids_bytes(max_items);
}

void imp_registry_init(uint8_t *mem) {
  uint32_t max = imp_g.cfg.max_items;
  imp_g.items = (imp_item *)(void *)mem;
  mem += (size_t)max * sizeof(imp_item);
  imp_g.hash_cap = hash_capacity(max);
  imp_g.hash = (uint16_t *)(void *)mem;
  imp_g.free_slots = imp_g.hash + imp_g.hash_cap;
  mem += imp_align8((size_t)imp_g.hash_cap * sizeof(uint16_t) + (size_t)max * sizeof(uint16_t));
  imp_ids_init(mem);
  __builtin_memset(imp_g.items, 0, (size_t)max * sizeof(imp_item));
  __builtin_memset(imp_g.hash, 0, (size_t)imp_g.hash_cap * sizeof(uint16_t));
  /* Pop order gives slot 0 first: deterministic slots for traces. */
  for (uint32_t i = 0; i < max; i++) imp_g.free_slots[i] = (uint16_t)(max - 1u - i);
  imp_g.free_count = max;
  imp_g.released_head = imp_g.released_tail = IMP_LINK_NIL;
}

/* Index in the hash table of id, or of the empty entry where it would go. */
static uint32_t find(const uint8_t *id, uint32_t n) {
  uint32_t mask = imp_g.hash_cap - 1u;
  uint32_t i = hash_id(id, n) & mask;
  for (;;) {
    uint32_t e = imp_g.hash[i];
    if (e == 0) return i;
    const imp_item *it = &imp_g.items[e - 1u];
    if (it->id_len == n && __builtin_memcmp(imp_item_id(it), id, n) == 0) return i;
    i = (i + 1u) & mask;
  }
}

static uint32_t home_of(const imp_item *it, uint32_t mask) {
  return hash_id(imp_item_id(it), it->id_len) & mask;
}

static void unhash(uint32_t slot) {
  const imp_item *it = &imp_g.items[slot];
  uint32_t mask = imp_g.hash_cap - 1u;
  uint32_t i = find(imp_item_id(it), it->id_len);
  imp_g.hash[i] = 0;
  /* Backward-shift deletion: a later entry of the cluster moves into the gap when its
  ** home position does not lie cyclically in (gap, j], that is when it is at least as
  ** far from its home as from the gap. */
  for (uint32_t j = (i + 1u) & mask; imp_g.hash[j] != 0; j = (j + 1u) & mask) {
    uint32_t home = home_of(&imp_g.items[imp_g.hash[j] - 1u], mask);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      imp_g.hash[i] = imp_g.hash[j];
      imp_g.hash[j] = 0;
      i = j;
    }
  }
}

static void free_slot(uint32_t slot) {
  unhash(slot);
  imp_ids_free(&imp_g.items[slot]);
  imp_g.items[slot].flags = 0;
  imp_g.free_slots[imp_g.free_count++] = (uint16_t)slot;
  imp_g.item_count--;
}

/*=== MARK: - Lists of items (Private) ===*/
/* Items chain through timer_prev/timer_next into one list at a time: the armed
** timers (visibility.c) or the released items (below). */
void imp_list_append(uint16_t *head, uint16_t *tail, uint32_t slot) {
  imp_item *it = &imp_g.items[slot];
  it->timer_next = IMP_LINK_NIL;
  it->timer_prev = *tail;
  if (*tail != IMP_LINK_NIL) imp_g.items[*tail].timer_next = (uint16_t)slot;
  else *head = (uint16_t)slot;
  *tail = (uint16_t)slot;
}

void imp_list_unlink(uint16_t *head, uint16_t *tail, imp_item *it) {
  uint16_t prev = it->timer_prev, next = it->timer_next;
  if (prev != IMP_LINK_NIL) imp_g.items[prev].timer_next = next;
  else *head = next;
  if (next != IMP_LINK_NIL) imp_g.items[next].timer_prev = prev;
  else *tail = prev;
  it->timer_prev = it->timer_next = IMP_LINK_NIL;
}

/*=== MARK: - The released list (Private) ===*/
void imp_registry_release(uint32_t slot) {
  imp_g.items[slot].flags |= IMP_ITEM_RELEASED;
  imp_list_append(&imp_g.released_head, &imp_g.released_tail, slot);
}

static void unlink_released(imp_item *it) {
  imp_list_unlink(&imp_g.released_head, &imp_g.released_tail, it);
}

/* Frees the item released longest ago (other than slot `keep`) whose state the seen
** set can keep; 0 if none. */
static int reuse_oldest_released(uint32_t keep) {
  for (uint32_t s = imp_g.released_head; s != IMP_LINK_NIL; s = imp_g.items[s].timer_next) {
    imp_item *it = &imp_g.items[s];
    if (s == keep || !imp_seen_save(it)) continue;
    unlink_released(it);
    free_slot(s);
    return 1;
  }
  return 0;
}

/*=== MARK: - Registration (Private) ===*/
/* A known item takes its new list; released items make room in the heap if needed.
** Returns its slot, or IMP_NIL when there is no room. */
static uint32_t known_item(uint32_t s, const uint8_t *id, uint32_t id_len, const uint8_t *list,
                           uint32_t list_len) {
  imp_item *it = &imp_g.items[s];
  if (!imp_ids_same_list(it, list, list_len)) {
    while (!imp_ids_room(it, id_len, list_len))
      if (!reuse_oldest_released(s)) return IMP_NIL;
    imp_ids_set(s, id, id_len, list, list_len);
  }
  if (it->flags & IMP_ITEM_RELEASED) unlink_released(it);
  it->flags &= (uint8_t)~IMP_ITEM_RELEASED;
  return s;
}

/* A new item in a free slot; released items make room for it and its ids if needed.
** Returns its slot, or IMP_NIL when there is no room. */
static uint32_t new_item(const uint8_t *id, uint32_t id_len, const uint8_t *list,
                         uint32_t list_len) {
  while (imp_g.free_count == 0 || !imp_ids_room(0, id_len, list_len))
    if (!reuse_oldest_released(IMP_NIL)) return IMP_NIL;
  uint32_t h = find(id, id_len); /* after any reuse: the table may have changed */
  uint32_t s = imp_g.free_slots[--imp_g.free_count];
  imp_item *it = &imp_g.items[s];
  __builtin_memset(it, 0, sizeof *it);
  it->flags = IMP_ITEM_USED;
  it->timer_prev = it->timer_next = IMP_LINK_NIL;
  it->elements = IMP_NIL;
  imp_ids_set(s, id, id_len, list, list_len);
  imp_g.hash[h] = (uint16_t)(s + 1u);
  imp_g.item_count++;
  imp_seen_restore(it);
  return s;
}

uint32_t imp_registry_register(const uint8_t *id, uint32_t id_len, const uint8_t *list,
                               uint32_t list_len, uint32_t position) {
  uint32_t h = find(id, id_len);
  uint32_t slot = imp_g.hash[h] != 0 ? known_item(imp_g.hash[h] - 1u, id, id_len, list, list_len)
                                     : new_item(id, id_len, list, list_len);
  if (slot != IMP_NIL) imp_g.items[slot].position = position;
  return slot;
}

/* New page view: every released item goes, and so does the seen set; the other items
** forget what the last page view reported (imp_vis_forget). */
void imp_registry_page_view(void) {
  for (uint32_t s = 0; s < imp_g.cfg.max_items; s++) {
    imp_item *it = &imp_g.items[s];
    if (it->flags & IMP_ITEM_RELEASED) free_slot(s);
    else imp_vis_forget(it);
  }
  imp_g.released_head = imp_g.released_tail = IMP_LINK_NIL;
  imp_g.timer_head = imp_g.timer_tail = IMP_LINK_NIL;
  imp_seen_clear();
}
