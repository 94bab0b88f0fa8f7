/*
** test_json.c: the encoder. Every batch must be RFC 8259 JSON that jansson's
** strict parser (json_loadb, flags 0, which also rejects invalid UTF-8) accepts;
** quotes, backslashes and control characters are escaped; bytes that are not
** well-formed UTF-8 become U+FFFD; valid UTF-8 round-trips; keys come in the
** documented order and "pos"/"list" are omitted when unknown/empty.
*/
#include "support.h"

/* Registers id (n bytes) with list, clicks it, takes the batch (force) and parses it.
** Returns the parsed batch (caller decrefs) or NULL. */
static json_t *click_batch(const char *id, size_t n, const char *list, size_t list_n) {
  json_error_t err;
  json_t *root;
  put2(id, n, list, list_n);
  if (imp_element_add(10, (uint32_t)n, (uint32_t)list_n, 2) != IMP_OK) return NULL;
  uint32_t element = RES->element;
  if (imp_activate(10, element, IMP_ACT_CLICK) != IMP_OK) return NULL;
  if (imp_element_remove(10, element) != IMP_OK) return NULL; /* room under tiny */
  if (take(10, 1) != IMP_OK) return NULL;
  root = json_loadb(g_batch, g_batch_len, 0, &err);
  if (!root) printf("# jansson: %s at %d: %s\n", err.text, err.position, g_batch);
  while (take(10, 1) == IMP_OK) { /* the click's own batch when split */
  }
  return root;
}

/* The id of the first event of a parsed batch, as a byte string. */
static const char *first_id(json_t *root, size_t *len) {
  json_t *id = json_object_get(json_array_get(json_object_get(root, "ev"), 0), "id");
  *len = json_string_length(id);
  return json_string_value(id);
}

static void round_trip(const char *id, size_t n, const char *what) {
  json_t *root = click_batch(id, n, "l", 1);
  size_t len = 0;
  const char *got = root ? first_id(root, &len) : NULL;
  CHECK(got && len == n && memcmp(got, id, n) == 0, "%s round-trips", what);
  json_decref(root);
}

/* want: the exact repair, or NULL when only "valid and holds U+FFFD" is required
** (how many U+FFFD a broken sequence becomes is not part of the contract). */
static void replaced(const char *id, size_t n, const char *want, const char *what) {
  json_t *root = click_batch(id, n, "", 0);
  size_t len = 0;
  const char *got = root ? first_id(root, &len) : NULL;
  if (want)
    CHECK(got && len == strlen(want) && memcmp(got, want, len) == 0,
          "%s: strict JSON, repaired to U+FFFD", what);
  else
    CHECK(got && strstr(got, "\xef\xbf\xbd") != NULL, "%s: strict JSON with U+FFFD", what);
  json_decref(root);
}

/* Exact bytes of one batch with every event type: key order and omissions. */
static void test_exact_batch(void) {
  CHECK_INT(start_default(), IMP_OK, "start");
  CHECK_INT(page(0, "pv-json", "/search", 0), IMP_OK, "page");
  uint32_t a = slot_of(0, "a");
  CHECK_INT(reg(0, "b", "q1", 3), IMP_OK, "register b with a place");
  uint32_t b = RES->slot;
  CHECK_INT(observe(100, a, 1, 100), IMP_OK, "a in view");
  CHECK_INT(observe(100, b, 0.2, 100), IMP_OK, "b partly in view");
  imp_tick(1100);
  observe(1500, a, 0, 100);
  click(1600, b);
  CHECK_INT(take(1700, 1), IMP_OK, "take");
  CHECK_STR(g_batch,
            "{\"v\":1,\"pv\":\"pv-json\",\"path\":\"/search\",\"at\":1700,\"drop\":0,\"ev\":["
            "{\"e\":\"imp\",\"s\":1,\"t\":100,\"id\":\"a\",\"f\":1},"
            "{\"e\":\"imp\",\"s\":2,\"t\":100,\"id\":\"b\",\"pos\":3,\"list\":\"q1\",\"f\":1},"
#ifdef IMP_TEST_TINY
            "{\"e\":\"view\",\"s\":3,\"t\":1100,\"id\":\"a\"}]}",
#else
            "{\"e\":\"view\",\"s\":3,\"t\":1100,\"id\":\"a\"},"
            "{\"e\":\"vis\",\"s\":4,\"t\":1500,\"id\":\"a\",\"ms\":1400,\"max\":1400,\"n\":1},"
            "{\"e\":\"click\",\"s\":5,\"t\":1600,\"id\":\"b\",\"pos\":3,\"list\":\"q1\",\"f\":1,"
            "\"since\":1500,\"seen\":0}]}",
#endif
            "exact batch: fixed key order, pos and list omitted when unknown");
  while (take(1700, 1) == IMP_OK) {
  }
}

/* Escaping. */
static void test_escaping(void) {
  round_trip("a\"b\\c/d", 7, "quote, backslash and slash");
  put2("q\"", 2, "l\\", 2);
  imp_element_add(10, 2, 2, 0);
  imp_activate(10, RES->element, IMP_ACT_CLICK);
  take(10, 1);
  CHECK(strstr(g_batch, "\"id\":\"q\\\"\",\"list\":\"l\\\\\"") != NULL,
        "quote and backslash escaped as \\\" and \\\\: %s", g_batch);
  while (take(10, 1) == IMP_OK) {
  }
}

/* NUL is written as U+FFFD: "\u0000" is valid JSON, but strict parsers (jansson
** without JSON_ALLOW_NUL, PostgreSQL jsonb) refuse it, and an id never holds NUL. */
static void test_nul_and_control_characters(void) {
  replaced("c\0c", 3, "c\xef\xbf\xbd" "c", "NUL");
  for (int c = 1; c < 0x20; c++) {
    char id[3] = {'c', (char)c, 'c'};
    json_t *root = click_batch(id, 3, "", 0);
    size_t len = 0;
    const char *got = root ? first_id(root, &len) : NULL;
    if (!(got && len == 3 && memcmp(got, id, 3) == 0))
      CHECK(0, "control character 0x%02x round-trips", c);
    json_decref(root);
  }
  CHECK(1, "every control character 0x01..0x1f is escaped and round-trips");
  round_trip("del\x7f", 4, "DEL");
  round_trip("caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e \xe2\x80\xa8", 18,
             "2-, 3- and 4-byte UTF-8 and U+2028");
  round_trip("\xef\xbf\xbf\xf4\x8f\xbf\xbf", 7, "U+FFFF and U+10FFFF");
}

/* Invalid UTF-8 is replaced so the output stays valid. */
static void test_invalid_utf8_replaced(void) {
  replaced("a\x80" "b", 3, "a\xef\xbf\xbd" "b", "stray continuation byte");
  replaced("a\xff", 2, "a\xef\xbf\xbd", "0xFF");
  replaced("\xc0\xaf", 2, NULL, "overlong '/'");
  replaced("\xed\xa0\x80", 3, NULL, "lone surrogate D800");
  replaced("\xed\xbf\xbf", 3, NULL, "lone surrogate DFFF");
  replaced("x\xe2\x82", 3, NULL, "truncated sequence at the end");
  replaced("\xf0\x9d\x84", 3, NULL, "truncated 4-byte sequence");
  replaced("\xf4\x90\x80\x80", 4, NULL, "above U+10FFFF");
  replaced("\xe2\x28\xa1", 3, NULL, "bad second byte");
  replaced("\xf8\x88\x80\x80\x80", 5, NULL, "5-byte form");
}

/* Every byte value in one id, and in pv, path and list. */
static void test_every_byte_value(void) {
  char all[IMP_MAX_ID_BYTES];
  for (int i = 0; i < (int)sizeof all; i++) all[i] = (char)(i * 2 + 1);
  json_t *root = click_batch(all, sizeof all, all, IMP_MAX_LIST_BYTES);
  CHECK(root != NULL, "an id and list of 128 mixed bytes give strict JSON");
  json_decref(root);
  put2(all, IMP_MAX_PV_BYTES, all, sizeof all);
  CHECK_INT(imp_page_begin(20, IMP_MAX_PV_BYTES, sizeof all, 0), IMP_OK, "binary pv and path");
  slot_of(20, "z");
  observe(20, RES->slot, 1, 100);
  support_reset(T_BATCH_BYTES);
  g_invalid = 0;
  drain(30);
  CHECK_INT(g_invalid, 0, "binary pv and path give strict JSON");
}

/* Fields parse back with the right types. */
static void test_field_types(void) {
  start_default();
  page(100, "pv-fields", "/p", IMP_FLAG_WEBDRIVER);
  reg(100, "gig-1", "q1", 3);
  click(150, RES->slot);
  CHECK_INT(take(200, 1), IMP_OK, "take");
  json_error_t err;
  json_t *root = json_loadb(g_batch, g_batch_len, 0, &err);
  json_t *ev = json_array_get(json_object_get(root, "ev"), 1);
  CHECK(root && json_integer_value(json_object_get(root, "v")) == 1 &&
            strcmp(json_string_value(json_object_get(root, "pv")), "pv-fields") == 0 &&
            strcmp(json_string_value(json_object_get(root, "path")), "/p") == 0 &&
            json_integer_value(json_object_get(root, "wd")) == 1 &&
            json_object_get(root, "gpc") == NULL &&
            json_integer_value(json_object_get(root, "at")) == 100 &&
            json_integer_value(json_object_get(root, "drop")) == 0 &&
            json_array_size(json_object_get(root, "ev")) == 2,
        "header fields: %s", g_batch);
  CHECK(ev && strcmp(json_string_value(json_object_get(ev, "e")), "click") == 0 &&
            json_integer_value(json_object_get(ev, "s")) == 2 &&
            json_integer_value(json_object_get(ev, "t")) == 50 &&
            json_integer_value(json_object_get(ev, "pos")) == 3 &&
            strcmp(json_string_value(json_object_get(ev, "list")), "q1") == 0 &&
            json_integer_value(json_object_get(ev, "f")) == 1 &&
            json_integer_value(json_object_get(ev, "since")) == 0 &&
            json_integer_value(json_object_get(ev, "seen")) == 0 &&
            json_object_size(ev) == 9,
        "click fields");
  json_decref(root);
}

/* In this order: up to test_every_byte_value, the tests run on the core test_exact_batch
** started. */
int main(void) {
  test_exact_batch();
  test_escaping();
  test_nul_and_control_characters();
  test_invalid_utf8_replaced();
  test_every_byte_value();
  test_field_types();
  CHECK_INT(g_invalid, 0, "every batch was valid");
  return test_done();
}
