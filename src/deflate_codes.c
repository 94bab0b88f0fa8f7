/*
** deflate_codes.c: the encoder's output side. The bit writer (DEFLATE's bit order, a
** writer that only counts when it has no room) and the Huffman codes: lengths built
** from symbol counts, canonical codes, the fixed codes, the exact cost of a block in
** a code, and the length and distance codes with their extra bits. src/deflate.c
** parses the input into these and chooses the block.
*/
#include "deflate_internal.h"

/*=== MARK: - Bit writer ===*/
IMP_DF_SHARED void imp_df_put_bits(bit_writer *b, uint32_t v, uint32_t n) {
  b->acc |= v << b->n;
  b->n += n;
  while (b->n >= 8u) {
    if (b->len < b->cap) b->p[b->len] = (uint8_t)b->acc;
    b->len++;
    b->acc >>= 8;
    b->n -= 8u;
  }
}

IMP_DF_SHARED size_t imp_df_bits_of(const bit_writer *b) { return b->len * 8u + b->n; }

IMP_DF_SHARED void imp_df_align(bit_writer *b) {
  if (b->n) imp_df_put_bits(b, 0, 8u - b->n);
}

IMP_DF_SHARED void imp_df_put_bytes(bit_writer *b, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) imp_df_put_bits(b, p[i], 8);
}

IMP_DF_SHARED void imp_df_put_le32(bit_writer *b, uint32_t v) {
  imp_df_put_bits(b, v & 0xFFFFu, 16);
  imp_df_put_bits(b, v >> 16, 16);
}

/*=== MARK: - Huffman codes ===*/
IMP_DF_SHARED void imp_df_put_symbol(bit_writer *b, huffman *h, uint32_t sym) {
  h->freq[sym]++;
  imp_df_put_bits(b, h->code[sym], h->len[sym]);
}

/* The two lightest trees merge until one is left (a scan per merge; the alphabets are
** small). Symbols 0 and 1 always take part, so every code has two symbols or more and
** is complete. When a leaf ends up too deep, the counts are halved (used ones stay at
** least 1) and it starts again. */
IMP_DF_SHARED void imp_df_code_lengths(const uint32_t *freq, uint8_t *len, uint32_t n,
                                       uint32_t limit) {
  static uint32_t w[2u * DIST], up[2u * DIST]; /* static scratch, each entry set before use */
  uint32_t deepest = limit + 1u;
  for (uint32_t shift = 0; deepest > limit; shift++) {
    uint32_t nodes = n;
    for (uint32_t i = 0; i < n; i++) w[i] = freq[i] >> shift | (freq[i] || i < 2u);
    for (;; nodes++) {  /* children point up; a merged tree's weight becomes 0 */
      uint32_t a = nodes, c = nodes;
      for (uint32_t i = 0; i < nodes; i++) {
        if (!w[i]) continue;
        if (a == nodes || w[i] < w[a]) c = a, a = i;
        else if (c == nodes || w[i] < w[c]) c = i;
      }
      if (c == nodes) break;
      w[nodes] = w[a] + w[c];
      w[a] = w[c] = 0;
      up[a] = up[c] = nodes;
    }
    deepest = 0;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t depth = 0;
      if (freq[i] || i < 2u)
        for (uint32_t k = i; k != nodes - 1u; k = up[k]) depth++;
      len[i] = (uint8_t)depth;
      if (depth > deepest) deepest = depth;
    }
  }
}

/* RFC 1951 3.2.2: shorter codes first, in symbol order within a length. Stored
** bit-reversed, ready for imp_df_put_bits. */
IMP_DF_SHARED void imp_df_canonical_codes(huffman *h, uint32_t first, uint32_t n) {
  uint32_t code = 0;
  for (uint32_t bits = 1; bits < 16u; bits++, code <<= 1)
    for (uint32_t i = first; i < first + n; i++) {
      if (h->len[i] != bits) continue;
      uint32_t r = 0;
      for (uint32_t k = 0; k < bits; k++) r = (r << 1) | ((code >> k) & 1u);
      h->code[i] = (uint16_t)r;
      code++;
    }
}

IMP_DF_SHARED void imp_df_fixed_lengths(huffman *h) {
  for (uint32_t i = 0; i < CODE_LEN; i++)
    h->len[i] = i < 144u ? 8 : i < 256u ? 9 : i < 280u ? 7 : i < DIST ? 8 : 5;
}

IMP_DF_SHARED size_t imp_df_cost(const huffman *h, uint32_t first, uint32_t end) {
  size_t bits = 0;
  for (uint32_t i = first; i < end; i++) bits += (size_t)h->freq[i] * h->len[i];
  return bits;
}

static uint32_t log2u(uint32_t v) { return 31u - (uint32_t)__builtin_clz(v); }

/* A length (3..258, from symbol 257) or distance (1..32768, from DIST) code: codes come
** in groups of 2^group_bits sharing their extra bits. */
IMP_DF_SHARED void imp_df_put_ranged(bit_writer *b, huffman *h, uint32_t v, uint32_t group_bits,
                                     uint32_t base) {
  uint32_t groups = 1u << group_bits, extra = 0, code = v;
  if (v >= 2u * groups) {
    extra = log2u(v) - group_bits;
    code = groups * (extra + 1u) + ((v >> extra) & (groups - 1u));
  }
  imp_df_put_symbol(b, h, base + code);
  imp_df_put_bits(b, v & ((1u << extra) - 1u), extra);
}
