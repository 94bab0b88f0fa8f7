// abi.js: the numbers of the C ABI (src/imp.h), mirrored for the glue: the ABI version,
// status codes, string limits, page states, page-begin flags, cover states, activation
// kinds and the layouts of the result and configuration records.
// tests/unit/abi.test.js checks every value against the built .wasm
// (status names through imp_status_name, limits through the core's refusals), so a
// change on one side without the other fails the tests.

export const ABI_VERSION = 4;

// The core's exports by their names in the .wasm (IMP_EXPORT in src/imp.h and
// src/outbox.h): one or two letters, as the names travel in the .wasm and in the glue.
// imp_abi_version keeps its name, so a core of another ABI is named as such.
// tests/unit/abi.test.js checks this table against the headers.
export const X_INPUT_PTR = 'a';
export const X_OUTPUT_PTR = 'b';
export const X_RESULT_PTR = 'c';
export const X_CONFIG_PTR = 'd';
export const X_WIRE_PTR = 'e';
export const X_TEXT_PTR = 'f';
export const X_STATUS_NAME = 'g';
export const X_CONFIG_DEFAULTS = 'h';
export const X_START = 'i';
export const X_PAGE_BEGIN = 'j';
export const X_PAGE_STATE = 'k';
export const X_PAGE_FOCUS = 'l';
export const X_PAGE_END = 'm';
export const X_ITEM_REGISTER = 'n';
export const X_ELEMENT_ADD = 'o';
export const X_ELEMENT_REMOVE = 'p';
export const X_ELEMENT_OBSERVE = 'q';
export const X_ELEMENT_COVER = 'r';
export const X_ACTIVATE = 's';
export const X_TICK = 't';
export const X_TAKE_BATCH = 'u';
export const X_GZIP_OUTPUT = 'v';
export const X_PEEK_EVENT = 'w';
export const X_REPORT_DROPPED = 'x';
export const X_OUTBOX_CONFIG_PTR = 'y';
export const X_OUTBOX_ACTION_PTR = 'z';
export const X_OUTBOX_IO_PTR = 'A';
export const X_OUTBOX_START = 'B';
export const X_OUTBOX_NEXT = 'C';
export const X_OUTBOX_FLUSH = 'D';
export const X_OUTBOX_RESPONSE = 'E';
export const X_OUTBOX_BEACON = 'F';
export const X_OUTBOX_LATER = 'G';
export const X_OUTBOX_STORED = 'H';
export const X_OUTBOX_ONLINE = 'I';
export const X_OUTBOX_CONSENT = 'J';
export const X_OUTBOX_TAB_LIVE = 'K';
export const X_OUTBOX_FOUND = 'L';
export const X_OUTBOX_SCAN_DONE = 'M';
export const X_OUTBOX_WALL = 'N';

export const OK = 0;
export const NONE = 1;
export const ERR_ARG = -1;
export const ERR_STATE = -2;
export const ERR_CONFIG = -3;
export const ERR_MEMORY = -4;
export const ERR_ID = -5;
export const ERR_TOO_LONG = -6;
export const ERR_SLOT = -7;
export const ERR_FULL = -8;
export const STATUS_MIN = -8;

// UTF-8 byte limits of the strings the core accepts (the glue cuts longer ones on a
// character boundary before they cross).
export const MAX_ID_BYTES = 128;
export const MAX_LIST_BYTES = 64;
export const MAX_PV_BYTES = 64;
export const MAX_PATH_BYTES = 256;
export const INPUT_BYTES = 1024;
export const BATCH_HARD_CAP = 61440;
export const BATCH_MIN_CAP = 4096;

export const PAGE_VISIBLE = 0;
export const PAGE_HIDDEN = 1;
export const PAGE_FROZEN = 2;
export const PAGE_PRERENDER = 3;

export const FLAG_WEBDRIVER = 1;
export const FLAG_HIDDEN = 2;
export const FLAG_PRERENDER = 4;
export const FLAG_UNFOCUSED = 8;
export const FLAG_GPC = 16;

// What an IntersectionObserver v2 entry said (imp_element_cover) and activations (imp_activate).
export const COVER_CLEAR = 0;
export const COVER_COVERED = 1;
export const COVER_OUTSIDE = 2;
export const ELEMENT_PAGE = -1; // IMP_ELEMENT_PAGE (0xFFFFFFFF as an i32): the page itself covered or clear
export const ACT_CLICK = 0;
export const ACT_SCRIPT = 1;
export const ACT_KEY = 2;

// struct imp_result: a double at byte 0, then fourteen uint32 fields (little endian).
export const RESULT_BYTES = 64;
export const RESULT_FIELDS = [
  'ready', 'slot', 'batch_bytes', 'batch_events', 'queued_events',
  'queued_bytes', 'dropped', 'items', 'seq', 'events', 'wire_bytes', 'config_field',
  'text_bytes', 'element',
];
/** Byte offset of a uint32 field of the result record. */
export const resultOffset = (field) => 8 + 4 * RESULT_FIELDS.indexOf(field);
// The same offsets as constants (what the glue uses: they minify to numbers).
export const R_READY = 8;
export const R_SLOT = 12;
export const R_BATCH_BYTES = 16;
export const R_BATCH_EVENTS = 20;
export const R_QUEUED_EVENTS = 24;
export const R_QUEUED_BYTES = 28;
export const R_DROPPED = 32;
export const R_ITEMS = 36;
export const R_SEQ = 40;
export const R_EVENTS = 44; // events queued since start (wraps); see imp_peek_event()
export const R_WIRE_BYTES = 48;
export const R_CONFIG_FIELD = 52;
export const R_TEXT_BYTES = 56; // a status name or a peeked event in the text buffer
export const R_ELEMENT = 60; // the handle imp_element_add gave

// struct imp_config: the byte offset of each field, in the order of the trace's `start`
// line and of result.config_field (1-based). The first 32 bytes hold the uint32 fields,
// the rest doubles.
export const CONFIG_BYTES = 88;
export const CONFIG_OFFSETS = [0, 4, 8, 12, 16, 32, 40, 48, 56, 64, 72, 20, 24, 28, 80];
export const CONFIG_OCCLUSION = 13; // index of `occlusion` (1: a v2 observer looks at every card in view)
