/*
** api.c: every exported function, and the only file that defines them.
**
** Each function checks its arguments completely before touching any state (a bad
** call changes nothing and returns a named status; imp_start() alone stops the core
** first, so a refused start leaves it stopped), clamps time so it never goes
** backwards, forwards to the modules, and refreshes the result record. The arena
** that holds all tables is reserved here, statically; imp_start() divides it.
*/
#include "imp_internal.h"

IMP_NEAR imp_core imp_g;
IMP_NEAR imp_result imp_res;
uint8_t imp_out[IMP_BATCH_HARD_CAP];
uint8_t imp_in[IMP_INPUT_BYTES];
uint8_t imp_wire[IMP_WIRE_BYTES];
uint8_t imp_text[IMP_TEXT_BYTES];
IMP_NEAR imp_config imp_cfg;
static _Alignas(8) uint8_t arena[IMP_ARENA_BYTES];

_Static_assert(sizeof(imp_result) == IMP_RESULT_BYTES, "result layout is part of the ABI");
_Static_assert(IMP_WIRE_BYTES >= 18u + IMP_BATCH_HARD_CAP + 5u, "wire buffer holds a stored batch");
_Static_assert(IMP_TEXT_BYTES >= IMP_EVENT_MAX_BYTES, "text buffer holds any one event");
_Static_assert(IMP_MAX_PV_BYTES + IMP_MAX_PATH_BYTES <= IMP_INPUT_BYTES, "input buffer");
_Static_assert(IMP_MAX_ID_BYTES + IMP_MAX_LIST_BYTES <= IMP_INPUT_BYTES, "input buffer");

static const char status_names[][17] = { /* 17: the longest name and its NUL */
    "IMP_ERR_FULL", "IMP_ERR_SLOT",  "IMP_ERR_TOO_LONG", "IMP_ERR_ID", "IMP_ERR_MEMORY",
    "IMP_ERR_CONFIG", "IMP_ERR_STATE", "IMP_ERR_ARG", "IMP_OK", "IMP_NONE", "IMP_UNKNOWN"};

/*=== MARK: - Helpers (Private) ===*/
/* Validates a time and advances the clock; returns 0 when t is unusable. */
static int take_time(double t) {
  if (!imp_nonneg(t)) return 0;
  if (t > imp_g.now) imp_g.now = t;
  return 1;
}

/* The earlier of two deadlines, where -1 is none. */
double imp_earliest(double d, double at) {
  return at >= 0.0 && (d < 0.0 || at < d) ? at : d;
}

int32_t imp_done(int32_t status) {
  imp_res.next_deadline = imp_earliest(imp_vis_next_deadline(), imp_queue_deadline());
  imp_res.ready = (uint32_t)imp_queue_ready(imp_g.now);
  imp_res.queued_events = imp_g.rec_count;
  imp_res.queued_bytes = imp_g.ring_used;
  imp_res.dropped = imp_g.dropped_total;
  imp_res.items = imp_g.item_count;
  imp_res.seq = imp_g.seq;
  imp_res.events = imp_g.events_total;
  return status;
}

/*=== MARK: - Accessors (Public) ===*/
IMP_API uint32_t imp_abi_version(void) { return IMP_ABI_VERSION; }
IMP_API uint8_t *imp_input_ptr(void) { return imp_in; }
IMP_API uint8_t *imp_output_ptr(void) { return imp_out; }
IMP_API imp_result *imp_result_ptr(void) { return &imp_res; }
IMP_API imp_config *imp_config_ptr(void) { return &imp_cfg; }
IMP_API uint8_t *imp_wire_ptr(void) { return imp_wire; }
IMP_API uint8_t *imp_text_ptr(void) { return imp_text; }

IMP_API int32_t imp_status_name(int32_t status) {
  int known = status >= IMP_STATUS_MIN && status <= IMP_NONE;
  const char *name = status_names[known ? status - IMP_STATUS_MIN : IMP_NONE - IMP_STATUS_MIN + 1];
  imp_writer *w = imp_json_start(imp_text, IMP_TEXT_BYTES);
  imp_json_raw(w, name);
  imp_text[w->len] = 0;
  imp_res.text_bytes = w->len;
  return known ? IMP_OK : IMP_ERR_ARG;
}

/*=== MARK: - Start-up (Public) ===*/
IMP_API int32_t imp_config_defaults(void) {
  imp_config_fill_defaults(&imp_cfg);
  return IMP_OK;
}

/* The arena, each part 8-byte aligned: the item table, the queue, the elements, the
** encoder's tables (with compress); the seen set takes the rest. Each module's init
** function points its part of imp_g at its part; imp_g is zeroed before, so counts and
** ends start at 0. */
IMP_API int32_t imp_start(void) {
  const imp_config *c = &imp_cfg;
  imp_g.started = 0;
  imp_res.config_field = imp_config_check(c);
  if (imp_res.config_field) return IMP_ERR_CONFIG;
  size_t queue = imp_align8(imp_registry_bytes(c->max_items));
  size_t elements = queue + imp_align8(imp_queue_bytes(c->max_queue, c->queue_bytes));
  size_t deflate = elements + imp_align8(imp_element_bytes(c->max_items));
  size_t used = deflate + (c->compress ? imp_deflate_work_bytes(c->window_bits) : 0u);
  if (used > IMP_ARENA_BYTES) return IMP_ERR_MEMORY;

  __builtin_memset(&imp_g, 0, sizeof imp_g);
  __builtin_memset(&imp_res, 0, sizeof imp_res);
  imp_g.cfg = *c;
  imp_registry_init(arena);
  imp_queue_init(arena + queue);
  imp_element_init(arena + elements);
  if (imp_g.cfg.compress) imp_deflate_work_init(&imp_g.deflate, arena + deflate, c->window_bits);
  imp_seen_init(arena + used, IMP_ARENA_BYTES - used); /* the rest of the arena */
  imp_g.timer_head = imp_g.timer_tail = IMP_LINK_NIL;
  imp_g.page_state = IMP_PAGE_HIDDEN;
  imp_g.pv_cur = IMP_PV_RING - 1u;
  imp_g.started = 1;
  return imp_done(IMP_OK);
}

/*=== MARK: - Page views (Public) ===*/
IMP_API int32_t imp_page_begin(double t, uint32_t pv_len, uint32_t path_len,
                               uint32_t flags) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if (!imp_nonneg(t) || flags > 31u) return IMP_ERR_ARG;
  if (pv_len < 1) return IMP_ERR_ARG;
  if (pv_len > IMP_MAX_PV_BYTES || path_len > IMP_MAX_PATH_BYTES) return IMP_ERR_TOO_LONG;
  take_time(t);
  if (imp_g.page_open) {          /* close the previous page view's spans */
    imp_g.page_open = 0;
    imp_vis_page_changed();
  }
  imp_queue_page_begin(imp_in, pv_len, imp_in + pv_len, path_len, flags, imp_g.now);
  imp_registry_page_view();
  imp_g.page_state = (flags & IMP_FLAG_PRERENDER) ? IMP_PAGE_PRERENDER
                     : (flags & IMP_FLAG_HIDDEN)  ? IMP_PAGE_HIDDEN
                                                  : IMP_PAGE_VISIBLE;
  imp_g.focused = (flags & IMP_FLAG_UNFOCUSED) ? 0 : 1;
  imp_g.page_open = 1;
  imp_vis_page_changed();
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_page_state(double t, int32_t state) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if (state < IMP_PAGE_VISIBLE || state > IMP_PAGE_PRERENDER || !take_time(t))
    return IMP_ERR_ARG;
  imp_g.page_state = state;
  imp_vis_page_changed();
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_page_focus(double t, int32_t focused) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if ((focused != 0 && focused != 1) || !take_time(t)) return IMP_ERR_ARG;
  imp_vis_advance(imp_g.now);
  imp_g.focused = focused;
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_page_end(double t) {
  if (!imp_g.started || !imp_g.page_open) return IMP_ERR_STATE;
  if (!take_time(t)) return IMP_ERR_ARG;
  imp_g.page_open = 0;
  imp_vis_page_changed();
  return imp_done(IMP_OK);
}

/*=== MARK: - Items (Public) ===*/
static int32_t item_args(double t, uint32_t id_len, uint32_t list_len) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if (!imp_nonneg(t)) return IMP_ERR_ARG;
  if (id_len < 1 || id_len > IMP_MAX_ID_BYTES) return IMP_ERR_ID;
  if (list_len > IMP_MAX_LIST_BYTES) return IMP_ERR_TOO_LONG;
  return IMP_OK;
}

/* Registers an item (imp_item_register) and, with `element`, adds an element to it. */
static int32_t register_item(double t, uint32_t id_len, uint32_t list_len, uint32_t position,
                             int element) {
  int32_t status = item_args(t, id_len, list_len);
  if (status != IMP_OK) return status;
  if (element && imp_element_full()) return IMP_ERR_FULL;
  take_time(t);
  imp_vis_advance(imp_g.now);
  uint32_t slot = imp_registry_register(imp_in, id_len, imp_in + id_len, list_len, position);
  if (slot == IMP_NIL) return IMP_ERR_FULL;
  imp_res.slot = slot;
  if (element) imp_res.element = imp_element_new(slot);
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_item_register(double t, uint32_t id_len, uint32_t list_len,
                                  uint32_t position) {
  return register_item(t, id_len, list_len, position, 0);
}

/*=== MARK: - Elements (Public) ===*/
IMP_API int32_t imp_element_add(double t, uint32_t id_len, uint32_t list_len,
                                uint32_t position) {
  return register_item(t, id_len, list_len, position, 1);
}

IMP_API int32_t imp_element_remove(double t, uint32_t element) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if (!imp_nonneg(t)) return IMP_ERR_ARG;
  if (!imp_element_live(element)) return IMP_ERR_SLOT;
  take_time(t);
  imp_element_free(element);
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_element_observe(double t, uint32_t element, double ratio, double area) {
  if (!imp_g.started || !imp_g.page_open) return IMP_ERR_STATE;
  if (!imp_nonneg(t) || !imp_unit(ratio) || !imp_nonneg(area)) return IMP_ERR_ARG;
  imp_element *e = imp_element_live(element);
  if (!e) return IMP_ERR_SLOT;
  take_time(t);
  imp_element_geometry(e, ratio, area);
  return imp_done(IMP_OK);
}

/* The page itself covered by something over the whole viewport, or clear: every item
** follows, as for a change of page state. */
static int32_t page_cover(double t, int32_t cover) {
  if (cover == IMP_COVER_OUTSIDE) return IMP_ERR_ARG;
  take_time(t);
  imp_g.page_covered = cover;
  imp_vis_page_changed();
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_element_cover(double t, uint32_t element, int32_t cover) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if (!imp_nonneg(t) || cover < IMP_COVER_CLEAR || cover > IMP_COVER_OUTSIDE) return IMP_ERR_ARG;
  if (element == IMP_ELEMENT_PAGE) return page_cover(t, cover);
  if (!imp_g.page_open) return IMP_ERR_STATE;
  imp_element *e = imp_element_live(element);
  if (!e) return IMP_ERR_SLOT;
  take_time(t);
  imp_element_look(e, cover);
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_activate(double t, uint32_t element, int32_t kind) {
  if (!imp_g.started || !imp_g.page_open) return IMP_ERR_STATE;
  if (!imp_nonneg(t) || kind < IMP_ACT_CLICK || kind > IMP_ACT_KEY) return IMP_ERR_ARG;
  if (!imp_element_live(element)) return IMP_ERR_SLOT;
  take_time(t);
  return imp_done(imp_vis_activate(element, kind));
}

IMP_API int32_t imp_tick(double t) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if (!take_time(t)) return IMP_ERR_ARG;
  imp_vis_advance(imp_g.now);
  return imp_done(IMP_OK);
}

/*=== MARK: - Batches (Public) ===*/
IMP_API int32_t imp_take_batch(double t, int32_t force) {
  if (!imp_g.started) return IMP_ERR_STATE;
  if ((force != 0 && force != 1) || !take_time(t)) return IMP_ERR_ARG;
  imp_vis_advance(imp_g.now);
  imp_res.batch_bytes = imp_res.batch_events = imp_res.wire_bytes = 0;
  return imp_done(imp_queue_take(imp_g.now, force, 1));
}

IMP_API int32_t imp_gzip_output(uint32_t n) {
  if (!imp_g.started || !imp_g.cfg.compress) return IMP_ERR_STATE;
  if (n > IMP_BATCH_HARD_CAP) return IMP_ERR_ARG;
  imp_res.wire_bytes = (uint32_t)imp_gzip(imp_out, n, imp_wire, IMP_WIRE_BYTES, &imp_g.deflate);
  return imp_done(IMP_OK);
}

IMP_API int32_t imp_peek_event(uint32_t back) {
  if (!imp_g.started) return IMP_ERR_STATE;
  imp_res.text_bytes = 0;
  return imp_done(imp_queue_peek(back));
}

IMP_API int32_t imp_report_dropped(uint32_t n) {
  if (!imp_g.started) return IMP_ERR_STATE;
  imp_g.drop_pending = imp_add_sat(imp_g.drop_pending, n);
  imp_g.dropped_total = imp_add_sat(imp_g.dropped_total, n);
  return imp_done(IMP_OK);
}
