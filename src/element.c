/*
** element.c: the DOM elements of each item, and which one feeds the item.
**
** A page can show one card twice (a "featured" strip and the grid): two elements,
** one item id, one item. The glue adds an element when it comes into view and gets a
** handle; the core keeps per element its ratio, its area and what IntersectionObserver
** v2 said about it since it entered view (pending, clear, covered). The item's
** geometry class is always that of its most visible element (largest ratio; the
** earliest added on a tie), so when the more visible one leaves, the other takes
** over without a gap.
**
** Cover. With config.occlusion, the glue has a v2 observer watching every element in
** view, and v2 looks at most every 100 ms: until it has looked, an element in view
** counts as covered (it can make an impression, not viewable time on a guess).
** Entering or leaving view forgets what v2 said, so a v2 entry that arrives after its
** element left changes nothing: the element is out (ratio 0 is OUT whatever v2 says)
** and counts as covered again from the moment it comes back.
** Without config.occlusion, only an explicit IMP_COVER_COVERED covers.
**
** Handles are the indexes of a table of max_items elements carved from the arena:
** handles given back form a list through `next` and are used first, then handles
** never used, in order; an item's elements form a list in the order they were added. Both are bounded like the item table: a handle is held only
** while its element is near the viewport.
*/
#include "imp_internal.h"

size_t imp_element_bytes(uint32_t max_items) { return (size_t)max_items * sizeof(imp_element); }

void imp_element_init(uint8_t *mem) {
  imp_g.elements = (imp_element *)(void *)mem;
  imp_g.element_free = IMP_NIL;
  imp_g.key_element = IMP_NIL;
}

imp_element *imp_element_live(uint32_t element) {
  if (element >= imp_g.element_fresh || imp_g.elements[element].item == IMP_NIL) return 0;
  return &imp_g.elements[element];
}

int imp_element_full(void) {
  return imp_g.element_free == IMP_NIL && imp_g.element_fresh == imp_g.cfg.max_items;
}

/* The link in the item's list of elements that holds `element` (IMP_NIL: its end). */
static uint32_t *link_to(uint32_t slot, uint32_t element) {
  uint32_t *link = &imp_g.items[slot].elements;
  while (*link != element) link = &imp_g.elements[*link].next;
  return link;
}

uint32_t imp_element_new(uint32_t slot) {
  uint32_t h = imp_g.element_free;
  if (h != IMP_NIL) imp_g.element_free = imp_g.elements[h].next;
  else h = imp_g.element_fresh++; /* never used before */
  imp_element *e = &imp_g.elements[h];
  *e = (imp_element){0.0, 0.0, slot, IMP_NIL, IMP_LOOK_PENDING};
  *link_to(slot, IMP_NIL) = h; /* appended: earliest first */
  return h;
}

/*=== MARK: - The item's class (Private) ===*/
static int covered(const imp_element *e) {
  return imp_g.cfg.occlusion ? e->look != IMP_LOOK_CLEAR : e->look == IMP_LOOK_COVERED;
}

/* Feeds the item the class of its most visible element (OUT without elements). */
static void feed_item(uint32_t slot) {
  imp_item *it = &imp_g.items[slot];
  const imp_element *best = 0;
  for (uint32_t h = it->elements; h != IMP_NIL; h = imp_g.elements[h].next)
    if (!best || imp_g.elements[h].ratio > best->ratio) best = &imp_g.elements[h];
  uint8_t geometry = best ? imp_vis_classify(best->ratio, best->area, covered(best)) : IMP_OUT;
  imp_vis_set_geometry(it, geometry);
}

void imp_element_geometry(imp_element *e, double ratio, double area) {
  if ((e->ratio > 0.0) != (ratio > 0.0)) e->look = IMP_LOOK_PENDING;
  e->ratio = ratio;
  e->area = area;
  feed_item(e->item);
}

void imp_element_look(imp_element *e, int32_t cover) {
  if (cover == IMP_COVER_OUTSIDE) return;
  e->look = cover == IMP_COVER_CLEAR ? IMP_LOOK_CLEAR : IMP_LOOK_COVERED;
  feed_item(e->item);
}

/*=== MARK: - Giving handles back (Private) ===*/
static void unlink_element(uint32_t element) {
  imp_element *e = &imp_g.elements[element];
  *link_to(e->item, element) = e->next;
  e->item = IMP_NIL;
  e->next = imp_g.element_free;
  imp_g.element_free = element;
  if (imp_g.key_element == element) imp_g.key_element = IMP_NIL;
}

void imp_element_free(uint32_t element) {
  uint32_t slot = imp_g.elements[element].item;
  unlink_element(element);
  feed_item(slot); /* OUT without elements: an open span is reported */
  if (imp_g.items[slot].elements == IMP_NIL) imp_registry_release(slot);
}
