/*
** fuzz_outbox.c: libFuzzer target for delivery: the conservation law.
**
** The input drives a small world around the core and its outbox: cards that are
** registered, observed, clicked; page state, page views, time; a network whose
** answers (2xx, 408, 413, 429 with Retry-After, 5xx, 400, network errors, no answer
** at all) and whose reach of the collector for a failed request are chosen by the
** input; sendBeacon that accepts or refuses; fetchLater; a localStorage that works,
** is full or throws; online/offline; consent changes; page loads (a clean one after a
** page hide, or a crash) whose storage the next load finds, an earlier tab that
** still holds its Web Lock or lets it go, a device that sleeps (the wall clock
** goes on, the page's stands: imp_outbox_wall), and another live tab that shares
** storage and, between this tab's actions, takes records no live tab owned when it
** read them (from a copy that may be stale: a record this tab rewrote or removed
** since is written back as read) and delivers them, or delivers and removes one at
** once; whose own requests fail (a network error or a 5xx: kept to retry; a refusal
** for good: lost and counted there); whose batches held past max_age_ms are counted
** lost there, as its outbox does; whose scans remove records older than
** max_age_ms (counted there) and records it cannot read; that dies with records it
** owns and requests out (which reach the collector or not), which this tab must adopt
** and deliver; and that purges too when consent is revoked (fuzz_outbox_tabs.h,
** fuzz_outbox_tabs_scan.h, fuzz_outbox_tabs_expire.h, fuzz_outbox_tabs_acts.h). The
** glue's part is played exactly: every action imp_outbox_next() returns is carried
** out.
**
** Answers may come late, as the browser's do: a scan may wait for its Web Lock while
** anything else happens (consent revoked, and granted again, the page hidden, another
** scan asked for; not done timeout_ms later it is given up, and the next scan takes
** the lock at once), and a request the outbox cancelled (timed out, purged) may still
** answer. A late report must be harmless: a scan the outbox ended meanwhile is
** refused (imp_outbox_found: IMP_ERR_STATE, which ends the glue's scan) or has
** nothing to end (imp_outbox_scan_done: IMP_NONE); an answer to a cancelled request
** is IMP_NONE. Any other refusal fails, and the law holds across them.
**
** The parts, included in this order: the world's state (fuzz_outbox_world.h), the law
** checked after every step (fuzz_outbox_law.h), the collector and storage
** (fuzz_outbox_store.h), the other tab (fuzz_outbox_tabs.h: its claims and place;
** fuzz_outbox_tabs_scan.h: what its scans remove; fuzz_outbox_tabs_expire.h: how
** it loses a batch it holds; fuzz_outbox_tabs_acts.h: its reads, takes, deliveries,
** failures, death, purge), the glue
** (fuzz_outbox_glue.h), page loads (fuzz_outbox_pages.h); this file holds the steps,
** the network's answers, the end and the entry point.
**
** At the end, with the network back and time passing, every event is delivered or
** counted in a delivered "drop", and nothing is left held or stored.
*/
#include <zlib.h>

#include "fuzz_common.h"
#include "outbox_internal.h"
#include "fuzz_outbox_world.h"
#include "fuzz_outbox_law.h"
#include "fuzz_outbox_store.h"
#include "fuzz_outbox_tabs.h"
#include "fuzz_outbox_tabs_scan.h"
#include "fuzz_outbox_tabs_expire.h"
#include "fuzz_outbox_tabs_acts.h"
#include "fuzz_outbox_glue.h"
#include "fuzz_outbox_pages.h"

/*=== MARK: - Steps ===*/
static const int32_t statuses[] = {204, 200, 503, 500, 429, 408, 0, 413, 400, 404, 422, 302};

/* What the collector knows of this body's events: 1 has one, 2 refuses one. With
** `refuse`, every event of the body it does not hold yet is marked refused (a body
** refused for one poison event leaves the events it took before taken). */
static int verdict_of(const uint8_t *body, uint32_t len, int refuse) {
  json_t *root = json_loadb((const char *)body, len, 0, NULL), *e;
  size_t i;
  int known = 0;
  const char *pv_text = json_string_value(json_object_get(root, "pv"));
  int pv = pv_text ? pv_index((const uint8_t *)pv_text, (uint32_t)strlen(pv_text)) : -1;
  json_array_foreach(json_object_get(root, "ev"), i, e) {
    json_int_t s = json_integer_value(json_object_get(e, "s"));
    if (pv < 0 || s < 1 || s > MAX_S) continue;
    if (refuse && !got[pv][s]) refused[pv][s] = 1;
    if (refused[pv][s]) known = 2;
    else if (got[pv][s] && known == 0) known = 1;
  }
  json_decref(root);
  return known;
}

static int never_retried(int32_t status) {
  return status == 400 || status == 401 || status == 403 || status == 410 || status == 413 ||
         status == 422;
}

static size_t json_events(const req *r) {
  json_t *root = json_loadb((const char *)r->body, r->len, 0, NULL);
  size_t n = json_array_size(json_object_get(root, "ev"));
  json_decref(root);
  return n;
}

static void respond(fz_in *in) {
  if (!fetch_n) return;
  uint32_t i = fz_u8(in) % fetch_n;
  uint8_t pick = fz_u8(in);
  int32_t status = net_up ? statuses[pick % 12u] : 0;
  /* A collector refuses a batch for what it holds, whichever copy: a copy of one it
  ** took is taken too (removed by (pv, s)), one with a refused event is refused. (A
  ** real collector that refuses one copy after taking another makes the tracker
  ** count events lost that arrived.) Only a fresh refusal marks the body's events
  ** refused: one refused for an event refused before says nothing of the others, and
  ** marking them would make a later copy part taken (an aborted request that arrived)
  ** and part refused, whose refusal counts as lost the events that arrived. */
  int known = net_up ? verdict_of(fetches[i].body, fetches[i].len, 0) : 0;
  if (known == 2) status = 400;
  else if (known == 1 && never_retried(status)) status = 204;
  if (!known && never_retried(status) && (status != 413 || json_events(&fetches[i]) == 1))
    verdict_of(fetches[i].body, fetches[i].len, 1);
  double retry_after = status == 429 || status == 503 ? (double)(fz_u8(in) % 4u) * 1000.0 - 1.0 : -1.0;
  if (retry_after < 0) retry_after = -1.0;
  /* a failed request may still have been stored by the collector (a lost answer) */
  if ((status >= 200 && status < 300) || (net_up && status >= 500 && (pick & 0x80)))
    collect(fetches[i].body, fetches[i].len, 0, 0);
  SAY("  answer #%u: %d (known %d)\n", fetches[i].ticket, (int)status, known);
  uint32_t delivered = imp_act.delivered;
  int32_t s = imp_outbox_response(now, fetches[i].ticket, status, retry_after, fz_u8(in) / 256.0);
  expect_ok(s, "response");
  if (imp_act.delivered != delivered) collect(fetches[i].body, fetches[i].len, 0, 1); /* heard */
  forget(fetches, &fetch_n, i);
}

/* The oldest scan waiting for its lock runs. */
static void grant_scan(void) {
  if (!scan_waits) return;
  scan_waits--;
  SAY("  scan lock granted (scan %s)\n", scan_open ? "open" : "ended");
  expect_ok(scan(), "a late scan");
}

/* A request the outbox cancelled answers after all: nothing changes. */
static void late_answer(fz_in *in) {
  if (!cancelled_n) return;
  uint32_t i = fz_u8(in) % cancelled_n;
  int32_t s = imp_outbox_response(now, cancelled[i], statuses[fz_u8(in) % 12u], -1.0, 0.5);
  SAY("  late answer #%u: %d\n", cancelled[i], s);
  if (s != IMP_NONE) fz_fail("an answer to a cancelled request was heard", NULL, 0);
  cancelled[i] = cancelled[--cancelled_n];
}

static void track(fz_in *in, uint8_t op) {
  uint8_t x = fz_u8(in);
  char id[2] = {(char)('a' + x % 8u), 0};
  switch (op) {
  case 0:
    memcpy(imp_input_ptr(), id, 1);
    if (imp_item_register(now, 1, 0, x % 5u) == IMP_OK &&
        imp_g.items[imp_result_ptr()->slot].elements == IMP_NIL)
      imp_element_add(now, 1, 0, x % 5u); /* one element per card, as the glue adds */
    break;
  case 1: imp_element_observe(now, x % 8u, (double)(fz_u8(in) % 5u) / 4.0, 100.0); break;
  case 2:
    hidden = !hidden;
    imp_page_state(now, hidden ? IMP_PAGE_HIDDEN : IMP_PAGE_VISIBLE);
    break;
  case 3: imp_activate(now, x % 8u, IMP_ACT_CLICK); break;
  case 4: imp_element_remove(now, x % 8u); break;
  default:
    imp_page_end(now);
    note_seq();
    begin_pv();
  }
}

/* One step of the world; 0 when the input asks for more than the model holds. */
static int step(fz_in *in) {
  uint8_t op = fz_u8(in);
  now += (double)(fz_u8(in) % 64u) * 16.0;
  SAY("step %u at %.0f\n", op % 18u, now);
  switch (op % 18u) {
  case 0: case 1: case 2: case 3: case 4: case 5: track(in, op % 16u); break;
  case 6: case 7: respond(in); break;
  case 8:
    net_up = !net_up;
    expect_ok(imp_outbox_online(now, net_up), "online");
    break;
  case 9: storage_mode = fz_u8(in) % 8u == 0 ? 1 + fz_u8(in) % 2 : 0; break;
  case 10: {
    uint8_t c = fz_u8(in);
    int32_t consent = c % 16u == 0 ? IMP_CONSENT_DENIED : c % 3u == 0 ? IMP_CONSENT_PENDING : IMP_CONSENT_GRANTED;
    long long before = imbalance();
    expect_ok(imp_outbox_consent(now, consent), "consent");
    if (consent != IMP_CONSENT_GRANTED) scan_open = 0; /* pending or the purge ends a scan */
    if (consent == IMP_CONSENT_DENIED && (c & 0x10)) other_tab_purges(in); /* (else not yet) */
    pump(in);
    if (consent == IMP_CONSENT_DENIED) allowed += imbalance() - before; /* withheld on purpose */
    break;
  }
  case 11: case 12:
    die(in, op % 18u == 12);
    if (!start_load(in)) return 0;
    break;
  case 13: other_live = 0; break;
  case 14:
    if (fz_u8(in) & 1) {
      now += (double)fz_u16(in) * 2.0;
      break;
    }
    epoch += (double)fz_u16(in) * 4000.0; /* the device sleeps (up to 73 h): the page's clock stands */
    if (core_alive) expect_ok(imp_outbox_wall(now, epoch), "wall");
    break;
  case 15:
    if (op >= 128) other_tab_step(in);
    else imp_tick(now);
    break;
  case 16: grant_scan(); break;
  case 17: late_answer(in); break;
  default: imp_tick(now); break;
  }
  if (core_alive) pump(in);
  note_seq();
  check_law();
  /* room is left for the loads and page views of recover() */
  return pv_n + 4u < MAX_PV && imp_g.seq < MAX_S - 64u;
}

/*=== MARK: - The end: the network is back and time passes ===*/
static void recover(fz_in *in) {
  SAY("the end: the network is back\n");
  settle = 1;
  net_up = 1;
  storage_mode = 0;
  other_live = 0;
  expect_ok(imp_outbox_online(now, 1), "online");
  while (scan_waits) grant_scan(); /* every lock comes in the end */
  while (fetch_n) {
    expect_ok(answer_at_once(fetches[0].ticket, fetches[0].body, fetches[0].len), "response");
    forget(fetches, &fetch_n, 0);
  }
  other_tab_finishes();
  if (hidden || !imp_ob.storage_ok) { /* a fresh load, with storage that works */
    die(in, 0);
    if (!start_load(in)) return;
  }
  other_live = 0; /* the earlier tab is gone for good */
  if (imp_ob.consent == IMP_CONSENT_PENDING) expect_ok(imp_outbox_consent(now, 1), "consent");
  memcpy(imp_input_ptr(), "z", 1); /* one more event, to carry a pending "drop" */
  expect_ok(imp_element_add(now, 1, 0, 0), "register");
  uint32_t z = imp_result_ptr()->element;
  expect_ok(imp_element_observe(now, z, 1.0, 100.0), "observe");
  for (int round = 0; round < 300; round++) {
    now += 61000.0;
    expect_ok(imp_tick(now), "tick");
    /* a loss counted after the last event waits for the next event: make one */
    if (imp_g.drop_pending && !imp_g.rec_count) expect_ok(imp_activate(now, z, IMP_ACT_CLICK), "click");
    pump(in);
    check_law();
    if (!imp_act.held_batches && !store_n && !imp_g.rec_count && !imp_g.drop_pending) break;
  }
  SAY("  end: held %u, records %u, queued %u, pending %u, delivered twice %lld; outbox online "
      "%d consent %d storage %d visible %d scanning %d\n", imp_act.held_batches, store_n,
      imp_g.rec_count, imp_g.drop_pending, twice, imp_ob.online, imp_ob.consent,
      imp_ob.storage_ok, imp_ob.visible, imp_ob.scanning);
  for (uint32_t i = 0; i < store_n; i++)
    SAY("  record %s: %.*s\n", store[i].key, (int)store[i].len, (const char *)store[i].value);
  if (imp_act.held_batches || store_n || imp_g.rec_count || imp_g.drop_pending)
    fz_fail("with the network back, events are still held or stored", NULL, 0);
}

static void reset_world(void) {
  for (uint32_t i = 0; i < store_n; i++) rec_free(&store[i]);
  while (fetch_n) forget(fetches, &fetch_n, 0);
  while (later_n) forget(laters, &later_n, 0);
  store_n = pv_n = pv_cur = 0;
  memset(seq_max, 0, sizeof seq_max);
  memset(got, 0, sizeof got);
  memset(heard, 0, sizeof heard);
  memset(refused, 0, sizeof refused);
  memset(delivered_drop, 0xff, sizeof delivered_drop); /* -1: no copy delivered */
  delivered_drops = purged_before = allowed = excused = 0;
  core_alive = storage_mode = hidden = load = other_live = locks = settle = 0;
  scan_waits = scan_open = 0;
  epoch = 1.7e12;
  cancelled_n = 0;
  other_tab_reset();
  net_up = 1;
  now = 0;
  prev_tab[0] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz_in in = {data, size};
  if (verbose < 0) verbose = getenv("FUZZ_VERBOSE") != NULL;
  reset_world();
  if (!start_load(&in)) return 0;
  while (in.n)
    if (!step(&in)) break;
  if (imp_ob.consent != IMP_CONSENT_DENIED) recover(&in);
  check_law();
  return 0;
}
