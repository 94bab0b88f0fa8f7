/*
** outbox_record.c: the two encodings of a held batch, and the record parser.
**
** Request body. imp_ob_encode_body() assembles what goes on the wire from the
** batch's parts: prefix, "at", "drop", its first n events joined by commas, then,
** when the core compresses, gzip (src/deflate.c, with the core's workspace). It is
** the one place a body is encoded for sending, and the one measure of its size.
**
** Storage record. The value of a stored batch is one ASCII line of fields, then
** the batch's JSON as a request would carry all its events (valid UTF-8, since the
** JSON writer repairs every string):
**   I2 <created> <until> <attempted> <owner>\n   (times: 13 digits)
**   {"v":1,"pv":...,"at":A,"drop":D,"ev":[<event_1>,..,<event_n>]}
** created and until are wall-clock ms; owner is the owning tab id, or "-" for a
** record released for any tab. A record that carries only a "drop" count has no
** header prefix and no events: "at":0,"drop":D,"ev":[]}. The key is
** "q:<created, 13 digits>:<tab>:<n>", so key order is age order.
**
** Splitter. imp_ob_split() takes a batch's JSON apart into the parts a slot keeps:
** the same bounded code reads what the queue just cut and what storage gives back.
** It trusts nothing: a record is stored where the page and the user can change it,
** so every length and every boundary is checked, and it accepts only the shapes
** the encoder writes (objects with no control bytes, numbers with no leading zero).
*/
#include "outbox_internal.h"

/*=== MARK: - Writing (Private) ===*/
/* What w wrote: its length, or 0 when it did not fit. */
static uint32_t written(const imp_writer *w) { return w->overflow ? 0u : w->len; }

/* Writes wall-clock ms as 13 digits, zero-padded and clamped to 0..9999999999999
** (until the year 2286): keys sort by age, and every value has one spelling. */
static void put_ms(imp_writer *w, double v) {
  imp_json_uint(w, v > 0.0 ? (v < 9999999999999.0 ? (uint64_t)v : 9999999999999u) : 0u, 13);
}

/*=== MARK: - Request body (Public within the core) ===*/
/* Writes the JSON of the first n events: prefix "at":A,"drop":D,"ev":[e1,e2,...]}. */
static void put_json(imp_writer *w, const ob_batch *b, uint32_t n) {
  uint32_t at = b->prefix_len; /* (a drop-only batch has no buffers: none is read) */
  imp_json_bytes(w, b->data, b->prefix_len);
  imp_json_field(w, "\"at\":", b->at);
  imp_json_field(w, ",\"drop\":", b->drop);
  imp_json_raw(w, ",\"ev\":[");
  for (uint32_t i = 0; i < n; i++) {
    if (i) imp_json_raw(w, ",");
    imp_json_bytes(w, b->data + at, b->lens[i]);
    at += b->lens[i];
  }
  imp_json_raw(w, "]}");
}

/* That JSON into dst; 0 when it does not fit. */
static uint32_t encode_json(const ob_batch *b, uint32_t n, uint8_t *dst, uint32_t cap) {
  imp_writer *w = imp_json_start(dst, cap);
  put_json(w, b, n);
  return written(w);
}

/* The last JSON compressed for a body and its gzip. A batch's body is asked for more
** than once (the request, then its fetchLater copy; again after a refusal): the same
** JSON, byte for byte, gets these bytes back instead of a second compression. */
static struct {
  uint32_t json_len, gzip_len;
  uint8_t json[IMP_BATCH_HARD_CAP];
  uint8_t gzip[IMP_WIRE_BYTES];
} last_body;

static uint32_t gzip_body(uint32_t json_len) {
  if (!json_len) return 0u;
  if (json_len == last_body.json_len && !__builtin_memcmp(imp_out, last_body.json, json_len)) {
    __builtin_memcpy(imp_ob_io, last_body.gzip, last_body.gzip_len);
    return last_body.gzip_len;
  }
  uint32_t len = (uint32_t)imp_gzip(imp_out, json_len, imp_ob_io, IMP_OB_IO_BYTES, &imp_g.deflate);
  last_body.json_len = len && len <= IMP_WIRE_BYTES ? json_len : 0u;
  if (!last_body.json_len) return len;
  last_body.gzip_len = len;
  __builtin_memcpy(last_body.json, imp_out, json_len);
  __builtin_memcpy(last_body.gzip, imp_ob_io, len);
  return len;
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
    len = gzip_body(imp_res.batch_bytes);
  }
  return len ? len : 0xFFFFFFFFu;
}

/*=== MARK: - Storage record (Public within the core) ===*/
uint32_t imp_ob_make_key(const ob_batch *b, uint8_t *dst) {
  imp_writer *w = imp_json_start(dst, IMP_OB_KEY_BYTES);
  imp_json_raw(w, "q:");
  put_ms(w, b->created);
  imp_json_raw(w, ":");
  imp_json_bytes(w, imp_ob.tab, imp_ob.tab_len);
  imp_json_field(w, ":", imp_ob.next_key++);
  return w->len;
}

uint32_t imp_ob_encode_record(const ob_batch *b, int released, double until, uint8_t *dst,
                              uint32_t cap) {
  imp_writer *w = imp_json_start(dst, cap);
  imp_json_raw(w, "I2 ");
  put_ms(w, b->created);
  imp_json_raw(w, " ");
  put_ms(w, until);
  imp_json_raw(w, (b->flags & OB_ATTEMPTED) ? " 1 " : " 0 ");
  if (released) imp_json_raw(w, "-");
  else imp_json_bytes(w, imp_ob.tab, imp_ob.tab_len);
  imp_json_raw(w, "\n");
  put_json(w, b, b->events);
  return written(w);
}

/*=== MARK: - Splitter (Public within the core) ===*/
/* Moves past `text` when it is next. */
static int eat(const char *text) {
  const uint8_t *q = imp_ob.read_at;
  for (; *text; text++, q++)
    if (q >= imp_ob.read_end || *q != (uint8_t)*text) return 0;
  imp_ob.read_at = q;
  return 1;
}

/* Reads an integer: exactly `width` digits, or with width 0 a number below 2^32 with
** no leading zero (one spelling per value either way). Returns it, or
** IMP_OB_NO_NUMBER (nothing read) when the digits are not such a number. */
#define IMP_OB_NO_NUMBER 0xFFFFFFFFFFFFFFFFu
static uint64_t read_int(uint32_t width) {
  const uint8_t *q = imp_ob.read_at;
  uint64_t v = 0;
  while (q < imp_ob.read_end && *q >= '0' && *q <= '9' && q - imp_ob.read_at < 13) v = v * 10u + (uint64_t)(*q++ - '0');
  long n = q - imp_ob.read_at;
  if (width ? n != (long)width : (n == 0 || v > 0xFFFFFFFFu || (*imp_ob.read_at == '0' && n > 1)))
    return IMP_OB_NO_NUMBER;
  imp_ob.read_at = q;
  return v;
}

static int read_u32(uint32_t *field) {
  uint64_t v = read_int(0);
  *field = (uint32_t)v;
  return v != IMP_OB_NO_NUMBER;
}

/* Reads 13 digits of wall-clock ms. */
static int read_ms(double *field) {
  uint64_t v = read_int(13);
  *field = (double)v;
  return v != IMP_OB_NO_NUMBER;
}

/* The length of the JSON object next, which ends where its braces close outside a
** string; 0 when it does not close before the end or holds a control byte. */
static uint32_t object_len(void) {
  int depth = 0, in_string = 0, escaped = 0;
  if (imp_ob.read_at >= imp_ob.read_end || *imp_ob.read_at != '{') return 0;
  for (const uint8_t *q = imp_ob.read_at; q < imp_ob.read_end; q++) {
    uint8_t c = *q;
    if (c < 0x20) return 0;
    if (escaped) escaped = 0;
    else if (in_string) {
      escaped = c == '\\';
      in_string = c != '"';
    } else if (c == '"') in_string = 1;
    else if (c == '{') depth++;
    else if (c == '}' && --depth == 0) return (uint32_t)(q + 1 - imp_ob.read_at);
  }
  return 0;
}

/* Header prefix: up to the first "at": (the JSON writer escapes every quote inside a
** string), empty for a drop-only batch, else {"v":1,"pv":"... ending with a comma. */
static int split_prefix(ob_batch *b) {
  const uint8_t *start = imp_ob.read_at;
  int header = eat("{\"v\":1,\"pv\":\"");
  imp_ob.read_at = start;
  while (!eat("\"at\":")) {
    if (imp_ob.read_at >= imp_ob.read_end || *imp_ob.read_at < 0x20) return 0;
    imp_ob.read_at++;
  }
  b->prefix_len = (uint32_t)(imp_ob.read_at - start) - 5u;
  if (b->prefix_len && (!header || imp_ob.read_at[-6] != ',')) return 0;
  __builtin_memcpy(b->data, start, b->prefix_len);
  return 1;
}

/* Takes the batch JSON json[0..n) apart into b (its buffers); 0 when it is not the
** shape the encoder writes. At most IMP_BATCH_HARD_CAP bytes, so prefix and events
** always fit the slot. */
int imp_ob_split(ob_batch *b, const uint8_t *json, uint32_t n) {
  imp_ob.read_at = json;
  imp_ob.read_end = json + n;
  b->events = b->event_bytes = 0;
  if (n > IMP_BATCH_HARD_CAP || !split_prefix(b) || !read_u32(&b->at) || !eat(",\"drop\":") ||
      !read_u32(&b->drop) || !eat(",\"ev\":["))
    return 0;
  uint8_t *dst = b->data + b->prefix_len;
  if (!eat("]}")) {
    do {
      uint32_t len = object_len();
      if (!len || b->events == IMP_OB_MAX_EVENTS) return 0;
      __builtin_memcpy(dst, imp_ob.read_at, len);
      dst += len;
      imp_ob.read_at += len;
      b->lens[b->events++] = (uint16_t)len;
      b->event_bytes += len;
    } while (eat(","));
    if (!eat("]}")) return 0;
  }
  return imp_ob.read_at == imp_ob.read_end && (b->events != 0) == (b->prefix_len != 0);
}

/*=== MARK: - Parser (Public within the core) ===*/
int imp_ob_parse_record(const uint8_t *value, uint32_t len, ob_record *r, ob_batch *b) {
  imp_ob.read_at = value;
  imp_ob.read_end = value + len;
  if (!eat("I2 ") || !read_ms(&r->created) || !eat(" ") || !read_ms(&r->until)) return 0;
  r->attempted = (uint32_t)eat(" 1 ");
  if (!r->attempted && !eat(" 0 ")) return 0;
  const uint8_t *owner = imp_ob.read_at;
  while (imp_ob.read_at < imp_ob.read_end && *imp_ob.read_at != '\n') imp_ob.read_at++;
  r->owner = owner;
  r->owner_len = (uint32_t)(imp_ob.read_at - owner);
  if (r->owner_len == 1u && *owner == '-') r->owner_len = 0;
  else if (!imp_ob_tab_ok(owner, r->owner_len)) return 0;
  if (!eat("\n") || !imp_ob_split(b, imp_ob.read_at, (uint32_t)(imp_ob.read_end - imp_ob.read_at))) return 0;
  b->created = r->created;
  return 1;
}
