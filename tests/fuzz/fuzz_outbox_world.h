/*
** fuzz_outbox_world.h: the state of fuzz_outbox.c's world (included there first): the
** page views and their events, the model's storage and requests, the clocks and the
** switches of the page, and the readers of what the core wrote (a header prefix's page
** view, an event's sequence number s).
*/
#define MAX_PV 48
#define MAX_S 1024
#define MAX_REC 256
#define MAX_PENDING 12

typedef struct {
  char key[IMP_OB_KEY_BYTES + 1];
  uint8_t *value;
  uint32_t len;
  /* The record parsed once, when written (a value never changes after): its page
  ** view, events, their sequence numbers and its drop. */
  int pv;
  uint32_t events;
  long long drop, *s;
  int unreadable; /* not a record of this version: never parsed (fuzz_outbox_store.h) */
} rec;
typedef struct { uint32_t ticket; uint8_t *body; uint32_t len; } req;

static char pv_ids[MAX_PV][16];
static uint32_t pv_n, pv_cur, seq_max[MAX_PV];
static uint8_t where[MAX_PV][MAX_S + 1];     /* place bits of the current check   */
static uint8_t got[MAX_PV][MAX_S + 1];       /* delivered                         */
static uint8_t heard[MAX_PV][MAX_S + 1];     /* delivered, and the outbox heard it (2xx, beacon) */
static uint8_t refused[MAX_PV][MAX_S + 1];   /* the collector refuses it for good */
static long long delivered_drop[MAX_PV][MAX_S + 1], held_drop[MAX_PV][MAX_S + 1];
static long long delivered_drops, purged_before, allowed;
static long long excused; /* counted beyond what is missing: see unheard() */
static rec store[MAX_REC];
static uint32_t store_n;
static req fetches[MAX_PENDING], laters[64];
static uint32_t fetch_n, later_n;
static uint32_t cancelled[MAX_PENDING], cancelled_n; /* tickets whose answer may still come */
static int scan_waits; /* scans waiting for their Web Lock, granted in order */
static int scan_open;  /* a scan the outbox asked for and has not ended (the model's view) */
static double scan_asked; /* when: not done timeout_ms later, the outbox gives it up */
static double epoch;      /* the wall clock at time 0: a sleep moves it on, not `now` */
static int core_alive, storage_mode, net_up, hidden, load, other_live, locks;
static int settle; /* the end: every fetch is answered 204 at once */
static double now;
static char tab[8], prev_tab[8];
static uint8_t seen_taken[MAX_PV][MAX_S + 1]; /* this tab saw another tab's claim on it */
/* the other tab took it while this tab held it, or from a stale read */
static uint8_t shared[MAX_PV][MAX_S + 1];
static uint32_t check_n; /* checks of the law so far */
static uint32_t held_at[MAX_PV][MAX_S + 1]; /* the last check that found it held here */
static long long twice; /* events the collector got more than once */
static char other_id[8]; /* the other live tab's id (fuzz_outbox_tabs.h) */
static long long other_counted; /* events and "drop" the other tab counted lost */

enum { IN_QUEUE = 1, IN_MEMORY = 2, IN_STORE = 4, IN_TAKEN = 8 };

/* The other tab (fuzz_outbox_tabs.h). */
static long long scan_taken(void);
static int owned_by(const rec *x, const char *id);
static void claim_lost(const char *key);
static long long taken_unheard(void);
static long long taken_given_back(long long most);
static int verdict_of(const uint8_t *body, uint32_t len, int refuse);

/* FUZZ_VERBOSE=1 prints every step, action and check (to read a crashing input). */
static int verbose = -1;
#define SAY(...) do { if (verbose) fprintf(stderr, __VA_ARGS__); } while (0)

static void note_seq(void);

/*=== MARK: - Parsing what the core wrote ===*/
static int pv_index(const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i < pv_n; i++)
    if (strlen(pv_ids[i]) == n && !memcmp(pv_ids[i], p, n)) return (int)i;
  return -1;
}

/* The pv of a header prefix {"v":1,"pv":"<id>",... (ids are plain ASCII here). */
static int prefix_pv(const uint8_t *p, uint32_t n) {
  const uint32_t at = 13; /* strlen("{\"v\":1,\"pv\":\"") */
  uint32_t end = at;
  while (end < n && p[end] != '"') end++;
  return n > at ? pv_index(p + at, end - at) : -1;
}

static long long event_s(const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i + 4 < n; i++)
    if (!memcmp(p + i, "\"s\":", 4)) return strtoll((const char *)p + i + 4, NULL, 10);
  return -1;
}
