/*
** deflate.c: DEFLATE (RFC 1951) in one block, wrapped as gzip (RFC 1952): the LZ77
** parse, the choice of block and the gzip member. Not part of the exported ABI: the
** core calls imp_gzip() on a batch. The bit writer and the Huffman codes are
** src/deflate_codes.c's (shared through deflate_internal.h).
**
** LZ77: every position is hashed on its next 3 bytes into `head`; `prev` chains the
** older positions of the same hash within the window. At each position the encoder
** walks the chain (at most MAX_CHAIN steps) for the longest earlier match, 3 bytes or
** more, and emits it unless the next position has a longer one (lazy parsing by one
** position); else a literal. The input is parsed once, into tokens, which are then
** written twice: the first pass only counts the symbols, which gives the exact size of
** the block with the fixed codes (RFC 1951 3.2.6) and with codes built for these counts
** (3.2.7); the second pass writes the smaller. When the input stored as is would be no
** larger, a stored block is written instead, so the output is never more than
** imp_gzip_bound(n) bytes. Inputs are at most IMP_DEFLATE_INPUT_MAX bytes (one stored
** block; a batch is at most 60 KiB).
*/
#include "deflate_internal.h"

#define MIN_MATCH 3u
#define MAX_MATCH 258u
#define MAX_CHAIN 48u
#define HASH_BITS(window_bits) ((window_bits) - 1u)

/*=== MARK: - LZ77 (Private) ===*/
static uint32_t hash3(const uint8_t *p, uint32_t bits) {
  uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
  return (v * 2654435761u) >> (32u - bits);
}

/* With `chain` steps allowed: the longest match for position i among the earlier
** positions of the same hash within the window, as its length and distance in one
** number (length | distance << 16; 0 when under MIN_MATCH, so no frame holds an
** out-parameter). Then position i joins its chain. A chain entry within the window
** was never overwritten by a newer one, since positions join after their search. */
static uint32_t search_insert(const imp_deflate_work *w, const uint8_t *in, size_t n,
                              size_t i, uint32_t chain) {
  uint32_t best = 0, dist = 0, window = 1u << w->window_bits;
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
      dist = (uint32_t)(i - (p - 1u));
      if (len == max) break;
    }
  }
  w->prev[i & (window - 1u)] = w->head[h];
  w->head[h] = (uint32_t)i + 1u;
  return best >= MIN_MATCH ? best | dist << 16 : 0;
}

/* The parse of the input: a literal (its byte) or a match (length | distance << 16, so
** 65536 or more) per entry. Static, as every table of the encoder: no frame. */
static uint32_t tokens[IMP_DEFLATE_INPUT_MAX];

/* Parses in[0..n) into tokens; returns how many. */
static size_t parse(const uint8_t *in, size_t n, const imp_deflate_work *w) {
  size_t t = 0;
  uint32_t next = 0; /* a match found at i by the lazy look one position ahead */
  __builtin_memset(w->head, 0, sizeof(uint32_t) << HASH_BITS(w->window_bits));
  for (size_t i = 0; i < n;) {
    uint32_t match = next ? next : search_insert(w, in, n, i, MAX_CHAIN);
    uint32_t len = match & 0xFFFFu;
    /* Lazy parsing: a longer match at the next position wins over this one. */
    next = len ? search_insert(w, in, n, i + 1u, MAX_CHAIN) : 0;
    if ((next & 0xFFFFu) > len || !len) {
      tokens[t++] = in[i++];
      continue;
    }
    tokens[t++] = match;
    for (size_t end = i + len, k = i + 2u; k < end; k++) search_insert(w, in, n, k, 0);
    i += len;
    next = 0;
  }
  return t;
}

/* The t tokens, then the end of block, in h's codes. */
static void put_tokens(bit_writer *b, huffman *h, size_t t) {
  for (size_t k = 0; k < t; k++) {
    uint32_t token = tokens[k], len = token & 0xFFFFu;
    if (token < 0x10000u) {
      imp_df_put_symbol(b, h, token);
      continue;
    }
    if (len == MAX_MATCH) imp_df_put_symbol(b, h, 285);
    else imp_df_put_ranged(b, h, len - MIN_MATCH, 2, 257);
    imp_df_put_ranged(b, h, (token >> 16) - 1u, 1, DIST);
  }
  imp_df_put_symbol(b, h, 256);
}

/*=== MARK: - Blocks (Private) ===*/
/* The lengths of both codes, one code-length symbol each (RFC 1951 3.2.7). Every code
** is sent (HLIT 286, HDIST 30, HCLEN 19) and the run-length symbols 16..18 are not used:
** both would save a few bytes per batch and cost more in the .wasm (src/README.md). */
#define CODE_LEN_ORDER "\x10\x11\x12\x00\x08\x07\x09\x06\x0a\x05\x0b\x04\x0c\x03\x0d\x02\x0e\x01\x0f"

static void put_lengths(bit_writer *b, huffman *h) {
  for (uint32_t i = 0; i < LITLEN_SENT + DIST_SENT; i++)
    imp_df_put_symbol(b, h, CODE_LEN + h->len[i < LITLEN_SENT ? i : i + DIST - LITLEN_SENT]);
}

/* Builds the codes for h's counts; returns the bits of the block header they need.
** `count` is a writer that only counts: the code-length symbols go through it with
** lengths still 0, so they are counted and add no bits. */
static size_t dynamic_codes(bit_writer *count, huffman *h) {
  imp_df_code_lengths(h->freq, h->len, DIST, 15);  /* 286 and 287 are never used: length 0 */
  imp_df_code_lengths(h->freq + DIST, h->len + DIST, 32, 15);
  put_lengths(count, h);
  imp_df_code_lengths(h->freq + CODE_LEN, h->len + CODE_LEN, 19, 7);
  return 3u + 14u + 3u * 19u + imp_df_cost(h, CODE_LEN, SYMBOLS);
}

static void put_dynamic_header(bit_writer *b, huffman *h) {
  /* BFINAL, BTYPE 10, HLIT, HDIST, HCLEN: 3 + 5 + 5 + 4 bits */
  imp_df_put_bits(b, 1u | 2u << 1 | (LITLEN_SENT - 257u) << 3 | (DIST_SENT - 1u) << 8 |
                      (19u - 4u) << 13, 17);
  for (uint32_t k = 0; k < 19u; k++)
    imp_df_put_bits(b, h->len[CODE_LEN + (uint8_t)CODE_LEN_ORDER[k]], 3);
  imp_df_canonical_codes(h, CODE_LEN, 19);
  put_lengths(b, h);
}

static void stored_block(bit_writer *b, const uint8_t *in, size_t n) {
  imp_df_put_bits(b, 1, 3);  /* BFINAL, BTYPE 00 */
  imp_df_align(b);
  imp_df_put_le32(b, (uint32_t)n | ~(uint32_t)n << 16);  /* LEN, NLEN */
  imp_df_put_bytes(b, in, n);
}

/* The smallest of the three block kinds for in[0..n), by exact size. The code tables
** are static, not on the stack (no frame; the encoder is not re-entrant, which nothing
** needs) and zeroed at every call. */
static void deflate(bit_writer *b, const uint8_t *in, size_t n, const imp_deflate_work *w) {
  static huffman h;
  static bit_writer count; /* a writer that only counts (cap 0) */
  __builtin_memset(&h, 0, sizeof h);
  __builtin_memset(&count, 0, sizeof count);
  size_t t = parse(in, n, w);
  put_tokens(&count, &h, t);  /* all lengths 0: counts symbols and extra bits */
  imp_df_fixed_lengths(&h);
  size_t fixed = 3u + imp_df_cost(&h, 0, CODE_LEN);
  size_t dynamic = dynamic_codes(&count, &h);
  dynamic += imp_df_cost(&h, 0, CODE_LEN);
  size_t stored = n + 5u;
  size_t bytes = (imp_df_bits_of(&count) + (fixed < dynamic ? fixed : dynamic) + 7u) / 8u;
  if (stored <= bytes) {
    stored_block(b, in, n);
    return;
  }
  if (b->len + bytes + 8u > b->cap) {  /* it cannot fit with the trailer: only count */
    b->len += bytes;
    return;
  }
  if (fixed <= dynamic) {
    imp_df_fixed_lengths(&h);
    imp_df_put_bits(b, 1u | 1u << 1, 3);  /* BFINAL, BTYPE 01 */
  } else {
    put_dynamic_header(b, &h);
  }
  imp_df_canonical_codes(&h, 0, DIST);
  imp_df_canonical_codes(&h, DIST, 32);
  put_tokens(b, &h, t);
  imp_df_align(b);
}

/*=== MARK: - gzip (Public) ===*/
#ifdef IMP_ENCODER_STATS
imp_encoder_stats imp_encoder_counts;
#endif

/* Four bits per step from a 16-entry table (64 bytes): a quarter of the steps of a
** bit at a time, for much less than the 1 KiB of a byte-wide table. */
uint32_t imp_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  static const uint32_t nibble[16] = {
      0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
      0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
      0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ nibble[crc & 15u];
    crc = (crc >> 4) ^ nibble[crc & 15u];
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
  return 23u + n;
}

size_t imp_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                const imp_deflate_work *w) {
  static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  static bit_writer b; /* static, as the code tables: no function of the core has a frame */
  if (n > IMP_DEFLATE_INPUT_MAX) return 0;
  b = (bit_writer){out, 0, cap, 0, 0};
  imp_df_put_bytes(&b, header, sizeof header);
  deflate(&b, in, n, w);
  imp_df_put_le32(&b, imp_crc32(0, in, n));
  imp_df_put_le32(&b, (uint32_t)n);
#ifdef IMP_ENCODER_STATS
  imp_encoder_counts.calls++;
  imp_encoder_counts.bytes_in += n;
  imp_encoder_counts.bytes_out += b.len <= cap ? b.len : 0;
#endif
  return b.len <= cap ? b.len : 0;
}
