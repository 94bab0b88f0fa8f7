/*
** replay_fields.c: the fields of a trace line for the replay tool (src/replay.c
** describes the format): numbers as strtod() reads them and as WebAssembly converts
** a JS number for an i32 parameter, percent-encoded strings, and the FNV-1a
** fingerprint the output gives a gzip body.
*/
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "replay.h"

/*=== MARK: - Field decoding (Private) ===*/
/* Parses a number field; 0 when malformed. */
int parse_number(const char *field, double *out) {
  char *end = NULL;
  if (field[0] == '\0' || field[0] == ' ' || field[0] == '\t' || field[0] == '\n' ||
      field[0] == '\r' || field[0] == '\v' || field[0] == '\f')
    return 0;
  *out = strtod(field, &end);
  return end != NULL && *end == '\0';
}

/* ToUint32 of ECMAScript: how a JS number reaches a wasm i32 parameter. */
uint32_t to_uint32(double v) {
  double m;
  if (!isfinite(v)) return 0u;
  m = fmod(trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return (uint32_t)m;
}

int32_t to_int32(double v) {
  uint32_t u = to_uint32(v);
  return u >= 0x80000000u ? (int32_t)(u - 0x80000000u) - INT32_MAX - 1 : (int32_t)u;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes a percent-encoded string field into out (at most cap bytes stored);
** *len gets the decoded length even when it exceeds cap. 0 when malformed. */
int decode_string(const char *field, uint8_t *out, size_t cap, size_t *len) {
  size_t n = 0;
  const unsigned char *p = (const unsigned char *)field;
  if (strcmp(field, "-") == 0) {
    *len = 0;
    return 1;
  }
  while (*p) {
    unsigned char b;
    if (*p == '%') {
      int hi = hex_value((char)p[1]), lo;
      if (hi < 0) return 0;
      lo = hex_value((char)p[2]);
      if (lo < 0) return 0;
      b = (unsigned char)(hi * 16 + lo);
      p += 3;
    } else {
      if (*p <= 0x20 || *p >= 0x7F) return 0;
      b = *p++;
    }
    if (n < cap) out[n] = b;
    n++;
  }
  *len = n;
  return 1;
}

/* Writes two decoded strings one after the other into the input buffer. */
int decode_strings(uint8_t *buf, size_t cap, const char *a, const char *b, uint32_t *alen,
                   uint32_t *blen) {
  size_t la = 0, lb = 0, room;
  if (!decode_string(a, buf, cap, &la)) return 0;
  room = la < cap ? cap - la : 0;
  if (b && !decode_string(b, buf + (cap - room), room, &lb)) return 0;
  if (la > UINT32_MAX || lb > UINT32_MAX) return 0;
  *alen = (uint32_t)la;
  *blen = (uint32_t)lb;
  return 1;
}

/* FNV-1a, 32 bits: a short fingerprint of a gzip batch. */
uint32_t fnv1a(const uint8_t *p, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}
