// js/core/abi.js against the built core: every status code by name, every string limit by
// the core's own refusals, the batch-size bounds, the page flags, the cover states and
// activation kinds, the layout of the
// result record (each field read where abi.js says it is, checked against what the
// core must have written there) and of the configuration record (each field written
// where abi.js says it is, checked by the field number the core refuses).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as abi from '../../js/core/abi.js';
import { loadCore } from '../../js/core/loader.js';
import {
  activate, configField, createCore, elementAdd, elementCover, elementObserve, nextDeadline, pageBegin, pageState, register, reportDropped,
  resultField, startCore, statusName, take, takenBatch,
} from '../../js/core/core.js';
import * as ob from '../../js/core/outbox.js';
import { CONFIG_OPTIONS, RULE_DEFAULTS } from '../../js/tracker/options.js';
import { wasmBytes } from './fakes/dom.js';
import { exportPairs, namedExports } from '../tools/named-exports.mjs';

const CONFIG = {
  items: 16, queue: 64, queueBytes: 65536, maxEvents: 50, maxBytes: 16384, maxAgeMs: 5000,
  viewRatio: 0.5, viewMs: 1000, largeArea: 242500, largeRatio: 0.3, impressionRatio: 0,
};
// The configuration record's fields in order (abi.js CONFIG_OFFSETS) from CONFIG's names.
const values = (c) => [c.items, c.queue, c.queueBytes, c.maxEvents, c.maxBytes, c.maxAgeMs, c.viewRatio, c.viewMs,
  c.largeArea, c.largeRatio, c.impressionRatio, c.compress];
const STATUS_NAMES = {
  OK: 'IMP_OK', NONE: 'IMP_NONE', ERR_ARG: 'IMP_ERR_ARG', ERR_STATE: 'IMP_ERR_STATE', ERR_CONFIG: 'IMP_ERR_CONFIG',
  ERR_MEMORY: 'IMP_ERR_MEMORY', ERR_ID: 'IMP_ERR_ID', ERR_TOO_LONG: 'IMP_ERR_TOO_LONG', ERR_SLOT: 'IMP_ERR_SLOT',
  ERR_FULL: 'IMP_ERR_FULL',
};

let loaded;
const fresh = (config = CONFIG) => {
  const core = createCore(loaded);
  assert.equal(startCore(core, values(config)), abi.OK);
  return core;
};

/** Each describe below starts on a core instance of its own. */
const loadTheCore = async () => {
  loaded = await loadCore(wasmBytes());
};

describe('abi.js matches the core', () => {
  before(loadTheCore);

  it('calls each export by the name the headers give it', () => {
    const pairs = exportPairs();
    assert.ok(pairs.length > 30, 'the headers declare the exports');
    const wasmNames = new Set(Object.keys(loaded.exports));
    for (const [cName, wasmName] of pairs) {
      assert.ok(wasmNames.has(wasmName), `${cName} is exported as ${wasmName}`);
      if (cName === 'imp_abi_version') continue;
      assert.equal(abi[`X_${cName.slice(4).toUpperCase()}`], wasmName, `abi.js names ${cName}`);
    }
    const glueNames = Object.keys(abi).filter((k) => k.startsWith('X_'));
    assert.equal(glueNames.length, pairs.length - 1, 'abi.js names no export the headers lack');
  });

  it('names every status code the way imp_status_name does', () => {
    const core = createCore(loaded);
    for (const [key, name] of Object.entries(STATUS_NAMES)) assert.equal(statusName(core, abi[key]), name, key);
    for (let s = abi.STATUS_MIN; s <= abi.NONE; s++) assert.notEqual(statusName(core, s), 'IMP_UNKNOWN', `status ${s}`);
    assert.equal(statusName(core, abi.STATUS_MIN - 1), 'IMP_UNKNOWN');
    assert.equal(statusName(core, abi.NONE + 1), 'IMP_UNKNOWN');
    assert.equal(loaded.exports.imp_abi_version(), abi.ABI_VERSION);
  });

  it('has the string limits the core enforces', () => {
    const core = fresh();
    const x = namedExports(loaded.exports);
    const put = (length) => loaded.memoryView(x.imp_input_ptr(), abi.INPUT_BYTES).fill(0x61, 0, length);
    put(abi.MAX_PV_BYTES + 1);
    assert.equal(x.imp_page_begin(0, abi.MAX_PV_BYTES + 1, 0, 0), abi.ERR_TOO_LONG);
    assert.equal(x.imp_page_begin(0, abi.MAX_PV_BYTES, 0, 0), abi.OK);
    put(abi.MAX_PV_BYTES + abi.MAX_PATH_BYTES + 1);
    assert.equal(x.imp_page_begin(0, 1, abi.MAX_PATH_BYTES + 1, 0), abi.ERR_TOO_LONG);
    assert.equal(x.imp_page_begin(0, 1, abi.MAX_PATH_BYTES, 0), abi.OK);
    assert.equal(x.imp_item_register(0, abi.MAX_ID_BYTES + 1, 0, 0), abi.ERR_ID);
    assert.equal(x.imp_item_register(0, 0, 0, 0), abi.ERR_ID);
    assert.equal(x.imp_item_register(0, abi.MAX_ID_BYTES, 0, 0), abi.OK);
    assert.equal(x.imp_item_register(0, 1, abi.MAX_LIST_BYTES + 1, 0), abi.ERR_TOO_LONG);
    assert.equal(x.imp_item_register(0, 1, abi.MAX_LIST_BYTES, 0), abi.OK);
    assert.equal(register(core, 0, 'x'.repeat(500), 'y'.repeat(500), 1), abi.OK, 'core.js cuts to the limits');
  });

  it('has the batch size bounds the core enforces', () => {
    const start = (maxBytes) => startCore(createCore(loaded), values({ ...CONFIG, maxBytes, compress: 0 }));
    assert.equal(start(abi.BATCH_MIN_CAP - 1), abi.ERR_CONFIG);
    assert.equal(start(abi.BATCH_MIN_CAP), abi.OK);
    assert.equal(start(abi.BATCH_HARD_CAP), abi.OK);
    assert.equal(start(abi.BATCH_HARD_CAP + 1), abi.ERR_CONFIG);
  });

  it('has the page flags and states the core understands', () => {
    const core = fresh();
    assert.equal(pageBegin(core, 0, 'pv', '/', abi.FLAG_WEBDRIVER | abi.FLAG_GPC | abi.FLAG_UNFOCUSED), abi.OK);
    assert.equal(elementAdd(core, 1, 'a', '', 0), abi.OK);
    assert.equal(elementObserve(core, 2, resultField(core, abi.R_SLOT), 1, 100), abi.OK);
    assert.equal(take(core, 3, 1), abi.OK);
    const batch = JSON.parse(takenBatch(core));
    assert.deepEqual([batch.wd, batch.gpc, batch.ev[0].f], [1, 1, 0]);
    for (const flag of [abi.FLAG_HIDDEN, abi.FLAG_PRERENDER]) {
      const c = fresh();
      pageBegin(c, 0, 'pv', '/', flag);
      elementAdd(c, 1, 'a', '', 0);
      elementObserve(c, 2, 0, 1, 100);
      assert.equal(take(c, 3, 1), abi.NONE, `no impression while the page starts with flag ${flag}`);
    }
    for (const state of [abi.PAGE_VISIBLE, abi.PAGE_HIDDEN, abi.PAGE_FROZEN, abi.PAGE_PRERENDER]) {
      assert.equal(pageState(core, 10, state), abi.OK);
    }
    assert.equal(pageState(core, 10, abi.PAGE_PRERENDER + 1), abi.ERR_ARG);
    pageState(core, 10, abi.PAGE_VISIBLE);
    for (const cover of [abi.COVER_CLEAR, abi.COVER_COVERED, abi.COVER_OUTSIDE]) assert.equal(elementCover(core, 11, 0, cover), abi.OK);
    assert.equal(elementCover(core, 11, 0, abi.COVER_OUTSIDE + 1), abi.ERR_ARG);
    assert.equal(activate(core, 12, 0, abi.ACT_KEY), abi.OK);
    assert.equal(activate(core, 12, 0, abi.ACT_SCRIPT), abi.NONE, 'the echo of the key press');
    assert.equal(activate(core, 12, 0, abi.ACT_CLICK), abi.OK);
    assert.equal(activate(core, 12, 0, abi.ACT_KEY + 1), abi.ERR_ARG);
  });
});

describe('abi.js matches the core: the records', () => {
  before(loadTheCore);

  it('writes each configuration field where the core reads it', () => {
    const bad = [0, 0, 0, 0, 0, -1, 0, -1, 0, 0, -1, 2, 0, 2, -1];
    const names = ['max_items', 'max_queue', 'queue_bytes', 'batch_events', 'batch_bytes', 'batch_age_ms', 'view_ratio',
      'view_ms', 'large_area', 'large_ratio', 'impression_ratio', 'compress', 'window_bits', 'occlusion', 'echo_ms'];
    assert.equal(abi.CONFIG_OFFSETS.length, bad.length);
    names.forEach((name, i) => {
      const core = createCore(loaded);
      const given = [];
      given[i] = bad[i];
      assert.equal(startCore(core, given), abi.ERR_CONFIG, name);
      assert.equal(configField(core), i + 1, `${name} is field ${i + 1}`);
    });
    const core = createCore(loaded);
    assert.equal(startCore(core, []), abi.OK, 'the defaults start');
    assert.deepEqual(core._config, [2048, 8192, 1048576, 200, 16384, 10000, 0.5, 1000, 242500, 0.3, 0, 1, 15, 0, 1000], 'the defaults of src/config.c');
  });

  it('options.js RULE_DEFAULTS (the thresholds before the core loads) are the core defaults', () => {
    const core = createCore(loaded);
    assert.equal(startCore(core, []), abi.OK);
    for (const [path, value] of Object.entries(RULE_DEFAULTS)) {
      assert.equal(value, core._config[CONFIG_OPTIONS.indexOf(path)], path);
    }
    assert.equal(Object.keys(RULE_DEFAULTS).length, 2);
  });

  it('reads each result field where the core writes it', () => {
    const core = fresh();
    assert.equal(abi.RESULT_BYTES, 64);
    for (const name of abi.RESULT_FIELDS) assert.equal(abi[`R_${name.toUpperCase()}`], abi.resultOffset(name), name);
    pageBegin(core, 0, 'pv', '/', 0);
    elementAdd(core, 0, 'a', '', 1);
    elementAdd(core, 0, 'b', '', 2);
    assert.equal(resultField(core, abi.R_SLOT), 1);
    assert.equal(resultField(core, abi.R_ELEMENT), 1, 'the second element handle');
    assert.equal(resultField(core, abi.R_ITEMS), 2);
    assert.equal(statusName(core, abi.ERR_SLOT), 'IMP_ERR_SLOT');
    assert.equal(resultField(core, abi.R_TEXT_BYTES), 'IMP_ERR_SLOT'.length, 'a status name in the text buffer');
    elementObserve(core, 10, 0, 1, 100);
    elementObserve(core, 10, 1, 1, 100);
    assert.equal(nextDeadline(core), 1010, 'the viewable deadline, a double at byte 0');
    assert.equal(resultField(core, abi.R_QUEUED_EVENTS), 2);
    assert.equal(resultField(core, abi.R_SEQ), 2);
    const queuedBytes = resultField(core, abi.R_QUEUED_BYTES);
    assert.ok(queuedBytes > 0);
    assert.equal(resultField(core, abi.R_READY), 0);
    reportDropped(core, 3);
    assert.equal(take(core, 20, 1), abi.OK);
    const body = takenBatch(core);
    assert.equal(resultField(core, abi.R_BATCH_EVENTS), 2);
    assert.equal(resultField(core, abi.R_BATCH_BYTES), Buffer.byteLength(body));
    assert.equal(JSON.parse(body).drop, 3);
    assert.equal(resultField(core, abi.R_QUEUED_EVENTS), 0);
    assert.equal(resultField(core, abi.R_EVENTS), 2, 'events queued since start');
    const full = fresh({ ...CONFIG, maxEvents: 1 });
    pageBegin(full, 0, 'pv', '/', 0);
    elementAdd(full, 0, 'a', '', 0);
    elementObserve(full, 1, 0, 1, 100);
    assert.equal(resultField(full, abi.R_READY), 1, 'one event fills a batch of one');
    const small = fresh({ ...CONFIG, queue: 1, maxEvents: 1 });
    pageBegin(small, 0, 'pv', '/', 0);
    elementAdd(small, 0, 'a', '', 0);
    elementAdd(small, 0, 'b', '', 0);
    elementObserve(small, 1, 0, 1, 100);
    elementObserve(small, 1, 1, 1, 100);
    assert.equal(resultField(small, abi.R_DROPPED), 1, 'a queue of one drops the older event');
  });
});

describe('outbox.js matches the outbox', () => {
  before(loadTheCore);
  // A core with one impression queued, and an outbox started with body cap, consent, flags.
  const startBoth = (consent = 1, flags = ob.OB_BEACON | ob.OB_ONLINE, bodyBytes = 4096) => {
    const core = fresh();
    const outbox = ob.createOutbox(loaded);
    outbox._configure(bodyBytes, consent, flags);
    const status = outbox._call(abi.X_OUTBOX_START, 0, 1.7e12, 'tab1');
    if (status === abi.OK) {
      pageBegin(core, 0, 'pv1', '/', 0);
      elementAdd(core, 1, 'gig-1', '', 0);
      elementObserve(core, 1, resultField(core, abi.R_ELEMENT), 1, 100);
    }
    return { core, outbox, status };
  };

  it('reads the action record where outbox.js says each field is', () => {
    const { outbox, status } = startBoth();
    assert.equal(status, abi.OK);
    assert.equal(outbox._call(abi.X_OUTBOX_NEXT, 2, 0.5), abi.NONE, 'one event is not due');
    assert.equal(outbox._call(abi.X_OUTBOX_FLUSH, 2), abi.OK);
    assert.equal(outbox._field(ob.A_HELD_EVENTS), 1);
    assert.equal(outbox._call(abi.X_OUTBOX_NEXT, 2, 0.5), abi.OK);
    assert.equal(outbox._field(ob.A_KIND), ob.ACT_FETCH);
    assert.equal(outbox._field(ob.A_EVENTS), 1);
    assert.equal(outbox._field(ob.A_INFLIGHT_EVENTS), 1, 'in flight');
    assert.ok(outbox._field(ob.A_BATCH) >= 1);
    const body = outbox._body();
    assert.equal(body.length, outbox._field(ob.A_BODY_BYTES));
    assert.deepEqual([body[0], body[1]], [0x1f, 0x8b], 'gzip');
    const ticket = outbox._field(ob.A_TICKET);
    assert.equal(outbox._call(abi.X_OUTBOX_RESPONSE, 3, ticket, 503, 7000, 0.5), abi.OK);
    assert.equal(outbox._field(ob.A_FAILURES), 1);
    assert.equal(outbox._field(ob.A_INFLIGHT_EVENTS), 0, 'answered');
    const action = new DataView(loaded.exports.memory.buffer, loaded.exports[abi.X_OUTBOX_ACTION_PTR](), ob.ACTION_BYTES);
    assert.equal(action.getFloat64(ob.A_RETRY_MS, true), 7000);
    assert.equal(outbox._deadline(), 1001, "the core's viewable timer is the first deadline");
    assert.equal(outbox._call(abi.X_OUTBOX_NEXT, 7003, 0.5), abi.OK);
    assert.equal(outbox._field(ob.A_KIND), ob.ACT_FETCH, 'the retry');
    assert.equal(outbox._field(ob.A_TICKET) === ticket, false, 'a new ticket');
    assert.equal(outbox._call(abi.X_OUTBOX_RESPONSE, 7004, outbox._field(ob.A_TICKET), 204, -1, 0.5), abi.OK);
    assert.equal(outbox._field(ob.A_DELIVERED), 1);
    assert.equal(outbox._field(ob.A_HELD_EVENTS), 1, 'the viewable impression, cut at 7003, waits');
    assert.equal(outbox._field(ob.A_FAILURES), 0);
  });

  it('writes the configuration record where outbox.js says each field is', () => {
    assert.equal(startBoth(1, ob.OB_BEACON, 4095).status, abi.ERR_CONFIG, 'body_bytes below 4096');
    assert.equal(startBoth(3).status, abi.ERR_CONFIG, 'consent 3');
    assert.equal(startBoth(1, 32).status, abi.ERR_CONFIG, 'an unknown flag');
    const { outbox } = startBoth(2);
    outbox._call(abi.X_OUTBOX_FLUSH, 2);
    outbox._call(abi.X_OUTBOX_NEXT, 2, 0.5);
    assert.equal(outbox._field(ob.A_PURGED), 1, 'consent denied: the event is purged');
    const stored = startBoth(1, ob.OB_STORAGE | ob.OB_ONLINE).outbox;
    assert.equal(stored._call(abi.X_OUTBOX_NEXT, 2, 0.5), abi.OK);
    assert.equal(stored._field(ob.A_KIND), ob.ACT_SCAN, 'with storage, a scan first');
    assert.equal(stored._call(abi.X_OUTBOX_FOUND, 2, 'q:1', 'not a record'), abi.OK);
    assert.equal(stored._field(ob.A_FOUND), ob.FOUND_REMOVE, 'an unreadable record is removed');
    assert.equal(stored._call(abi.X_OUTBOX_SCAN_DONE, 2), abi.OK);
  });
});
