// core.js: a thin object over the core's exports. It writes strings as UTF-8 into the
// core's input buffer (cut to the core's limits on a character boundary), reads the
// result record, decodes batches, and records every call it makes in the trace format
// v1 (js/trace.js) when asked to, so trace() is the exact input stream the core saw.
// It makes no decision: each method returns the core's status unchanged. Its methods
// are named _x: internal to the glue, so the build shortens them (--mangle-props).

import {
  INPUT_BYTES, MAX_ID_BYTES, MAX_LIST_BYTES, MAX_PATH_BYTES, MAX_PV_BYTES, RESULT_BYTES, R_BATCH_BYTES,
} from './abi.js';
import { traceBytes } from './trace.js';

/**
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} loaded
 * @param {boolean} recordTrace keep every call for trace()
 */
export function createCore(loaded, recordTrace) {
  const x = loaded.exports;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const lines = recordTrace ? ['# impression-tracker trace v1'] : null;
  const record = (...fields) => lines && lines.push(fields.join(' '));
  const resultView = () => {
    const bytes = loaded.memoryView(x.imp_result_ptr(), RESULT_BYTES);
    return new DataView(bytes.buffer, bytes.byteOffset, RESULT_BYTES);
  };
  const field = (offset) => resultView().getUint32(offset, true);

  // Writes two strings one after the other into the input buffer; returns their byte
  // lengths and, when tracing, their trace fields.
  const writeStrings = (a, capA, b, capB) => {
    const input = loaded.memoryView(x.imp_input_ptr(), INPUT_BYTES);
    const la = encoder.encodeInto(String(a), input.subarray(0, capA)).written;
    const lb = encoder.encodeInto(String(b), input.subarray(la, la + capB)).written;
    return [la, lb, lines && traceBytes(input.subarray(0, la)), lines && traceBytes(input.subarray(la, la + lb))];
  };

  // A call with numbers only: traced as `name arg arg ...`.
  const call = (name, fn) => (...args) => {
    core._last = name;
    record(name, ...args);
    return x[fn](...args);
  };

  const core = {
    /** Trace name of the last call, for error messages. */
    _last: '',
    _start(c) {
      const args = [c.items, c.queue, c.queueBytes, c.maxEvents, c.maxBytes, c.maxAgeMs,
        c.viewRatio, c.viewMs, c.largeArea, c.largeRatio, c.impressionRatio];
      return call('start', 'imp_start')(...args);
    },
    _pageBegin(t, pv, path, flags) {
      const [la, lb, fa, fb] = writeStrings(pv, MAX_PV_BYTES, path, MAX_PATH_BYTES);
      core._last = 'page';
      record('page', t, flags, fa, fb);
      return x.imp_page_begin(t, la, lb, flags);
    },
    _register(t, id, list, position) {
      const [la, lb, fa, fb] = writeStrings(id, MAX_ID_BYTES, list, MAX_LIST_BYTES);
      core._last = 'item';
      record('item', t, position, fa, fb);
      return x.imp_item_register(t, la, lb, position);
    },
    _pageState: call('state', 'imp_page_state'),
    _pageFocus: call('focus', 'imp_page_focus'),
    _pageEnd: call('end', 'imp_page_end'),
    _release: call('release', 'imp_item_release'),
    _observe: call('obs', 'imp_observe'),
    _click: call('click', 'imp_click'),
    _tick: call('tick', 'imp_tick'),
    _take: call('take', 'imp_take_batch'),
    _reportDropped: call('drop', 'imp_report_dropped'),
    /** The batch the last successful take() wrote, as a string. */
    _batch: () => decoder.decode(loaded.memoryView(x.imp_output_ptr(), field(R_BATCH_BYTES))),
    /** A uint32 field of the result record, by its byte offset (abi.js R_*). */
    _result: field,
    _nextDeadline: () => resultView().getFloat64(0, true),
    _statusName(status) {
      x.imp_status_name(status);
      return decoder.decode(loaded.memoryView(x.imp_output_ptr(), field(R_BATCH_BYTES)));
    },
    _trace: () => (lines ? `${lines.join('\n')}\n` : ''),
  };
  return core;
}
