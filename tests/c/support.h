/*
** support.h: helpers shared by the native tests.
**
** start_default() starts the core with the documented defaults, or, built with
** -DIMP_TEST_TINY, with tiny capacities (4 items, 8 queued events, 3 events per
** batch, 4096-byte batches) so every "full" path runs; tests that depend on a
** capacity read it from the T_* constants. page()/reg() write their strings into
** the input buffer as the glue does; reg() also adds an element to an item that has
** none, as the glue does for each card, and observe()/click()/release() feed a slot
** through that element (a slot without one gets a handle that is never held). take() copies a batch into g_batch as a C
** string. drain() takes every queued batch (force) and returns a one-line summary of
** their events ("imp:a@0 view:a@1000 vis:a@1500/1500/1500/1 click:a@1600/1600/1"),
** checking each batch on the way: strict JSON (jansson, flags 0), "v":1, at most the
** batch cap, sequence numbers increasing within a page view. Problems are counted
** in g_invalid; every test file ends with CHECK_INT(g_invalid, 0, ...). The raw
** batches of the last drain() are kept in g_drained, one per line.
*/
#ifndef IMP_TEST_SUPPORT_H
#define IMP_TEST_SUPPORT_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "imp.h"
#include "imp_internal.h"
#include "start_args.h"

#ifdef IMP_TEST_TINY
#define T_MAX_ITEMS 4u
#define T_MAX_QUEUE 8u
#define T_QUEUE_BYTES 4096u
#define T_BATCH_EVENTS 3u
#define T_BATCH_BYTES 4096u
#else
#define T_MAX_ITEMS 4096u
#define T_MAX_QUEUE 1024u
#define T_QUEUE_BYTES 262144u
#define T_BATCH_EVENTS 50u
#define T_BATCH_BYTES 16384u
#endif
#define T_BATCH_AGE 5000.0
#define T_VIEW_MS 1000.0

#define RES (imp_result_ptr())
#define T_NAN ((double)NAN)
#define T_INF ((double)INFINITY)

static char g_batch[IMP_BATCH_HARD_CAP + 1]; /* last batch taken, NUL-terminated */
static uint32_t g_batch_len;
static uint32_t g_batch_cap = T_BATCH_BYTES; /* cap of the running configuration */
static int g_invalid;                        /* invalid batches seen by drain()  */
static long long g_drop_sum;                 /* "drop" summed over drained batches */
static char g_pv[IMP_MAX_PV_BYTES + 1];      /* pv of the last drained batch      */
static long long g_last_seq;                 /* last s seen in g_pv               */
static char g_summary[1 << 16];
static char g_drained[1 << 18];              /* the batches drain() took, "\n"-separated */

static inline void support_reset(uint32_t batch_cap) {
  g_batch_cap = batch_cap;
  g_drop_sum = 0;
  g_pv[0] = '\0';
  g_last_seq = 0;
}

/* Starts with explicit values; resets the drain bookkeeping. */
static inline int32_t start_with(uint32_t items, uint32_t queue, uint32_t qbytes,
                                 uint32_t bevents, uint32_t bbytes, double age) {
  int32_t s = start_plain(items, queue, qbytes, bevents, bbytes, age, 0.5, T_VIEW_MS,
                          242500.0, 0.3, 0.0);
  support_reset(bbytes);
  return s;
}

static inline int32_t start_default(void) {
  return start_with(T_MAX_ITEMS, T_MAX_QUEUE, T_QUEUE_BYTES, T_BATCH_EVENTS,
                    T_BATCH_BYTES, T_BATCH_AGE);
}

/* Writes a then b into the input buffer. */
static inline void put2(const char *a, size_t la, const char *b, size_t lb) {
  memcpy(imp_input_ptr(), a, la);
  memcpy(imp_input_ptr() + la, b, lb);
}

static inline int32_t page(double t, const char *pv, const char *path, uint32_t flags) {
  put2(pv, strlen(pv), path, strlen(path));
  return imp_page_begin(t, (uint32_t)strlen(pv), (uint32_t)strlen(path), flags);
}

/* The first element of a slot's item; UINT32_MAX (never a held handle) when none. */
static inline uint32_t element_of(uint32_t slot) {
  if (!imp_g.started || slot >= imp_g.cfg.max_items) return UINT32_MAX;
  uint32_t h = imp_g.items[slot].elements;
  return h == IMP_NIL ? UINT32_MAX : h;
}

/* Registers an item with a binary-safe id and, when it has no element, adds one (as
** the glue does when a card appears); the slot is in RES->slot. */
static inline int32_t reg_n(double t, const char *id, size_t id_len, const char *list,
                            uint32_t pos) {
  put2(id, id_len, list, strlen(list));
  int32_t s = imp_item_register(t, (uint32_t)id_len, (uint32_t)strlen(list), pos);
  if (s != IMP_OK || element_of(RES->slot) != UINT32_MAX) return s;
  return imp_element_add(t, (uint32_t)id_len, (uint32_t)strlen(list), pos);
}

static inline int32_t reg(double t, const char *id, const char *list, uint32_t pos) {
  return reg_n(t, id, strlen(id), list, pos);
}

/* An intersection observation of a slot's element. */
static inline int32_t observe(double t, uint32_t slot, double ratio, double area) {
  return imp_element_observe(t, element_of(slot), ratio, area);
}

/* A pointer click on a slot's element. */
static inline int32_t click(double t, uint32_t slot) {
  return imp_activate(t, element_of(slot), IMP_ACT_CLICK);
}

/* Gives a slot's element back: the item is released (its card left the DOM). */
static inline int32_t release(double t, uint32_t slot) {
  return imp_element_remove(t, element_of(slot));
}

/* Registers and returns the slot (UINT32_MAX on failure). */
static inline uint32_t slot_of(double t, const char *id) {
  return reg(t, id, "", 0) == IMP_OK ? RES->slot : UINT32_MAX;
}

static inline int32_t take(double t, int32_t force) {
  int32_t s = imp_take_batch(t, force);
  g_batch_len = 0;
  g_batch[0] = '\0';
  if (s == IMP_OK) {
    g_batch_len = RES->batch_bytes;
    if (g_batch_len > IMP_BATCH_HARD_CAP) g_batch_len = IMP_BATCH_HARD_CAP;
    memcpy(g_batch, imp_output_ptr(), g_batch_len);
    g_batch[g_batch_len] = '\0';
  }
  return s;
}

static inline void summary_add(const char *text) {
  size_t n = strlen(g_summary);
  if (n) g_summary[n++] = ' ';
  snprintf(g_summary + n, sizeof g_summary - n, "%s", text);
}

static inline long long jint(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Checks the batch in g_batch and appends its events to g_summary. */
static inline void summarize_batch(void) {
  json_error_t err;
  json_t *root = json_loadb(g_batch, g_batch_len, 0, &err), *ev, *e;
  const char *pv;
  char one[400];
  size_t i;
  if (!root) {
    printf("# invalid JSON (%s at %d): %s\n", err.text, err.position, g_batch);
    g_invalid++;
    return;
  }
  if (g_batch_len > g_batch_cap || jint(root, "v") != 1 || jint(root, "drop") < 0 ||
      jint(root, "at") < 0 || !json_is_string(json_object_get(root, "pv"))) {
    printf("# bad batch header or size %u: %s\n", g_batch_len, g_batch);
    g_invalid++;
  }
  pv = json_string_value(json_object_get(root, "pv"));
  if (!pv) pv = "";
  if (strcmp(pv, g_pv) != 0) {
    if (g_pv[0]) {
      snprintf(one, sizeof one, "[pv=%s]", pv);
      summary_add(one);
    }
    snprintf(g_pv, sizeof g_pv, "%s", pv);
    g_last_seq = 0;
  }
  g_drop_sum += jint(root, "drop");
  ev = json_object_get(root, "ev");
  if (!json_is_array(ev) || json_array_size(ev) == 0) g_invalid++;
  json_array_foreach(ev, i, e) {
    const char *type = json_string_value(json_object_get(e, "e"));
    const char *id = json_string_value(json_object_get(e, "id"));
    long long s = jint(e, "s"), t = jint(e, "t");
    if (!type || !id || s <= g_last_seq) {
      printf("# bad event (s %lld after %lld): %s\n", s, g_last_seq, g_batch);
      g_invalid++;
    }
    g_last_seq = s;
    if (!type) type = "?";
    if (!id) id = "?";
    if (strcmp(type, "vis") == 0)
      snprintf(one, sizeof one, "%s:%s@%lld/%lld/%lld/%lld", type, id, t, jint(e, "ms"),
               jint(e, "max"), jint(e, "n"));
    else if (strcmp(type, "click") == 0)
      snprintf(one, sizeof one, "%s:%s@%lld/%lld/%lld", type, id, t, jint(e, "since"),
               jint(e, "seen"));
    else
      snprintf(one, sizeof one, "%s:%s@%lld", type, id, t);
    summary_add(one);
  }
  json_decref(root);
}

/* Takes every queued batch (force) at time t; returns the summary of their events. */
static inline const char *drain(double t) {
  int guard = 0;
  size_t n = 0;
  g_summary[0] = '\0';
  g_drained[0] = '\0';
  while (take(t, 1) == IMP_OK && guard++ < 100000) {
    if (n + g_batch_len + 2 < sizeof g_drained) {
      memcpy(g_drained + n, g_batch, g_batch_len);
      n += g_batch_len;
      g_drained[n++] = '\n';
      g_drained[n] = '\0';
    }
    summarize_batch();
  }
  return g_summary;
}

#endif /* IMP_TEST_SUPPORT_H */
