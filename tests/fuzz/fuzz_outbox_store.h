/*
** fuzz_outbox_store.h: the collector and the page's localStorage of fuzz_outbox.c.
** The collector takes a body's events by (pv, s), counts each batch identity's "drop"
** once and an event it gets again apart (`twice`); storage is a list of records, each
** parsed once when written, shared by this tab and the other (fuzz_outbox_tabs.h); a
** record no tracker of this version can read is kept unparsed (`unreadable`).
*/
/*=== MARK: - The collector ===*/
/* The collector receives a body; with `beaconed`, even one it would refuse counts.
** `told`: the outbox hears of it (a 2xx, an accepted beacon). */
static void collect(const uint8_t *body, uint32_t len, int beaconed, int told) {
  json_error_t err;
  json_t *root = json_loadb((const char *)body, len, 0, &err), *ev, *e;
  size_t i;
  if (!root) fz_fail("a sent body is not strict JSON", (const char *)body, len);
  const char *pv_text = json_string_value(json_object_get(root, "pv"));
  json_t *drop = json_object_get(root, "drop");
  ev = json_object_get(root, "ev");
  int pv = pv_text ? pv_index((const uint8_t *)pv_text, (uint32_t)strlen(pv_text)) : -1;
  if (pv < 0 || !json_is_integer(drop) || !json_is_array(ev) || !json_array_size(ev))
    fz_fail("a sent body is not a batch", (const char *)body, len);
  json_array_foreach(ev, i, e) {
    json_int_t s = json_integer_value(json_object_get(e, "s"));
    if (!beaconed && s >= 1 && s <= MAX_S && refused[pv][s]) { /* refused whole, any copy */
      json_decref(root);
      return;
    }
  }
  json_array_foreach(ev, i, e) {
    json_int_t s = json_integer_value(json_object_get(e, "s"));
    if (s < 1 || s > MAX_S) fz_fail("a sent event has no s", (const char *)body, len);
    if (i == 0) SAY("  collector: %s s=%lld drop=%lld (%zu events)\n", pv_text, (long long)s,
                    (long long)json_integer_value(drop), json_array_size(ev));
    if (i == 0 && delivered_drop[pv][s] < 0) {
      delivered_drop[pv][s] = json_integer_value(drop);
      delivered_drops += json_integer_value(drop);
    }
    if (got[pv][s] && (beaconed || !told)) twice++; /* (told alone: the heard answer) */
    got[pv][s] = 1;
    heard[pv][s] |= (uint8_t)told;
  }
  json_decref(root);
}

/*=== MARK: - Storage ===*/
static int find_rec(const char *key) {
  for (uint32_t i = 0; i < store_n; i++)
    if (!strcmp(store[i].key, key)) return (int)i;
  return -1;
}

/* Parses a record as it is written (see rec). */
static void parse_rec(rec *x) {
  static ob_record r;
  static ob_batch b;
  static uint8_t slot[IMP_OB_SLOT_BYTES];
  imp_ob_bind(&b, slot);
  if (!imp_ob_parse_record(x->value, x->len, &r, &b)) fz_fail("a stored record does not parse", NULL, 0);
  x->events = b.events;
  x->drop = b.drop;
  x->pv = b.events ? prefix_pv(b.data, b.prefix_len) : -1;
  x->s = malloc(sizeof *x->s * (b.events ? b.events : 1u));
  const uint8_t *e = b.data + b.prefix_len;
  for (uint32_t k = 0; k < b.events; k++) {
    x->s[k] = event_s(e, b.lens[k]);
    e += b.lens[k];
  }
}

static void rec_free(rec *x) {
  free(x->value);
  free(x->s);
}

static void rec_drop(const char *key) {
  int i = find_rec(key);
  if (i < 0) return;
  rec_free(&store[i]);
  store[i] = store[--store_n];
}

/* The record under `key`, replaced by `len` bytes of value (NULL: no room left). */
static rec *rec_put_value(const char *key, const uint8_t *value, uint32_t len) {
  int i = find_rec(key);
  if (i < 0) {
    if (store_n == MAX_REC) return NULL;
    i = (int)store_n++;
    snprintf(store[i].key, sizeof store[i].key, "%s", key);
  } else {
    rec_free(&store[i]);
  }
  store[i].value = malloc(len);
  memcpy(store[i].value, value, len);
  store[i].len = len;
  store[i].unreadable = 0;
  return &store[i];
}

static int rec_write(const char *key, const uint8_t *value, uint32_t len) {
  rec *x = rec_put_value(key, value, len);
  if (x) parse_rec(x);
  return x != NULL;
}

/* A record this version cannot read (an earlier format, a value cut short): no
** events, nothing to count; every tracker's scan removes it. */
static void rec_write_unreadable(const char *key, const char *value) {
  rec *x = rec_put_value(key, (const uint8_t *)value, (uint32_t)strlen(value));
  if (!x) return;
  x->unreadable = 1;
  x->pv = -1;
  x->events = 0;
  x->drop = 0;
  x->s = malloc(sizeof *x->s);
}

static int by_key(const void *a, const void *b) {
  return strcmp(((const rec *)a)->key, ((const rec *)b)->key);
}
