/*
** ids.c: where the bytes of item ids and list ids live.
**
** Item ids (1 to 128 bytes, most about 10: "gig-123456") live in the id heap,
** IMP_ID_HEAP_PER_ITEM bytes per slot (IMP_ID_HEAP_MIN at least, so that a small
** table holds any ids), as records of a 3-byte header (length, slot)
** and the bytes; an item holds where its bytes start. A new id goes at the end; the
** record of an item that is freed stays as garbage until the end is reached, and then
** one pass slides the records still held to the front (a record is held when its
** slot's item still points at it), so the heap is full only when the ids of the items
** with a slot need all of it: with ids of 29 bytes or less, never.
**
** List ids are few per page ("search", "featured") and shared by many items: each
** lives once in the list table, an item holds its entry's number, and an entry no item
** holds is free again (its bytes stay until another list takes it, so an item that
** gives its list back and takes it again finds the same entry). The table has
** max_items / 16 entries, at least min(16, max_items), so it is full only when that
** many different lists are held at once.
**
** Both are carved from the arena at start and bounded: when the heap or the table has
** no room, the registry frees released items to make some, and registration fails with
** IMP_ERR_FULL when none is left to free (registry.c).
*/
#include "imp_internal.h"

#define HEADER 3u /* a record: id length, slot (16 bits, little-endian), the bytes */

static uint32_t list_capacity(uint32_t max_items) {
  uint32_t cap = max_items / 16u;
  uint32_t least = max_items < 16u ? max_items : 16u;
  return cap > least ? cap : least;
}

static uint32_t heap_capacity(uint32_t max_items) {
  uint32_t bytes = max_items * IMP_ID_HEAP_PER_ITEM;
  return bytes > IMP_ID_HEAP_MIN ? bytes : IMP_ID_HEAP_MIN;
}

size_t imp_ids_bytes(uint32_t max_items) {
  return (size_t)list_capacity(max_items) * sizeof(imp_list) + heap_capacity(max_items);
}

void imp_ids_init(uint8_t *mem) {
  imp_g.lists = (imp_list *)(void *)mem;
  imp_g.list_cap = list_capacity(imp_g.cfg.max_items);
  imp_g.list_used = imp_g.list_last = 0;
  imp_g.id_heap = mem + (size_t)imp_g.list_cap * sizeof(imp_list);
  imp_g.id_cap = heap_capacity(imp_g.cfg.max_items);
  imp_g.id_end = imp_g.id_live = 0;
}

/*=== MARK: - Lists (Private) ===*/
static int list_is(uint32_t e, const uint8_t *list, uint32_t len) {
  const imp_list *l = &imp_g.lists[e];
  return l->len == len && __builtin_memcmp(l->bytes, list, len) == 0;
}

/* The entry that holds list, or IMP_NIL. */
static uint32_t list_find(const uint8_t *list, uint32_t len) {
  if (imp_g.list_last < imp_g.list_used && list_is(imp_g.list_last, list, len))
    return imp_g.list_last;
  for (uint32_t e = 0; e < imp_g.list_used; e++)
    if (list_is(e, list, len)) return imp_g.list_last = e;
  return IMP_NIL;
}

/* An entry no item holds (its old list is forgotten), or IMP_NIL. */
static uint32_t list_free_entry(void) {
  for (uint32_t e = 0; e < imp_g.list_used; e++)
    if (imp_g.lists[e].refs == 0) return e;
  return imp_g.list_used < imp_g.list_cap ? imp_g.list_used : IMP_NIL;
}

static void list_drop(imp_item *it) {
  if (it->list) imp_g.lists[it->list - 1u].refs--;
  it->list = 0;
}

/* Gives it the list (none when list_len is 0); 0, and no change, when the table is full. */
int imp_ids_set_list(imp_item *it, const uint8_t *list, uint32_t list_len) {
  const imp_list *held = imp_item_list(it);
  if (held && list_is((uint32_t)(held - imp_g.lists), list, list_len)) return 1;
  uint16_t old = it->list;
  list_drop(it); /* its entry may be the one the new list takes */
  if (list_len == 0) return 1;
  uint32_t e = list_find(list, list_len);
  if (e == IMP_NIL && (e = list_free_entry()) != IMP_NIL) {
    if (e == imp_g.list_used) imp_g.list_used++;
    imp_g.lists[e].len = (uint8_t)list_len;
    __builtin_memcpy(imp_g.lists[e].bytes, list, list_len);
  }
  if (e == IMP_NIL) { /* full: it keeps the list it had */
    if (old) imp_g.lists[old - 1u].refs++;
    it->list = old;
    return 0;
  }
  imp_g.lists[e].refs++;
  it->list = (uint16_t)(e + 1u);
  return 1;
}

/*=== MARK: - Item ids (Private) ===*/
/* Slides the records items still hold to the front of the heap, in order. */
static void compact_heap(void) {
  uint8_t *heap = imp_g.id_heap;
  uint32_t to = 0;
  for (uint32_t at = 0; at < imp_g.id_end;) {
    uint32_t len = heap[at], slot = heap[at + 1u] | (uint32_t)heap[at + 2u] << 8;
    imp_item *it = &imp_g.items[slot];
    if ((it->flags & IMP_ITEM_USED) && it->id_at == at + HEADER) {
      __builtin_memmove(heap + to, heap + at, HEADER + len);
      it->id_at = to + HEADER;
      to += HEADER + len;
    }
    at += HEADER + len;
  }
  imp_g.id_end = to;
}

/* Whether a new item with these ids would find room for its id and its list. */
int imp_ids_room(uint32_t id_len, const uint8_t *list, uint32_t list_len) {
  if (imp_g.id_live + HEADER + id_len > imp_g.id_cap) return 0;
  return list_len == 0 || list_find(list, list_len) != IMP_NIL || list_free_entry() != IMP_NIL;
}

void imp_ids_set_id(uint32_t slot, const uint8_t *id, uint32_t id_len) {
  if (imp_g.id_end + HEADER + id_len > imp_g.id_cap) compact_heap();
  uint8_t *record = imp_g.id_heap + imp_g.id_end;
  record[0] = (uint8_t)id_len;
  record[1] = (uint8_t)slot;
  record[2] = (uint8_t)(slot >> 8);
  __builtin_memcpy(record + HEADER, id, id_len);
  imp_g.items[slot].id_len = (uint8_t)id_len;
  imp_g.items[slot].id_at = imp_g.id_end + HEADER;
  imp_g.id_end += HEADER + id_len;
  imp_g.id_live += HEADER + id_len;
}

void imp_ids_free(imp_item *it) {
  imp_g.id_live -= HEADER + it->id_len;
  list_drop(it);
}
