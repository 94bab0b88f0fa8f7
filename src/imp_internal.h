/*
** imp_internal.h: state and cross-file functions of the core (never exported).
**
** All state lives in one `imp_core` record (imp_g) whose tables are carved out of a
** static arena by imp_start(); nothing is allocated afterwards. Modules:
**   registry.c    item ids <-> slots (open-addressing hash, free list, reuse of the
**                 oldest released item when full)
**   ids.c         where item ids and list ids live: the id heap
**   seen.c        what the page view reported about items whose slot was reused
**   element.c     the elements of each item (handles, ratio, area, v2 cover state) and
**                 the choice of the most visible one that feeds the item
**   visibility.c  page state and the per-item state machine (impression, viewable
**                 timer, visible spans), the armed-timer list, clicks
**   queue.c       the event queue (a byte ring of encoded events), page view
**                 records, batch policy and batch assembly
**   json.c        the JSON writer: RFC 8259 escaping with UTF-8 repair, integers
**   deflate.c     DEFLATE + gzip of a batch (deflate.h: a pure function over a
**                 workspace carved from the arena); its bit writer and Huffman
**                 codes are deflate_codes.c's
**   config.c      the configuration record: defaults and validation
**   api.c         the exported functions: argument checks, then the modules
*/
#ifndef IMP_INTERNAL_H
#define IMP_INTERNAL_H

#include "deflate.h"
#include "imp.h"
#include <stddef.h>

#ifndef IMP_ARENA_BYTES
#define IMP_ARENA_BYTES (4u * 1024u * 1024u) /* the defaults: 1.6 MiB, and the seen set 1.5 MiB of the rest */
#endif
#define IMP_NIL 0xFFFFFFFFu        /* "no slot" in links and tables */
#define IMP_PV_RING 4u             /* page views whose events may still be queued */
#define IMP_EVENT_MAX_BYTES 1400u  /* one encoded event, worst-case escaping */
#define IMP_RATIO_EPSILON 1e-6     /* float noise tolerated when comparing ratios */
/* The small, often used records (imp_g, imp_res, imp_cfg, the outbox's) come first in
** the .wasm's linear memory, before the large zeroed buffers and arenas: their
** addresses then take 2 bytes in each load and store instead of 3 or 4 (src/README.md
** "Where the bytes go"). */
#ifdef __wasm__
#define IMP_NEAR __attribute__((section(".data.near")))
#else
#define IMP_NEAR
#endif

/*=== MARK: - Items (Private) ===*/
/* Effective visibility class of an item: what the state machine runs on. */
enum imp_class { IMP_OUT = 0, IMP_PARTIAL = 1, IMP_FULL = 2 };

enum imp_item_flag {
  IMP_ITEM_USED = 1,       /* slot holds an item                          */
  IMP_ITEM_RELEASED = 2,   /* its element left the DOM; state is kept     */
  IMP_ITEM_IMPRESSED = 4,  /* impression emitted in this page view        */
  IMP_ITEM_VIEWED = 8,     /* viewable impression emitted in this page view */
  IMP_ITEM_ARMED = 16      /* in the armed-timer list                     */
};

/* The ids of an item (its id, its list id) live in the id heap (ids.c). */
#define IMP_ID_HEAP_PER_ITEM 40u   /* id heap bytes per slot: ids and their 4-byte headers */
#define IMP_ID_HEAP_MIN 8192u      /* ... and at least this many: 40 items with the longest ids */
#define IMP_LINK_NIL 0xFFFFu       /* "no item" in the 16-bit links of items    */

typedef struct imp_item {
  double first_seen;       /* time of the first impression (page view)    */
  double span_start;       /* start of the open visible span               */
  uint32_t position;       /* 1-based position, 0 = unknown                */
  uint32_t longest_ms;     /* longest visible span this page view          */
  uint32_t elements;       /* first of its elements (element.c), IMP_NIL    */
  uint32_t id_at;          /* where its record starts in the id heap        */
  uint16_t timer_prev;     /* armed-timer list links (IMP_LINK_NIL at ends); */
  uint16_t timer_next;     /* a released item is never armed, so they link */
                           /* the released list (oldest first) instead     */
  uint16_t spans;          /* visible spans reported this page view        */
  uint8_t flags;           /* imp_item_flag bits                           */
  uint8_t geometry;        /* last observed class, ignoring page state     */
  uint8_t state;           /* effective class (geometry while measuring)   */
  uint8_t id_len;
  uint8_t list_len;
} imp_item;

/* Saved state of an item whose slot was reused (seen.c). */
typedef struct imp_seen {
  uint64_t key;            /* 64-bit hash of the id; 0 = empty entry        */
  double first_seen;
  uint32_t longest_ms;
  uint16_t spans;
  uint8_t flags;           /* IMP_ITEM_IMPRESSED | IMP_ITEM_VIEWED          */
} imp_seen;
#define IMP_SEEN_LOAD 3u   /* at most 3/4 of the entries are used           */

/* One DOM element of an item (element.c). Free handles link through `next`. */
enum imp_cover { IMP_LOOK_PENDING = 0, IMP_LOOK_CLEAR = 1, IMP_LOOK_COVERED = 2 };
typedef struct imp_element {
  double ratio;            /* last observed ratio                           */
  double area;             /* last observed area, px^2                      */
  uint32_t item;           /* slot of its item; IMP_NIL when the handle is free */
  uint32_t next;           /* next element of the item, or next free handle */
  uint8_t look;            /* imp_cover: what v2 said since it entered view */
} imp_element;

/*=== MARK: - Queue (Private) ===*/
typedef struct imp_event_rec {
  double t;                /* event time (for the batch age rule)          */
  uint32_t off;            /* where its bytes start in the ring            */
  uint16_t len;            /* encoded bytes in the ring                    */
  uint8_t pv;              /* index into the page view ring                */
} imp_event_rec;

typedef struct imp_pageview {
  double start;            /* time the page view began                     */
  uint32_t flags;          /* IMP_FLAG_* given at begin                    */
  uint8_t id_len;
  uint16_t path_len;
  uint8_t id[IMP_MAX_PV_BYTES];
  uint8_t path[IMP_MAX_PATH_BYTES];
} imp_pageview;

/*=== MARK: - The core (Private) ===*/
typedef struct imp_writer {
  uint8_t *p;
  uint32_t len, cap;
  int overflow;            /* set when a write did not fit; len unchanged   */
} imp_writer;

typedef struct imp_core {
  imp_config cfg;          /* the configuration imp_start() accepted         */
  imp_deflate_work deflate;/* the encoder's hash tables, in the arena (compress) */
  int started;
  /* time */
  double now;              /* latest time seen; earlier times are clamped   */
  /* page */
  int page_open;           /* a page view is open                           */
  int32_t page_state;      /* IMP_PAGE_*                                    */
  int focused;             /* window focus                                  */
  int page_covered;        /* something covers the whole viewport (a modal) */
  uint32_t seq;            /* last sequence number in the current page view */
  uint32_t pv_cur;         /* current page view in the ring                 */
  imp_pageview pvs[IMP_PV_RING];
  /* items */
  imp_item *items;         /* max_items slots                               */
  uint16_t *hash;          /* hash_cap entries: slot + 1, 0 = empty         */
  uint32_t hash_cap;       /* power of two >= 2 * max_items                 */
  uint16_t *free_slots;    /* stack of unused slots                         */
  uint32_t free_count;
  uint8_t *id_heap;        /* id_cap bytes of records (ids.c)               */
  uint32_t id_cap;
  uint32_t id_end;         /* records end here                              */
  uint32_t id_live;        /* bytes of the records items still hold         */
  uint32_t item_count;     /* used slots                                    */
  uint16_t released_head;  /* released items, oldest release first          */
  uint16_t released_tail;  /* (IMP_LINK_NIL when none, as the timer list)   */
  imp_seen *seen;          /* seen_cap entries (seen.c)                      */
  uint32_t seen_cap;       /* power of two, or 0 when the arena has no room  */
  uint32_t seen_count;
  uint16_t timer_head, timer_tail; /* armed timers, IMP_LINK_NIL when none */
  imp_element *elements;   /* max_items handles (element.c)                  */
  uint32_t element_free;   /* first handle given back, or IMP_NIL            */
  uint32_t element_fresh;  /* handles [element_fresh, max_items) never used  */
  uint32_t key_element;    /* element of the last key press, or IMP_NIL     */
  double key_t;            /* its time                                      */
  /* queue */
  imp_event_rec *recs;     /* max_queue records, a ring                     */
  uint32_t rec_head, rec_count;
  uint8_t *ring;           /* queue_bytes bytes of encoded events, a ring   */
  uint32_t ring_head, ring_used;
  uint32_t drop_pending;   /* drops to report in the next batch             */
  uint32_t dropped_total;
  uint32_t events_total;   /* events queued since start (wraps)             */
  imp_writer writing;      /* the event or batch being encoded (queue.c)    */
} imp_core;

extern imp_core imp_g;
extern imp_result imp_res;
extern uint8_t imp_out[IMP_BATCH_HARD_CAP];
extern uint8_t imp_in[IMP_INPUT_BYTES];
extern uint8_t imp_wire[IMP_WIRE_BYTES];
extern uint8_t imp_text[IMP_TEXT_BYTES];
extern imp_config imp_cfg;

/* n rounded up to a multiple of 8: where the next part of the arena may start. */
static inline size_t imp_align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

/* Comparisons with NaN are false, and no number is below infinity but finite ones:
** this refuses both. */
static inline int imp_nonneg(double x) { return x >= 0.0 && x < __builtin_inf(); }
static inline int imp_positive(double x) { return x > 0.0 && x < __builtin_inf(); }
static inline int imp_unit(double x) { return x >= 0.0 && x <= 1.0; } /* in [0, 1] */

/*=== MARK: - Configuration (Private) ===*/
void imp_config_fill_defaults(imp_config *c);
uint32_t imp_config_check(const imp_config *c);  /* 0, or 1 + index of a bad field */

/*=== MARK: - JSON writer (Private) ===*/
imp_writer *imp_json_start(uint8_t *dst, uint32_t cap); /* imp_g.writing, empty, at dst */
void imp_json_raw(imp_writer *w, const char *s);
void imp_json_bytes(imp_writer *w, const uint8_t *s, uint32_t n);
void imp_json_str(imp_writer *w, const uint8_t *s, uint32_t n);
void imp_json_uint(imp_writer *w, uint64_t v, uint32_t width); /* zero-padded to width */
void imp_json_field(imp_writer *w, const char *key, uint32_t v); /* key raw, v */
uint32_t imp_ms(double ms);   /* clamps to [0, UINT32_MAX] and floors */
uint32_t imp_add_sat(uint32_t a, uint32_t b);  /* a + b, saturating */

/*=== MARK: - Registry (Private) ===*/
size_t imp_registry_bytes(uint32_t max_items);
void imp_registry_init(uint8_t *mem);
/* The item's slot (registered, or known and updated), or IMP_NIL when the table is full. */
uint32_t imp_registry_register(const uint8_t *id, uint32_t id_len, const uint8_t *list,
                               uint32_t list_len, uint32_t position);
void imp_registry_page_view(void);   /* frees released items, resets the others */
void imp_registry_release(uint32_t slot);      /* out of view, kept: the released list */
void imp_list_append(uint16_t *head, uint16_t *tail, uint32_t slot); /* items chained by timer_prev/next */
void imp_list_unlink(uint16_t *head, uint16_t *tail, imp_item *it);

/*=== MARK: - Ids and lists (Private) ===*/
size_t imp_ids_bytes(uint32_t max_items);
void imp_ids_init(uint8_t *mem);
int imp_ids_room(const imp_item *it, uint32_t id_len, uint32_t list_len); /* it: NULL if new */
void imp_ids_set(uint32_t slot, const uint8_t *id, uint32_t id_len, const uint8_t *list,
                 uint32_t list_len);             /* after imp_ids_room() said yes */
int imp_ids_same_list(const imp_item *it, const uint8_t *list, uint32_t list_len);
void imp_ids_free(const imp_item *it);

#define IMP_ID_HEADER 4u /* a record: id length, list length, slot (16 bits), the bytes */
static inline const uint8_t *imp_item_id(const imp_item *it) {
  return imp_g.id_heap + it->id_at + IMP_ID_HEADER;
}
static inline const uint8_t *imp_item_list(const imp_item *it) { return imp_item_id(it) + it->id_len; }

/*=== MARK: - Elements (Private) ===*/
size_t imp_element_bytes(uint32_t max_items);
void imp_element_init(uint8_t *mem);
int imp_element_full(void);                       /* every handle is held      */
uint32_t imp_element_new(uint32_t slot);          /* a free handle (not full)  */
imp_element *imp_element_live(uint32_t element);  /* NULL unless held          */
void imp_element_free(uint32_t element);          /* feeds or releases its item */
void imp_element_geometry(imp_element *e, double ratio, double area);
void imp_element_look(imp_element *e, int32_t cover);

/*=== MARK: - Seen set (Private) ===*/
/* 64-bit FNV-1a of an id, never 0: the seen set's key; its high half places the id in
** the registry's hash table. */
uint64_t imp_hash64(const uint8_t *s, uint32_t n);
void imp_seen_init(uint8_t *mem, size_t bytes);
void imp_seen_clear(void);
int imp_seen_save(const imp_item *it);        /* 0 when the set is full        */
void imp_seen_restore(imp_item *it);

/*=== MARK: - Visibility (Private) ===*/
void imp_vis_forget(imp_item *it);
void imp_vis_advance(double t);
void imp_vis_set_geometry(imp_item *it, uint8_t geometry);
void imp_vis_page_changed(void);
void imp_vis_click(imp_item *it);
int32_t imp_vis_activate(uint32_t element, int32_t kind);
int imp_vis_measuring(void);
double imp_vis_next_deadline(void);
uint8_t imp_vis_classify(double ratio, double area, int occluded);

/*=== MARK: - Queue (Private) ===*/
enum imp_event_type { IMP_EV_IMP, IMP_EV_VIEW, IMP_EV_VIS, IMP_EV_CLICK };
size_t imp_queue_bytes(uint32_t max_queue, uint32_t queue_bytes);
void imp_queue_init(uint8_t *mem);
void imp_queue_push(int type, const imp_item *it, double t, uint32_t a, uint32_t b,
                    uint32_t c);
void imp_queue_page_begin(const uint8_t *id, uint32_t id_len, const uint8_t *path,
                          uint32_t path_len, uint32_t flags, double t);
int imp_queue_ready(double t);
int32_t imp_done(int32_t status); /* refreshes the result record's counters (api.c) */
double imp_earliest(double d, double at); /* the earlier of two deadlines, -1 none (api.c) */
double imp_queue_deadline(void);
int32_t imp_queue_take(double t, int force, int want_wire); /* want_wire: the gzip in imp_wire */
int32_t imp_queue_peek(uint32_t back);

#endif /* IMP_INTERNAL_H */
