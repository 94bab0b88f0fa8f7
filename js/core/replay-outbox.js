// replay-outbox.js: the delivery lines of the trace format for the WASM replay, the
// twin of src/replay_outbox.c (the line syntax and what each prints are described at
// its top). The replay plays the glue: it carries out the outbox's actions against a
// simulated localStorage that lives for the whole trace, so a second `start` and
// `outbox` are the next page load, or a second tab, finding what the first one stored.
// Its output is byte for byte the native tool's; tests/unit/trace.test.js replays every
// golden trace of tests/replay/delivery/ through both.

import {
  NONE, OK, RESULT_BYTES, R_BATCH_BYTES, X_OUTBOX_ACTION_PTR, X_OUTBOX_BEACON, X_OUTBOX_CONFIG_PTR, X_OUTBOX_CONSENT, X_OUTBOX_FLUSH,
  X_OUTBOX_FOUND, X_OUTBOX_IO_PTR, X_OUTBOX_LATER, X_OUTBOX_NEXT, X_OUTBOX_ONLINE, X_OUTBOX_RESPONSE,
  X_OUTBOX_SCAN_DONE, X_OUTBOX_START, X_OUTBOX_STORED, X_OUTBOX_TAB_LIVE, X_OUTBOX_WALL, X_OUTPUT_PTR, X_RESULT_PTR,
} from './abi.js';
import { recordView } from './loader.js';
import {
  A_BATCH, A_BEACONED, A_BODY_BYTES, A_HELD_BATCHES, A_DELIVERED, A_EVENTS, A_FAILURES, A_FOUND, A_HELD_EVENTS, A_KEY_BYTES,
  A_KIND, A_LOST, A_PURGED, A_STORED_EVENTS, A_TICKET, ACT_BEACON, ACT_CANCEL, ACT_FETCH, ACT_LATER, ACT_PURGE,
  ACT_REMOVE, ACT_SCAN, ACT_STORE, ACTION_BYTES, FOUND_REMOVE, IO_BYTES, OUTBOX_CONFIG_BYTES, OUTBOX_CONFIG_FIELDS,
  outboxConfigField, STORE_OK,
} from './outbox.js';

const KINDS = ['NONE', 'FETCH', 'BEACON', 'LATER', 'CANCEL', 'STORE', 'REMOVE', 'SCAN', 'PURGE'];
const VERDICTS = ['adopted', 'left', 'remove'];
const TAB_BYTES = 16;
const KEY_BYTES = 64;
const LIVE_TABS = 16;
const STORE_MAX = 512;
// Field count and export of the lines that are one call with numbers only.
const CALLS = {
  fetched: [6, X_OUTBOX_RESPONSE], beaconed: [4, X_OUTBOX_BEACON], later: [4, X_OUTBOX_LATER],
  online: [3, X_OUTBOX_ONLINE], consent: [3, X_OUTBOX_CONSENT], flush: [2, X_OUTBOX_FLUSH],
  scandone: [2, X_OUTBOX_SCAN_DONE], wall: [3, X_OUTBOX_WALL],
};

const latin1Bytes = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A number as C's printf("%.15g") writes it. */
export function formatG15(x) {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, exp] = x.toExponential(14).split('e');
  const e = Number(exp);
  const trim = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (e < -4 || e >= 15) return `${trim(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return trim(x.toFixed(14 - e));
}

/**
 * The delivery side of one replay: run(fields, parseNumber, decodeField) runs one line
 * and returns its status, or undefined when it is not a delivery line or is malformed.
 * What a line prints goes to emit(bytes).
 */
export function createOutboxReplay(core, emit) {
  const x = core.exports;
  const storage = new Map(); // key (latin1) -> value bytes
  const s = {
    core, x, storage, emit,
    liveTabs: new Array(LIVE_TABS).fill(''), // the tabs that hold their Web Lock
    pending: null, // the STORE awaiting its outcome: {ticket, key, value}
    say: (text) => emit(latin1Bytes(text)),
    io: () => core.memoryView(x[X_OUTBOX_IO_PTR](), IO_BYTES),
    action: () => recordView(core, x[X_OUTBOX_ACTION_PTR](), ACTION_BYTES),
    field: (offset) => s.action().getUint32(offset, true),
    sortedKeys: () => [...storage.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  };
  return { run: (fields, number, decode) => runLine(s, fields, number, decode) };
}

function put(storage, key, value) {
  if (storage.has(key) || storage.size < STORE_MAX) storage.set(key, value);
}

// stored: the outcome of a write; a successful one puts the record in storage.
function stored(s, t, ticket, outcome) {
  const status = s.x[X_OUTBOX_STORED](t, ticket, outcome);
  const written = status === OK && (outcome | 0) === STORE_OK && s.pending?.ticket === ticket >>> 0;
  if (written) put(s.storage, s.pending.key, s.pending.value);
  return status;
}

// Prints the action just written ("> KIND ...") and does what the glue does at once.
function showAction(s) {
  const kind = s.field(A_KIND);
  const ticket = s.field(A_TICKET);
  const keyBytes = s.field(A_KEY_BYTES);
  const bodyBytes = s.field(A_BODY_BYTES);
  const io = s.io();
  const key = String.fromCharCode(...io.subarray(0, keyBytes));
  let line = `> ${KINDS[kind]}`;
  if ([ACT_FETCH, ACT_BEACON, ACT_LATER, ACT_STORE].includes(kind)) line += ` #${ticket} b${s.field(A_BATCH)} n${s.field(A_EVENTS)}`;
  if (kind === ACT_CANCEL || (kind === ACT_SCAN && ticket)) line += ` #${ticket}`; // SCAN #1: take the lock
  if (keyBytes) line += ` ${key}`;
  s.say(line);
  if (bodyBytes && io[keyBytes] === 0x1f) { // gzip: the JSON stays in the output buffer
    const result = recordView(s.core, s.x[X_RESULT_PTR](), RESULT_BYTES);
    s.say(' ');
    printValue(s, s.core.memoryView(s.x[X_OUTPUT_PTR](), result.getUint32(R_BATCH_BYTES, true)));
    s.say(`\n~ gzip ${bodyBytes} ${fnv1a(io.subarray(0, bodyBytes))}`);
  } else if (bodyBytes) {
    s.say(' ');
    printValue(s, io.subarray(keyBytes, keyBytes + bodyBytes));
  }
  s.say('\n');
  if (kind === ACT_REMOVE) s.storage.delete(key);
  if (kind === ACT_PURGE) s.storage.clear();
  if (kind === ACT_STORE) s.pending = { ticket, key, value: io.slice(keyBytes, keyBytes + bodyBytes) };
}

// A record's bytes with each newline shown as " | ".
function printValue(s, bytes) {
  let from = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    s.emit(bytes.slice(from, i));
    if (i < bytes.length) s.say(' | ');
    from = i + 1;
  }
}

/** FNV-1a 32-bit hash of bytes, 8 lowercase hex digits (as src/replay.c prints it). */
export function fnv1a(bytes) {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

// next: the outbox's next action, printed, or ". idle <deadline>".
function next(s, t, jitter) {
  const status = s.x[X_OUTBOX_NEXT](t, jitter);
  if (status === OK) showAction(s);
  else if (status === NONE) s.say(`. idle ${formatG15(s.action().getFloat64(0, true))}\n`);
  return status;
}

// scan: the live tabs, then every stored record in key order, then scan_done.
function scan(s, t) {
  let status = OK;
  for (const tab of s.liveTabs) {
    if (status < 0) break;
    if (!tab) continue;
    s.io().set(latin1Bytes(tab));
    status = s.x[X_OUTBOX_TAB_LIVE](t, tab.length);
  }
  for (const key of s.sortedKeys()) {
    if (status < 0) break;
    const value = s.storage.get(key);
    if (key.length + value.length > IO_BYTES) continue;
    const io = s.io();
    io.set(latin1Bytes(key));
    io.set(value, key.length);
    status = found(s, t, [key.length, value.length]);
    if (status !== OK) break;
  }
  return status < 0 ? status : s.x[X_OUTBOX_SCAN_DONE](t);
}

// auto: next until IMP_NONE, each action answered at once.
function auto(s, [t, jitter, status, beacon, store]) {
  for (let i = 0; i < 10000; i++) {
    let result = next(s, t, jitter);
    if (result !== OK) return result;
    const kind = s.field(A_KIND);
    const ticket = s.field(A_TICKET);
    if (kind === ACT_FETCH) result = s.x[X_OUTBOX_RESPONSE](t, ticket, status, -1, jitter);
    else if (kind === ACT_BEACON) result = s.x[X_OUTBOX_BEACON](t, ticket, beacon);
    else if (kind === ACT_LATER) result = s.x[X_OUTBOX_LATER](t, ticket, 1);
    else if (kind === ACT_STORE) result = stored(s, t, ticket, store);
    else if (kind === ACT_SCAN) result = scan(s, t);
    if (result < 0) return result;
  }
  return OK;
}

function printStats(s) {
  const f = s.field;
  s.say(`= held ${f(A_HELD_BATCHES)}/${f(A_HELD_EVENTS)} stored ${f(A_STORED_EVENTS)} delivered ${f(A_DELIVERED)} `
    + `beaconed ${f(A_BEACONED)} lost ${f(A_LOST)} purged ${f(A_PURGED)} failures ${f(A_FAILURES)}\n`);
}

function printStorage(s) {
  for (const key of s.sortedKeys()) {
    const value = s.storage.get(key);
    const newline = value.indexOf(0x0a);
    s.say(`$ ${key} `);
    s.emit(value.slice(0, newline < 0 ? value.length : newline));
    s.say('\n');
  }
}

// obcfg: one field of the configuration record, by name; false for an unknown name.
function setConfig(s, name, value) {
  const i = OUTBOX_CONFIG_FIELDS.indexOf(name);
  if (i < 0) return false;
  const config = recordView(s.core, s.x[X_OUTBOX_CONFIG_PTR](), OUTBOX_CONFIG_BYTES);
  const [at, isDouble] = outboxConfigField(i);
  if (isDouble) config.setFloat64(at, value, true);
  else config.setUint32(at, value, true); // ToUint32, as the native tool's to_uint32
  return true;
}

// live / dead: that tab holds / no longer holds its Web Lock; false for a tab id too long.
function setLive(s, tab, alive) {
  if (tab.length > TAB_BYTES) return false;
  const at = s.liveTabs.indexOf(tab);
  if (at >= 0) {
    if (!alive) s.liveTabs[at] = '';
    return true;
  }
  const free = s.liveTabs.indexOf('');
  if (alive && free >= 0) s.liveTabs[free] = tab;
  return true;
}

// outbox: starts the outbox with the tab id (raw; one too long is refused by its length).
function startOutbox(s, t, epochMs, tab) {
  if (t === undefined || epochMs === undefined) return undefined;
  const id = tab.slice(0, TAB_BYTES + 1);
  s.io().set(latin1Bytes(id));
  return s.x[X_OUTBOX_START](t, epochMs, id.length);
}

// Lines without a call: undefined when malformed, else OK.
function runLocal(s, f, number, decode) {
  const [cmd] = f;
  if (cmd === 'obcfg') {
    const value = f.length === 3 ? number(f[2]) : undefined;
    return value !== undefined && setConfig(s, f[1], value) ? OK : undefined;
  }
  if ((cmd === 'live' || cmd === 'dead') && f.length === 2) return setLive(s, f[1], cmd === 'live') ? OK : undefined;
  if (cmd === 'stats' && f.length === 1) return printStats(s), OK;
  if (cmd === 'storage' && f.length === 1) return printStorage(s), OK;
  if (cmd === 'del' && f.length === 2) return s.storage.delete(f[1]), OK;
  if (cmd === 'put' && f.length === 3 && f[1].length <= KEY_BYTES) {
    const buffer = new Uint8Array(IO_BYTES);
    const n = decode(f[2], buffer);
    if (n < 0 || n > IO_BYTES) return undefined;
    put(s.storage, f[1], buffer.slice(0, n));
    return OK;
  }
  return undefined;
}

// Decodes the strings (percent-encoded) one after the other into the io buffer, as far
// as it holds them; their true lengths, or undefined when one is malformed.
function ioStrings(s, decode, ...fields) {
  const io = s.io();
  let at = 0;
  const lengths = fields.map((field) => {
    const n = decode(field, io.subarray(Math.min(at, IO_BYTES)));
    at += n;
    return n;
  });
  return lengths.some((n) => n < 0) ? undefined : lengths;
}

// found: one record of a real scan; prints the verdict and, as the glue does, removes a
// record the outbox says to remove.
function found(s, t, [keyBytes, valueBytes]) {
  const status = s.x[X_OUTBOX_FOUND](t, keyBytes, valueBytes);
  if (status !== OK) return status;
  const key = String.fromCharCode(...s.io().subarray(0, keyBytes));
  const verdict = s.field(A_FOUND);
  s.say(`~ ${VERDICTS[verdict]} ${key}\n`);
  if (verdict === FOUND_REMOVE) s.storage.delete(key);
  return status;
}

// The lines with strings: outbox, tablive and found.
function runWithStrings(s, f, number, decode) {
  const [cmd] = f;
  const t = number(f[1]);
  if (cmd === 'outbox') return f.length === 4 ? startOutbox(s, t, number(f[2]), f[3]) : undefined;
  if (t === undefined || f.length !== (cmd === 'found' ? 4 : 3)) return undefined;
  const lengths = ioStrings(s, decode, ...f.slice(2));
  if (!lengths) return undefined;
  return cmd === 'found' ? found(s, t, lengths) : s.x[X_OUTBOX_TAB_LIVE](t, lengths[0]);
}

function runLine(s, f, number, decode) {
  const [cmd] = f;
  if (['obcfg', 'live', 'dead', 'stats', 'storage', 'put', 'del'].includes(cmd)) return runLocal(s, f, number, decode);
  if (['outbox', 'tablive', 'found'].includes(cmd)) return runWithStrings(s, f, number, decode);
  const d = f.slice(1).map(number);
  if (d.includes(undefined)) return undefined;
  if (cmd === 'next' && f.length === 3) return next(s, d[0], d[1]);
  if (cmd === 'stored' && f.length === 4) return stored(s, d[0], d[1], d[2]);
  if (cmd === 'scan' && f.length === 2) return scan(s, d[0]);
  if (cmd === 'auto' && f.length === 6) return auto(s, d);
  const call = Object.prototype.hasOwnProperty.call(CALLS, cmd) && CALLS[cmd];
  return call && call[0] === f.length ? s.x[call[1]](...d) : undefined;
}
