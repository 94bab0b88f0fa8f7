// outbox.js: a thin object over the outbox's exports (src/outbox.h), the part of the
// core that decides delivery. It writes the configuration record and the io buffer
// (tab id, stored keys and values), reads the action record, and hands out each
// action's key and body. It makes no decision: every method returns the core's status
// unchanged. Methods are named _x: internal to the glue, shortened by the build.

// imp_action: a double, fifteen uint32 fields, a double (little endian).
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
export const A_HELD_EVENTS = 40;
export const A_STORED_EVENTS = 44;
export const A_DELIVERED = 48;
export const A_BEACONED = 52;
export const A_LOST = 56;
export const A_PURGED = 60;
export const A_FAILURES = 64;
const A_RETRY_MS = 72;
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
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const view = (ptr, n) => {
    const bytes = loaded.memoryView(ptr, n);
    return new DataView(bytes.buffer, bytes.byteOffset, n);
  };
  const io = () => loaded.memoryView(x.imp_outbox_io_ptr(), IO_BYTES);
  const action = () => view(x.imp_outbox_action_ptr(), ACTION_BYTES);
  // Writes strings one after the other into the io buffer; returns their byte lengths.
  const put = (...strings) => {
    const buffer = io();
    let at = 0;
    return strings.map((s) => {
      const n = encoder.encodeInto(s, buffer.subarray(at)).written;
      at += n;
      return n;
    });
  };
  const field = (offset) => action().getUint32(offset, true);
  return {
    /** Sets the body cap, consent and capability flags; the rest keeps the core's defaults. */
    _configure(bodyBytes, consent, flags) {
      const config = view(x.imp_outbox_config_ptr(), 80);
      config.setUint32(CONFIG_BODY_BYTES, bodyBytes, true);
      // Our share of the keepalive quota holds at least one body.
      config.setUint32(CONFIG_KEEPALIVE, Math.max(bodyBytes, config.getUint32(CONFIG_KEEPALIVE, true)), true);
      config.setUint32(CONFIG_CONSENT, consent, true);
      config.setUint32(CONFIG_FLAGS, flags, true);
    },
    _start: (t, epoch, tab) => x.imp_outbox_start(t, epoch, put(tab)[0]),
    _next: (t, jitter) => x.imp_outbox_next(t, jitter),
    _flush: (t) => x.imp_outbox_flush(t),
    _response: (t, ticket, status, retryAfter, jitter) => x.imp_outbox_response(t, ticket, status, retryAfter, jitter),
    _beacon: (t, ticket, outcome) => x.imp_outbox_beacon(t, ticket, outcome),
    _later: (t, ticket, ok) => x.imp_outbox_later(t, ticket, ok),
    _stored: (t, ticket, outcome) => x.imp_outbox_stored(t, ticket, outcome),
    _online: (t, online) => x.imp_outbox_online(t, online),
    _consent: (t, consent) => x.imp_outbox_consent(t, consent),
    _tabLive: (t, tab) => x.imp_outbox_tab_live(t, put(tab)[0]),
    /** One stored record (key without the prefix); the verdict is field('found'). */
    _found(t, key, value) {
      const [k, v] = put(key, value);
      return x.imp_outbox_found(t, k, v);
    },
    _scanDone: (t) => x.imp_outbox_scan_done(t),
    /** A uint32 field of the action record, by its byte offset (A_*). */
    _field: field,
    _deadline: () => action().getFloat64(0, true),
    _retryMs: () => action().getFloat64(A_RETRY_MS, true),
    _key: () => decoder.decode(io().subarray(0, field(A_KEY_BYTES))),
    /** The action's body or record value (a copy). */
    _body() {
      const at = field(A_KEY_BYTES);
      return io().slice(at, at + field(A_BODY_BYTES));
    },
  };
}
