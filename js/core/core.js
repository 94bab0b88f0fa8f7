// core.js: a thin object over the core's exports. It writes strings as UTF-8 into the
// core's input buffer (cut to the core's limits on a character boundary), writes the
// configuration record (config.js), reads the result record, decodes batches, and
// records every call it makes in the trace format v1 (js/core/trace.js) when asked to,
// so trace() is the exact input stream of tracking (the outbox's calls, js/core/outbox.js,
// are not recorded).
// It makes no decision: each call returns the core's status unchanged. The record's
// fields are named _x: internal to the glue, so the build shortens them (--mangle-props).
// With a debug hook, it also shows the hook every event the moment the core queues it:
// after each call that may queue events it peeks at the new ones (imp_peek_event,
// which changes no state and is not traced), each with the page view it belongs to.
// Peeked events and status names come through the core's text buffer, never the
// batch buffer, so neither disturbs a batch just taken.
// The functions work on one record `c` (createCore makes it): the exports, the views of
// the core's memory, the trace lines, and what the debug hook has seen.

import {
  ERR_CONFIG, FLAG_GPC, FLAG_WEBDRIVER, INPUT_BYTES, MAX_ID_BYTES, MAX_LIST_BYTES, MAX_PATH_BYTES, MAX_PV_BYTES, OK,
  RESULT_BYTES, R_BATCH_BYTES, R_CONFIG_FIELD, R_EVENTS, R_QUEUED_EVENTS, R_SEQ, R_TEXT_BYTES,
} from './abi.js';
import { writeConfig } from './config.js';
import { traceBytes } from './trace.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The record of one core: what the functions below work on.
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} loaded
 * @param {boolean} recordTrace keep every call for trace()
 * @param {(event: object, pageView: object) => void} [onEvent] shown every event as it is queued
 */
export function createCore(loaded, recordTrace, onEvent) {
  const x = loaded.exports;
  // The core's memory never grows (built without growth): views made once stay valid.
  const result = loaded.memoryView(x.imp_result_ptr(), RESULT_BYTES);
  return {
    _x: x,
    _loaded: loaded,
    _view: new DataView(result.buffer, result.byteOffset, RESULT_BYTES),
    _input: loaded.memoryView(x.imp_input_ptr(), INPUT_BYTES),
    _lines: recordTrace ? ['# impression-tracker trace v1'] : null,
    _onEvent: onEvent,
    _pageView: null, // {pv, path, wd?, gpc?} of the open page view, for the hook
    _shown: 0, // result.events when the hook last saw the queue
    _args: [], // the arguments of the last call, as the core took them
    // Set after a start refused here: _inexact, 1 + the field the record could not hold.
    /** Trace name of the last call, for error messages. */
    _last: '',
    /** The configuration record as the core read it at the last start (config.js). */
    _config: [],
  };
}

// --- Memory ---------------------------------------------------------------------------

/** A uint32 field of the result record, by its byte offset (abi.js R_*). */
export const resultField = (c, offset) => c._view.getUint32(offset, true);
export const nextDeadline = (c) => c._view.getFloat64(0, true);
const text = (c) => decoder.decode(c._loaded.memoryView(c._x.imp_text_ptr(), resultField(c, R_TEXT_BYTES)));

// Writes s as UTF-8 at input[at], at most cap bytes, cut on a character boundary;
// returns the bytes written.
const put = (input, s, at, cap) => encoder.encodeInto(s, input.subarray(at, at + cap)).written;

// --- Calls ----------------------------------------------------------------------------

// Notes the call for error messages and, when tracing, writes its trace line.
function record(c, name, fields) {
  c._last = name;
  if (c._lines) c._lines.push([name, ...fields].join(' '));
}

// A call of export fn, traced as `name` and its arguments. With caps, its arguments are
// (t, a, b, n): the strings a and b go one after the other into the input buffer (at
// most capA and capB bytes), the call is fn(t, bytes of a, bytes of b, n) and its
// trace line `name t n a b`. After it the hook sees what it queued (pageBegin shows it
// what a page view's begin queued).
const call = (name, fn, capA, capB) => (c, ...args) => {
  let fields = args;
  if (capA) {
    const [t, a, b, n] = args;
    const input = c._input;
    const la = put(input, String(a), 0, capA);
    const lb = put(input, String(b), la, capB);
    args = [t, la, lb, n];
    fields = [t, n, c._lines && traceBytes(input.subarray(0, la)), c._lines && traceBytes(input.subarray(la, la + lb))];
  }
  record(c, name, fields);
  c._args = args; // what the core read: pageBegin shows the hook the strings
  const status = c._x[fn](...args);
  if (c._onEvent && name !== 'page') show(c);
  return status;
};

// values: the record's fields in order (abi.js CONFIG_OFFSETS), undefined = default.
// A value the record does not hold exactly (a uint32 field given 2^32 + 1, -1, 1.5, a
// string; a double field given NaN or a string) is refused here like a value the core
// refuses: it would reach the core as another number.
export function startCore(c, values) {
  c._last = 'start';
  c._config = writeConfig(c._loaded, values);
  c._inexact = 1 + c._config.findIndex((v, i) => values[i] !== undefined && v !== values[i]);
  if (c._inexact) return ERR_CONFIG;
  record(c, 'start', c._config);
  return c._x.imp_start();
}

const begin = call('page', 'imp_page_begin', MAX_PV_BYTES, MAX_PATH_BYTES);

export function pageBegin(c, t, pv, path, flags) {
  const status = begin(c, t, pv, path, flags);
  if (c._onEvent && status === OK) {
    // One call can close the old page view's spans and make impressions in the new
    // one: the new page view's events are the newest result.seq of them.
    const before = c._pageView;
    const [, la, lb] = c._args; // the strings' bytes as the core read them
    c._pageView = Object.freeze({
      pv: decoder.decode(c._input.subarray(0, la)),
      path: decoder.decode(c._input.subarray(la, la + lb)),
      ...(flags & FLAG_WEBDRIVER ? { wd: 1 } : {}),
      ...(flags & FLAG_GPC ? { gpc: 1 } : {}),
    });
    show(c, before, resultField(c, R_SEQ));
  }
  return status;
}

// A take fires due viewable timers and could take their events at once: with a hook, a
// tick at the same time fires them first, where the hook sees them. (The glue takes at
// now(), never earlier than a time it gave before.)
// Only the tests take batches themselves (the outbox cuts them). No peek after it: a
// peek would overwrite the batch just taken.
export function take(c, t, force) {
  const deadline = nextDeadline(c);
  if (c._onEvent && deadline >= 0 && deadline <= t) tick(c, t);
  record(c, 'take', [t, force]);
  return c._x.imp_take_batch(t, force);
}

/** Updates a registered item's list and position (result.slot). */
export const register = call('item', 'imp_item_register', MAX_ID_BYTES, MAX_LIST_BYTES);
/** Adds an element of an item (result.element is its handle). */
export const elementAdd = call('elem', 'imp_element_add', MAX_ID_BYTES, MAX_LIST_BYTES);
export const elementRemove = call('unelem', 'imp_element_remove');
export const elementObserve = call('eobs', 'imp_element_observe');
export const elementCover = call('cover', 'imp_element_cover');
export const activate = call('act', 'imp_activate');
export const pageState = call('state', 'imp_page_state');
export const pageFocus = call('focus', 'imp_page_focus');
export const pageEnd = call('end', 'imp_page_end');
export const tick = call('tick', 'imp_tick');
export const reportDropped = call('drop', 'imp_report_dropped');

/** After IMP_ERR_CONFIG: 1 + the index of the refused field (abi.js CONFIG_OFFSETS). */
export const configField = (c) => c._inexact || resultField(c, R_CONFIG_FIELD);

/** The batch the last successful take() wrote, as a string. */
export const takenBatch = (c) => decoder.decode(c._loaded.memoryView(c._x.imp_output_ptr(), resultField(c, R_BATCH_BYTES)));

export function statusName(c, status) {
  c._x.imp_status_name(status);
  return text(c);
}

export const traceText = (c) => (c._lines ? `${c._lines.join('\n')}\n` : '');

// --- The debug hook -------------------------------------------------------------------

// Shows the hook the events queued since it last looked, oldest first. The newest
// `ownNew` of them belong to the page view just begun, the rest to `before`.
function show(c, before = c._pageView, ownNew = 0) {
  let n = (resultField(c, R_EVENTS) - c._shown) >>> 0;
  c._shown = resultField(c, R_EVENTS);
  n = Math.min(n, resultField(c, R_QUEUED_EVENTS)); // older ones were dropped by overflow
  const events = []; // all peeked before the hook runs: it may call the tracker
  while (n--) if (c._x.imp_peek_event(n) === OK) events.push([JSON.parse(text(c)), n < ownNew ? c._pageView : before]);
  for (const [event, where] of events) c._onEvent(event, where);
}
