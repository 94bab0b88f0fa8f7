/*
** core_bench.c: the core alone, natively.
**
** Runs the benchmark workload that tests/bench/core.mjs runs through js/imp.wasm,
** call for call: N items added (one element each), then 10^6 element observations
** drawn from a xorshift32 stream over 10 page views, imp_tick() whenever the core's deadline has passed and
** every ready batch taken. It prints one JSON line per run with the time per
** observation (process CPU time) and an FNV-1a checksum of every batch byte, so the caller can check
** that native and WASM did exactly the same work. Usage:
**   core_bench <items> <observations> <runs> <checksum 0|1>
** (the checksum is for the verification run; timed runs leave it out on both sides)
** This is a benchmark: it measures and prints, it asserts nothing about speed.
*/
#define _POSIX_C_SOURCE 199309L
#include "imp_internal.h"
#include "../c/start_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_VIEWS 10u
#define CARD_AREA 69600.0 /* 232 x 300 px, the fixture's card */

typedef struct bench_totals {
  uint32_t batches, events, bytes, checksum, ticks;
} bench_totals;

static uint32_t rng_state;
static int with_checksum; /* off in timed runs: hashing is the harness's work, not the core's */

/* xorshift32: the same stream in core.mjs. */
static uint32_t next_random(void) {
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng_state = x;
  return x;
}

/* CPU time of this process: load from elsewhere on the machine does not count. */
static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint32_t put_text(uint32_t at, const char *s) {
  uint32_t n = (uint32_t)strlen(s);
  memcpy(imp_input_ptr() + at, s, n);
  return n;
}

static void take_ready(double t, bench_totals *tot) {
  while (imp_result_ptr()->ready && imp_take_batch(t, 0) == IMP_OK) {
    const imp_result *r = imp_result_ptr();
    const uint8_t *out = imp_output_ptr();
    if (with_checksum)
      for (uint32_t i = 0; i < r->batch_bytes; i++) tot->checksum = (tot->checksum ^ out[i]) * 16777619u;
    tot->batches++;
    tot->events += r->batch_events;
    tot->bytes += r->batch_bytes;
  }
}

static double ratio_for(uint32_t r) {
  switch ((r >> 8) & 7u) {
    case 0: case 1: return 0.0;  /* out of view */
    case 2: return 0.3;          /* partly in view */
    case 3: return 0.55;
    case 4: return 0.8;
    default: return 1.0;
  }
}

/* One run; returns ns for the observation phase and fills tot / *register_ns. */
static double run_once(uint32_t items, uint32_t observations, bench_totals *tot,
                       double *register_ns) {
  char text[64];
  memset(tot, 0, sizeof *tot);
  tot->checksum = 2166136261u;
  rng_state = 0x9E3779B9u;
  if (start_plain(items, 1024, 262144, 50, 16384, 5000, 0.5, 1000, 242500, 0.3, 0) != IMP_OK) {
    fprintf(stderr, "core_bench: imp_start refused %u items\n", items);
    exit(2);
  }
  double t = 0.0;
  uint32_t per_view = observations / PAGE_VIEWS;
  double t0 = now_ns();
  snprintf(text, sizeof text, "bench-%u", 0u);
  uint32_t pv_len = put_text(0, text);
  imp_page_begin(t, pv_len, put_text(pv_len, "/search"), 0);
  for (uint32_t i = 0; i < items; i++) {
    snprintf(text, sizeof text, "gig-%u", i);
    uint32_t id_len = put_text(0, text);
    if (imp_element_add(t, id_len, put_text(id_len, "q1"), i + 1u) != IMP_OK) exit(3);
  }
  double t1 = now_ns();
  *register_ns = (t1 - t0) / items;
  double start = now_ns();
  for (uint32_t k = 0; k < observations; k++) {
    if (k > 0 && k % per_view == 0) {
      snprintf(text, sizeof text, "bench-%u", k / per_view);
      pv_len = put_text(0, text);
      imp_page_begin(t, pv_len, put_text(pv_len, "/search"), 0);
      take_ready(t, tot);
    }
    uint32_t r = next_random();
    t += (double)(r & 3u) * 0.25;
    double deadline = imp_result_ptr()->next_deadline;
    if (deadline >= 0.0 && t >= deadline) {
      imp_tick(t);
      tot->ticks++;
      take_ready(t, tot);
    }
    imp_element_observe(t, (r >> 16) % items, ratio_for(r), CARD_AREA);
    take_ready(t, tot);
  }
  imp_page_end(t);
  while (imp_take_batch(t, 1) == IMP_OK) {
    const imp_result *res = imp_result_ptr();
    const uint8_t *out = imp_output_ptr();
    if (with_checksum)
      for (uint32_t i = 0; i < res->batch_bytes; i++) tot->checksum = (tot->checksum ^ out[i]) * 16777619u;
    tot->batches++;
    tot->events += res->batch_events;
    tot->bytes += res->batch_bytes;
  }
  return now_ns() - start;
}

#define DEFLATE_EVENTS 200u
#define DEFLATE_REPEATS 2000u

/* The batch the encoder benchmark compresses: 200 cards seen, viewable, then hidden. */
static uint32_t deflate_batch(void) {
  char text[64];
  if (start_args(4096, 1024, 262144, 1000, IMP_BATCH_HARD_CAP, 1e9, 0.5, 1000, 242500, 0.3,
                 0, 1, 15) != IMP_OK)
    exit(2);
  uint32_t pv_len = put_text(0, "bench-deflate-3f2a9c8e1b7d");
  imp_page_begin(0, pv_len, put_text(pv_len, "/search"), 0);
  for (uint32_t i = 0; i < DEFLATE_EVENTS / 3u; i++) {
    snprintf(text, sizeof text, "gig-%u", 100000u + i * 7919u);
    uint32_t id_len = put_text(0, text);
    imp_element_add(i * 13.0, id_len, put_text(id_len, "search-results"), i + 1u);
    imp_element_observe(i * 13.0 + 1, imp_result_ptr()->element, 1, CARD_AREA);
  }
  imp_tick(5000);
  imp_page_state(6000, IMP_PAGE_HIDDEN);
  imp_take_batch(6000, 1);
  return imp_result_ptr()->batch_bytes;
}

static int deflate_bench(uint32_t runs) {
  for (uint32_t run = 0; run < runs; run++) {
    uint32_t n = deflate_batch(), hash = 2166136261u;
    double start = now_ns();
    for (uint32_t k = 0; k < DEFLATE_REPEATS; k++) imp_gzip_output(n);
    double ns = now_ns() - start;
    const imp_result *r = imp_result_ptr();
    for (uint32_t i = 0; i < r->wire_bytes; i++) hash = (hash ^ imp_wire_ptr()[i]) * 16777619u;
    printf("{\"impl\":\"native\",\"run\":%u,\"json_bytes\":%u,\"gzip_bytes\":%u,"
           "\"hash\":%u,\"ns\":%.0f,\"mb_per_s\":%.2f}\n",
           run, n, r->wire_bytes, hash, ns, (double)n * DEFLATE_REPEATS / ns * 1e3);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "deflate") == 0)
    return deflate_bench((uint32_t)strtoul(argv[2], NULL, 10));
  if (argc != 5) {
    fprintf(stderr, "usage: core_bench <items> <observations> <runs> <checksum 0|1>\n");
    return 2;
  }
  uint32_t items = (uint32_t)strtoul(argv[1], NULL, 10);
  uint32_t observations = (uint32_t)strtoul(argv[2], NULL, 10);
  uint32_t runs = (uint32_t)strtoul(argv[3], NULL, 10);
  with_checksum = argv[4][0] == '1';
  if (items < 1 || observations < PAGE_VIEWS || runs < 1) return 2;
  /* State per item near the viewport (its slot, index, id heap share and element), read
  ** from the core's own sizing of its tables; a card already reported keeps one entry
  ** of the seen set. */
  double per_item = (double)(imp_registry_bytes(items) + imp_element_bytes(items)) / items;
  for (uint32_t run = 0; run < runs; run++) {
    bench_totals tot;
    double register_ns = 0;
    double ns = run_once(items, observations, &tot, &register_ns);
    printf("{\"impl\":\"native\",\"items\":%u,\"observations\":%u,\"run\":%u,\"ns\":%.0f,"
           "\"ns_per_obs\":%.2f,\"obs_per_sec\":%.0f,\"register_ns_per_item\":%.1f,"
           "\"batches\":%u,\"events\":%u,\"bytes\":%u,\"ticks\":%u,\"checksum\":%u,"
           "\"sizeof_item\":%u,\"state_bytes_per_item\":%.1f,\"seen_entry_bytes\":%u}\n",
           items, observations, run, ns, ns / observations, observations / (ns / 1e9),
           register_ns, tot.batches, tot.events, tot.bytes, tot.ticks, tot.checksum,
           (unsigned)sizeof(imp_item), per_item, (unsigned)sizeof(imp_seen));
  }
  return 0;
}
