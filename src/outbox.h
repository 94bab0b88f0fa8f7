/*
** outbox.h: the ABI of the outbox, the part of the core that decides delivery.
**
** The outbox holds every batch the core cuts until it is delivered or counted as
** lost, and decides for each one which channel to use, when to retry, when to split
** it, when to write it to storage, and which stored batches to adopt. The glue only
** does the I/O: it reports what happened (imp_outbox_response, _beacon, _later,
** _stored, _found, _online, _consent) and asks what to do next (imp_outbox_next),
** which answers with one action at a time in the action record. Page visibility is
** read from the core (imp_page_state / imp_page_end): the outbox hands everything
** off when the page stops measuring. Time, the wall clock offset and the random
** numbers for jitter are all inputs. src/README.md describes the states and the
** conservation law the tests prove.
**
** The rules of imp.h hold: every function returns a named status, checks its
** arguments before touching state, allocates nothing and reads no clock.
*/
#ifndef IMP_OUTBOX_H
#define IMP_OUTBOX_H

#include "imp.h"

/*=== MARK: - Actions (Public) ===*/
/* action.kind, as imp_outbox_next() writes it. Key and body are in the io buffer
** (imp_outbox_io_ptr()): the key first (key_bytes), the body after it (body_bytes). */
#define IMP_ACT_NONE    0 /* nothing to do now: call again at action.deadline        */
#define IMP_ACT_FETCH   1 /* POST the body with fetch keepalive; then imp_outbox_response */
#define IMP_ACT_BEACON  2 /* sendBeacon the body; then imp_outbox_beacon               */
#define IMP_ACT_LATER   3 /* register the body with fetchLater; then imp_outbox_later  */
#define IMP_ACT_CANCEL  4 /* abort the fetch or fetchLater registration `ticket`       */
#define IMP_ACT_STORE   5 /* localStorage.setItem(prefix + key, body); then imp_outbox_stored */
#define IMP_ACT_REMOVE  6 /* localStorage.removeItem(prefix + key)                     */
#define IMP_ACT_SCAN    7 /* imp_outbox_found() for each stored record, then imp_outbox_scan_done();
                             ticket 1: the scan before waited timeout_ms for the scan
                             lock (its holder hangs): take it (Web Locks `steal`) */
#define IMP_ACT_PURGE   8 /* remove every stored record of the tracker (consent revoked) */

/* imp_outbox_found() verdicts, in action.found. */
#define IMP_FOUND_ADOPTED 0 /* the outbox holds it now (it claims the record itself)  */
#define IMP_FOUND_LEFT    1 /* left in storage (another live tab owns it, or no room) */
#define IMP_FOUND_REMOVE  2 /* remove it now: unreadable, expired (counted) or empty  */

/* Outcome of a storage write, for imp_outbox_stored(). */
#define IMP_STORE_OK     0
#define IMP_STORE_FULL   1 /* QuotaExceededError                                     */
#define IMP_STORE_THREW  2 /* any other exception: storage unusable for this page    */

/* Beacon outcome, for imp_outbox_beacon(). */
#define IMP_BEACON_REFUSED  0 /* sendBeacon returned false                           */
#define IMP_BEACON_ACCEPTED 1
#define IMP_BEACON_THREW    2

/* Consent, for imp_outbox_consent() and config.consent. */
#define IMP_CONSENT_PENDING 0 /* hold in memory: nothing sent, nothing stored        */
#define IMP_CONSENT_GRANTED 1
#define IMP_CONSENT_DENIED  2 /* drop everything held, purge storage, send nothing   */

/* Capabilities, config.flags. */
#define IMP_OB_BEACON   1u  /* navigator.sendBeacon exists                           */
#define IMP_OB_LATER    2u  /* fetchLater exists                                     */
#define IMP_OB_STORAGE  4u  /* localStorage may be used (off: GPC memory-only mode)  */
#define IMP_OB_LOCKS    8u  /* Web Locks: the glue reports live tabs with imp_outbox_tab_live */
#define IMP_OB_ONLINE  16u  /* navigator.onLine at start                             */

/*=== MARK: - Limits (Public) ===*/
#define IMP_OB_MAX_BATCHES   256u   /* batches held in memory at most               */
#define IMP_OB_MAX_EVENTS   1600u   /* events in one held batch (61440 / 38 bytes)   */
#define IMP_OB_TAB_BYTES      16u   /* tab id: 1..16 bytes of [0-9a-z]               */
#define IMP_OB_KEY_BYTES      64u   /* a record key                                  */
#define IMP_OB_LIVE_TABS      16u   /* live tabs remembered per scan                 */
/* key, a record's field line (lengths), header prefix (2048) and events */
#define IMP_OB_IO_BYTES (IMP_OB_KEY_BYTES + 256u + 6u * IMP_OB_MAX_EVENTS + 2048u + IMP_BATCH_HARD_CAP)

/*=== MARK: - Configuration (Public) ===*/
/* Read by imp_outbox_start(); holds the defaults (shown) until the glue changes them. */
typedef struct imp_outbox_config {
  double timeout_ms;        /* a fetch without an answer is aborted (5000)          */
  double lease_ms;          /* lease on an owned record without Web Locks (30000)   */
  double max_age_ms;        /* stored records older than this are dropped (86400000) */
  double backoff_base_ms;   /* first retry delay (1000), doubling ...               */
  double backoff_max_ms;    /* ... up to this (60000); jitter +-20 %                 */
  double retry_after_max_ms;/* a Retry-After longer than this is clamped (3600000)  */
  uint32_t max_batches;     /* batches held in memory (1..IMP_OB_MAX_BATCHES; 16),
                               plus one slot only a page hide uses              */
  uint32_t body_bytes;      /* largest request body (IMP_BATCH_MIN_CAP..HARD_CAP; 16384) */
  uint32_t keepalive_bytes; /* our share of the keepalive quota (body_bytes..65536; 49152) */
  uint32_t later_bytes;     /* our share of the fetchLater quota (0..65536; 49152)  */
  uint32_t stored_events;   /* events this tab keeps in storage (1..; 5000)         */
  uint32_t stored_bytes;    /* bytes of key + value (4096..; 524288)                */
  uint32_t consent;         /* IMP_CONSENT_* (GRANTED)                              */
  uint32_t flags;           /* IMP_OB_* (BEACON | STORAGE | ONLINE)                 */
} imp_outbox_config;

/* The action record, written by imp_outbox_next() and the outcome calls. */
typedef struct imp_action {
  double deadline;          /* call imp_outbox_next() at this time, -1: after the next input */
  uint32_t kind;            /* IMP_ACT_*                                            */
  uint32_t ticket;          /* names the request, registration or write             */
  uint32_t batch;           /* batch id (debug)                                     */
  uint32_t events;          /* events in the batch                                  */
  uint32_t key_bytes;       /* key at the start of the io buffer                    */
  uint32_t body_bytes;      /* body or record value after the key                   */
  uint32_t found;           /* IMP_FOUND_* of the last imp_outbox_found()           */
  uint32_t held_batches;    /* batches held in memory                               */
  uint32_t held_events;
  uint32_t stored_events;   /* events of this tab's records in storage              */
  uint32_t delivered;       /* events confirmed by a 2xx (cumulative)               */
  uint32_t beaconed;        /* events accepted by sendBeacon (cumulative)           */
  uint32_t lost;            /* events counted lost: refused, expired (cumulative)   */
  uint32_t purged;          /* events dropped for consent (cumulative; never in "drop") */
  uint32_t failures;        /* consecutive failed attempts (0: the collector is fine) */
  uint32_t inflight_events; /* of held_events, those a fetch awaiting its answer carries */
  double retry_ms;          /* the delay the last failure set before the next attempt */
} imp_action;

#ifdef __cplusplus
extern "C" {
#endif

/*=== MARK: - Functions (Public) ===*/
/* accessors */
IMP_EXPORT("y") imp_outbox_config *imp_outbox_config_ptr(void);
IMP_EXPORT("z") imp_action *imp_outbox_action_ptr(void);
IMP_EXPORT("A") uint8_t *imp_outbox_io_ptr(void);  /* IMP_OB_IO_BYTES bytes */

/* Starts the outbox after imp_start(), forgetting what it held. epoch_ms is the wall
** clock at core time 0 (Date.now() - performance.now()): stored records carry wall
** times so other page loads can judge their age. The io buffer holds the tab id
** (tab_len bytes of [0-9a-z]), chosen at random by the glue. IMP_ERR_CONFIG for a bad
** configuration, IMP_ERR_MEMORY for more batches than its arena holds, IMP_ERR_ARG
** for a bad time, epoch or tab id, IMP_ERR_STATE before imp_start(). A refused start
** leaves the outbox stopped, a running one too. */
IMP_EXPORT("B") int32_t imp_outbox_start(double t, double epoch_ms, uint32_t tab_len);
/* What to do next: cuts due batches from the queue, then writes one action. IMP_OK
** with an action to perform, IMP_NONE when there is nothing to do before
** action.deadline (or the next input). jitter, a random number in [0, 1), spreads
** the retry of a request this call finds timed out. */
IMP_EXPORT("C") int32_t imp_outbox_next(double t, double jitter);
/* Cuts every queued event into batches now (tracker.flush()), as far as free slots
** allow; imp_outbox_next() then sends them. */
IMP_EXPORT("D") int32_t imp_outbox_flush(double t);
/* A fetch answered: status is the HTTP status, or 0 for a network error.
** retry_after_ms is the parsed Retry-After header (-1 when absent); jitter is a
** random number in [0, 1). IMP_NONE for a ticket that is no longer awaited. */
IMP_EXPORT("E") int32_t imp_outbox_response(double t, uint32_t ticket, int32_t status,
                                    double retry_after_ms, double jitter);
IMP_EXPORT("F") int32_t imp_outbox_beacon(double t, uint32_t ticket, int32_t outcome);
/* fetchLater registered (ok 1) or refused (ok 0). */
IMP_EXPORT("G") int32_t imp_outbox_later(double t, uint32_t ticket, int32_t ok);
IMP_EXPORT("H") int32_t imp_outbox_stored(double t, uint32_t ticket, int32_t outcome);
IMP_EXPORT("I") int32_t imp_outbox_online(double t, int32_t online);
IMP_EXPORT("J") int32_t imp_outbox_consent(double t, int32_t consent);
/* During a scan with Web Locks: the tab whose id is in the io buffer (tab_len bytes)
** holds its tab lock, so its records are not adopted. */
IMP_EXPORT("K") int32_t imp_outbox_tab_live(double t, uint32_t tab_len);
/* During a scan: one stored record, key (key_len bytes without the glue's prefix)
** then value (value_len bytes) in the io buffer. The verdict is in action.found.
** IMP_ERR_STATE when no scan is open: consent was revoked or turned pending while the
** glue waited for the scan lock, and the scan is over (granting asks for another).
** imp_outbox_scan_done() then answers IMP_NONE. */
IMP_EXPORT("L") int32_t imp_outbox_found(double t, uint32_t key_len, uint32_t value_len);
IMP_EXPORT("M") int32_t imp_outbox_scan_done(double t);
/* The wall clock at core time 0 is epoch_ms now (Date.now() - performance.now()): the
** page's clock stood still while the device slept, or the wall clock was set. Batches
** are aged and records dated by the wall clock from then on. */
IMP_EXPORT("N") int32_t imp_outbox_wall(double t, double epoch_ms);

#ifdef __cplusplus
}
#endif

#endif /* IMP_OUTBOX_H */
