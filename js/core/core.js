// core.js: a thin object over the core's exports. It writes strings as UTF-8 into the
// core's input buffer (cut to the core's limits on a character boundary), writes the
// configuration record (config.js), reads the result record, decodes batches, and
// records every call it makes in the trace format v1 (js/core/trace.js) when asked to,
// so trace() is the exact input stream of tracking (the outbox's calls, js/core/outbox.js,
// are not recorded).
// It makes no decision: each method returns the core's status unchanged. Its methods
// are named _x: internal to the glue, so the build shortens them (--mangle-props).
// With a debug hook, it also shows the hook every event the moment the core queues it:
// after each call that may queue events it peeks at the new ones (imp_peek_event,
// which changes no state and is not traced), each with the page view it belongs to.
// Peeked events and status names come through the core's text buffer, never the
// batch buffer, so neither disturbs a batch just taken.

import {
  ERR_CONFIG, FLAG_GPC, FLAG_WEBDRIVER, INPUT_BYTES, MAX_ID_BYTES, MAX_LIST_BYTES, MAX_PATH_BYTES, MAX_PV_BYTES, OK,
  RESULT_BYTES, R_BATCH_BYTES, R_CONFIG_FIELD, R_EVENTS, R_QUEUED_EVENTS, R_SEQ, R_TEXT_BYTES,
} from './abi.js';
import { writeConfig } from './config.js';
import { traceBytes } from './trace.js';

/**
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} loaded
 * @param {boolean} recordTrace keep every call for trace()
 * @param {(event: object, pageView: object) => void} [onEvent] shown every event as it is queued
 */
export function createCore(loaded, recordTrace, onEvent) {
  const x = loaded.exports;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const lines = recordTrace ? ['# impression-tracker trace v1'] : null;
  const record = (...fields) => lines && lines.push(fields.join(' '));
  // The core's memory never grows (fixed size, no growth): views made once stay valid.
  // They are re-made anyway if the buffer ever changed (a check that makes no object:
  // it runs several times per card).
  let result = null;
  let input = null;
  const resultView = () => {
    if (!result || result.buffer !== x.memory.buffer) {
      const bytes = loaded.memoryView(x.imp_result_ptr(), RESULT_BYTES);
      result = new DataView(bytes.buffer, bytes.byteOffset, RESULT_BYTES);
      input = loaded.memoryView(x.imp_input_ptr(), INPUT_BYTES);
    }
    return result;
  };
  const field = (offset) => resultView().getUint32(offset, true);
  const output = () => decoder.decode(loaded.memoryView(x.imp_output_ptr(), field(R_BATCH_BYTES)));
  const text = () => decoder.decode(loaded.memoryView(x.imp_text_ptr(), field(R_TEXT_BYTES)));

  // --- The debug hook -----------------------------------------------------------------
  let shown = 0; // result.events when the hook last saw the queue
  let pageView = null; // {pv, path, wd?, gpc?} of the open page view
  // Shows the hook the events queued since it last looked, oldest first. The newest
  // `ownNew` of them belong to the page view just begun, the rest to `before`.
  const show = (before = pageView, ownNew = 0) => {
    let n = (field(R_EVENTS) - shown) >>> 0;
    shown = field(R_EVENTS);
    n = Math.min(n, field(R_QUEUED_EVENTS)); // older ones were dropped by overflow
    const events = []; // all peeked before the hook runs: it may call the tracker
    while (n--) if (x.imp_peek_event(n) === OK) events.push([JSON.parse(text()), n < ownNew ? pageView : before]);
    for (const [event, where] of events) onEvent(event, where);
  };

  // Writes s as UTF-8 at input[at], at most cap bytes, cut on a character boundary;
  // returns the bytes written. ASCII (ids and list ids nearly always are) is copied code
  // by code: for short strings that is about 3x faster than encodeInto (measured in
  // Chromium), and a page registers thousands of cards.
  const put = (s, at, cap) => {
    const n = s.length;
    let i = 0;
    if (n <= cap) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        input[at + i] = c;
      }
    }
    return i === n ? n : encoder.encodeInto(s, input.subarray(at, at + cap)).written;
  };
  // Writes two strings one after the other into the input buffer; returns their byte
  // lengths and, when tracing, their trace fields.
  const writeStrings = (a, capA, b, capB) => {
    resultView();
    const la = put(String(a), 0, capA);
    const lb = put(String(b), la, capB);
    return [la, lb, lines && traceBytes(input.subarray(0, la)), lines && traceBytes(input.subarray(la, la + lb))];
  };

  // A call with numbers only: traced as `name arg arg ...`. `peek` false: the call
  // queues nothing the hook has not seen (a peek would overwrite a batch just taken).
  const call = (name, fn, peek = true) => (...args) => {
    core._last = name;
    record(name, ...args);
    const status = x[fn](...args);
    if (onEvent && peek) show();
    return status;
  };
  // A call that first writes an id and a list into the input buffer: traced as
  // `name t position id list`.
  const withId = (name, fn) => (t, id, list, position) => {
    const [la, lb, fa, fb] = writeStrings(id, MAX_ID_BYTES, list, MAX_LIST_BYTES);
    core._last = name;
    record(name, t, position, fa, fb);
    const status = x[fn](t, la, lb, position);
    if (onEvent) show();
    return status;
  };
  let inexact = 0; // after a start refused here: 1 + the field the record could not hold
  const tick = call('tick', 'imp_tick');
  const take = call('take', 'imp_take_batch', false);

  const core = {
    /** Trace name of the last call, for error messages. */
    _last: '',
    /** The configuration record as the core read it at the last start (config.js). */
    _config: [],
    // values: the record's fields in order (abi.js CONFIG_OFFSETS), undefined = default.
    // A value the record does not hold exactly (a uint32 field given 2^32 + 1, -1, 1.5,
    // a string; a double field given NaN or a string) is refused here like a value the
    // core refuses: it would reach the core as another number.
    _start(values) {
      core._last = 'start';
      core._config = writeConfig(loaded, values);
      inexact = 1 + core._config.findIndex((v, i) => values[i] !== undefined && v !== values[i]);
      if (inexact) return ERR_CONFIG;
      record('start', ...core._config);
      return x.imp_start();
    },
    /** After IMP_ERR_CONFIG: 1 + the index of the refused field (abi.js CONFIG_OFFSETS). */
    _configField: () => inexact || field(R_CONFIG_FIELD),
    _pageBegin(t, pv, path, flags) {
      const [la, lb, fa, fb] = writeStrings(pv, MAX_PV_BYTES, path, MAX_PATH_BYTES);
      core._last = 'page';
      record('page', t, flags, fa, fb);
      const status = x.imp_page_begin(t, la, lb, flags);
      if (onEvent && status === OK) {
        // One call can close the old page view's spans and make impressions in the new
        // one: the new page view's events are the newest result.seq of them.
        const before = pageView;
        const input = loaded.memoryView(x.imp_input_ptr(), la + lb);
        pageView = Object.freeze({
          pv: decoder.decode(input.subarray(0, la)),
          path: decoder.decode(input.subarray(la)),
          ...(flags & FLAG_WEBDRIVER ? { wd: 1 } : {}),
          ...(flags & FLAG_GPC ? { gpc: 1 } : {}),
        });
        show(before, field(R_SEQ));
      }
      return status;
    },
    /** Updates a registered item's list and position (result.slot). */
    _register: withId('item', 'imp_item_register'),
    /** Adds an element of an item (result.element is its handle). */
    _elementAdd: withId('elem', 'imp_element_add'),
    _elementRemove: call('unelem', 'imp_element_remove'),
    _elementObserve: call('eobs', 'imp_element_observe'),
    _elementCover: call('cover', 'imp_element_cover'),
    _activate: call('act', 'imp_activate'),
    _pageState: call('state', 'imp_page_state'),
    _pageFocus: call('focus', 'imp_page_focus'),
    _pageEnd: call('end', 'imp_page_end'),
    _tick: tick,
    // A take fires due viewable timers and could take their events at once: with a hook,
    // a tick at the same time fires them first, where the hook sees them. (The glue
    // takes at now(), never earlier than a time it gave before.)
    _take(t, force) {
      const deadline = core._nextDeadline();
      if (onEvent && deadline >= 0 && deadline <= t) tick(t);
      return take(t, force);
    },
    _reportDropped: call('drop', 'imp_report_dropped'),
    /** The batch the last successful take() wrote, as a string. */
    _batch: output,
    /** A uint32 field of the result record, by its byte offset (abi.js R_*). */
    _result: field,
    _nextDeadline: () => resultView().getFloat64(0, true),
    _statusName(status) {
      x.imp_status_name(status);
      return text();
    },
    _trace: () => (lines ? `${lines.join('\n')}\n` : ''),
  };
  return core;
}
