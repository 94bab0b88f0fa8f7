/*
** fuzz_api.c: libFuzzer target driving random sequences of API calls.
**
** The input is decoded into a configuration (small capacities, so the "full" paths
** run) and then one call per opcode byte, with arguments from the following bytes
** (zeros once the input runs out): page begin/state/focus/end, register, tick, take,
** report dropped, the element calls (add, remove, observe, v2 cover or the page's, activate;
** occlusion and the echo window picked by the input), and calls with bad times or
** values.
** Invariants checked after every call (abort on a violation):
**  - every status is one of the named values (imp_status_name() knows it);
**  - every batch parses with jansson's strict parser (json_loadb, flags 0), has
**    "v":1, at least one event, exactly result.batch_events events, and is at most
**    the configured batch_bytes; with compress (picked by the input, window too),
**    its gzip form inflates with zlib to exactly the JSON and is what batch_bytes
**    caps;
**  - sequence numbers are unique and increasing within a page view, across batches;
**    batches come in page view order. Page view ids are "p<n>." plus fuzz bytes, n
**    counting successful page begins, so a batch names its page view exactly;
**  - the result record stays within the configured bounds; an element handle is
**    below max_items;
**  - per page view and item (while nothing was dropped, the one documented way to
**    lose state; a released item whose slot is reused keeps its state in the seen
**    set, so reuse is checked too): at most one "imp" and one
**    "view", "view" and "click" only after "imp", "vis" n counting 1, 2, 3... with
**    max the longest ms so far, "seen" 1 exactly when a "view" came before, "since"
**    the time since the "imp" (+-1 ms of flooring); event times never go back.
*/
#include <math.h>

#include "../c/gunzip.h"
#include "../c/start_args.h"
#include "fuzz_common.h"

static uint32_t cfg_items, cfg_queue, cfg_qbytes, cfg_bbytes, cfg_compress;
static long long last_gen, last_seq; /* page view and s of the last batch event */
static long long last_t;             /* t of the last batch event               */
static int lossy;                    /* an event was dropped                    */

static long long jint(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* What the batches said so far about each item of the current page view. */
typedef struct {
  char id[IMP_MAX_ID_BYTES * 3 + 1];
  long long imp_t, spans, longest;
  int imp, view;
} seen_item;
static seen_item seen[64];
static int seen_n;

static seen_item *item_state(const char *id) {
  for (int i = 0; i < seen_n; i++)
    if (strcmp(seen[i].id, id) == 0) return &seen[i];
  if (seen_n == 64 || strlen(id) >= sizeof seen[0].id) return NULL;
  memset(&seen[seen_n], 0, sizeof seen[0]);
  strcpy(seen[seen_n].id, id);
  return &seen[seen_n++];
}

static void check_item(json_t *e, const char *type, const char *id, const char *buf,
                       size_t len) {
  seen_item *it;
  long long t = jint(e, "t");
  if (t < last_t) fz_fail("event time goes back", buf, len);
  last_t = t;
  /* Ids repaired to U+FFFD may stand for several byte strings: skip them. */
  if (lossy || strstr(id, "\xef\xbf\xbd") || !(it = item_state(id))) return;
  if (!strcmp(type, "imp")) {
    if (it->imp) fz_fail("second impression in a page view", buf, len);
    it->imp = 1;
    it->imp_t = t;
  } else if (!strcmp(type, "view")) {
    if (!it->imp || it->view) fz_fail("view without impression, or twice", buf, len);
    it->view = 1;
  } else if (!strcmp(type, "vis")) {
    long long ms = jint(e, "ms");
    if (ms > it->longest) it->longest = ms;
    if (!it->imp || jint(e, "n") != ++it->spans || jint(e, "max") != it->longest)
      fz_fail("vis n/max do not follow the earlier spans", buf, len);
  } else {
    long long since = jint(e, "since") - (t - it->imp_t);
    if (!it->imp || jint(e, "seen") != it->view || since < -1 || since > 1)
      fz_fail("click since/seen do not match the item's history", buf, len);
  }
}

static void check_status(int32_t s) {
  if (s < IMP_STATUS_MIN || s > IMP_NONE) fz_fail("status out of range", NULL, 0);
  if (imp_status_name(s) != IMP_OK) fz_fail("status has no name", NULL, 0);
}

static void check_result(int32_t s, int started) {
  const imp_result *r = imp_result_ptr();
  if (s < 0 || !started) return;
  if (r->ready > 1) fz_fail("ready not 0/1", NULL, 0);
  if (r->queued_events > cfg_queue) fz_fail("queued_events above max_queue", NULL, 0);
  if (r->queued_bytes > cfg_qbytes) fz_fail("queued_bytes above queue_bytes", NULL, 0);
  if (r->items > cfg_items) fz_fail("items above max_items", NULL, 0);
  if (!(r->next_deadline == -1.0 || (r->next_deadline >= 0.0 && isfinite(r->next_deadline))))
    fz_fail("next_deadline neither -1 nor a time", NULL, 0);
}

static void check_batch(void) {
  const imp_result *r = imp_result_ptr();
  uint32_t len = r->batch_bytes;
  static char buf[IMP_BATCH_HARD_CAP + 1];
  json_error_t err;
  json_t *root, *ev, *e;
  size_t i;
  if ((!cfg_compress && len > cfg_bbytes) || len > IMP_BATCH_HARD_CAP)
    fz_fail("batch above batch_bytes", NULL, 0);
  if (cfg_compress != (r->wire_bytes > 0)) fz_fail("gzip form missing or unexpected", NULL, 0);
  if (cfg_compress) {
    static uint8_t inflated[IMP_BATCH_HARD_CAP + 1];
    long n = gunzip(imp_wire_ptr(), r->wire_bytes, inflated, sizeof inflated);
    if (n != (long)len || memcmp(inflated, imp_output_ptr(), len) != 0)
      fz_fail("gzip does not inflate to the batch", (const char *)imp_output_ptr(), len);
    if (r->wire_bytes > cfg_bbytes) fz_fail("gzip batch above batch_bytes", NULL, 0);
  }
  memcpy(buf, imp_output_ptr(), len);
  buf[len] = '\0';
  root = json_loadb(buf, len, 0, &err);
  if (!root) {
    fprintf(stderr, "jansson: %s at %d\n", err.text, err.position);
    fz_fail("batch is not strict JSON", buf, len);
  }
  if (jint(root, "v") != 1 || jint(root, "at") < 0 || jint(root, "drop") < 0)
    fz_fail("bad header", buf, len);
  const char *pv = json_string_value(json_object_get(root, "pv"));
  if (!pv || pv[0] != 'p') fz_fail("bad pv", buf, len);
  long long gen = strtoll(pv + 1, NULL, 10);
  if (gen < last_gen) fz_fail("batches out of page view order", buf, len);
  if (gen != last_gen) last_seq = last_t = seen_n = 0;
  last_gen = gen;
  if (jint(root, "drop") > 0) lossy = 1;
  ev = json_object_get(root, "ev");
  if (!json_is_array(ev) || json_array_size(ev) == 0) fz_fail("no events", buf, len);
  if (json_array_size(ev) != r->batch_events) fz_fail("batch_events mismatch", buf, len);
  json_array_foreach(ev, i, e) {
    const char *type = json_string_value(json_object_get(e, "e"));
    const char *id = json_string_value(json_object_get(e, "id"));
    long long s = jint(e, "s");
    if (!type || (strcmp(type, "imp") && strcmp(type, "view") && strcmp(type, "vis") &&
                  strcmp(type, "click")))
      fz_fail("bad event type", buf, len);
    if (!id || !id[0] || jint(e, "t") < 0) fz_fail("bad event", buf, len);
    if (s <= last_seq) fz_fail("sequence number not increasing", buf, len);
    if (!strcmp(type, "vis") && (jint(e, "ms") < 1 || jint(e, "max") < jint(e, "ms") ||
                                 jint(e, "n") < 1))
      fz_fail("bad vis event", buf, len);
    last_seq = s;
    check_item(e, type, id, buf, len);
  }
  json_decref(root);
}

static double pick_time(fz_in *in, double *now) {
  uint8_t k = fz_u8(in);
  if (k == 255) return (double)NAN;
  if (k == 254) return -1.0;
  if (k >= 240) return *now - (double)(k - 239) * 50.0; /* late callback */
  *now += (double)fz_u16(in) / (k & 1 ? 7.0 : 1.0);
  return *now;
}

/* The element calls (ops 5..7 and 12..16), on handles mostly in range. */
static int32_t element_call(uint32_t op, double t, fz_in *in) {
  uint32_t handle = fz_u8(in) % (cfg_items + 2u);
  int32_t s;
  switch (op) {
  case 12: {
    uint32_t idl = 1u + fz_u8(in) % 3u; /* short ids: several elements per item */
    uint8_t *ib = imp_input_ptr();
    idl = (uint32_t)fz_bytes(in, ib, idl);
    s = imp_element_add(t, idl, 0, handle);
    if (s == IMP_OK && imp_result_ptr()->element >= cfg_items) fz_fail("handle out of range", NULL, 0);
    return s;
  }
  case 5:
  case 13: return imp_element_remove(t, handle);
  case 6:
  case 14: {
    uint8_t rb = fz_u8(in);
    double ratio = rb >= 250 ? (rb == 255 ? 1.5 : 1.0) : rb / 250.0;
    return imp_element_observe(t, handle, ratio, (double)fz_u16(in) * 8.0);
  }
  case 15: /* the last handle out of range stands for the page itself */
    if (handle == cfg_items + 1u) handle = IMP_ELEMENT_PAGE;
    return imp_element_cover(t, handle, (int32_t)(fz_u8(in) % 4u));
  default: return imp_activate(t, handle, (int32_t)(fz_u8(in) % 4u));
  }
}

/* The configuration from the input's first bytes; IMP_OK when the core started. */
static int32_t start_from_input(fz_in *in) {
  cfg_items = 1u + fz_u8(in) % 8u;
  cfg_queue = 1u + fz_u8(in) % 32u;
  cfg_qbytes = 4096u + fz_u16(in) % 8192u;
  cfg_bbytes = IMP_BATCH_MIN_CAP + fz_u16(in) % 4096u;
  uint32_t bevents = 1u + fz_u8(in) % cfg_queue;
  double age = (double)fz_u16(in);
  double view_ratio = (1.0 + fz_u8(in)) / 256.0;
  double view_ms = (double)(fz_u16(in) % 3000u);
  double large_ratio = (1.0 + fz_u8(in)) / 256.0;
  double imp_ratio = fz_u8(in) / 255.0;
  if (fz_u8(in) & 1) imp_ratio = 0;
  uint32_t wire = fz_u8(in);
  cfg_compress = wire & 1u;
  int32_t s = start_args(cfg_items, cfg_queue, cfg_qbytes, bevents, cfg_bbytes, age, view_ratio,
                         view_ms, 242500.0, large_ratio, imp_ratio, cfg_compress,
                         8u + (wire >> 1) % 8u);
  uint8_t look = fz_u8(in);
  if (s == IMP_OK && look) { /* occlusion and the echo window: a restart with them */
    imp_config_ptr()->occlusion = look & 1u;
    imp_config_ptr()->echo_ms = (double)(look >> 1) * 20.0;
    s = imp_start();
  }
  return s;
}

/* Page begin (op 0): pv "p<gen+1>." + fuzz bytes, path from fuzz bytes. */
static int32_t page_begin_call(double t, fz_in *in, uint32_t *gen) {
  uint8_t *ib = imp_input_ptr();
  char head[16];
  uint32_t hl = (uint32_t)snprintf(head, sizeof head, "p%u.", *gen + 1);
  uint32_t extra = fz_u8(in) % 72u, path = fz_u16(in) % 300u, flags = fz_u8(in);
  memcpy(ib, head, hl);
  extra = (uint32_t)fz_bytes(in, ib + hl, extra);
  path = (uint32_t)fz_bytes(in, ib + hl + extra, path);
  int32_t s = imp_page_begin(t, hl + extra, path, flags % 40u);
  if (s == IMP_OK) (*gen)++;
  return s;
}

/* Register (op 4): mostly short ids that repeat, a list id, a position. */
static int32_t register_call(double t, fz_in *in) {
  uint8_t *ib = imp_input_ptr();
  uint32_t idl = fz_u8(in) % 140u, ll = fz_u8(in) % 70u, pos = fz_u8(in);
  if (idl > 4 && (idl & 3)) idl = idl % 4u + 1u; /* mostly short ids that repeat */
  idl = (uint32_t)fz_bytes(in, ib, idl);
  ll = (uint32_t)fz_bytes(in, ib + idl, ll);
  return imp_item_register(t, idl, ll, pos);
}

/* One call per opcode (op % 17), its arguments from the bytes that follow. */
static int32_t api_call(uint32_t op, double t, fz_in *in, uint32_t *gen, int started) {
  switch (op) {
  case 0: return page_begin_call(t, in, gen);
  case 1: return imp_page_state(t, (int32_t)(fz_u8(in) % 5u));
  case 2: return imp_page_focus(t, (int32_t)(fz_u8(in) % 3u));
  case 3: return imp_page_end(t);
  case 4: return register_call(t, in);
  case 8: return imp_tick(t);
  case 9:
  case 10: {
    int32_t force = (int32_t)(fz_u8(in) % 3u);
    int32_t s = imp_take_batch(t, force == 2 ? 1 : force);
    if (s == IMP_OK && started) check_batch();
    return s;
  }
  case 11: return imp_report_dropped(fz_u8(in));
  default: return element_call(op, t, in);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = {data, size};
  double now = 0;
  uint32_t gen = 0;
  int32_t s = start_from_input(&in);
  check_status(s);
  int started = s == IMP_OK;
  last_gen = last_seq = last_t = 0;
  seen_n = 0;
  lossy = 0;

  while (in.n) {
    uint8_t op = fz_u8(&in);
    double t = pick_time(&in, &now);
    s = api_call(op % 17u, t, &in, &gen, started);
    check_status(s);
    check_result(s, started);
  }
  /* Drain: every remaining batch must be valid too. */
  if (started) {
    int guard = 0;
    while ((s = imp_take_batch(now, 1)) == IMP_OK && guard++ < 100000) check_batch();
    check_status(s);
  }
  return 0;
}
