/*
** fuzz_common.h: helpers shared by the fuzz targets: an input reader that yields
** zeros once the input is used up, a strict UTF-8 check, and fail(), which prints
** the reason and aborts so libFuzzer saves the input.
*/
#ifndef IMP_FUZZ_COMMON_H
#define IMP_FUZZ_COMMON_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imp.h"

typedef struct {
  const uint8_t *p;
  size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

static inline uint32_t fz_u16(fz_in *in) {
  uint32_t hi = fz_u8(in);
  return (hi << 8) | fz_u8(in);
}

/* Copies up to n input bytes to dst; returns how many were copied. */
static inline size_t fz_bytes(fz_in *in, uint8_t *dst, size_t n) {
  if (n > in->n) n = in->n;
  memcpy(dst, in->p, n);
  in->p += n;
  in->n -= n;
  return n;
}

__attribute__((noreturn)) static inline void fz_fail(const char *why, const char *batch,
                                                     size_t len) {
  fprintf(stderr, "invariant broken: %s\nbatch: %.*s\n", why, (int)len, batch ? batch : "");
  abort();
}

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
static inline int fz_utf8_ok(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      need = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else
      return 0;
    if (i + need > n || s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k < need; k++)
      if ((s[i + k] & 0xC0) != 0x80) return 0;
    i += need;
  }
  return 1;
}

#endif /* IMP_FUZZ_COMMON_H */
