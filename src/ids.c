/*
** ids.c: where the bytes of item ids and list ids live.
**
** An item's id (1 to 128 bytes, most about 10: "gig-123456") and its list id (0 to 64
** bytes) live in the id heap, IMP_ID_HEAP_PER_ITEM bytes per slot (IMP_ID_HEAP_MIN at
** least, so that a small table holds any ids), as one record: a 4-byte header (the two
** lengths, the slot) and the bytes. An item holds where its record starts. A new
** record goes at the end; the record of an item freed or given another list stays as
** garbage until the end is reached, and then one pass slides the records still held
** to the front (a record is held when its slot's item points at it). So the heap is
** full only when the ids of the items with a slot need all of it: with an id and a
** list of 36 bytes together, never.
**
** When the heap has no room, the registry frees released items to make some, and
** registration fails with IMP_ERR_FULL when none is left to free (registry.c).
*/
#include "imp_internal.h"

static uint32_t heap_capacity(uint32_t max_items) {
  uint32_t bytes = max_items * IMP_ID_HEAP_PER_ITEM;
  return bytes > IMP_ID_HEAP_MIN ? bytes : IMP_ID_HEAP_MIN;
}

size_t imp_ids_bytes(uint32_t max_items) { return heap_capacity(max_items); }

void imp_ids_init(uint8_t *mem) {
  imp_g.id_heap = mem;
  imp_g.id_cap = heap_capacity(imp_g.cfg.max_items);
}

static uint32_t record_bytes(uint32_t id_len, uint32_t list_len) {
  return IMP_ID_HEADER + id_len + list_len;
}

/* Slides the records items still hold to the front of the heap, in order. */
static void compact_heap(void) {
  uint8_t *heap = imp_g.id_heap;
  uint32_t to = 0;
  for (uint32_t at = 0; at < imp_g.id_end;) {
    uint32_t n = record_bytes(heap[at], heap[at + 1u]);
    imp_item *it = &imp_g.items[heap[at + 2u] | (uint32_t)heap[at + 3u] << 8];
    if ((it->flags & IMP_ITEM_USED) && it->id_at == at) {
      __builtin_memmove(heap + to, heap + at, n);
      it->id_at = to;
      to += n;
    }
    at += n;
  }
  imp_g.id_end = to;
}

/* Whether the heap has room for these ids, once the record `it` holds is given back. */
int imp_ids_room(const imp_item *it, uint32_t id_len, uint32_t list_len) {
  uint32_t held = it ? record_bytes(it->id_len, it->list_len) : 0u;
  return imp_g.id_live - held + record_bytes(id_len, list_len) <= imp_g.id_cap;
}

int imp_ids_same_list(const imp_item *it, const uint8_t *list, uint32_t list_len) {
  return it->list_len == list_len && __builtin_memcmp(imp_item_list(it), list, list_len) == 0;
}

void imp_ids_free(const imp_item *it) { imp_g.id_live -= record_bytes(it->id_len, it->list_len); }

/* Writes the item's record; any record it held before becomes garbage. */
void imp_ids_set(uint32_t slot, const uint8_t *id, uint32_t id_len, const uint8_t *list,
                 uint32_t list_len) {
  imp_item *it = &imp_g.items[slot];
  uint32_t n = record_bytes(id_len, list_len);
  if (it->id_len) imp_ids_free(it);
  it->id_len = 0; /* its old record is garbage from now on */
  it->id_at = IMP_NIL;
  if (imp_g.id_end + n > imp_g.id_cap) compact_heap();
  uint8_t *record = imp_g.id_heap + imp_g.id_end;
  record[0] = (uint8_t)id_len;
  record[1] = (uint8_t)list_len;
  record[2] = (uint8_t)slot;
  record[3] = (uint8_t)(slot >> 8);
  __builtin_memcpy(record + IMP_ID_HEADER, id, id_len);
  __builtin_memcpy(record + IMP_ID_HEADER + id_len, list, list_len);
  it->id_at = imp_g.id_end;
  it->id_len = (uint8_t)id_len;
  it->list_len = (uint8_t)list_len;
  imp_g.id_end += n;
  imp_g.id_live += n;
}
