/*
** fuzz_record.c: libFuzzer target for the storage record parser and the splitter.
**
** A stored record can be changed by the page or the user, so the parser sees any
** bytes. Checked for every input: the parser never reads outside the value and the
** splitter never writes outside the slot (ASan); a record it accepts has events of
** the shape the encoder writes (objects whose lengths add up, no control bytes);
** and encoding the parsed batch again gives the same bytes (so adopting a record
** and storing it again changes nothing).
*/
#include "fuzz_common.h"
#include "outbox_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ob_record r;
  static ob_batch b;
  static uint8_t slot[IMP_OB_SLOT_BYTES], again[IMP_OB_IO_BYTES];
  memset(&b, 0, sizeof b);
  imp_ob_bind(&b, slot);
  if (size > IMP_OB_IO_BYTES || !imp_ob_parse_record(data, (uint32_t)size, &r, &b)) return 0;
  uint32_t total = 0;
  const uint8_t *events = b.data + b.prefix_len;
  for (uint32_t i = 0; i < b.events; i++) {
    if (b.lens[i] < 2 || events[total] != '{' || events[total + b.lens[i] - 1] != '}')
      fz_fail("an accepted event is not an object", (const char *)data, size);
    for (uint32_t k = 0; k < b.lens[i]; k++)
      if (events[total + k] < 0x20) fz_fail("an accepted event holds a control byte", (const char *)data, size);
    total += b.lens[i];
  }
  if (total != b.event_bytes) fz_fail("accepted lengths do not add up", (const char *)data, size);
  /* Re-encode as the outbox would after adopting it. */
  b.flags = r.attempted ? OB_ATTEMPTED : 0u;
  imp_ob.tab_len = r.owner_len;
  memcpy(imp_ob.tab, r.owner, r.owner_len);
  uint32_t n = imp_ob_encode_record(&b, r.owner_len == 0, r.until, again, sizeof again);
  if (n != size || memcmp(again, data, size) != 0)
    fz_fail("a parsed record encodes to other bytes", (const char *)data, size);
  return 0;
}
