/*
** test_wire.c: the configuration record and batches as they leave the core
** compressed. The defaults; each field refused alone, named by result.config_field;
** with compress, every batch's gzip (wire buffer) inflates with zlib to exactly its
** JSON and fits batch_bytes, and a batch whose gzip would not fit is cut again with
** fewer events, none lost or repeated; compress 0 leaves the wire buffer unused;
** imp_gzip_output() on bytes the caller wrote.
*/
#include "gunzip.h"
#include "support.h"

#ifdef IMP_TEST_TINY
#define T_WINDOW 8u   /* the tiny arena (64 KiB) holds the 2^8 window's tables */
#else
#define T_WINDOW 15u
#endif

static uint8_t inflated[IMP_BATCH_HARD_CAP + 1];
static int g_bad_wire;   /* batches whose gzip did not inflate to their JSON or was too big */
static uint32_t g_wire_cap;

/* take() plus the wire check of every compressed batch. */
static int32_t take_wire(double t, int32_t force) {
  int32_t s = take(t, force);
  if (s != IMP_OK) return s;
  long n = gunzip(imp_wire_ptr(), RES->wire_bytes, inflated, sizeof inflated);
  if (n != (long)g_batch_len || memcmp(inflated, g_batch, g_batch_len) != 0 ||
      RES->wire_bytes > g_wire_cap) {
    printf("# bad wire batch: %u gzip bytes for %u JSON bytes\n", RES->wire_bytes, g_batch_len);
    g_bad_wire++;
  }
  return s;
}

static int32_t start_compressed(uint32_t events, uint32_t bytes, uint32_t window) {
  g_wire_cap = bytes;
  int32_t s = start_args(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, events, bytes, 1e9, 0.5,
                         T_VIEW_MS, 242500, 0.3, 0, 1, window);
  support_reset(IMP_BATCH_HARD_CAP);
  return s;
}

static void check_defaults(void) {
  imp_config *c = imp_config_ptr();
  memset(c, 0xFF, sizeof *c);
  CHECK_INT(imp_config_defaults(), IMP_OK, "imp_config_defaults works before start");
  CHECK(c->max_items == 2048 && c->max_queue == 8192 && c->queue_bytes == 1048576 &&
            c->batch_events == 200 && c->batch_bytes == 16384 && c->batch_age_ms == 10000 &&
            c->view_ratio == 0.5 && c->view_ms == 1000 && c->large_area == 242500 &&
            c->large_ratio == 0.3 && c->impression_ratio == 0 && c->compress == 1 &&
            c->window_bits == 15 && c->occlusion == 0 && c->echo_ms == 1000,
        "the defaults of imp.h");
#ifndef IMP_TEST_TINY
  CHECK_INT(imp_start(), IMP_OK, "the defaults start (within the arena)");
#else
  CHECK_INT(imp_start(), IMP_ERR_MEMORY, "the defaults need more than the tiny arena");
#endif
}

/* Sets one field to a bad value over the defaults and checks the field number. */
#define REFUSED(field, value, number)                                                   \
  do {                                                                                  \
    imp_config_defaults();                                                              \
    imp_config_ptr()->field = (value);                                                  \
    CHECK_INT(imp_start(), IMP_ERR_CONFIG, #field " = " #value " is refused");           \
    CHECK_INT(RES->config_field, number, #field " is field " #number);                  \
  } while (0)

static void check_refusals(void) {
  REFUSED(max_items, 0, 1);
  REFUSED(max_queue, 65536, 2);
  REFUSED(queue_bytes, 4095, 3);
  REFUSED(batch_events, 8193, 4);
  REFUSED(batch_bytes, IMP_BATCH_HARD_CAP + 1, 5);
  REFUSED(batch_age_ms, T_NAN, 6);
  REFUSED(view_ratio, 0, 7);
  REFUSED(view_ms, T_INF, 8);
  REFUSED(large_area, 0, 9);
  REFUSED(large_ratio, 1.5, 10);
  REFUSED(impression_ratio, -0.1, 11);
  REFUSED(compress, 2, 12);
  REFUSED(window_bits, 7, 13);
  REFUSED(window_bits, 16, 13);
  REFUSED(occlusion, 2, 14);
  REFUSED(echo_ms, -1, 15);
  REFUSED(echo_ms, T_NAN, 15);
  CHECK_INT(imp_tick(1), IMP_ERR_STATE, "a refused configuration leaves the core stopped");
}

/* A card with a long id that compresses poorly (pseudo-random letters). */
static uint32_t noisy_card(double t, uint32_t i) {
  char id[121];
  uint32_t x = i * 2654435761u + 1u;
  for (int k = 0; k < 120; k++) {
    x = x * 1103515245u + 12345u;
    id[k] = (char)('A' + (x >> 16) % 26u);
  }
  id[120] = '\0';
  return reg(t, id, "q", i + 1) == IMP_OK ? RES->slot : UINT32_MAX;
}

static void check_cap(void) {
  const uint32_t cards = T_MAX_ITEMS < 60 ? T_MAX_ITEMS : 60;
  CHECK_INT(start_compressed(T_MAX_QUEUE, IMP_BATCH_MIN_CAP, T_WINDOW), IMP_OK,
            "start: compress, 4096-byte cap");
  page(1000, "pv-cap", "/", 0);
  for (uint32_t i = 0; i < cards; i++) observe(1001, noisy_card(1000, i), 1, 100);
  uint32_t events = 0, batches = 0;
  while (take_wire(1002, 1) == IMP_OK) {
    events += RES->batch_events;
    batches++;
  }
  CHECK_INT(events, cards, "every impression is sent once");
  CHECK(cards < 30 || batches > 1, "the gzip cap splits %u noisy events (%u batches)", cards, batches);
}

static void check_round_trips(void) {
  CHECK_INT(start_compressed(T_BATCH_EVENTS, T_BATCH_BYTES, T_WINDOW), IMP_OK, "start: compress");
  page(1000, "pv-a", "/search", IMP_FLAG_GPC);
  for (uint32_t i = 0; i < T_MAX_ITEMS && i < 40; i++) {
    char id[16];
    snprintf(id, sizeof id, "gig-%u", i);
    reg(1000, id, "list", i + 1);
    observe(1000 + i, RES->slot, 1, 100);
  }
  imp_tick(5000);
  int batches = 0;
  while (take_wire(5000, 1) == IMP_OK) batches++;
  CHECK(batches > 0, "batches were taken (%d)", batches);
  CHECK_INT(g_bad_wire, 0, "every gzip batch inflates to its JSON and fits the cap");

  CHECK_INT(start_compressed(T_BATCH_EVENTS, T_BATCH_BYTES, 8), IMP_OK, "start: window 2^8");
  page(1000, "pv-b", "/", 0);
  observe(1000, slot_of(1000, "x"), 1, 100);
  take_wire(1000, 1);
  CHECK(RES->wire_bytes > 18, "a small window compresses too");

  const char *text = "{\"hello\":\"hello hello hello\"}";
  memcpy(imp_output_ptr(), text, strlen(text));
  CHECK_INT(imp_gzip_output((uint32_t)strlen(text)), IMP_OK, "imp_gzip_output");
  CHECK_INT(gunzip(imp_wire_ptr(), RES->wire_bytes, inflated, sizeof inflated), strlen(text),
            "imp_gzip_output inflates to the bytes given");
  CHECK_INT(imp_gzip_output(IMP_BATCH_HARD_CAP + 1), IMP_ERR_ARG, "more than the output buffer");
  CHECK_INT(g_bad_wire, 0, "every gzip batch inflates to its JSON");
}

static void check_plain(void) {
  CHECK_INT(start_default(), IMP_OK, "start: compress off");
  page(1000, "pv-c", "/", 0);
  observe(1000, slot_of(1000, "x"), 1, 100);
  CHECK_INT(take(1000, 1), IMP_OK, "a plain batch");
  CHECK_INT(RES->wire_bytes, 0, "compress 0: no gzip form");
  CHECK_INT(imp_gzip_output(10), IMP_ERR_STATE, "compress 0: imp_gzip_output is refused");
}

int main(void) {
  check_defaults();
  check_refusals();
  check_round_trips();
  check_cap();
  check_plain();
  CHECK_INT(g_bad_wire, 0, "every gzip batch inflated to its JSON and fit its cap");
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
