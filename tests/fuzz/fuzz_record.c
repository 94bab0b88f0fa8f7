/*
** fuzz_record.c: libFuzzer target for the storage record parser.
**
** A stored record can be changed by the page or the user, so the parser sees any
** bytes. Checked for every input: the parser never reads outside the value (ASan);
** a record it accepts has event lengths that add up to the value, a prefix and
** events of the shapes the encoder writes; and encoding the parsed batch again
** gives the same bytes (so adopting a record and storing it again changes nothing).
*/
#include "fuzz_common.h"
#include "outbox_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ob_record r;
  static uint8_t slot[IMP_OB_SLOT_BYTES], again[IMP_OB_IO_BYTES];
  static ob_batch b;
  if (size > IMP_OB_IO_BYTES || !imp_ob_parse_record(data, (uint32_t)size, &r)) return 0;
  uint32_t total = 0;
  for (uint32_t i = 0; i < r.events; i++) {
    if (r.lens[i] < 2 || r.event_data[total] != '{' || r.event_data[total + r.lens[i] - 1] != '}')
      fz_fail("an accepted event is not an object", (const char *)data, size);
    total += r.lens[i];
  }
  if (total != r.event_bytes || r.prefix + r.prefix_len + total != data + size)
    fz_fail("accepted lengths do not cover the value", (const char *)data, size);
  /* Re-encode as the outbox would after adopting it. */
  memset(&b, 0, sizeof b);
  b.data = slot;
  b.lens = (uint16_t *)(void *)(slot + IMP_OB_PREFIX_BYTES + IMP_BATCH_HARD_CAP);
  memcpy(b.data, r.prefix, r.prefix_len);
  memcpy(b.data + r.prefix_len, r.event_data, r.event_bytes);
  memcpy(b.lens, r.lens, r.events * sizeof *b.lens);
  b.prefix_len = r.prefix_len;
  b.events = r.events;
  b.event_bytes = r.event_bytes;
  b.at = r.at;
  b.drop = r.drop;
  b.created = r.created;
  b.flags = r.attempted ? OB_ATTEMPTED : 0u;
  imp_ob.tab_len = r.owner_len;
  memcpy(imp_ob.tab, r.owner, r.owner_len);
  uint32_t n = imp_ob_encode_record(&b, r.owner_len == 0, r.until, again, sizeof again);
  if (n != size || memcmp(again, data, size) != 0)
    fz_fail("a parsed record encodes to other bytes", (const char *)data, size);
  return 0;
}
