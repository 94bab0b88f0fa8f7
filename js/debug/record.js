// record.js: the trace recorder. Every tracking call the tracker makes to the core is
// written as one line of the trace format v1 (js/core/trace.js), so a recorded trace
// is the exact input stream of tracking: `make replay` (build/replay) or
// 'impression-tracker/replay' feed it to a fresh core. Delivery's calls (the outbox's)
// are not recorded. Strings are read from the core's input buffer, where the tracker
// wrote them, the configuration from the record the core starts with.

import {
  X_ACTIVATE, X_ELEMENT_ADD, X_ELEMENT_COVER, X_ELEMENT_OBSERVE, X_ELEMENT_REMOVE, X_INPUT_PTR, X_ITEM_REGISTER,
  X_PAGE_BEGIN, X_PAGE_END, X_PAGE_FOCUS, X_PAGE_STATE, X_REPORT_DROPPED, X_START, X_TAKE_BATCH, X_TICK,
} from '../core/abi.js';
import { readConfig } from '../core/config.js';
import { traceBytes } from '../core/trace.js';
import { wrap } from './watch.js';

// Calls with numbers only: export -> trace name; the line is `name arg arg ...`.
const NUMERIC = {
  [X_ELEMENT_REMOVE]: 'unelem', [X_ELEMENT_OBSERVE]: 'eobs', [X_ELEMENT_COVER]: 'cover', [X_ACTIVATE]: 'act',
  [X_PAGE_STATE]: 'state', [X_PAGE_FOCUS]: 'focus', [X_PAGE_END]: 'end', [X_TICK]: 'tick',
  [X_REPORT_DROPPED]: 'drop', [X_TAKE_BATCH]: 'take',
};
// Calls (t, idBytes, listBytes, number) with two strings in the input buffer:
// `name t number id list`.
const WITH_STRINGS = { [X_PAGE_BEGIN]: 'page', [X_ITEM_REGISTER]: 'item', [X_ELEMENT_ADD]: 'elem' };

/** Records every tracking call of `core` (a copyCore()) into lines, after its header. */
export function recordTrace(core, lines) {
  lines.push('# impression-tracker trace v1');
  const line = (fields) => lines.push(fields.join(' '));
  wrap(core, X_START, (real) => {
    line(['start', ...readConfig(core)]); // the record as the core reads it
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
