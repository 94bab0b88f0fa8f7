// record.js: the trace recorder. Every tracking call the tracker makes to the core is
// written as one line of the trace format v1 (js/core/trace.js), so a recorded trace
// is the exact input stream of tracking: `make replay` (build/replay) or
// 'impression-tracker/replay' feed it to a fresh core. Delivery's calls (the outbox's)
// are not recorded. Strings are read from the core's input buffer, where the tracker
// wrote them, the configuration from the record the core starts with.

import { CONFIG_BYTES, CONFIG_OFFSETS, X_CONFIG_PTR, X_INPUT_PTR } from '../core/abi.js';
import { traceBytes } from '../core/trace.js';
import { wrap } from './watch.js';

// Calls with numbers only: export -> trace name; the line is `name arg arg ...`.
const NUMERIC = {
  imp_element_remove: 'unelem', imp_element_observe: 'eobs', imp_element_cover: 'cover', imp_activate: 'act',
  imp_page_state: 'state', imp_page_focus: 'focus', imp_page_end: 'end', imp_tick: 'tick',
  imp_report_dropped: 'drop', imp_take_batch: 'take',
};
// Calls (t, idBytes, listBytes, number) with two strings in the input buffer:
// `name t number id list`.
const WITH_STRINGS = { imp_page_begin: 'page', imp_item_register: 'item', imp_element_add: 'elem' };

// The configuration record's fields in the `start` line's order (uint32 below byte 32).
function configFields(core) {
  const bytes = core.memoryView(core.exports[X_CONFIG_PTR](), CONFIG_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, CONFIG_BYTES);
  return CONFIG_OFFSETS.map((at) => (at < 32 ? view.getUint32(at, true) : view.getFloat64(at, true)));
}

/** Records every tracking call of `core` (a copyCore()) into lines, after its header. */
export function recordTrace(core, lines) {
  lines.push('# impression-tracker trace v1');
  const line = (fields) => lines.push(fields.join(' '));
  wrap(core, 'imp_start', (real) => {
    line(['start', ...configFields(core)]);
    return real();
  });
  for (const [name, traced] of Object.entries(NUMERIC)) {
    wrap(core, name, (real, ...args) => {
      line([traced, ...args]);
      return real(...args);
    });
  }
  for (const [name, traced] of Object.entries(WITH_STRINGS)) {
    wrap(core, name, (real, t, la, lb, n) => {
      const input = core.memoryView(core.exports[X_INPUT_PTR](), la + lb);
      line([traced, t, n, traceBytes(input.subarray(0, la)), traceBytes(input.subarray(la))]);
      return real(t, la, lb, n);
    });
  }
}
