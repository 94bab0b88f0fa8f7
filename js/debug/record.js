// record.js: the trace recorder. Every call the tracker makes to the core, tracking's
// and delivery's (the outbox's), is written as one line of the trace format v1
// (js/core/trace.js, js/core/replay-outbox.js), so a recorded trace is the exact input
// stream of the core: `make replay` (build/replay) or 'impression-tracker/replay' feed
// it to a fresh core, which cuts the same batches and asks for the same requests,
// writes and scans. Strings are read from the buffers where the tracker wrote them
// (the input buffer, the outbox's io buffer), the configurations from the records the
// core and the outbox start with.

import {
  X_ACTIVATE, X_ELEMENT_ADD, X_ELEMENT_COVER, X_ELEMENT_OBSERVE, X_ELEMENT_REMOVE, X_INPUT_PTR, X_ITEM_REGISTER,
  X_OUTBOX_BEACON, X_OUTBOX_CONFIG_PTR, X_OUTBOX_CONSENT, X_OUTBOX_FLUSH, X_OUTBOX_FOUND, X_OUTBOX_LATER,
  X_OUTBOX_NEXT, X_OUTBOX_ONLINE, X_OUTBOX_RESPONSE, X_OUTBOX_SCAN_DONE, X_OUTBOX_START, X_OUTBOX_STORED,
  X_OUTBOX_TAB_LIVE, X_OUTBOX_WALL, X_PAGE_BEGIN, X_PAGE_END, X_PAGE_FOCUS, X_PAGE_STATE, X_REPORT_DROPPED, X_START,
  X_TAKE_BATCH, X_TICK,
} from '../core/abi.js';
import { readConfig } from '../core/config.js';
import { recordView } from '../core/loader.js';
import { OUTBOX_CONFIG_BYTES, OUTBOX_CONFIG_FIELDS, outboxConfigField } from '../core/outbox.js';
import { traceBytes } from '../core/trace.js';
import { coreViews, wrap } from './watch.js';

// Calls with numbers only: export -> trace name; the line is `name arg arg ...`.
const NUMERIC = {
  [X_ELEMENT_REMOVE]: 'unelem', [X_ELEMENT_OBSERVE]: 'eobs', [X_ELEMENT_COVER]: 'cover', [X_ACTIVATE]: 'act',
  [X_PAGE_STATE]: 'state', [X_PAGE_FOCUS]: 'focus', [X_PAGE_END]: 'end', [X_TICK]: 'tick',
  [X_REPORT_DROPPED]: 'drop', [X_TAKE_BATCH]: 'take',
  [X_OUTBOX_NEXT]: 'next', [X_OUTBOX_FLUSH]: 'flush', [X_OUTBOX_RESPONSE]: 'fetched', [X_OUTBOX_BEACON]: 'beaconed',
  [X_OUTBOX_LATER]: 'later', [X_OUTBOX_STORED]: 'stored', [X_OUTBOX_ONLINE]: 'online', [X_OUTBOX_CONSENT]: 'consent',
  [X_OUTBOX_SCAN_DONE]: 'scandone', [X_OUTBOX_WALL]: 'wall',
};
// Outbox calls (t, ...lengths) with strings one after the other in the io buffer:
// `name t string ...`.
const WITH_IO_STRINGS = { [X_OUTBOX_TAB_LIVE]: 'tablive', [X_OUTBOX_FOUND]: 'found' };

// The outbox's configuration record as `obcfg` lines, then its start with the tab id.
function recordOutboxStart(core, line) {
  const io = coreViews(core).io;
  wrap(core, X_OUTBOX_START, (real, t, epochMs, tabBytes) => {
    const config = recordView(core, core.exports[X_OUTBOX_CONFIG_PTR](), OUTBOX_CONFIG_BYTES);
    OUTBOX_CONFIG_FIELDS.forEach((name, i) => {
      const [at, isDouble] = outboxConfigField(i);
      line(['obcfg', name, isDouble ? config.getFloat64(at, true) : config.getUint32(at, true)]);
    });
    line(['outbox', t, epochMs, traceBytes(io().subarray(0, tabBytes))]);
    return real(t, epochMs, tabBytes);
  });
  for (const [name, traced] of Object.entries(WITH_IO_STRINGS)) {
    wrap(core, name, (real, t, ...lengths) => {
      let at = 0;
      const strings = lengths.map((n) => traceBytes(io().subarray(at, (at += n))));
      line([traced, t, ...strings]);
      return real(t, ...lengths);
    });
  }
}
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
      line([traced, ...args.slice(0, real.length)]); // a call passes (t, a, b, n) whatever the export takes
      return real(...args);
    });
  }
  recordOutboxStart(core, line);
  for (const [name, traced] of Object.entries(WITH_STRINGS)) {
    wrap(core, name, (real, t, la, lb, n) => {
      const input = core.memoryView(core.exports[X_INPUT_PTR](), la + lb);
      line([traced, t, n, traceBytes(input.subarray(0, la)), traceBytes(input.subarray(la))]);
      return real(t, la, lb, n);
    });
  }
}
