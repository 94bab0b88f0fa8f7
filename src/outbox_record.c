/*
** outbox_record.c: the two encodings of a held batch, and the record parser.
**
** Request body. imp_ob_encode_body() assembles what goes on the wire from the
** batch's parts: prefix, "at", "drop", its first n events joined by commas, then,
** when the core compresses, gzip (src/deflate.c, with the core's workspace). It is
** the one place a body is encoded for sending, and the one measure of its size.
**
** Storage record. The value of a stored batch is one ASCII line of fields, then
** the header prefix and the events exactly as encoded (valid UTF-8, since the JSON
** writer repairs every string):
**   I1 <created> <until> <drop> <at> <attempted> <prefix_len> <n> <len_1> .. <len_n> <owner>\n
**   <prefix><event_1>..<event_n>
** created and until are wall-clock ms; owner is the owning tab id, or "-" for a
** record released for any tab. A record of n = 0 events and no prefix carries only
** a "drop" count. The key is "q:<created, 13 digits>:<tab>:<n>", so key order is
** age order. The parser trusts nothing: a record is stored where the page and the
** user can change it, so every length and every boundary is checked.
*/
#include "outbox_internal.h"

/*=== MARK: - Numbers (Private) ===*/
/* Writes a non-negative integer below 2^53; returns its digits. */
static uint32_t put_u53(uint8_t *dst, double v) {
  uint8_t digits[16];
  uint32_t n = 0;
  if (!(v >= 0.0)) v = 0.0;
  if (v > 9007199254740991.0) v = 9007199254740991.0;
  uint64_t x = (uint64_t)v;
  do {
    digits[n++] = (uint8_t)('0' + x % 10u);
    x /= 10u;
  } while (x);
  for (uint32_t i = 0; i < n; i++) dst[i] = digits[n - 1u - i];
  return n;
}

/*=== MARK: - Request body (Public within the core) ===*/
/* The JSON of the first n events: prefix "at":A,"drop":D,"ev":[e1,e2,...]} into dst;
** 0 when it does not fit. */
static uint32_t encode_json(const ob_batch *b, uint32_t n, uint8_t *dst, uint32_t cap) {
  imp_writer w = {dst, 0, cap, 0};
  const uint8_t *ev = b->data + b->prefix_len;
  imp_json_bytes(&w, b->data, b->prefix_len);
  imp_json_raw(&w, "\"at\":");
  imp_json_u32(&w, b->at);
  imp_json_raw(&w, ",\"drop\":");
  imp_json_u32(&w, b->drop);
  imp_json_raw(&w, ",\"ev\":[");
  for (uint32_t i = 0; i < n; i++) {
    if (i) imp_json_raw(&w, ",");
    imp_json_bytes(&w, ev, b->lens[i]);
    ev += b->lens[i];
  }
  imp_json_raw(&w, "]}");
  return w.overflow ? 0u : w.len;
}

/* The body of the first n events into the io buffer: the JSON, or with the core's
** `compress` its gzip (the JSON then stays in the output buffer, its length in
** imp_res.batch_bytes, as after imp_gzip_output()). Returns its length, or
** 0xFFFFFFFF when it does not fit (a body of fewer events may). */
uint32_t imp_ob_encode_body(const ob_batch *b, uint32_t n) {
  uint32_t len;
  if (!imp_g.cfg.compress) {
    len = encode_json(b, n, imp_ob_io, IMP_OB_IO_BYTES);
  } else {
    imp_res.batch_bytes = encode_json(b, n, imp_out, IMP_BATCH_HARD_CAP);
    len = imp_res.batch_bytes ? (uint32_t)imp_gzip(imp_out, imp_res.batch_bytes, imp_ob_io,
                                                   IMP_OB_IO_BYTES, &imp_g.deflate)
                              : 0u;
  }
  return len ? len : 0xFFFFFFFFu;
}

/*=== MARK: - Storage record (Public within the core) ===*/
uint32_t imp_ob_make_key(const ob_batch *b, uint8_t *dst) {
  uint8_t num[16];
  uint32_t n = 0, d = put_u53(num, b->created);
  dst[n++] = 'q';
  dst[n++] = ':';
  for (uint32_t pad = d; pad < 13u; pad++) dst[n++] = '0';
  for (uint32_t i = 0; i < d; i++) dst[n++] = num[i];
  dst[n++] = ':';
  for (uint32_t i = 0; i < imp_ob.tab_len; i++) dst[n++] = imp_ob.tab[i];
  dst[n++] = ':';
  n += put_u53(dst + n, (double)imp_ob.next_key++);
  return n;
}

static void field(imp_writer *w, double v) {
  uint8_t num[17];
  uint32_t n = put_u53(num, v);
  num[n++] = ' ';
  imp_json_bytes(w, num, n);
}

uint32_t imp_ob_encode_record(const ob_batch *b, int released, double until, uint8_t *dst,
                              uint32_t cap) {
  imp_writer w = {dst, 0, cap, 0};
  imp_json_raw(&w, "I1 ");
  field(&w, b->created);
  field(&w, until);
  field(&w, b->drop);
  field(&w, b->at);
  field(&w, (b->flags & OB_ATTEMPTED) ? 1.0 : 0.0);
  field(&w, b->prefix_len);
  field(&w, b->events);
  for (uint32_t i = 0; i < b->events; i++) field(&w, b->lens[i]);
  if (released) imp_json_raw(&w, "-");
  else imp_json_bytes(&w, imp_ob.tab, imp_ob.tab_len);
  imp_json_raw(&w, "\n");
  imp_json_bytes(&w, b->data, b->prefix_len + b->event_bytes);
  return w.overflow ? 0u : w.len;
}

/*=== MARK: - Parser (Public within the core) ===*/
typedef struct cursor {
  const uint8_t *p;
  uint32_t n;
} cursor;

/* Reads digits (1..15, no leading zero: one spelling per value) then one space;
** 0 when malformed. */
static int read_num(cursor *c, double *out) {
  double v = 0.0;
  uint32_t i = 0;
  if (c->n > 1 && c->p[0] == '0' && c->p[1] != ' ') return 0;
  while (i < c->n && c->p[i] >= '0' && c->p[i] <= '9') {
    if (i == 15u) return 0;
    v = v * 10.0 + (double)(c->p[i] - '0');
    i++;
  }
  if (i == 0 || i >= c->n || c->p[i] != ' ') return 0;
  c->p += i + 1u;
  c->n -= i + 1u;
  *out = v;
  return 1;
}

static int read_u32(cursor *c, uint32_t max, uint32_t *out) {
  double v;
  if (!read_num(c, &v) || v > (double)max) return 0;
  *out = (uint32_t)v;
  return 1;
}

static int starts_with(const uint8_t *p, uint32_t n, const char *text) {
  uint32_t i = 0;
  for (; text[i]; i++)
    if (i >= n || p[i] != (uint8_t)text[i]) return 0;
  return 1;
}

/* The owner field and the newline: a tab id of [0-9a-z], or "-". */
static int read_owner(cursor *c, ob_record *r) {
  uint32_t i = 0;
  while (i < c->n && c->p[i] != '\n') {
    uint8_t ch = c->p[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch == '-')) return 0;
    i++;
  }
  if (i == 0 || i > IMP_OB_TAB_BYTES || i >= c->n) return 0;
  r->owner = c->p;
  r->owner_len = (i == 1u && c->p[0] == '-') ? 0u : i;
  if (r->owner_len == 0 && c->p[0] != '-') return 0;
  c->p += i + 1u;
  c->n -= i + 1u;
  return 1;
}

/* Prefix and events: the shapes the encoder writes, no control bytes. */
static int check_parts(const ob_record *r) {
  const uint8_t *p = r->event_data;
  if (r->events == 0) return r->prefix_len == 0;
  if (r->prefix_len < 14u || !starts_with(r->prefix, r->prefix_len, "{\"v\":1,\"pv\":\"") ||
      r->prefix[r->prefix_len - 1u] != ',')
    return 0;
  for (uint32_t i = 0; i < r->prefix_len; i++)
    if (r->prefix[i] < 0x20) return 0;
  for (uint32_t i = 0; i < r->events; i++) {
    uint32_t len = r->lens[i];
    if (len < 2u || p[0] != '{' || p[len - 1u] != '}') return 0;
    for (uint32_t k = 0; k < len; k++)
      if (p[k] < 0x20) return 0;
    p += len;
  }
  return 1;
}

/* 1 when value[0..len) is a well-formed record; fills r (pointing into value). */
int imp_ob_parse_record(const uint8_t *value, uint32_t len, ob_record *r) {
  cursor c = {value, len};
  uint32_t total = 0;
  double attempted = 0;
  if (!starts_with(value, len, "I1 ")) return 0;
  c.p += 3;
  c.n -= 3;
  if (!read_num(&c, &r->created) || !read_num(&c, &r->until) ||
      !read_u32(&c, 0xFFFFFFFFu, &r->drop) || !read_u32(&c, 0xFFFFFFFFu, &r->at) ||
      !read_num(&c, &attempted) || attempted > 1.0 ||
      !read_u32(&c, IMP_OB_PREFIX_BYTES, &r->prefix_len) ||
      !read_u32(&c, IMP_OB_MAX_EVENTS, &r->events))
    return 0;
  r->attempted = (uint32_t)attempted;
  for (uint32_t i = 0; i < r->events; i++) {
    uint32_t one;
    if (!read_u32(&c, IMP_EVENT_MAX_BYTES, &one)) return 0;
    r->lens[i] = (uint16_t)one;
    total += one;
  }
  if (!read_owner(&c, r)) return 0;
  if (total + r->events > IMP_BATCH_HARD_CAP || c.n != r->prefix_len + total) return 0;
  r->prefix = c.p;
  r->event_data = c.p + r->prefix_len;
  r->event_bytes = total;
  return check_parts(r);
}
