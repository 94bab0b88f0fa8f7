/*
** deflate_internal.h: what the encoder's two files share, never exported: the bit
** writer and the Huffman code tables. src/deflate_codes.c builds the codes and writes
** bits; src/deflate.c parses the input into symbols, chooses the block and wraps it
** as gzip.
*/
#ifndef IMP_DEFLATE_INTERNAL_H
#define IMP_DEFLATE_INTERNAL_H

#include "deflate.h"

/* DEFLATE packs bits from the least significant end. Bytes past cap are counted, not
** written: a writer with cap 0 measures. */
typedef struct bit_writer {
  uint8_t *p;
  size_t len, cap;
  uint32_t acc;
  uint32_t n;
} bit_writer;

/* The three alphabets side by side: literal/length (0..287), distance, code length. */
#define DIST 288u
#define CODE_LEN (DIST + 32u)
#define SYMBOLS (CODE_LEN + 19u)
#define LITLEN_SENT 286u  /* HLIT: every literal/length code is sent, */
#define DIST_SENT 30u     /* HDIST: and every distance code */

typedef struct huffman {
  uint32_t freq[SYMBOLS];  /* symbols counted (a pass with all lengths 0 only counts) */
  uint16_t code[SYMBOLS];  /* bit-reversed, ready for imp_df_put_bits */
  uint8_t len[SYMBOLS];
} huffman;

/* The functions below are static in the one translation unit of src/unity.c
** (IMP_UNITY), like each file's private functions: the .wasm is then the same code as
** with the encoder in one file (clang emits and specialises static functions by use).
** Native builds compile the two files apart and link them. */
#ifdef IMP_UNITY
#define IMP_DF_SHARED static
#else
#define IMP_DF_SHARED
#endif

/*=== MARK: - Bit writer ===*/
IMP_DF_SHARED void imp_df_put_bits(bit_writer *b, uint32_t v, uint32_t n);
IMP_DF_SHARED size_t imp_df_bits_of(const bit_writer *b); /* written or counted so far */
IMP_DF_SHARED void imp_df_align(bit_writer *b);           /* 0 bits up to a byte */
IMP_DF_SHARED void imp_df_put_bytes(bit_writer *b, const uint8_t *p, size_t n);
IMP_DF_SHARED void imp_df_put_le32(bit_writer *b, uint32_t v);

/*=== MARK: - Huffman codes ===*/
/* Writes sym in h's code and counts it in h->freq. */
IMP_DF_SHARED void imp_df_put_symbol(bit_writer *b, huffman *h, uint32_t sym);
/* Code lengths for the n symbols at freq, none over limit. */
IMP_DF_SHARED void imp_df_code_lengths(const uint32_t *freq, uint8_t *len, uint32_t n,
                                       uint32_t limit);
/* Canonical codes for the n lengths from first. */
IMP_DF_SHARED void imp_df_canonical_codes(huffman *h, uint32_t first, uint32_t n);
/* The lengths of the fixed codes (RFC 1951 3.2.6). */
IMP_DF_SHARED void imp_df_fixed_lengths(huffman *h);
/* Bits of the symbols first..end-1 as counted, in their current lengths. */
IMP_DF_SHARED size_t imp_df_cost(const huffman *h, uint32_t first, uint32_t end);
/* A length or distance code and its extra bits (RFC 1951 3.2.5). */
IMP_DF_SHARED void imp_df_put_ranged(bit_writer *b, huffman *h, uint32_t v, uint32_t group_bits,
                                     uint32_t base);

#endif /* IMP_DEFLATE_INTERNAL_H */
