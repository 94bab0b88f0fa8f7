/*
** fuzz_deflate.c: libFuzzer target for the DEFLATE/gzip encoder (src/deflate.c).
** The first input byte picks the window (2^8..2^15) and a capacity; the rest is the
** data. Invariants: with room for the bound, the output is one gzip member that zlib
** inflates to exactly the data, no larger than imp_gzip_bound(); with a capacity
** below that, the result is 0 or such a member, and nothing is written past the
** capacity (the buffer is exactly that long, so ASan sees any overrun). The data is
** also fed as a batch-like JSON, since real batches are what the core compresses: a
** JSON of a few dozen events or more takes a block with dynamic codes, short inputs
** the fixed codes (the seed deflate-batch is a 50-event batch, window 2^15).
*/
#include <stdlib.h>
#include <string.h>

#include "../c/gunzip.h"
#include "deflate.h"
#include "fuzz_common.h"

static _Alignas(8) uint8_t work_mem[6u << 15];
static uint8_t back[1u << 20];

static void check_member(const uint8_t *out, size_t m, const uint8_t *in, size_t n) {
  long got = gunzip(out, m, back, sizeof back);
  if (got != (long)n || memcmp(back, in, n) != 0) fz_fail("gzip does not inflate to the input", NULL, 0);
  if (m > imp_gzip_bound(n)) fz_fail("gzip larger than imp_gzip_bound", NULL, 0);
}

static void compress_both_ways(const uint8_t *in, size_t n, uint32_t bits, size_t small_cap) {
  imp_deflate_work w;
  imp_deflate_work_init(&w, work_mem, bits);
  size_t bound = imp_gzip_bound(n);
  uint8_t *out = malloc(bound);
  size_t m = imp_gzip(in, n, out, bound, &w);
  if (m == 0) fz_fail("no output with room for the bound", NULL, 0);
  check_member(out, m, in, n);
  free(out);
  size_t cap = small_cap < bound ? small_cap : bound;
  out = malloc(cap ? cap : 1);
  m = imp_gzip(in, n, out, cap, &w);
  if (m) check_member(out, m, in, n);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > IMP_DEFLATE_INPUT_MAX + 1u) return 0; /* data: the largest input */
  uint32_t bits = IMP_DEFLATE_WINDOW_MIN + data[0] % 8u;
  size_t small_cap = (size_t)data[0] * 4u;
  compress_both_ways(data + 1, size - 1, bits, small_cap);
  /* The data (its first 1600 bytes) as events of a batch: repeated keys, digits. */
  size_t n = 0, cap = 64u + (size - 1 < 1600u ? size - 1 : 1600u) * 40u;
  uint8_t *json = malloc(cap);
  n += (size_t)snprintf((char *)json, cap, "{\"v\":1,\"pv\":\"p\",\"ev\":[");
  for (size_t i = 1; i < size && n + 40 < cap; i++)
    n += (size_t)snprintf((char *)json + n, cap - n, "{\"e\":\"imp\",\"s\":%zu,\"id\":\"g%u\"},",
                          i, data[i]);
  compress_both_ways(json, n, bits, small_cap);
  free(json);
  return 0;
}
