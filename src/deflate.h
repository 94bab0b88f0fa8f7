/*
** deflate.h: the core's DEFLATE encoder (RFC 1951) with the gzip wrapper (RFC 1952).
**
** A function of its input only: nothing kept from one call to the next, no
** allocation, no clock. Its hash tables (the workspace) are memory the caller gives it
** once, for example carved from the core's arena at start-up; its code tables are
** static scratch, set afresh at every call (so it is not re-entrant). Output is
** deterministic: the same input and window give the same bytes on every build (native
** and .wasm). src/README.md describes the format choices (LZ77 with a hash chain and
** lazy parsing, fixed or dynamic Huffman codes, stored fallback).
*/
#ifndef IMP_DEFLATE_H
#define IMP_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#define IMP_DEFLATE_WINDOW_MIN 8u   /* window bits: 256 B ..   */
#define IMP_DEFLATE_WINDOW_MAX 15u  /* .. 32 KiB (DEFLATE's largest) */
#define IMP_DEFLATE_INPUT_MAX 65535u /* bytes compressed at most: one stored block */

/* The hash tables. Fill it with imp_deflate_work_init(). */
typedef struct imp_deflate_work {
  uint32_t *head;          /* newest position + 1 per hash of 3 bytes; 0 = none  */
  uint32_t *prev;          /* older position + 1 with the same hash, per window slot */
  uint32_t window_bits;    /* matches reach back at most 1 << window_bits bytes */
} imp_deflate_work;

/* Bytes of workspace for a window of 1 << window_bits bytes (0 when out of range). */
size_t imp_deflate_work_bytes(uint32_t window_bits);
/* Points w at mem (imp_deflate_work_bytes() bytes, 4-byte aligned). */
void imp_deflate_work_init(imp_deflate_work *w, uint8_t *mem, uint32_t window_bits);
/* Largest gzip member imp_gzip() writes for n input bytes (a stored block + wrapper). */
size_t imp_gzip_bound(size_t n);
/* Compresses in[0..n) into one gzip member at out (cap bytes). Returns its length,
** never more than imp_gzip_bound(n); 0 when it does not fit in cap (out then holds
** garbage) or n is over IMP_DEFLATE_INPUT_MAX. in and out must not overlap. */
size_t imp_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                const imp_deflate_work *w);
/* CRC-32 (ISO-HDLC, as gzip and zlib's crc32()) of n bytes, continuing from crc. */
uint32_t imp_crc32(uint32_t crc, const uint8_t *p, size_t n);

#ifdef IMP_ENCODER_STATS
/* Test builds only (-DIMP_ENCODER_STATS): what went through imp_gzip(), to find
** repeated work. Never in the shipped core. */
typedef struct imp_encoder_stats { uint64_t calls, bytes_in, bytes_out; } imp_encoder_stats;
extern imp_encoder_stats imp_encoder_counts;
#endif

#endif /* IMP_DEFLATE_H */
