/*
** queue.c: the event queue, page view records, batch policy and batch assembly.
**
** Events are encoded to JSON when they happen (so a batch never depends on item
** state that may have changed or been reused since) and kept in a byte ring of
** queue_bytes bytes, with one small record per event in a ring of max_queue
** records. When either ring is full the oldest events are dropped and counted;
** the count goes out as "drop" in the next batch.
**
** Every event carries a sequence number unique and increasing within its page
** view, so (pv, s) identifies it exactly. Each event record points to one of the
** last IMP_PV_RING page views, whose id, path and flags make the batch header; a
** batch holds the events of one page view only. Beginning a page view whose ring
** entry still has queued events drops them (four page views without a flush).
**
** Batch policy: a batch is due when batch_events events are queued, when they
** would fill the JSON cap, when the oldest is batch_age_ms old, or when events of an
** earlier page view wait. Without compress the JSON cap is batch_bytes. With it, the
** JSON may fill the output buffer (IMP_BATCH_HARD_CAP) and batch_bytes caps the gzip
** form: a batch whose gzip is too large is cut again with half as many events
** (events leave the queue only once their batch fits). The outbox does not
** need the gzip of a whole cut batch: it asks for none, and a batch that fits even
** stored is then not compressed at all.
*/
#include "imp_internal.h"

/* Largest header: escaped pv id and path plus the fixed fields. */
#define HEADER_MAX (40u + 6u * IMP_MAX_PV_BYTES + 6u * IMP_MAX_PATH_BYTES + 40u)

size_t imp_queue_bytes(uint32_t max_queue, uint32_t queue_bytes) {
  return (size_t)max_queue * sizeof(imp_event_rec) + queue_bytes;
}

void imp_queue_init(uint8_t *mem) {
  imp_g.recs = (imp_event_rec *)(void *)mem;
  imp_g.ring = mem + (size_t)imp_g.cfg.max_queue * sizeof(imp_event_rec);
}

/* The record of the k-th oldest queued event (k = rec_count: where the next one goes). */
static imp_event_rec *rec_at(uint32_t k) {
  return &imp_g.recs[(imp_g.rec_head + k) % imp_g.cfg.max_queue];
}

static imp_event_rec *oldest(void) { return rec_at(0); }

static void pop(void) {
  imp_g.ring_head = (imp_g.ring_head + oldest()->len) % imp_g.cfg.queue_bytes;
  imp_g.ring_used -= oldest()->len;
  imp_g.rec_head = (imp_g.rec_head + 1u) % imp_g.cfg.max_queue;
  imp_g.rec_count--;
}

uint32_t imp_add_sat(uint32_t a, uint32_t b) { return a + b < a ? 0xFFFFFFFFu : a + b; }

static void count_drop(void) {
  imp_g.drop_pending = imp_add_sat(imp_g.drop_pending, 1);
  imp_g.dropped_total = imp_add_sat(imp_g.dropped_total, 1);
}

static void drop_oldest(void) {
  pop();
  count_drop();
}

/* Copies n bytes of the ring starting at offset `from` (wrapping) to dst. */
static void ring_read(uint8_t *dst, uint32_t from, uint32_t n) {
  uint32_t first = imp_g.cfg.queue_bytes - from;
  if (first > n) first = n;
  __builtin_memcpy(dst, imp_g.ring + from, first);
  __builtin_memcpy(dst + first, imp_g.ring, n - first);
}

static void ring_write(uint32_t at, const uint8_t *src, uint32_t n) {
  uint32_t first = imp_g.cfg.queue_bytes - at;
  if (first > n) first = n;
  __builtin_memcpy(imp_g.ring + at, src, first);
  __builtin_memcpy(imp_g.ring, src + first, n - first);
}

static const char type_names[][6] = {"imp", "view", "vis", "click"};

static void placement(imp_writer *w, const imp_item *it) {
  if (it->position) {
    imp_json_field(w, ",\"pos\":", it->position);
  }
  if (it->list_len) {
    imp_json_raw(w, ",\"list\":");
    imp_json_str(w, imp_item_list(it), it->list_len);
  }
}

/* a, b, c by type: imp (focused), view (-), vis (ms, max, n),
** click (focused, since, seen). */
void imp_queue_push(int type, const imp_item *it, double t, uint32_t a, uint32_t b,
                    uint32_t c) {
  static uint8_t scratch[IMP_EVENT_MAX_BYTES];
  imp_writer *w = imp_json_start(scratch, sizeof scratch);
  imp_json_raw(w, "{\"e\":\"");
  imp_json_raw(w, type_names[type]);
  imp_json_field(w, "\",\"s\":", ++imp_g.seq);
  imp_json_field(w, ",\"t\":", imp_ms(t - imp_g.pvs[imp_g.pv_cur].start));
  imp_json_raw(w, ",\"id\":");
  imp_json_str(w, imp_item_id(it), it->id_len);
  if (type == IMP_EV_VIS) {
    imp_json_field(w, ",\"ms\":", a);
    imp_json_field(w, ",\"max\":", b);
    imp_json_field(w, ",\"n\":", c);
  } else {
    placement(w, it);
  }
  if (type == IMP_EV_IMP || type == IMP_EV_CLICK) {
    imp_json_field(w, ",\"f\":", a);
  }
  if (type == IMP_EV_CLICK) {
    imp_json_field(w, ",\"since\":", b);
    imp_json_field(w, ",\"seen\":", c);
  }
  imp_json_raw(w, "}");
  /* IMP_EVENT_MAX_BYTES covers the worst case; a queue smaller than one event
  ** cannot hold it, so it counts as dropped. */
  if (w->overflow || w->len > imp_g.cfg.queue_bytes) {
    count_drop();
    return;
  }
  while (imp_g.rec_count == imp_g.cfg.max_queue || imp_g.cfg.queue_bytes - imp_g.ring_used < w->len)
    drop_oldest();
  uint32_t at = (imp_g.ring_head + imp_g.ring_used) % imp_g.cfg.queue_bytes;
  ring_write(at, scratch, w->len);
  imp_g.ring_used += w->len;
  imp_event_rec *r = rec_at(imp_g.rec_count);
  r->t = t;
  r->off = at;
  r->len = (uint16_t)w->len;
  r->pv = (uint8_t)imp_g.pv_cur;
  imp_g.rec_count++;
  imp_g.events_total++;
}

void imp_queue_page_begin(const uint8_t *id, uint32_t id_len, const uint8_t *path,
                          uint32_t path_len, uint32_t flags, double t) {
  uint32_t next = (imp_g.pv_cur + 1u) % IMP_PV_RING;
  while (imp_g.rec_count && oldest()->pv == next) drop_oldest();
  imp_pageview *pv = &imp_g.pvs[next];
  pv->start = t;
  pv->flags = flags;
  pv->id_len = (uint8_t)id_len;
  pv->path_len = (uint16_t)path_len;
  __builtin_memcpy(pv->id, id, id_len);
  __builtin_memcpy(pv->path, path, path_len);
  imp_g.pv_cur = next;
  imp_g.seq = 0;
}

double imp_queue_deadline(void) {
  return imp_g.rec_count ? oldest()->t + imp_g.cfg.batch_age_ms : -1.0;
}

static uint32_t json_cap(void) { return imp_g.cfg.compress ? IMP_BATCH_HARD_CAP : imp_g.cfg.batch_bytes; }

int imp_queue_ready(double t) {
  if (!imp_g.rec_count) return 0;
  return imp_g.rec_count >= imp_g.cfg.batch_events ||
         imp_g.ring_used + imp_g.rec_count + HEADER_MAX >= json_cap() ||
         imp_queue_deadline() <= t || oldest()->pv != imp_g.pv_cur;
}

static void header(imp_writer *w, const imp_pageview *pv, double t) {
  imp_json_raw(w, "{\"v\":1,\"pv\":");
  imp_json_str(w, pv->id, pv->id_len);
  imp_json_raw(w, ",\"path\":");
  imp_json_str(w, pv->path, pv->path_len);
  if (pv->flags & IMP_FLAG_WEBDRIVER) imp_json_raw(w, ",\"wd\":1");
  if (pv->flags & IMP_FLAG_GPC) imp_json_raw(w, ",\"gpc\":1");
  imp_json_field(w, ",\"at\":", imp_ms(t - pv->start));
  imp_json_field(w, ",\"drop\":", imp_g.drop_pending);
  imp_json_raw(w, ",\"ev\":[");
}

/* Writes a batch of at most `limit` of the oldest events (one page view) into the
** output buffer without taking them from the queue; returns how many it holds. */
static uint32_t assemble(double t, uint32_t limit) {
  imp_writer *w = imp_json_start(imp_out, json_cap());
  uint8_t pv = oldest()->pv;
  uint32_t events = 0;
  header(w, &imp_g.pvs[pv], t);
  /* Room is kept for the closing "]}" (2 bytes); a separator costs 1. */
  for (; events < imp_g.rec_count && events < limit; events++) {
    const imp_event_rec *r = rec_at(events);
    uint32_t sep = events ? 1u : 0u;
    if (r->pv != pv || w->len + sep + r->len + 2u > w->cap) break;
    if (sep) w->p[w->len++] = ',';
    ring_read(w->p + w->len, r->off, r->len);
    w->len += r->len;
  }
  imp_json_raw(w, "]}");
  imp_res.batch_bytes = w->len;
  return events;
}

int32_t imp_queue_take(double t, int force, int want_wire) {
  if (!imp_g.rec_count || (!force && !imp_queue_ready(t))) return IMP_NONE;
  uint32_t limit = imp_g.cfg.batch_events, events;
  for (;;) {
    events = assemble(t, limit);
    if (!imp_g.cfg.compress) break;
    /* Without want_wire, a batch whose worst case (stored) fits is not compressed:
    ** the cut is the same, and the outbox compresses what it sends itself. */
    if (!want_wire && imp_gzip_bound(imp_res.batch_bytes) <= imp_g.cfg.batch_bytes) break;
    /* The wire buffer holds any batch stored, so this never fails. */
    uint32_t wire = (uint32_t)imp_gzip(imp_out, imp_res.batch_bytes, imp_wire,
                                       IMP_WIRE_BYTES, &imp_g.deflate);
    imp_res.wire_bytes = wire;
    /* One event and its header stay under IMP_BATCH_MIN_CAP even stored. */
    if (wire <= imp_g.cfg.batch_bytes || events == 1u) break;
    limit = events / 2u;
  }
  for (uint32_t i = 0; i < events; i++) pop();
  imp_g.drop_pending = 0;
  imp_res.batch_events = events;
  return IMP_OK;
}

int32_t imp_queue_peek(uint32_t back) {
  if (back >= imp_g.rec_count) return IMP_NONE;
  const imp_event_rec *r = rec_at(imp_g.rec_count - 1u - back);
  ring_read(imp_text, r->off, r->len);
  imp_res.text_bytes = r->len;
  return IMP_OK;
}
