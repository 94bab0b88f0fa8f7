/*
** config.c: the configuration record (imp_config in imp.h): the one place that
** defines the defaults, and the check imp_start() runs before it touches any state.
** A refused field is named by its number (the order of imp.h and of the trace's
** `start` line), so the glue can say which option is wrong.
*/
#include "imp_internal.h"

_Static_assert(sizeof(imp_config) == IMP_CONFIG_BYTES, "config layout is part of the ABI");

static const imp_config defaults = {
    .max_items = 2048,
    .max_queue = 8192,
    .queue_bytes = 1048576,
    .batch_events = 200,
    .batch_bytes = 16384,
    .compress = 1,
    .window_bits = IMP_DEFLATE_WINDOW_MAX,
    .batch_age_ms = 10000,
    .view_ratio = 0.5,
    .view_ms = 1000,
    .large_area = 242500,
    .large_ratio = 0.3,
    .impression_ratio = 0,
    .occlusion = 0,
    .echo_ms = 1000,
};

void imp_config_fill_defaults(imp_config *c) { *c = defaults; }

static int ratio_ok(double x) { return x > 0.0 && x <= 1.0; }

uint32_t imp_config_check(const imp_config *c) {
  /* Unsigned wrap-around turns each "1..N" check into one comparison. */
  if (c->max_items - 1u > 65534u) return 1;
  if (c->max_queue - 1u > 65534u) return 2;
  if (c->queue_bytes < 4096u) return 3;
  if (c->batch_events - 1u >= c->max_queue) return 4;
  if (c->batch_bytes - IMP_BATCH_MIN_CAP > IMP_BATCH_HARD_CAP - IMP_BATCH_MIN_CAP) return 5;
  if (!imp_nonneg(c->batch_age_ms)) return 6;
  if (!ratio_ok(c->view_ratio)) return 7;
  if (!imp_nonneg(c->view_ms)) return 8;
  if (!imp_positive(c->large_area)) return 9;
  if (!ratio_ok(c->large_ratio)) return 10;
  if (!imp_unit(c->impression_ratio)) return 11;
  if (c->compress > 1u) return 12;
  if (c->window_bits - IMP_DEFLATE_WINDOW_MIN > IMP_DEFLATE_WINDOW_MAX - IMP_DEFLATE_WINDOW_MIN)
    return 13;
  if (c->occlusion > 1u) return 14;
  if (!imp_nonneg(c->echo_ms)) return 15;
  return 0;
}
