/*
** gunzip.h: zlib's inflate as the reference decoder for the tests and fuzzers of the
** core's gzip output (zlib is never linked into the core itself).
*/
#ifndef IMP_TEST_GUNZIP_H
#define IMP_TEST_GUNZIP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

/* Inflates one complete gzip member that must fill in[0..n) exactly (header, CRC-32
** and length checked by zlib). Returns the inflated length, or -1 when zlib refuses
** it, it is not exactly one member, or it inflates to more than cap bytes. */
static inline long gunzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + 15) != Z_OK) return -1;
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  int status = inflate(&z, Z_FINISH);
  long len = (long)z.total_out;
  int whole = status == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  return whole ? len : -1;
}

#endif /* IMP_TEST_GUNZIP_H */
