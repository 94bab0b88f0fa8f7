// core.js: a thin object over the core's exports. It writes strings as UTF-8 into the
// core's input buffer (cut to the core's limits on a character boundary), writes the
// configuration record (config.js), reads the result record and decodes batches.
// It makes no decision: each call returns the core's status unchanged. The record's
// fields are named _x: internal to the glue, so the build shortens them (--mangle-props).
// The debug entry (js/debug.js) records a trace and shows events by watching the
// exports of the loaded core it is given, so nothing here is for debugging.
// The functions work on one record `c` (createCore makes it): the exports, the views of
// the core's memory, and the name of the last call.

import {
  ERR_CONFIG, INPUT_BYTES, MAX_ID_BYTES, MAX_LIST_BYTES, MAX_PATH_BYTES, MAX_PV_BYTES, RESULT_BYTES,
  R_BATCH_BYTES, R_CONFIG_FIELD, R_TEXT_BYTES, X_ACTIVATE, X_ELEMENT_ADD, X_ELEMENT_COVER, X_ELEMENT_OBSERVE,
  X_ELEMENT_REMOVE, X_INPUT_PTR, X_ITEM_REGISTER, X_OUTPUT_PTR, X_PAGE_BEGIN, X_PAGE_END, X_PAGE_FOCUS,
  X_PAGE_STATE, X_REPORT_DROPPED, X_RESULT_PTR, X_START, X_STATUS_NAME, X_TAKE_BATCH, X_TEXT_PTR,
} from './abi.js';
import { writeConfig } from './config.js';
import { recordView } from './loader.js';

// UTF-8 both ways; outbox.js writes and reads its strings with stringsAsLengths() and
// decoder too.
const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/**
 * The record of one core: what the functions below work on.
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} loaded
 */
export function createCore(loaded) {
  const x = loaded.exports;
  // The core's memory never grows (built without growth): views made once stay valid.
  return {
    _x: x,
    _loaded: loaded,
    _view: recordView(loaded, x[X_RESULT_PTR](), RESULT_BYTES),
    _input: loaded.memoryView(x[X_INPUT_PTR](), INPUT_BYTES),
    // Set by the calls: _last, the trace name of the last call, for error messages;
    // _config, the configuration record as the core read it at the last start
    // (config.js); _inexact, after a start refused here, 1 + the field the record could
    // not hold.
  };
}

// --- Memory ---------------------------------------------------------------------------

/** A uint32 field of the result record, by its byte offset (abi.js R_*). */
export const resultField = (c, offset) => c._view.getUint32(offset, true);
export const nextDeadline = (c) => c._view.getFloat64(0, true);
const text = (c) => decoder.decode(c._loaded.memoryView(c._x[X_TEXT_PTR](), resultField(c, R_TEXT_BYTES)));

// Writes s as UTF-8 at buffer[at], at most cap bytes, cut on a character boundary;
// returns the bytes written.
const put = (buffer, s, at, cap) => encoder.encodeInto(s, buffer.subarray(at, at + cap)).written;

// --- Calls ----------------------------------------------------------------------------

/**
 * The arguments of an outbox call as its export takes them: each string written into
 * buffer after the one before (as much of it as fits) and passed as its byte length.
 */
export const stringsAsLengths = (buffer, args) => {
  let at = 0;
  return args.map((a) => {
    if (typeof a !== 'string') return a;
    const n = put(buffer, a, at, buffer.length);
    at += n;
    return n;
  });
};

// A call of export fn, named `name` (the trace format's name of the call) in error
// messages. With caps, its arguments are (t, a, b, n): the strings a and b go one after
// the other into the input buffer (at most capA and capB bytes), and the call is
// fn(t, bytes of a, bytes of b, n). Its arguments are named, not gathered: a call per
// observer entry then allocates nothing (an export ignores the ones it does not take).
const call = (name, fn, capA, capB) => (c, t, a, b, n) => {
  c._last = name;
  if (capA) {
    a = put(c._input, a, 0, capA); // its bytes
    b = put(c._input, b, a, capB); // after them
  }
  return c._x[fn](t, a, b, n);
};

// values: the record's fields in order (abi.js CONFIG_OFFSETS), undefined = default.
// A value the record does not hold exactly (a uint32 field given 2^32 + 1, -1, 1.5, a
// string; a double field given NaN or a string) is refused here like a value the core
// refuses: it would reach the core as another number.
export function startCore(c, values) {
  c._last = 'start';
  c._config = writeConfig(c._loaded, values);
  c._inexact = 1 + c._config.findIndex((v, i) => values[i] !== undefined && v !== values[i]);
  return c._inexact ? ERR_CONFIG : c._x[X_START]();
}

export const pageBegin = call('page', X_PAGE_BEGIN, MAX_PV_BYTES, MAX_PATH_BYTES);
/** Takes a batch (only the tests do: the outbox cuts them); the build drops it. */
export const take = /* @__PURE__ */ call('take', X_TAKE_BATCH);
/** Updates a registered item's list and position (result.slot). */
export const register = call('item', X_ITEM_REGISTER, MAX_ID_BYTES, MAX_LIST_BYTES);
/** Adds an element of an item (result.element is its handle). */
export const elementAdd = call('elem', X_ELEMENT_ADD, MAX_ID_BYTES, MAX_LIST_BYTES);
export const elementRemove = call('unelem', X_ELEMENT_REMOVE);
export const elementObserve = call('eobs', X_ELEMENT_OBSERVE);
export const elementCover = call('cover', X_ELEMENT_COVER);
export const activate = call('act', X_ACTIVATE);
export const pageState = call('state', X_PAGE_STATE);
export const pageFocus = call('focus', X_PAGE_FOCUS);
export const pageEnd = call('end', X_PAGE_END);
export const reportDropped = call('drop', X_REPORT_DROPPED);

/** After IMP_ERR_CONFIG: 1 + the index of the refused field (abi.js CONFIG_OFFSETS). */
export const configField = (c) => c._inexact || resultField(c, R_CONFIG_FIELD);

/** The batch the last successful take() wrote, as a string. */
export const takenBatch = (c) => decoder.decode(c._loaded.memoryView(c._x[X_OUTPUT_PTR](), resultField(c, R_BATCH_BYTES)));

export function statusName(c, status) {
  c._x[X_STATUS_NAME](status);
  return text(c);
}
