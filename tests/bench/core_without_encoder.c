/*
** core_without_encoder.c: the core as src/unity.c builds it, with the DEFLATE encoder
** replaced by stubs that compress nothing. Built only by `make bench`, to measure what
** the encoder costs in .wasm gzip bytes (the difference with js/imp.wasm).
*/
#include "../../src/api.c"
#include "../../src/config.c"
#include "../../src/registry.c"
#include "../../src/ids.c"
#include "../../src/seen.c"
#include "../../src/element.c"
#include "../../src/visibility.c"
#include "../../src/queue.c"
#include "../../src/json.c"
#include "../../src/outbox.c"
#include "../../src/outbox_cut.c"
#include "../../src/outbox_send.c"
#include "../../src/outbox_outcome.c"
#include "../../src/outbox_adopt.c"
#include "../../src/outbox_retry.c"
#include "../../src/outbox_record.c"
#include "../../src/outbox_api.c"

size_t imp_deflate_work_bytes(uint32_t window_bits) { return window_bits; }
void imp_deflate_work_init(imp_deflate_work *w, uint8_t *mem, uint32_t window_bits) {
  w->head = w->prev = (uint32_t *)(void *)mem;
  w->window_bits = window_bits;
}
size_t imp_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                const imp_deflate_work *w) {
  (void)in, (void)out, (void)cap, (void)w;
  return n;
}
size_t imp_gzip_bound(size_t n) { return n; }
