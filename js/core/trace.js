// trace.js: the trace format v1, both ways. The writer side (traceBytes) is what the
// debug option's recorder (js/debug/record.js) writes a call's strings with, so its
// trace() is the exact input stream of the core. The reader side (replayTrace) feeds such a trace
// to a loaded core and prints what native `build/replay` prints for it, byte for byte:
// "! <line> PARSE" for a malformed line, "! <line> <STATUS_NAME>" for a negative
// status, and the batch bytes plus "\n" for each `take` that returned IMP_OK, followed
// by "~ gzip <bytes> <FNV-1a hash>" when the core also compressed it. Its
// parsing rules mirror src/replay.c (see the comment at its top): numbers as C's
// strtod() reads them, integer parameters converted like a JS number reaching a wasm
// i32, strings percent-decoded into the input buffer with their true lengths. The
// delivery lines (the outbox's) are replay-outbox.js's.

import {
  INPUT_BYTES, OK, RESULT_BYTES, R_BATCH_BYTES, R_WIRE_BYTES, X_ACTIVATE, X_ELEMENT_ADD, X_ELEMENT_COVER,
  X_ELEMENT_OBSERVE, X_ELEMENT_REMOVE, X_INPUT_PTR, X_ITEM_REGISTER, X_OUTPUT_PTR, X_PAGE_BEGIN, X_PAGE_END,
  X_PAGE_FOCUS, X_PAGE_STATE, X_REPORT_DROPPED, X_RESULT_PTR, X_START, X_STATUS_NAME, X_TAKE_BATCH, X_TEXT_PTR,
  X_TICK, X_WIRE_PTR,
} from './abi.js';
import { writeConfig } from './config.js';
import { createOutboxReplay, fnv1a } from './replay-outbox.js';

/** Writes bytes as one trace field: %XX for bytes <= 0x20, >= 0x7F and '%'; "-" for empty. */
export function traceBytes(bytes) {
  const field = String.fromCharCode(...bytes)
    .replace(/[\0- %\x7F-\xFF]/g, (c) => `%${(c.charCodeAt(0) + 256).toString(16).slice(1).toUpperCase()}`);
  return field === '-' ? '%2D' : field || '-';
}

// --- Reader -------------------------------------------------------------------------

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITE = /^[+-]?inf(inity)?$/i;
const NOT_A_NUMBER = /^[+-]?nan(\([0-9A-Za-z_]*\))?$/i;
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;

/** A number field as strtod() reads it when it must consume all of it; undefined when malformed. */
export function parseTraceNumber(field) {
  if (DECIMAL.test(field)) return Number(field);
  if (INFINITE.test(field)) return field[0] === '-' ? -Infinity : Infinity;
  if (NOT_A_NUMBER.test(field)) return NaN;
  const hex = HEX_FLOAT.exec(field);
  if (hex && (hex[2] || hex[3])) {
    const digits = hex[2] + (hex[3] || '');
    let value = 0;
    for (const d of digits) value = value * 16 + parseInt(d, 16);
    value *= 2 ** (Number(hex[4] || 0) - 4 * (hex[3] || '').length);
    return hex[1] === '-' ? -value : value;
  }
  return undefined;
}

/** Decodes a string field into `out` (bytes past its end are counted, not stored); -1 when malformed. */
function decodeField(field, out) {
  if (field === '-') return 0;
  let n = 0;
  for (let i = 0; i < field.length; n++) {
    let b = field.charCodeAt(i);
    if (b === 0x25) {
      const hex = field.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return -1;
      b = parseInt(hex, 16);
      i += 3;
    } else {
      if (b <= 0x20 || b >= 0x7f) return -1;
      i++;
    }
    if (n < out.length) out[n] = b;
  }
  return n;
}

// name -> [field count, index of the first string field or 0]; `start` may also
// have 13 to 16 fields (the optional compress, window_bits, occlusion and echo_ms),
// never fewer than 12.
const CALLS = {
  start: [12, 0], page: [5, 3], state: [3, 0], focus: [3, 0], end: [2, 0], item: [5, 3],
  tick: [2, 0], take: [3, 0], drop: [2, 0], elem: [5, 3], unelem: [3, 0], eobs: [5, 0], cover: [4, 0], act: [4, 0],
};
/** Whether a line's name is one of tracking's (every other line is delivery's, replay-outbox.js). */
export const isTrackingLine = (name) => Object.prototype.hasOwnProperty.call(CALLS, name);

function runLine(core, fields, outbox) {
  const x = core.exports;
  if (!isTrackingLine(fields[0])) return outbox.run(fields, parseTraceNumber, decodeField);
  const spec = CALLS[fields[0]];
  const count = fields[0] === 'start' && fields.length >= 12 && fields.length <= 16 ? 12 : fields.length;
  if (!spec || spec[0] !== count) return undefined;
  const stringsAt = spec[1] || fields.length;
  const d = [];
  for (let i = 1; i < stringsAt; i++) {
    d[i] = parseTraceNumber(fields[i]);
    if (d[i] === undefined) return undefined;
  }
  let la = 0;
  let lb = 0;
  if (spec[1]) {
    const input = core.memoryView(x[X_INPUT_PTR](), INPUT_BYTES);
    la = decodeField(fields[3], input);
    if (la < 0) return undefined;
    lb = decodeField(fields[4], input.subarray(Math.min(la, INPUT_BYTES)));
    if (lb < 0) return undefined;
  }
  switch (fields[0]) {
    case 'start':
      writeConfig(core, d.slice(1));
      return x[X_START]();
    case 'page': return x[X_PAGE_BEGIN](d[1], la, lb, d[2]);
    case 'state': return x[X_PAGE_STATE](d[1], d[2]);
    case 'focus': return x[X_PAGE_FOCUS](d[1], d[2]);
    case 'end': return x[X_PAGE_END](d[1]);
    case 'item': return x[X_ITEM_REGISTER](d[1], la, lb, d[2]);
    case 'elem': return x[X_ELEMENT_ADD](d[1], la, lb, d[2]);
    case 'unelem': return x[X_ELEMENT_REMOVE](d[1], d[2]);
    case 'eobs': return x[X_ELEMENT_OBSERVE](d[1], d[2], d[3], d[4]);
    case 'cover': return x[X_ELEMENT_COVER](d[1], d[2], d[3]);
    case 'act': return x[X_ACTIVATE](d[1], d[2], d[3]);
    case 'tick': return x[X_TICK](d[1]);
    case 'take': return x[X_TAKE_BATCH](d[1], d[2]);
    default: return x[X_REPORT_DROPPED](d[1]);
  }
}

function latin1(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/**
 * Replays a trace through a loaded core (see loader.js) and returns what the native
 * replay tool prints for it.
 * @param {{exports: Record<string, Function>, memoryView: (ptr: number, length: number) => Uint8Array}} core
 * @param {string|Uint8Array} trace
 * @returns {Uint8Array}
 */
export function replayTrace(core, trace) {
  const text = typeof trace === 'string' ? latin1(new TextEncoder().encode(trace)) : latin1(trace);
  const x = core.exports;
  const chunks = [];
  let size = 0;
  const emit = (bytes) => {
    chunks.push(bytes);
    size += bytes.length;
  };
  const say = (s) => emit(new TextEncoder().encode(s));
  const outbox = createOutboxReplay(core, emit); // the delivery lines
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  lines.forEach((line, index) => {
    const number = index + 1;
    if (line.includes('\0')) return say(`! ${number} PARSE\n`);
    if (line[0] === '#' || /^[ \t\r]*$/.test(line)) return;
    const status = runLine(core, line.split(' '), outbox);
    if (status === undefined) return say(`! ${number} PARSE\n`);
    if (status < 0) {
      x[X_STATUS_NAME](status);
      const name = core.memoryView(x[X_TEXT_PTR](), 64);
      return say(`! ${number} ${latin1(name.subarray(0, name.indexOf(0)))}\n`);
    }
    if (line.startsWith('take ') && status === OK) {
      const result = new DataView(core.memoryView(x[X_RESULT_PTR](), RESULT_BYTES).slice().buffer);
      emit(core.memoryView(x[X_OUTPUT_PTR](), result.getUint32(R_BATCH_BYTES, true)).slice());
      say('\n');
      const wire = result.getUint32(R_WIRE_BYTES, true);
      if (wire) say(`~ gzip ${wire} ${fnv1a(core.memoryView(x[X_WIRE_PTR](), wire))}\n`);
    }
  });
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
