/*
** seen.c: what the page view already reported about items whose slot was given back.
**
** The item table holds the cards near the viewport; the glue releases the others, and
** when the table is full the slot released longest ago is reused. So that a card that
** comes back later in the same page view is still counted once, the state that makes
** "once per page view" true (impression and viewable flags, first impression time,
** longest span and span count) is saved here when its slot is reused, under a 64-bit
** hash of the id, and given back when the id registers again.
**
** The set is an open-addressing hash table (linear probing, no deletion) that takes
** the part of the arena the item table, the queue, the elements and the encoder's
** tables leave (api.c, imp_start): a power of two of entries of IMP_SEEN_ENTRY_BYTES,
** at most 3/4 of them used (IMP_SEEN_LOAD). It is emptied by each new page view. Two ids with the same 64-bit hash would share one record; with
** 50,000 cards the chance of that is about 1 in 10^10. When the set is full, a slot
** whose item has reported something is not reused (the registry skips it), so a card
** is never counted twice; registration then fails with IMP_ERR_FULL.
*/
#include "imp_internal.h"

uint64_t imp_hash64(const uint8_t *s, uint32_t n) {
  uint64_t h = 14695981039346656037ull;
  for (uint32_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ull;
  return h ? h : 1u; /* 0 marks an empty entry */
}

void imp_seen_init(uint8_t *mem, size_t bytes) {
  uint32_t cap = 0;
  while ((size_t)(cap ? 2u * cap : 8u) * sizeof(imp_seen) <= bytes && cap < (1u << 24))
    cap = cap ? 2u * cap : 8u;
  imp_g.seen = (imp_seen *)(void *)mem;
  imp_g.seen_cap = cap;
  __builtin_memset(imp_g.seen, 0, (size_t)cap * sizeof(imp_seen));
}

void imp_seen_clear(void) {
  if (imp_g.seen_count == 0) return; /* already empty */
  __builtin_memset(imp_g.seen, 0, (size_t)imp_g.seen_cap * sizeof(imp_seen));
  imp_g.seen_count = 0;
}

/* The entry of key, or the empty entry where it would go; NULL for an empty set. */
static imp_seen *seen_find(uint64_t key) {
  if (!imp_g.seen_cap) return 0;
  uint32_t mask = imp_g.seen_cap - 1u;
  uint32_t i = (uint32_t)(key >> 32) & mask;
  while (imp_g.seen[i].key != 0 && imp_g.seen[i].key != key) i = (i + 1u) & mask;
  return &imp_g.seen[i];
}

static int reported(const imp_item *it) {
  return (it->flags & (IMP_ITEM_IMPRESSED | IMP_ITEM_VIEWED)) || it->spans;
}

int imp_seen_save(const imp_item *it) {
  if (!reported(it)) return 1;
  uint64_t key = imp_hash64(imp_item_id(it), it->id_len);
  imp_seen *e = seen_find(key);
  if (!e) return 0;
  if (e->key == 0) {
    if (imp_g.seen_count >= imp_g.seen_cap / 4u * IMP_SEEN_LOAD) return 0;
    e->key = key;
    imp_g.seen_count++;
  }
  e->first_seen = it->first_seen;
  e->longest_ms = it->longest_ms;
  e->spans = it->spans;
  e->flags = (uint8_t)(it->flags & (IMP_ITEM_IMPRESSED | IMP_ITEM_VIEWED));
  return 1;
}

void imp_seen_restore(imp_item *it) {
  const uint64_t key = imp_hash64(imp_item_id(it), it->id_len);
  imp_seen *e = seen_find(key);
  if (!e || e->key == 0) return;
  it->first_seen = e->first_seen;
  it->longest_ms = e->longest_ms;
  it->spans = e->spans;
  it->flags |= e->flags;
}
