/*
** deflate.c: DEFLATE (RFC 1951) in one block with the fixed Huffman codes, wrapped as
** gzip (RFC 1952). Not part of the exported ABI: the core calls imp_gzip() on a batch.
**
** LZ77: every position is hashed on its next 3 bytes into `head`; `prev` chains the
** older positions of the same hash within the window. At each position the encoder
** walks the chain (at most MAX_CHAIN steps) for the longest earlier match and emits a
** length/distance pair when it is 3 bytes or more, else a literal (greedy parsing).
** The block uses the fixed codes of RFC 1951 3.2.6: no code tables to send, so a
** small batch pays nothing for them. When that block would be larger than the input
** stored as is, stored blocks are written instead, so the output is never more than
** imp_gzip_bound(n) bytes.
*/
#include "deflate.h"

#define MIN_MATCH 3u
#define MAX_MATCH 258u
#define MAX_CHAIN 48u
#define STORED_MAX 65535u
#define HASH_BITS(window_bits) ((window_bits) - 1u)

/*=== MARK: - Bit writer (Private) ===*/
/* DEFLATE packs bits from the least significant end; writes past cap set overflow. */
typedef struct bit_writer {
  uint8_t *p;
  size_t len, cap;
  uint32_t acc;
  uint32_t n;
  int overflow;
} bit_writer;

static void put_byte(bit_writer *b, uint32_t v) {
  if (b->len < b->cap) b->p[b->len++] = (uint8_t)v;
  else b->overflow = 1;
}

static void put_bits(bit_writer *b, uint32_t v, uint32_t n) {
  b->acc |= v << b->n;
  b->n += n;
  while (b->n >= 8u) {
    put_byte(b, (uint32_t)b->acc);
    b->acc >>= 8;
    b->n -= 8u;
  }
}

static void align(bit_writer *b) {
  if (b->n) put_bits(b, 0, 8u - b->n);
}

static void put_le32(bit_writer *b, uint32_t v) {
  put_bits(b, v & 0xFFFFu, 16);
  put_bits(b, v >> 16, 16);
}

/* Huffman codes are defined most significant bit first: reversed before packing. */
static void put_code(bit_writer *b, uint32_t code, uint32_t len) {
  uint32_t r = 0;
  for (uint32_t i = 0; i < len; i++) r = (r << 1) | ((code >> i) & 1u);
  put_bits(b, r, len);
}

/*=== MARK: - Fixed Huffman codes (Private) ===*/
static void put_symbol(bit_writer *b, uint32_t sym) {  /* literal/length 0..287 */
  uint32_t code = sym < 144u ? 0x30u + sym : sym < 256u ? 0x190u + sym - 144u
                  : sym < 280u ? sym - 256u : 0xC0u + sym - 280u;
  put_code(b, code, sym < 144u ? 8u : sym < 256u ? 9u : sym < 280u ? 7u : 8u);
}

static uint32_t log2u(uint32_t v) { return 31u - (uint32_t)__builtin_clz(v); }

/* A length (3..258, from 257) or distance (1..32768, from 0) code and its extra bits
** (RFC 1951 3.2.5): codes come in groups of 2^group_bits sharing their extra bits. */
static void put_ranged(bit_writer *b, uint32_t v, uint32_t group_bits, int distance) {
  uint32_t groups = 1u << group_bits, extra = 0, code = v;
  if (v >= 2u * groups) {
    extra = log2u(v) - group_bits;
    code = groups * (extra + 1u) + ((v >> extra) & (groups - 1u));
  }
  if (distance) put_code(b, code, 5);
  else put_symbol(b, 257u + code);
  put_bits(b, v & ((1u << extra) - 1u), extra);
}

static void put_match(bit_writer *b, uint32_t len, uint32_t dist) {
  if (len == MAX_MATCH) put_symbol(b, 285);
  else put_ranged(b, len - MIN_MATCH, 2, 0);
  put_ranged(b, dist - 1u, 1, 1);
}

/*=== MARK: - LZ77 (Private) ===*/
static uint32_t hash3(const uint8_t *p, uint32_t bits) {
  uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
  return (v * 2654435761u) >> (32u - bits);
}

/* With `chain` steps allowed: the longest match for position i among the earlier
** positions of the same hash within the window (0 when under MIN_MATCH). Then
** position i joins its chain. A chain entry within the window was never overwritten
** by a newer one, since positions join after their search. */
static uint32_t search_insert(const imp_deflate_work *w, const uint8_t *in, size_t n,
                              size_t i, uint32_t chain, uint32_t *dist) {
  uint32_t best = 0, window = 1u << w->window_bits;
  uint32_t max = n - i < MAX_MATCH ? (uint32_t)(n - i) : MAX_MATCH;
  if (max < MIN_MATCH) return 0;
  uint32_t h = hash3(in + i, HASH_BITS(w->window_bits));
  uint32_t p = w->head[h];
  for (; p && chain && i - (p - 1u) <= window; chain--, p = w->prev[(p - 1u) & (window - 1u)]) {
    const uint8_t *a = in + (p - 1u), *c = in + i;
    if (a[best] != c[best]) continue;
    uint32_t len = 0;
    while (len < max && a[len] == c[len]) len++;
    if (len > best) {
      best = len;
      *dist = (uint32_t)(i - (p - 1u));
      if (len == max) break;
    }
  }
  w->prev[i & (window - 1u)] = w->head[h];
  w->head[h] = (uint32_t)i + 1u;
  return best >= MIN_MATCH ? best : 0;
}

/* One final block with the fixed codes. */
static void fixed_block(bit_writer *b, const uint8_t *in, size_t n,
                        const imp_deflate_work *w) {
  __builtin_memset(w->head, 0, sizeof(uint32_t) << HASH_BITS(w->window_bits));
  put_bits(b, 1u | 1u << 1, 3);  /* BFINAL, BTYPE 01 */
  for (size_t i = 0; i < n && !b->overflow;) {
    uint32_t dist = 0, len = search_insert(w, in, n, i, MAX_CHAIN, &dist);
    if (!len) {
      put_symbol(b, in[i]);
      len = 1;
    } else {
      put_match(b, len, dist);
    }
    for (size_t end = i++ + len; i < end; i++) search_insert(w, in, n, i, 0, &dist);
  }
  put_symbol(b, 256);
  align(b);
}

static void stored_blocks(bit_writer *b, const uint8_t *in, size_t n) {
  size_t i = 0;
  do {
    uint32_t len = n - i > STORED_MAX ? STORED_MAX : (uint32_t)(n - i);
    put_bits(b, i + len == n, 3);  /* BFINAL on the last, BTYPE 00 */
    align(b);
    put_bits(b, len, 16);
    put_bits(b, ~len & 0xFFFFu, 16);
    for (uint32_t k = 0; k < len; k++) put_bits(b, in[i + k], 8);
    i += len;
  } while (i < n);
}

/*=== MARK: - gzip (Public) ===*/
uint32_t imp_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

size_t imp_deflate_work_bytes(uint32_t window_bits) {
  if (window_bits < IMP_DEFLATE_WINDOW_MIN || window_bits > IMP_DEFLATE_WINDOW_MAX) return 0;
  return sizeof(uint32_t) * ((1u << window_bits) + (1u << HASH_BITS(window_bits)));
}

void imp_deflate_work_init(imp_deflate_work *w, uint8_t *mem, uint32_t window_bits) {
  w->window_bits = window_bits;
  w->prev = (uint32_t *)(void *)mem;
  w->head = w->prev + (1u << window_bits);
}

size_t imp_gzip_bound(size_t n) {
  return 18u + n + 5u * (n ? (n + STORED_MAX - 1u) / STORED_MAX : 1u);
}

size_t imp_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                const imp_deflate_work *w) {
  static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  bit_writer b = {out, 0, cap, 0, 0, 0};
  if (n >= 0xFFFFFFFFu) return 0;
  for (uint32_t k = 0; k < sizeof header; k++) put_bits(&b, header[k], 8);
  fixed_block(&b, in, n, w);
  if (b.overflow || b.len + 8u > imp_gzip_bound(n)) {
    b.len = sizeof header;
    b.overflow = cap < sizeof header;
    b.acc = 0;
    b.n = 0;
    stored_blocks(&b, in, n);
  }
  put_le32(&b, imp_crc32(0, in, n));
  put_le32(&b, (uint32_t)n);
  return b.overflow ? 0 : b.len;
}
