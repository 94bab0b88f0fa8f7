/*
** test_deflate.c: the DEFLATE/gzip encoder (src/deflate.c) against zlib: every output
** inflates to exactly its input; the size never exceeds imp_gzip_bound(); text that
** repeats compresses; each block kind is chosen where it is the smallest (stored for
** random bytes, fixed codes for a short text, dynamic codes for a batch, within 15% of
** zlib's best); codes past DEFLATE's length limits are built again; a capacity too
** small gives 0 and no write past it; the smallest and largest windows; CRC-32 against
** zlib's crc32(); identical input, identical bytes.
*/
#include <stdlib.h>
#include <string.h>

#include "deflate_internal.h"
#include "gunzip.h"
#include "harness.h"

#define BIG (IMP_DEFLATE_INPUT_MAX + 1u)

static _Alignas(8) uint8_t work_mem[6u << 15];
static uint8_t input[BIG], output[BIG + 1024], back[BIG + 1];

static imp_deflate_work work(uint32_t bits) {
  imp_deflate_work w;
  imp_deflate_work_init(&w, work_mem, bits);
  return w;
}

/* Compresses n bytes of `input` and checks the round trip and the bound. */
static size_t round_trip(size_t n, uint32_t bits, const char *what) {
  imp_deflate_work w = work(bits);
  size_t m = imp_gzip(input, n, output, sizeof output, &w);
  long got = gunzip(output, m, back, sizeof back);
  CHECK(m > 0 && m <= imp_gzip_bound(n), "%s: %zu bytes within the bound (%zu)", what, m,
        imp_gzip_bound(n));
  CHECK(got == (long)n && memcmp(back, input, n) == 0, "%s: inflates to the input", what);
  return m;
}

/* BTYPE of the first block (0 stored, 1 fixed codes, 2 dynamic codes). */
static uint32_t block_type(void) { return (uint32_t)(output[10] >> 1) & 3u; }

/* zlib's best (level 9, window 2^15, gzip) for n bytes of `input`. */
static size_t zlib_best(size_t n) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  z.next_in = input;
  z.avail_in = (uInt)n;
  z.next_out = back;
  z.avail_out = (uInt)sizeof back;
  size_t m = deflate(&z, Z_FINISH) == Z_STREAM_END ? z.total_out : 0;
  deflateEnd(&z);
  return m;
}

static uint32_t lcg(uint32_t *x) { return (*x = *x * 1103515245u + 12345u) >> 8; }

static size_t batch_like(size_t events) {
  size_t n = (size_t)sprintf((char *)input, "{\"v\":1,\"pv\":\"a1b2\",\"path\":\"/s\",\"ev\":[");
  for (size_t i = 0; i < events; i++)
    n += (size_t)sprintf((char *)input + n, "%s{\"e\":\"imp\",\"s\":%zu,\"t\":%zu,\"id\":\"gig-%zu\",\"pos\":%zu,\"f\":1}",
                         i ? "," : "", i + 1, 100 + 37 * i, 1000 + i, i + 1);
  n += (size_t)sprintf((char *)input + n, "]}");
  return n;
}

/* The workspace each window needs; windows outside 2^8..2^15 are refused. */
static void test_workspace_sizes(void) {
  CHECK_INT(imp_deflate_work_bytes(7), 0, "window 2^7 is refused");
  CHECK_INT(imp_deflate_work_bytes(16), 0, "window 2^16 is refused");
  CHECK_INT(imp_deflate_work_bytes(15), 4u * ((1u << 15) + (1u << 14)), "window 2^15 workspace");
  CHECK(imp_deflate_work_bytes(15) <= sizeof work_mem, "workspace fits the test buffer");
}

/* CRC-32: the check value, zlib's on random bytes, continued across calls. */
static void test_crc32(uint32_t *x) {
  CHECK_INT(imp_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u, "CRC-32 check value");
  for (size_t i = 0; i < 5000; i++) input[i] = (uint8_t)lcg(x);
  CHECK_INT(imp_crc32(0, input, 5000), crc32(0, input, 5000), "CRC-32 equals zlib's");
  CHECK_INT(imp_crc32(imp_crc32(0, input, 1234), input + 1234, 3766), crc32(0, input, 5000),
            "CRC-32 continues across calls");
}

/* Short inputs: the fixed codes; a run compresses to a few bytes. */
static void test_short_inputs(void) {
  round_trip(0, 15, "empty input");
  CHECK_INT(block_type(), 1, "empty input: one block with the fixed codes");
  input[0] = 'a';
  round_trip(1, 15, "one byte");
  size_t n = (size_t)sprintf((char *)input, "{\"v\":1,\"pv\":\"a1b2\",\"ev\":[{\"e\":\"click\",\"s\":9}]}");
  round_trip(n, 15, "a one-event batch");
  CHECK_INT(block_type(), 1, "a one-event batch: the fixed codes (no code tables to send)");
  memset(input, 'z', 1000);
  CHECK(round_trip(1000, 15, "a run of 1000 bytes") < 40, "a run compresses to a few bytes");
}

/* A batch: dynamic codes, close to zlib's best, in the largest and the smallest window. */
static void test_batch_compresses(void) {
  size_t n = batch_like(50);
  size_t m = round_trip(n, 15, "a 50-event batch");
  CHECK_INT(block_type(), 2, "a 50-event batch: dynamic codes");
  CHECK(m * 4 < n, "a 50-event batch compresses at least 4x (%zu -> %zu)", n, m);
  size_t best = zlib_best(n);
  CHECK(best > 0 && m * 100 <= best * 115, "within 15%% of zlib's level 9 (%zu, zlib %zu)", m, best);
  size_t m8 = round_trip(n, 8, "a 50-event batch, 256-byte window");
  CHECK(m8 * 4 < n, "a 256-byte window still compresses 4x (%zu)", m8);
}

/* Random bytes: a stored block, up to the largest input (65535 bytes, one stored
** block); one byte more is refused. */
static void test_stored_blocks(uint32_t *x) {
  for (size_t i = 0; i < 3000; i++) input[i] = (uint8_t)lcg(x);
  size_t m = round_trip(3000, 15, "3000 random bytes");
  CHECK(m <= 3000 + 23 && block_type() == 0, "random bytes fall back to a stored block (%zu)", m);

  for (size_t i = 0; i < BIG; i++) input[i] = (uint8_t)(lcg(x) % 4u + 'a');
  round_trip(IMP_DEFLATE_INPUT_MAX, 15, "65535 bytes of 4 letters");
  for (size_t i = 0; i < BIG; i++) input[i] = (uint8_t)lcg(x);
  m = round_trip(IMP_DEFLATE_INPUT_MAX, 15, "65535 random bytes");
  CHECK(m == imp_gzip_bound(IMP_DEFLATE_INPUT_MAX) && block_type() == 0,
        "65535 random bytes: one stored block (%zu)", m);
  imp_deflate_work w = work(15);
  CHECK_INT(imp_gzip(input, BIG, output, sizeof output, &w), 0,
            "65536 bytes, over the largest input: refused");
}

/* Skewed byte frequencies (about 1/(2(k+1)^2) for byte '!' + k): the code-length code
** comes out longer than DEFLATE allows (7 bits) and is built again from halved counts.
** zlib refuses a code over the limits. */
static void test_codes_over_length_limits(void) {
  uint32_t z = 11;
  for (size_t i = 0; i < IMP_DEFLATE_INPUT_MAX; i++) {
    uint32_t u = lcg(&z) % 10000u, k = 0;
    while (k < 120u && u >= 10000u / ((k + 1u) * (k + 1u) * 2u)) u -= 10000u / ((k + 1u) * (k + 1u) * 2u), k++;
    input[i] = (uint8_t)('!' + k);
  }
  round_trip(IMP_DEFLATE_INPUT_MAX, 8, "skewed byte frequencies, window 2^8 (codes over the length limits)");
  CHECK_INT(block_type(), 2, "skewed byte frequencies: dynamic codes");
}

/* Leonardo counts (1, 1, 3, 5, 9, 15...: each the sum of the two before plus one; odd,
** so the builder's weights are the counts): the deepest Huffman tree, 24 symbols give
** a code of 23 bits. No input within 65535 bytes makes the literal/length code that
** deep; its lengths are built again within 15 bits, and the code stays complete. */
static void test_leonardo_counts(void) {
  uint32_t freq[24], a = 1, b = 1;
  uint8_t len[24];
  for (uint32_t i = 0; i < 24u; i++, b += a + 1u, a = b - a - 1u) freq[i] = a;
  imp_df_code_lengths(freq, len, 24, 15);
  uint32_t deepest = 0;
  uint64_t kraft = 0;
  for (uint32_t i = 0; i < 24u; i++) {
    if (len[i] > deepest) deepest = len[i];
    kraft += len[i] ? 1ull << (15u - len[i]) : 0u;
  }
  CHECK(deepest <= 15u, "Leonardo counts: no code over 15 bits (%u)", deepest);
  CHECK(kraft == 1ull << 15, "Leonardo counts: the code is complete");
}

/* Long matches: 258 and the farthest distance of each window. */
static void test_long_matches(uint32_t *x) {
  for (size_t i = 0; i < 40000; i++) input[i] = (uint8_t)lcg(x);
  memcpy(input + 40000, input + 40000 - 32768, 600);
  round_trip(40600, 15, "a match 32768 bytes back");
  for (size_t i = 40600; i < 40900; i++) input[i] = input[i - 256];
  round_trip(40900, 8, "a match 256 bytes back, window 2^8");
}

static uint8_t again[BIG];

/* Determinism. */
static void test_determinism(void) {
  size_t n = batch_like(30);
  imp_deflate_work w = work(15);
  size_t a = imp_gzip(input, n, output, sizeof output, &w);
  size_t b = imp_gzip(input, n, again, sizeof again, &w);
  CHECK(a == b && memcmp(output, again, a) == 0, "the same input gives the same bytes");
}

/* Capacity: every cap below the size gives 0 and writes nothing past it. */
static void test_capacity(void) {
  size_t n = batch_like(30);
  imp_deflate_work w = work(15);
  size_t a = imp_gzip(input, n, output, sizeof output, &w);
  int clean = 1, refused = 1;
  for (size_t cap = 0; cap < a; cap++) {
    memset(again, 0xA5, sizeof again);
    if (imp_gzip(input, n, again, cap, &w) != 0) refused = 0;
    for (size_t k = cap; k < cap + 64; k++)
      if (again[k] != 0xA5) clean = 0;
  }
  CHECK(refused, "every capacity below the output size gives 0");
  CHECK(clean, "nothing is written past the capacity");
  CHECK_INT(imp_gzip(input, n, again, a, &w), a, "the exact capacity is enough");
}

int main(void) {
  uint32_t x = 7; /* one random sequence, continued from test to test */
  test_workspace_sizes();
  test_crc32(&x);
  test_short_inputs();
  test_batch_compresses();
  test_stored_blocks(&x);
  test_codes_over_length_limits();
  test_leonardo_counts();
  test_long_matches(&x);
  test_determinism();
  test_capacity();
  return test_done();
}
