// outbox.js: a thin object over the outbox's exports (src/outbox.h), the part of the
// core that decides delivery. It writes the configuration record and the io buffer
// (tab id, stored keys and values), reads the action record, and hands out each
// action's key and body. It makes no decision: every call returns the core's status
// unchanged. Methods are named _x: internal to the glue, shortened by the build.

import { X_OUTBOX_ACTION_PTR, X_OUTBOX_CONFIG_PTR, X_OUTBOX_IO_PTR } from './abi.js';
import { decoder, stringsAsLengths } from './core.js';
import { recordView } from './loader.js';

// imp_action: a double, sixteen uint32 fields, a double (little endian).
export const ACT_NONE = 0;
export const ACT_FETCH = 1;
export const ACT_BEACON = 2;
export const ACT_LATER = 3;
export const ACT_CANCEL = 4;
export const ACT_STORE = 5;
export const ACT_REMOVE = 6;
export const ACT_SCAN = 7;
export const ACT_PURGE = 8;
// Byte offsets of the uint32 fields of the action record (what the glue reads).
export const A_KIND = 8;
export const A_TICKET = 12;
export const A_BATCH = 16;
export const A_EVENTS = 20;
export const A_KEY_BYTES = 24;
export const A_BODY_BYTES = 28;
export const A_FOUND = 32;
export const A_HELD_BATCHES = 36;
export const A_HELD_EVENTS = 40;
export const A_STORED_EVENTS = 44;
export const A_DELIVERED = 48;
export const A_BEACONED = 52;
export const A_LOST = 56;
export const A_PURGED = 60;
export const A_FAILURES = 64;
export const A_INFLIGHT_EVENTS = 68;
export const A_RETRY_MS = 72; // a double: the delay of the backoff the outbox set last
export const ACTION_BYTES = 80;
export const FOUND_REMOVE = 2;
export const STORE_OK = 0;
export const STORE_FULL = 1;
export const STORE_THREW = 2;
export const BEACON_REFUSED = 0;
export const BEACON_ACCEPTED = 1;
export const BEACON_THREW = 2;
export const CONSENT = ['pending', 'granted', 'denied'];
export const CONSENT_GRANTED = 1;
export const CONSENT_DENIED = 2;
export const OB_BEACON = 1;
export const OB_LATER = 2;
export const OB_STORAGE = 4;
export const OB_LOCKS = 8;
export const OB_ONLINE = 16;
// imp_outbox_config: six doubles (timeout, lease, max age, backoff base and max,
// Retry-After cap), then uint32 max_batches, body_bytes, keepalive_bytes, later_bytes,
// stored_events, stored_bytes, consent, flags.
// Their names in traces (the `obcfg` line), in this order.
export const OUTBOX_CONFIG_FIELDS = [
  'timeout_ms', 'lease_ms', 'max_age_ms', 'backoff_base_ms', 'backoff_max_ms', 'retry_after_max_ms',
  'max_batches', 'body_bytes', 'keepalive_bytes', 'later_bytes', 'stored_events', 'stored_bytes', 'consent', 'flags',
];
export const OUTBOX_CONFIG_BYTES = 80;
/** The byte offset of the configuration field i (OUTBOX_CONFIG_FIELDS) and whether it is a double. */
export const outboxConfigField = (i) => (i < 6 ? [8 * i, true] : [48 + 4 * (i - 6), false]);
const CONFIG_BODY_BYTES = 52;
const CONFIG_KEEPALIVE = 56;
const CONFIG_CONSENT = 72;
const CONFIG_FLAGS = 76;
export const IO_BYTES = 64 + 256 + 6 * 1600 + 2048 + 61440;

/**
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} loaded
 */
export function createOutbox(loaded) {
  const x = loaded.exports;
  // The views are made once: the core's memory never grows (loader.js).
  const io = loaded.memoryView(x[X_OUTBOX_IO_PTR](), IO_BYTES);
  const action = recordView(loaded, x[X_OUTBOX_ACTION_PTR](), ACTION_BYTES);
  const field = (offset) => action.getUint32(offset, true);
  return {
    /** Sets the body cap, consent and capability flags; the rest keeps the core's defaults. */
    _configure(bodyBytes, consent, flags) {
      const config = recordView(loaded, x[X_OUTBOX_CONFIG_PTR](), OUTBOX_CONFIG_BYTES);
      config.setUint32(CONFIG_BODY_BYTES, bodyBytes, true);
      // Our share of the keepalive quota holds at least one body.
      config.setUint32(CONFIG_KEEPALIVE, Math.max(bodyBytes, config.getUint32(CONFIG_KEEPALIVE, true)), true);
      config.setUint32(CONFIG_CONSENT, consent, true);
      config.setUint32(CONFIG_FLAGS, flags, true);
    },
    /**
     * Calls the outbox's export `name` (abi.js X_OUTBOX_*) and returns its status. A string argument is
     * written into the io buffer (one after the other) and passed as its byte length:
     * _call(X_OUTBOX_FOUND, t, key, value), _call(X_OUTBOX_RESPONSE, t, ticket, status, retryAfter, jitter).
     */
    _call: (name, ...args) => x[name](...stringsAsLengths(io, args)),
    /** A uint32 field of the action record, by its byte offset (A_*). */
    _field: field,
    _deadline: () => action.getFloat64(0, true),
    /** The action's storage key, without the prefix. */
    _key: () => decoder.decode(io.subarray(0, field(A_KEY_BYTES))),
    /** The action's body or record value: a copy of its bytes, or (asText) its text. */
    _body(asText) {
      const at = field(A_KEY_BYTES);
      const bytes = io.slice(at, at + field(A_BODY_BYTES));
      return asText ? decoder.decode(bytes) : bytes;
    },
  };
}
