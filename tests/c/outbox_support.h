/*
** outbox_support.h: what the outbox tests share (tests/c/test_outbox*.c). ob_start()
** starts the outbox alone; fresh() and fresh_with() start the core and the outbox
** (max_batches slots), open a page view and scan an empty storage; impression()
** makes one impression of a new card; body_text() is the body of the last action as
** a C string. For the page hide: kept_record() keeps the record a STORE writes,
** scan_finds_kept() has a scan find it (as written or with another owner; found_kept()
** when the scan is already under way),
** in_flight_at_hide() hides the page with a request in flight, store_all() answers
** every write. run_tests() keeps the outbox's documented defaults in `defaults`, runs
** a file's tests in order and checks every batch drained was valid.
*/
#ifndef IMP_TEST_OUTBOX_SUPPORT_H
#define IMP_TEST_OUTBOX_SUPPORT_H

#include "support.h"
#include "outbox_internal.h"

#ifdef IMP_TEST_TINY
#define T_OB_BATCHES 3u /* the tiny build's outbox arena holds 4 slots */
#else
#define T_OB_BATCHES 16u
#endif

#define ACT (imp_outbox_action_ptr())
#define CFG (imp_outbox_config_ptr())

static imp_outbox_config defaults;

static inline int32_t ob_start(double t) {
  *CFG = defaults;
  CFG->max_batches = T_OB_BATCHES;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  return imp_outbox_start(t, 1.7e12, 4);
}

/* Core and outbox (max_batches slots) started, a page view open, storage scanned
** (empty). */
static inline void fresh_with(uint32_t batch_events, uint32_t max_batches) {
  start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, batch_events, T_BATCH_BYTES, 5000);
  page(0, "pv1", "/s", 0);
  *CFG = defaults;
  CFG->max_batches = max_batches;
  memcpy(imp_outbox_io_ptr(), "tab1", 4);
  imp_outbox_start(0, 1.7e12, 4);
  if (imp_outbox_next(0, 0.5) == IMP_OK && ACT->kind == IMP_ACT_SCAN) imp_outbox_scan_done(0);
}

static inline void fresh(uint32_t batch_events) { fresh_with(batch_events, T_OB_BATCHES); }

/* One impression of a new card "<prefix><i>" at time t. */
static inline void impression(double t, const char *prefix, unsigned i) {
  char id[IMP_MAX_ID_BYTES + 1];
  snprintf(id, sizeof id, "%s%u", prefix, i);
  reg(t, id, "", 0);
  observe(t, RES->slot, 0.2, 100);
}

static char body[IMP_OB_IO_BYTES + 1];
static inline const char *body_text(void) {
  memcpy(body, imp_outbox_io_ptr() + ACT->key_bytes, ACT->body_bytes);
  body[ACT->body_bytes] = '\0';
  return body;
}

/* A record as storage holds it: key then value (the last one kept_record() saw). */
static char kept_key[IMP_OB_KEY_BYTES], kept_value[8192 + 1]; /* value NUL-terminated */
static uint32_t kept_key_len, kept_value_len;

/* Keeps the record of the STORE action just returned, then reports it written. */
static inline void kept_record(double t) {
  CHECK_INT(ACT->kind, IMP_ACT_STORE, "a write");
  kept_key_len = ACT->key_bytes;
  kept_value_len = ACT->body_bytes;
  memcpy(kept_key, imp_outbox_io_ptr(), kept_key_len);
  memcpy(kept_value, imp_outbox_io_ptr() + kept_key_len, kept_value_len);
  kept_value[kept_value_len] = 0;
  imp_outbox_stored(t, ACT->ticket, IMP_STORE_OK);
}

/* Puts the kept record, as written, in the io buffer for imp_outbox_found(). */
static inline void kept_into_io(void) {
  memcpy(imp_outbox_io_ptr(), kept_key, kept_key_len);
  memcpy(imp_outbox_io_ptr() + kept_key_len, kept_value, kept_value_len);
}

/* The scan under way finds the kept record, as written unless owner is given: then
** with that owner ("-": released) and its lease running until `until` (wall ms); then
** the scan ends. */
static inline void found_kept(double t, const char *owner, double until) {
  char *out = (char *)imp_outbox_io_ptr();
  memcpy(out, kept_key, kept_key_len);
  const char *batch = strchr(kept_value, '\n') + 1;
  int len = (int)kept_value_len;
  if (owner) {
    double created;
    int attempted;
    CHECK_INT(sscanf(kept_value, "I2 %lf %*f %d", &created, &attempted), 2, "a field line");
    len = snprintf(out + kept_key_len, 64, "I2 %.0f %013.0f %d %s\n", created, until, attempted, owner);
    len += snprintf(out + kept_key_len + len, sizeof kept_value, "%s", batch);
  } else
    kept_into_io();
  CHECK_INT(imp_outbox_found(t, kept_key_len, (uint32_t)len), IMP_OK, "found");
  imp_outbox_scan_done(t);
}

/* A scan of storage asked for at t, which finds the kept record (found_kept()). */
static inline void scan_finds_kept(double t, const char *owner, double until) {
  CHECK_INT(imp_outbox_next(t, 0.5), IMP_OK, "a scan");
  CHECK_INT(ACT->kind, IMP_ACT_SCAN, "a scan");
  found_kept(t, owner, until);
}

/* One batch in flight when the page is hidden at 20: its released copy is written
** (kept: kept_record()) and the request goes on. Returns the request's ticket. */
static inline uint32_t in_flight_at_hide(void) {
  fresh(1);
  impression(10, "a", 1);
  CHECK_INT(imp_outbox_next(10, 0.5), IMP_OK, "fetch");
  uint32_t ticket = ACT->ticket;
  imp_page_state(20, IMP_PAGE_HIDDEN);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_OK, "at the hide");
  kept_record(20);
  CHECK_INT(imp_outbox_next(20, 0.5), IMP_NONE, "the request goes on");
  return ticket;
}

/* Answers every STORE at t with OK until another action comes; returns its status. */
static inline int32_t store_all(double t) {
  int32_t s;
  while ((s = imp_outbox_next(t, 0.5)) == IMP_OK && ACT->kind == IMP_ACT_STORE)
    imp_outbox_stored(t, ACT->ticket, IMP_STORE_OK);
  return s;
}

typedef void (*outbox_test)(void);

static inline int run_tests(const outbox_test *tests, size_t count) {
  defaults = *CFG; /* the documented defaults, before any start */
  for (size_t i = 0; i < count; i++) tests[i]();
  CHECK_INT(g_invalid, 0, "every batch drained was valid");
  return test_done();
}

#endif
