/*
** outbox_internal.h: state and cross-file functions of the outbox (never exported).
**
** The outbox keeps up to max_batches batches (and one spare slot for the hand-off at
** a page hide) in fixed slots carved from its own static arena at imp_outbox_start().
** A batch is kept as its parts, never as a finished body: the header prefix (page
** view fields, escaped), its cut time "at", its "drop" count and its events as they
** were encoded, with each event's length. So a request can carry a leading part of
** the events (a 413 or a refused beacon halves it) and a raised "drop" is a number,
** with no re-encoding; the body is only assembled when it is sent or stored. Modules:
**   outbox.c         the batch table: slots, chores, requests let go, parked
**                    registrations, the searches over held batches
**   outbox_cut.c     cutting from the queue, the events a batch is done with, losses
**                    and where their count travels, page visibility, consent purge
**   outbox_send.c    choosing the next action (channel, timing)
**   outbox_outcome.c what an answer changes: responses, beacons, storage writes
**   outbox_adopt.c   scans of storage: adoption, expiry, live owners
**   outbox_retry.c   the retry decision by status and the backoff delay
**   outbox_record.c  the two encodings of a batch: request body and storage record
**   outbox_api.c     the exported functions: argument checks, then the modules
*/
#ifndef IMP_OUTBOX_INTERNAL_H
#define IMP_OUTBOX_INTERNAL_H

#include "imp_internal.h"
#include "outbox.h"

#define IMP_OB_PREFIX_BYTES 2048u  /* a header prefix: pv and path escaped, flags */
#define IMP_OB_SLOT_BYTES (IMP_OB_PREFIX_BYTES + IMP_BATCH_HARD_CAP + 2u * IMP_OB_MAX_EVENTS)
#ifndef IMP_OB_ARENA_BYTES
#define IMP_OB_ARENA_BYTES (17u * IMP_OB_SLOT_BYTES) /* the default max_batches + 1 */
#endif
/* Another tab's writes reach this tab's localStorage later than its Web Locks do
** (each renderer keeps a copy of the storage, updated by messages): a claim is
** trusted once a scan this long after it still finds it. */
#define IMP_OB_SETTLE_MS 1000.0
#define IMP_OB_MAX_SPLIT 6u        /* a refused beacon is halved at most this deep */
#define IMP_OB_CHORES (2u * IMP_OB_MAX_BATCHES + 16u) /* removals and cancels waiting */

/*=== MARK: - Batches (Private) ===*/
enum ob_state {
  OB_FREE = 0,   /* slot unused                                              */
  OB_IDLE,       /* waiting to be sent (or to retry after ob.retry_at)        */
  OB_FETCH,      /* in flight by fetch (ticket)                               */
  OB_BEACON      /* handed to sendBeacon, outcome awaited (ticket)            */
};                /* (kept at a page hide: OB_IDLE with OB_HANDED)            */

enum ob_flag {
  OB_ATTEMPTED = 1,   /* handed to a channel once: its "drop" may have been seen */
  OB_FAILED = 2,      /* an attempt failed (retryable)                        */
  OB_STORED = 4,      /* storage holds a copy under `key`                     */
  OB_WANT_STORE = 8,  /* a copy should be written (owned by this tab)         */
  OB_STORING = 16,    /* a write is in progress (store_ticket)                */
  OB_RELEASE = 32,    /* the write in progress releases it (page hidden)      */
  OB_HANDED = 64,     /* dealt with for the current page hide (idle: kept)    */
  OB_LATER_NO = 128,  /* fetchLater refused this batch: do not ask again      */
  OB_CLAIM = 256,     /* adopted: its record is rewritten with this tab as owner */
  OB_NO_BEACON = 512, /* sendBeacon refused it for this page hide             */
  OB_UNCONFIRMED = 1024, /* adopted, or taken back when the page is shown: not
                            sent before a scan finds its record still ours, or
                            still released (outbox_adopt.c)                   */
  OB_CHECK = 2048     /* the scan in progress found its record ours, or free
                         to take (a released copy, a claim to write, adopted) */
};

typedef struct ob_batch {
  double created;          /* wall ms at the cut: age and key order        */
  double sent_at;          /* core time the fetch went out (timeout)       */
  double confirm_at;       /* unconfirmed: the core time from which a scan
                              confirms (or forgets) it (outbox_adopt.c)    */
  double renew_at;         /* core time its owned record's lease needs renewing */
  uint32_t id;             /* 1, 2, ... per start                          */
  uint32_t state;          /* ob_state                                     */
  uint32_t flags;          /* ob_flag bits                                 */
  uint32_t ticket;         /* the fetch or beacon awaited                  */
  uint32_t store_ticket;   /* the storage write awaited                    */
  uint32_t later_ticket;   /* fetchLater registration, 0 when none         */
  uint32_t wave;           /* failure wave the fetch started in            */
  uint32_t part;           /* leading events the next request carries (0: as
                              many as fit); halved by a 413 or a refused beacon */
  uint32_t depth;          /* how often a refused beacon halved it          */
  uint32_t sent_bytes;     /* body bytes of the fetch or beacon awaited    */
  uint32_t later_bytes;    /* body bytes registered with fetchLater        */
  uint32_t stored_n;       /* events and bytes of its stored copy          */
  uint32_t stored_len;
  uint32_t at, drop;       /* header fields                                */
  uint32_t prefix_len;     /* header prefix bytes at data[0..)             */
  uint32_t events;         /* events (lens[0..events))                     */
  uint32_t event_bytes;    /* their bytes, after the prefix, no separators */
  uint32_t key_len;
  uint8_t *data;           /* prefix then events: IMP_OB_PREFIX_BYTES + HARD_CAP */
  uint16_t *lens;          /* IMP_OB_MAX_EVENTS entries                    */
  uint8_t key[IMP_OB_KEY_BYTES]; /* last: the fields above have 1-byte offsets */
} ob_batch;

/* A removal (key) or cancel (ticket) that waits for its turn in imp_outbox_next(). */
typedef struct ob_chore {
  uint32_t kind;           /* IMP_ACT_REMOVE or IMP_ACT_CANCEL             */
  uint32_t ticket;
  uint32_t key_len;
  uint8_t key[IMP_OB_KEY_BYTES];
} ob_chore;

/* A request still in flight whose batch was let go at a page hide (its released
** copy is in storage): a 2xx still removes that copy, and counts its events
** delivered. Also a fetchLater
** registration of such a batch (parked): a batch adopted again from that key takes
** it over, a purge cancels it. */
typedef struct ob_gone {
  uint32_t ticket, bytes, events, key_len;
  uint8_t key[IMP_OB_KEY_BYTES];
} ob_gone;
#define IMP_OB_GONE 16u

typedef struct imp_outbox {
  imp_outbox_config cfg;
  int started;
  double epoch_ms;         /* wall clock at core time 0                    */
  uint32_t tab_len;
  uint8_t tab[IMP_OB_TAB_BYTES];
  ob_batch *slots;         /* nslots: cfg.max_batches, and one spare that only
                              the hand-off at a page hide may use            */
  uint32_t nslots;
  uint32_t next_id, next_ticket, next_key;
  /* environment, as reported */
  int online, consent, storage_ok, visible;
  /* retry */
  uint32_t failures, wave;
  double retry_at;         /* no new fetch before this core time           */
  uint32_t inflight_bytes, beacon_bytes, later_used;
  /* storage and scans */
  uint32_t left_events, left_bytes; /* records this scan left for want of a slot */
  int want_scan;           /* 1: a scan is wanted; 2: and it takes the scan lock */
  int scanning, purge;
  double scan_until;       /* a scan asked for and not done by then is given up */
  int flushing;            /* imp_outbox_flush(): cut every queued event     */
  int scan_on_free;        /* a scan found no free slot: scan when one frees */
  double rescan_at;        /* -1, or a scan is due then (live owners, busy) */
  uint32_t live_n;
  uint8_t live[IMP_OB_LIVE_TABS][IMP_OB_TAB_BYTES + 1]; /* [0] = length   */
  uint32_t drop_record;    /* a drop-only record write in progress: its count */
  uint32_t drop_ticket;
  ob_gone gone[IMP_OB_GONE];
  uint32_t gone_n;
  ob_gone parked[IMP_OB_GONE];    /* fetchLater registrations of batches let go */
  uint32_t parked_n;
  uint32_t body_len;       /* the body send_count() left in the io buffer (outbox_send.c) */
  uint32_t chore_head, chore_count; /* the ring of chores (outbox.c) */
  const uint8_t *read_at, *read_end; /* the record or batch JSON being read: what is left */
} imp_outbox;

extern imp_outbox imp_ob;
extern imp_action imp_act;
extern uint8_t imp_ob_io[IMP_OB_IO_BYTES];

/*=== MARK: - Batches (Private) ===*/
void imp_ob_bind(ob_batch *b, uint8_t *slot); /* b's buffers: IMP_OB_SLOT_BYTES at slot */
void imp_ob_init_slots(uint8_t *mem);
int imp_ob_same(const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn); /* equal bytes */
int imp_ob_tab_ok(const uint8_t *s, uint32_t n); /* a tab id: 1..16 bytes of [0-9a-z] */
ob_batch *imp_ob_alloc(void);                 /* NULL when every slot is used */
int imp_ob_share_fits(uint32_t events, uint32_t bytes); /* within stored_events, _bytes */
void imp_ob_cancel_parked(void);              /* after a scan, and at a purge */
ob_batch *imp_ob_next_held(ob_batch *b);      /* the held batch after b (NULL: the first) */
/* Every held batch, in slot order. */
#define OB_EACH_HELD(b) for (ob_batch *b = 0; (b = imp_ob_next_held(b)) != 0;)
void imp_ob_free(ob_batch *b);                /* queues removal and cancels   */
void imp_ob_cancel_later(ob_batch *b);        /* its fetchLater copy, if any  */
void imp_ob_remove_record(ob_batch *b);       /* its stored copy; b stays held */
void imp_ob_let_go(ob_batch *b);              /* storage holds it now, released */
void imp_ob_gone_in_flight(const ob_batch *b, int stands); /* its request goes on alone */
void imp_ob_cut(double t);                    /* moves due batches out of the queue */
void imp_ob_drop_front(ob_batch *b, uint32_t n); /* the first n events are done */
int imp_ob_gone_answer(uint32_t ticket, int32_t status); /* 0: unknown ticket */
void imp_ob_unpark(const uint8_t *key, uint32_t key_len, ob_batch *b); /* a scan took `key` */
void imp_ob_lose(uint32_t events, uint32_t drop, const uint8_t *prefix, uint32_t prefix_len);
void imp_ob_visibility(double t);             /* follows the page's measuring state */
void imp_ob_purge(void);                      /* consent denied               */
void imp_ob_chore(uint32_t kind, uint32_t ticket, const uint8_t *key, uint32_t key_len);
const ob_chore *imp_ob_take_chore(void);      /* the oldest chore, or NULL */
ob_batch *imp_ob_oldest(uint32_t states, uint32_t want, uint32_t skip); /* lowest id */
#define OB_HELD (1u << OB_IDLE | 1u << OB_FETCH | 1u << OB_BEACON) /* states of held batches */
double imp_ob_wall(double t);
uint32_t imp_ob_beacon_room(void);
ob_batch *imp_ob_by_ticket(uint32_t ticket, uint32_t what); /* OB_FETCH, OB_BEACON, OB_STORING, 0 */

/*=== MARK: - Sending (Private) ===*/
int32_t imp_ob_next_action(double t, double jitter); /* jitter: for a request timed out */
void imp_ob_response(double t, ob_batch *b, int32_t status, double retry_after_ms,
                     double jitter);
void imp_ob_beacon_outcome(double t, ob_batch *b, int32_t outcome);
void imp_ob_stored_outcome(double t, ob_batch *b, int32_t outcome);

/*=== MARK: - Adoption (Private) ===*/
uint32_t imp_ob_found(double t, const uint8_t *key, uint32_t key_len,
                      const uint8_t *value, uint32_t value_len);
void imp_ob_scan_done(double t);

/*=== MARK: - Retry policy (Private) ===*/
enum ob_verdict { OB_OK = 0, OB_RETRY = 1, OB_NEVER = 2 };
int imp_ob_classify(int32_t status);
double imp_ob_backoff(uint32_t failures, double jitter, const imp_outbox_config *cfg);

/*=== MARK: - Encodings (Private) ===*/
uint32_t imp_ob_encode_body(const ob_batch *b, uint32_t n); /* into imp_ob_io */
uint32_t imp_ob_encode_record(const ob_batch *b, int released, double until, uint8_t *dst,
                              uint32_t cap);
uint32_t imp_ob_make_key(const ob_batch *b, uint8_t *dst);
int imp_ob_split(ob_batch *b, const uint8_t *json, uint32_t n); /* 1: a batch's parts */
/* The field line of a parsed storage record; owner points into the value. */
typedef struct ob_record {
  double created, until;
  uint32_t attempted, owner_len;
  const uint8_t *owner;
} ob_record;
/* 1 when value[0..len) is a well-formed record: its fields in r, its batch in b. */
int imp_ob_parse_record(const uint8_t *value, uint32_t len, ob_record *r, ob_batch *b);

#endif /* IMP_OUTBOX_INTERNAL_H */
