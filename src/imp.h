/*
** imp.h: the whole ABI of the impression-tracker core.
**
** The core owns every tracking decision and all tracking state. It is plain C11,
** reads no clock, does no I/O and allocates nothing after imp_start(): every table
** is carved out of one static arena when the core starts. The same sources build
** natively (tests, fuzzing, the replay tool) and into a standalone .wasm.
**
** Boundary rules:
**  - Every exported function returns an int32_t status (IMP_OK, IMP_NONE or a
**    negative IMP_ERR_*), except the seven accessors marked "accessor" below.
**  - Only int32_t, uint32_t and double cross the boundary. Strings cross through
**    the input buffer (imp_input_ptr()): the caller writes UTF-8 bytes there and
**    passes their lengths. The configuration is a record the caller fills
**    (imp_config_ptr()) before imp_start(). Results come back in the result record
**    (imp_result_ptr()), batches in the output buffer (imp_output_ptr()), their
**    gzip form in the wire buffer (imp_wire_ptr()), and status names and peeked
**    events in the text buffer (imp_text_ptr()), apart from any batch.
**  - Time is a double in milliseconds on any monotonic base chosen by the caller
**    (the glue uses performance.now()). A time earlier than the latest time seen
**    is treated as the latest time (observer callbacks can arrive late).
*/
#ifndef IMP_H
#define IMP_H

#include <stdint.h>

/* IMP_EXPORT("name") declares an export of the .wasm under a short name (one or two
** letters: the names travel in the .wasm and in the glue). The glue's table of them is
** js/core/abi.js (X_*), checked against this header by tests/unit/abi.test.js. The
** definitions carry IMP_API. Native builds export nothing. */
#if defined(__EMSCRIPTEN__) || defined(__wasm__)
#define IMP_API __attribute__((used, visibility("default")))
#define IMP_EXPORT(name) __attribute__((used, visibility("default"), export_name(name)))
#else
#define IMP_API
#define IMP_EXPORT(name)
#endif

/* Changes whenever a signature, a status value, a limit or the result layout
** changes. The JS loader refuses a module with a different version. */
#define IMP_ABI_VERSION 4u

/*=== MARK: - Status codes (Public) ===*/
#define IMP_OK            0  /* done */
#define IMP_NONE          1  /* nothing to do: no batch is queued */
#define IMP_ERR_ARG      -1  /* an argument is out of range: NaN, infinite or
                                negative time or area, ratio outside [0,1],
                                unknown enum or flag, empty page view id (and the
                                outbox's: jitter outside [0,1), a bad tab id) */
#define IMP_ERR_STATE    -2  /* not started, or no page view is open */
#define IMP_ERR_CONFIG   -3  /* invalid configuration value */
#define IMP_ERR_MEMORY   -4  /* configuration needs more than the static arena */
#define IMP_ERR_ID       -5  /* item id empty or longer than IMP_MAX_ID_BYTES */
#define IMP_ERR_TOO_LONG -6  /* list id, page view id or path too long */
#define IMP_ERR_SLOT     -7  /* an element handle not held */
#define IMP_ERR_FULL     -8  /* item table full and no released item to reuse */
#define IMP_STATUS_MIN   -8  /* lowest status value, for tables and tests */

/*=== MARK: - Limits (Public) ===*/
#define IMP_MAX_ID_BYTES    128u   /* item id, UTF-8 bytes */
#define IMP_MAX_LIST_BYTES   64u   /* list id, UTF-8 bytes */
#define IMP_MAX_PV_BYTES     64u   /* page view id */
#define IMP_MAX_PATH_BYTES  256u   /* page path (no query string, no fragment) */
#define IMP_INPUT_BYTES    1024u   /* size of the input buffer */
#define IMP_BATCH_HARD_CAP 61440u  /* no batch is ever larger (60 KiB) */
#define IMP_BATCH_MIN_CAP   4096u  /* smallest allowed batch_bytes: any one
                                      event, fully escaped, fits */
#define IMP_WIRE_BYTES     61472u  /* wire buffer: gzip of the largest batch, stored */
#define IMP_TEXT_BYTES      1400u  /* text buffer: one encoded event, worst-case escaping */

/*=== MARK: - Enumerations (Public) ===*/
/* Page states, for imp_page_state(). Only VISIBLE measures. */
#define IMP_PAGE_VISIBLE    0
#define IMP_PAGE_HIDDEN     1
#define IMP_PAGE_FROZEN     2
#define IMP_PAGE_PRERENDER  3

/* Flags for imp_page_begin(). */
#define IMP_FLAG_WEBDRIVER  1u  /* navigator.webdriver was true */
#define IMP_FLAG_HIDDEN     2u  /* page starts hidden */
#define IMP_FLAG_PRERENDER  4u  /* page starts prerendering */
#define IMP_FLAG_UNFOCUSED  8u  /* window starts without focus */
#define IMP_FLAG_GPC       16u  /* Global Privacy Control on (sent as "gpc":1) */

/* What an IntersectionObserver v2 entry said about an element, for imp_element_cover(). */
#define IMP_COVER_CLEAR     0   /* intersecting and visible                       */
#define IMP_COVER_COVERED   1   /* intersecting, but covered, transformed or faded */
#define IMP_COVER_OUTSIDE   2   /* not intersecting when v2 looked (changes nothing) */
/* The element handle that stands for the page itself in imp_element_cover(). */
#define IMP_ELEMENT_PAGE    0xFFFFFFFFu

/* Activations, for imp_activate(). */
#define IMP_ACT_CLICK       0   /* a click with a pointer (event.detail > 0)       */
#define IMP_ACT_SCRIPT      1   /* a click fired by script (event.detail === 0)    */
#define IMP_ACT_KEY         2   /* Enter or Space on the focused card              */

/*=== MARK: - Result record (Public) ===*/
/* Written by every call that succeeds (IMP_OK or IMP_NONE). Read it through
** imp_result_ptr(). Layout is fixed: 8-byte double first, then uint32 fields. */
typedef struct imp_result {
  double next_deadline;   /* earliest time the caller must call imp_tick(), or
                             -1 when nothing is pending                      */
  uint32_t ready;         /* 1 when a batch is due: call imp_take_batch()    */
  uint32_t slot;          /* slot of the item from imp_item_register()       */
  uint32_t batch_bytes;   /* bytes written to the output buffer by take_batch */
  uint32_t batch_events;  /* events in that batch                            */
  uint32_t queued_events; /* events waiting in the queue                     */
  uint32_t queued_bytes;  /* their encoded bytes                             */
  uint32_t dropped;       /* events dropped since start: queue overflow and
                             imp_report_dropped()                            */
  uint32_t items;         /* items in the table (including released ones)    */
  uint32_t seq;           /* last sequence number used in this page view     */
  uint32_t events;        /* events queued since start (wraps): the glue peeks
                             at the newest ones with imp_peek_event()        */
  uint32_t wire_bytes;    /* gzip bytes in the wire buffer (0: compress off)  */
  uint32_t config_field;  /* IMP_ERR_CONFIG: 1 + index of the refused field  */
  uint32_t text_bytes;    /* bytes in the text buffer (a status name, a peeked
                             event)                                          */
  uint32_t element;       /* handle from imp_element_add()                   */
} imp_result;

#define IMP_RESULT_BYTES 64u

/*=== MARK: - Configuration record (Public) ===*/
/* Filled by imp_config_defaults(), changed by the caller, read by imp_start().
** Defaults and ranges in parentheses. The field numbers (1..15) are the order of the
** trace's `start` line and of result.config_field. */
typedef struct imp_config {
  uint32_t max_items;      /* 1: items with a slot at once, and element handles
                                 (1..65535; 2048)                              */
  uint32_t max_queue;      /* 2: events held before the oldest is dropped
                                 (1..65535; 8192)                              */
  uint32_t queue_bytes;    /* 3: bytes of encoded events held (>= 4096; 1048576) */
  uint32_t batch_events;   /* 4: events per batch (1..max_queue; 200)            */
  uint32_t batch_bytes;    /* 5: bytes per batch as sent: its gzip bytes with
                                 compress, else its JSON bytes
                                 (IMP_BATCH_MIN_CAP..IMP_BATCH_HARD_CAP; 16384) */
  uint32_t compress;       /* 12: 1 = each batch is also written as gzip to the
                                  wire buffer, 0 = JSON only (0..1; 1)          */
  uint32_t window_bits;    /* 13: DEFLATE window of 2^n bytes (8..15; 15); its
                                  tables take 6 * 2^n bytes of the arena        */
  uint32_t occlusion;      /* 14: 1 = an IntersectionObserver v2 looks at every
                                  element in view: an element counts as covered
                                  from entering view until v2 says it is clear
                                  (0..1; 0)                                     */
  double batch_age_ms;     /* 6: a batch is due this long after its oldest event
                                 (>= 0; 10000)                                  */
  double view_ratio;       /* 7: viewable ratio (0 < r <= 1; 0.5)               */
  double view_ms;          /* 8: continuous ms for a viewable impression (>= 0; 1000) */
  double large_area;       /* 9: px^2 from which large_ratio applies (> 0; 242500) */
  double large_ratio;      /* 10: viewable ratio for large items (0 < r <= 1; 0.3) */
  double impression_ratio; /* 11: 0 means any pixel; else ratio needed (0..1; 0) */
  double echo_ms;          /* 15: a script click on the card a key press activated
                                  less than this long ago echoes that key press
                                  and is not counted (>= 0; 1000)               */
} imp_config;

#define IMP_CONFIG_FIELDS 15u
#define IMP_CONFIG_BYTES 88u

/*=== MARK: - Functions (Public) ===*/
#ifdef __cplusplus
extern "C" {
#endif

/* accessor: IMP_ABI_VERSION. */
IMP_EXPORT("imp_abi_version") uint32_t imp_abi_version(void);
/* accessor: the input buffer (IMP_INPUT_BYTES bytes) strings are written into. */
IMP_EXPORT("a") uint8_t *imp_input_ptr(void);
/* accessor: the output buffer a batch is written into (max_batch_bytes bytes). */
IMP_EXPORT("b") uint8_t *imp_output_ptr(void);
/* accessor: the result record. */
IMP_EXPORT("c") imp_result *imp_result_ptr(void);
/* accessor: the configuration record imp_start() reads. */
IMP_EXPORT("d") imp_config *imp_config_ptr(void);
/* accessor: the wire buffer (IMP_WIRE_BYTES bytes) gzip batches are written into. */
IMP_EXPORT("e") uint8_t *imp_wire_ptr(void);
/* accessor: the text buffer (IMP_TEXT_BYTES bytes): status names, peeked events. */
IMP_EXPORT("f") uint8_t *imp_text_ptr(void);

/* Writes the NUL-terminated name of `status` (for example "IMP_ERR_ARG") into
** the text buffer and its length into result.text_bytes. Unknown values give
** "IMP_UNKNOWN" and IMP_ERR_ARG. Works before imp_start(). */
IMP_EXPORT("g") int32_t imp_status_name(int32_t status);

/* Writes the defaults into the configuration record. Works before imp_start(). */
IMP_EXPORT("h") int32_t imp_config_defaults(void);
/* Starts (or restarts) the core with the configuration record; forgets all state.
** Returns IMP_OK, IMP_ERR_CONFIG (result.config_field names the first refused field,
** 1-based) or IMP_ERR_MEMORY. A refused start leaves the core stopped, a running one
** too (IMP_ERR_STATE from every call that needs a started core). */
IMP_EXPORT("i") int32_t imp_start(void);

/* Begins a page view at time t. The input buffer holds the page view id
** (pv_len bytes, 1..IMP_MAX_PV_BYTES; empty is IMP_ERR_ARG) followed by the path (path_len bytes,
** 0..IMP_MAX_PATH_BYTES). Open visible spans of the previous page view are
** reported first. Every item's per-page-view state (impression, viewable, spans)
** is reset; registrations and last geometry are kept; released items are freed.
** A bfcache restore is a new page view. */
IMP_EXPORT("j") int32_t imp_page_begin(double t, uint32_t pv_len, uint32_t path_len,
                               uint32_t flags);
/* Page state changes: IMP_PAGE_VISIBLE / HIDDEN / FROZEN / PRERENDER. Leaving
** VISIBLE ends every visible span and restarts every viewable timer. */
IMP_EXPORT("k") int32_t imp_page_state(double t, int32_t state);
/* Window focus (0 or 1); recorded on impressions and clicks. */
IMP_EXPORT("l") int32_t imp_page_focus(double t, int32_t focused);
/* Ends the page view: reports open spans; imp_element_observe(), imp_element_cover()
** and imp_activate() get IMP_ERR_STATE until the next imp_page_begin(). Queued events
** stay queued. */
IMP_EXPORT("m") int32_t imp_page_end(double t);

/* Registers an item. The input buffer holds the item id (id_len bytes,
** 1..IMP_MAX_ID_BYTES) followed by the list id (list_len bytes,
** 0..IMP_MAX_LIST_BYTES). position is 1-based (0 = unknown). Registering an id
** that is already known returns its slot (result.slot), updates its position
** and list and revives it if it was released: state follows the id. When the
** table is full the oldest released item is reused; IMP_ERR_FULL if none. */
IMP_EXPORT("n") int32_t imp_item_register(double t, uint32_t id_len, uint32_t list_len,
                                  uint32_t position);

/* Elements. The glue observes DOM elements; several may carry one item id (a card
** shown twice). Each element in view holds a handle; the core keeps its ratio, area
** and cover state and feeds its item's state machine from the item's most visible
** element (the earliest added on a tie). Elements are the only input of geometry and
** activations: an item registered by imp_item_register() alone stays out of view.
**
** imp_element_add registers the item exactly as imp_item_register() does (input
** buffer, statuses, result.slot) and adds an element to it: result.element is its
** handle, out of view until observed. There are max_items handles; IMP_ERR_FULL when
** all are held (nothing is registered then). */
IMP_EXPORT("o") int32_t imp_element_add(double t, uint32_t id_len, uint32_t list_len,
                                uint32_t position);
/* Gives an element's handle back. Its item is fed from its other elements, or, when
** it was the last, released: an open span is reported and the item keeps its state
** for this page view until its slot is reused. */
IMP_EXPORT("p") int32_t imp_element_remove(double t, uint32_t element);
/* An intersection observation of an element: ratio in [0,1], area in px^2 (>= 0; an
** element of area 0 has no pixels and is never in view).
** Entering or leaving view (ratio 0 <-> above 0) forgets what v2 said about it. */
IMP_EXPORT("q") int32_t imp_element_observe(double t, uint32_t element, double ratio, double area);
/* What IntersectionObserver v2 said about an element (IMP_COVER_*). With
** config.occlusion, an element in view that v2 has not looked at since it entered is
** covered: it can make an impression, never a viewable one. Entering or leaving view
** forgets what v2 said, so a late entry for an element that left changes nothing.
** Given IMP_ELEMENT_PAGE (CLEAR or COVERED, at any time after imp_start), it says
** whether something covers the whole viewport (a modal, its backdrop): while it does,
** every element in view counts as covered, whatever v2 said. */
IMP_EXPORT("r") int32_t imp_element_cover(double t, uint32_t element, int32_t cover);
/* A click or key press on an element (IMP_ACT_*). A key press counts and is
** remembered; a script click on the element a key press activated less than
** config.echo_ms ago is that key press's echo: not counted, IMP_NONE. Any click
** forgets the key press. */
IMP_EXPORT("s") int32_t imp_activate(double t, uint32_t element, int32_t kind);
/* Advances time: fires due viewable timers. Call at result.next_deadline. */
IMP_EXPORT("t") int32_t imp_tick(double t);

/* Encodes the next batch into the output buffer (result.batch_bytes bytes,
** result.batch_events events) and removes its events from the queue. Without
** force, only when result.ready is set. Returns IMP_NONE when nothing is taken.
** A batch holds events of one page view. With compress, its gzip form (one member,
** RFC 1952) is in the wire buffer (result.wire_bytes bytes) and batch_bytes caps
** that form; without, batch_bytes caps the JSON. */
IMP_EXPORT("u") int32_t imp_take_batch(double t, int32_t force);
/* Compresses the first n bytes of the output buffer (any bytes the caller wrote
** there; the glue does not: the outbox encodes its bodies) as gzip into the wire buffer
** (result.wire_bytes). IMP_ERR_STATE when not started with compress; IMP_ERR_ARG when
** n > IMP_BATCH_HARD_CAP. */
IMP_EXPORT("v") int32_t imp_gzip_output(uint32_t n);
/* Copies the event `back` places before the newest queued one (0 = the newest)
** into the text buffer (result.text_bytes bytes, one JSON object), leaving the
** queue as it is: how a debug hook sees each event as it is queued. IMP_NONE when
** fewer than back + 1 events are queued. */
IMP_EXPORT("w") int32_t imp_peek_event(uint32_t back);
/* Adds n to the drop count reported in the next batch ("drop"): events the
** caller lost after taking them (storage bound, refused by the collector). Drop
** counts saturate at UINT32_MAX instead of wrapping. */
IMP_EXPORT("x") int32_t imp_report_dropped(uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* IMP_H */
