/*
** json.c: the JSON writer the encoder uses. It writes into a caller-owned buffer
** and never past its capacity: a write that does not fit sets `overflow` and leaves
** the buffer as it was before that write, so callers can roll back cleanly.
**
** Strings are escaped per RFC 8259: '"', '\\' and every control character are
** escaped, and the bytes are checked as UTF-8. Anything that is not well-formed
** UTF-8 (stray continuation bytes, overlongs, surrogates encoded in UTF-8, code
** points above U+10FFFF, truncated sequences) becomes U+FFFD, so the output is
** always valid JSON text whatever bytes came in. NUL also becomes U+FFFD: "\u0000"
** is valid JSON, but strict parsers (jansson) and text columns downstream refuse it.
*/
#include "imp_internal.h"

/* The core's one writer (imp_g.writing, not on the stack: its address is a
** constant), emptied and pointed at dst: an event, a batch, a body, a key or a
** record is encoded at a time. */
imp_writer *imp_json_start(uint8_t *dst, uint32_t cap) {
  imp_writer *w = &imp_g.writing;
  w->p = dst;
  w->len = 0;
  w->cap = cap;
  w->overflow = 0;
  return w;
}

/* gcc -O2, once put is inlined into a call with a short literal, warns that the long
** branch could read past it; that branch is only taken for n > 16 bytes that exist. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
static void put(imp_writer *w, const uint8_t *s, uint32_t n) {
  if (w->overflow || n > w->cap - w->len) {
    w->overflow = 1;
    return;
  }
  uint8_t *d = w->p + w->len;
  w->len += n;
  if (n > 16) {
    __builtin_memcpy(d, s, n);
    return;
  }
  for (uint32_t i = 0; i < n; i++) d[i] = s[i];  /* short: no memory.copy call */
}

void imp_json_bytes(imp_writer *w, const uint8_t *s, uint32_t n) { put(w, s, n); }

void imp_json_raw(imp_writer *w, const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  put(w, (const uint8_t *)s, n);
}

/* v in decimal, at least `width` digits (zero-padded). */
void imp_json_uint(imp_writer *w, uint64_t v, uint32_t width) {
  static IMP_NEAR uint8_t digits[20]; /* static, as every scratch of the core: no frame */
  uint32_t n = 0;
  do {
    digits[19 - n++] = (uint8_t)('0' + v % 10u);
    v /= 10u;
  } while (v || n < width);
  put(w, digits + 20 - n, n);
}

/* Raw text (a key with its punctuation), then a count. */
void imp_json_field(imp_writer *w, const char *key, uint32_t v) {
  imp_json_raw(w, key);
  imp_json_uint(w, v, 0);
}

uint32_t imp_ms(double ms) {
  if (!(ms > 0.0)) return 0;              /* also NaN */
  if (ms >= 4294967295.0) return 0xFFFFFFFFu;
  return (uint32_t)ms;
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), or 0. The second byte
** has a narrower range after some lead bytes: no overlongs (E0, F0), no UTF-16
** surrogates (ED), nothing above U+10FFFF (F4). */
static uint32_t utf8_len(const uint8_t *s, uint32_t n) {
  uint8_t c = s[0];
  if (c < 0x80) return 1;
  if (c < 0xC2 || c > 0xF4) return 0;
  uint32_t need = c >= 0xF0 ? 4u : c >= 0xE0 ? 3u : 2u;
  uint8_t lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
  uint8_t hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
  if (n < need) return 0;
  for (uint32_t i = 1; i < need; i++, lo = 0x80, hi = 0xBF)
    if (s[i] < lo || s[i] > hi) return 0;
  return need;
}

void imp_json_str(imp_writer *w, const uint8_t *s, uint32_t n) {
  static const char hex[] = "0123456789abcdef";
  /* An escape, static (no frame): \u00XX, or a backslash and the character in its last two. */
  static IMP_NEAR uint8_t esc[6] = {'\\', 'u', '0', '0'};
  uint32_t mark = w->len;
  put(w, (const uint8_t *)"\"", 1);
  for (uint32_t i = 0; i < n && !w->overflow;) {
    uint8_t c = s[i];
    uint32_t run = utf8_len(s + i, n - i);
    if (run == 0 || c == 0) {  /* NUL too: valid JSON, but it breaks C strings and SQL text downstream */
      put(w, (const uint8_t *)"\\ufffd", 6);
      i++;
    } else if (c == '"' || c == '\\') {
      esc[4] = '\\';
      esc[5] = c;
      put(w, esc + 4, 2);
      i++;
    } else if (c < 0x20) {
      esc[4] = (uint8_t)hex[c >> 4];
      esc[5] = (uint8_t)hex[c & 15];
      put(w, esc, 6);
      i++;
    } else {  /* a run of bytes that need no escape, in one write */
      uint32_t end = i + run;
      while (end < n && s[end] >= 0x20 && s[end] < 0x80 && s[end] != '"' && s[end] != '\\') end++;
      put(w, s + i, end - i);
      i = end;
    }
  }
  put(w, (const uint8_t *)"\"", 1);
  if (w->overflow) w->len = mark;
}
