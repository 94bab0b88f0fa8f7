/*
** start_args.h: starting the core from positional values, for the native tests, the
** fuzzers and the benchmark. The values go into the configuration record in its field
** order (imp.h) over the defaults, then imp_start() runs. start_plain() leaves
** compression off: the JSON batch is what batch_bytes caps, as the older suites expect.
*/
#ifndef IMP_TEST_START_ARGS_H
#define IMP_TEST_START_ARGS_H

#include "imp.h"

static inline int32_t start_args(uint32_t items, uint32_t queue, uint32_t qbytes,
                                 uint32_t bevents, uint32_t bbytes, double age,
                                 double view_ratio, double view_ms, double large_area,
                                 double large_ratio, double imp_ratio, uint32_t compress,
                                 uint32_t window_bits) {
  imp_config *c = imp_config_ptr();
  imp_config_defaults();
  c->max_items = items;
  c->max_queue = queue;
  c->queue_bytes = qbytes;
  c->batch_events = bevents;
  c->batch_bytes = bbytes;
  c->batch_age_ms = age;
  c->view_ratio = view_ratio;
  c->view_ms = view_ms;
  c->large_area = large_area;
  c->large_ratio = large_ratio;
  c->impression_ratio = imp_ratio;
  c->compress = compress;
  c->window_bits = window_bits;
  return imp_start();
}

static inline int32_t start_plain(uint32_t items, uint32_t queue, uint32_t qbytes,
                                  uint32_t bevents, uint32_t bbytes, double age,
                                  double view_ratio, double view_ms, double large_area,
                                  double large_ratio, double imp_ratio) {
  return start_args(items, queue, qbytes, bevents, bbytes, age, view_ratio, view_ms,
                    large_area, large_ratio, imp_ratio, 0, 15);
}

#endif /* IMP_TEST_START_ARGS_H */
