/*
** fuzz_json.c: libFuzzer target for the encoder. Random page view id, path, item
** ids and list ids (raw bytes) go through page begin, register, click and take.
** Invariants: every batch parses with jansson's strict parser (json_loadb, flags 0)
** and stays within batch_bytes; every string that was well-formed UTF-8 without NUL
** comes back byte for byte (pv, path, id, list); every event is accounted for.
*/
#include "fuzz_common.h"
#include "../c/start_args.h"

static char batch[IMP_BATCH_HARD_CAP + 1];

static int same(json_t *v, const uint8_t *s, size_t n) {
  return json_is_string(v) && json_string_length(v) == n &&
         memcmp(json_string_value(v), s, n) == 0;
}

static int exact(const uint8_t *s, size_t n) {
  return fz_utf8_ok(s, n) && memchr(s, 0, n) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = {data, size};
  uint8_t pv[IMP_MAX_PV_BYTES], path[IMP_MAX_PATH_BYTES];
  uint8_t ids[4][IMP_MAX_ID_BYTES], lists[4][IMP_MAX_LIST_BYTES];
  size_t idn[4], listn[4], pvn, pathn, count = 0;
  uint32_t clicks = 0, seen = 0;
  uint8_t *ib = imp_input_ptr();

  if (start_plain(8, 64, 65536, 64, IMP_BATCH_MIN_CAP, 1e9, 0.5, 1000, 242500, 0.3, 0) != IMP_OK)
    fz_fail("start", NULL, 0);
  pvn = fz_bytes(&in, pv, 1u + fz_u8(&in) % IMP_MAX_PV_BYTES);
  pathn = fz_bytes(&in, path, fz_u16(&in) % (IMP_MAX_PATH_BYTES + 1u));
  if (pvn == 0) return 0;
  memcpy(ib, pv, pvn);
  memcpy(ib + pvn, path, pathn);
  if (imp_page_begin(0, (uint32_t)pvn, (uint32_t)pathn, fz_u8(&in) & 31u) != IMP_OK)
    fz_fail("page begin", NULL, 0);

  while (in.n && count < 4) {
    idn[count] = fz_bytes(&in, ids[count], 1u + fz_u8(&in) % IMP_MAX_ID_BYTES);
    listn[count] = fz_bytes(&in, lists[count], fz_u8(&in) % (IMP_MAX_LIST_BYTES + 1u));
    if (idn[count] == 0) break;
    memcpy(ib, ids[count], idn[count]);
    memcpy(ib + idn[count], lists[count], listn[count]);
    if (imp_element_add(1, (uint32_t)idn[count], (uint32_t)listn[count], fz_u8(&in)) != IMP_OK)
      fz_fail("register", NULL, 0);
    if (imp_activate(2, imp_result_ptr()->element, IMP_ACT_CLICK) != IMP_OK)
      fz_fail("click", NULL, 0);
    clicks++;
    count++;
  }

  for (int32_t s; (s = imp_take_batch(3, 1)) == IMP_OK;) {
    uint32_t len = imp_result_ptr()->batch_bytes;
    json_error_t err;
    json_t *root, *ev, *e;
    size_t i;
    if (len > IMP_BATCH_MIN_CAP) fz_fail("batch above batch_bytes", NULL, 0);
    memcpy(batch, imp_output_ptr(), len);
    batch[len] = '\0';
    root = json_loadb(batch, len, 0, &err);
    if (!root) {
      fprintf(stderr, "jansson: %s at %d\n", err.text, err.position);
      fz_fail("batch is not strict JSON", batch, len);
    }
    if (exact(pv, pvn) && !same(json_object_get(root, "pv"), pv, pvn))
      fz_fail("pv does not round-trip", batch, len);
    if (exact(path, pathn) && !same(json_object_get(root, "path"), path, pathn))
      fz_fail("path does not round-trip", batch, len);
    ev = json_object_get(root, "ev");
    json_array_foreach(ev, i, e) {
      /* Events come in order: imp, click for each registered item (ids may repeat,
      ** then the second registration has its impression already). */
      const char *type = json_string_value(json_object_get(e, "e"));
      if (!type) fz_fail("event without type", batch, len);
      if (strcmp(type, "click") == 0) {
        size_t k = seen++;
        json_t *list = json_object_get(e, "list");
        if (k >= count) fz_fail("more clicks than made", batch, len);
        if (exact(ids[k], idn[k]) && !same(json_object_get(e, "id"), ids[k], idn[k]))
          fz_fail("id does not round-trip", batch, len);
        if (listn[k] == 0 ? list != NULL
                          : exact(lists[k], listn[k]) && !same(list, lists[k], listn[k]))
          fz_fail("list does not round-trip", batch, len);
      }
    }
    json_decref(root);
  }
  if (seen != clicks) fz_fail("a click was lost", NULL, 0);
  return 0;
}
