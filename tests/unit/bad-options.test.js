// Options a newcomer can get wrong, refused before the core starts: a number the core's
// configuration record cannot hold exactly (it would be truncated to another value), an
// endpoint that is not http(s), an option of another type than documented, and a core
// that never loads. Each gives a no-op tracker
// and one onError call naming the option, never an exception or a promise that hangs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERR_CONFIG, ERR_MEMORY } from '../../js/core/abi.js';
import { CONFIG_OPTIONS } from '../../js/tracker/options.js';
import { createTracker } from '../../js/index.js';
import { createPage, fakeNetwork, wasmBytes } from './fakes/dom.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';

/** The options object with `path` ('capacity.items') set to value. */
function withOption(path, value) {
  const [a, b] = path.split('.');
  return b ? { [a]: { [b]: value } } : { [a]: value };
}

/** The options as text, BigInt and NaN included. */
const label = (options) => JSON.stringify(options, (k, v) => (typeof v === 'bigint' || typeof v === 'number' ? String(v) : v)).slice(0, 80);

/** A no-op tracker and one onError call naming the option (a number: with status IMP_ERR_CONFIG). */
async function assertRefused(options, name) {
  const { tracker, errors } = await start(options);
  const what = `${name} given ${label(options)}`;
  assert.equal(tracker.stats().active, false, `${what}: a no-op tracker`);
  assert.equal(errors.length, 1, `${what}: one onError call`);
  if (name === 'endpoint') {
    assert.match(errors[0].message, /option endpoint is not an http\(s\) URL/, what);
    return;
  }
  assert.equal(errors[0].status, ERR_CONFIG, what);
  assert.ok(errors[0].message.includes(`returned IMP_ERR_CONFIG (option ${name})`), `${what}: names the option (${errors[0].message})`);
}

async function assertAccepted(options) {
  const { tracker, errors } = await start(options);
  assert.deepEqual(errors, [], JSON.stringify(options));
  assert.equal(tracker.stats().active, true, JSON.stringify(options));
  tracker.stop();
}

// Fields the record holds as uint32 (the rest are doubles but compress, a boolean: its
// type is checked before the core, below).
const WHOLE = new Set(['capacity.items', 'capacity.queue', 'capacity.queueBytes', 'batch.maxEvents', 'batch.maxBytes']);

describe('numeric options the configuration record cannot hold exactly', () => {
  it('refuses capacities above 2^32 that would wrap to a small table', async () => {
    await assertRefused({ capacity: { items: 2 ** 32 + 1 } }, 'capacity.items');
    await assertRefused({ capacity: { queueBytes: 2 ** 32 + 4096 } }, 'capacity.queueBytes');
  });

  it('refuses, for every numeric option, values that would reach the core as another number', async () => {
    for (const name of CONFIG_OPTIONS.filter((option) => option !== 'compress')) {
      const bad = WHOLE.has(name)
        ? [2 ** 32, 2 ** 32 + 1, -1, 1.5, 4096.5, NaN, Infinity, -Infinity, null, '8192', 10n, {}]
        : [NaN, Infinity, -Infinity, null, '0.5', '', 10n, {}];
      for (const value of bad) await assertRefused(withOption(name, value), name);
    }
  });

  it('still accepts every value the record holds exactly and the core allows', async () => {
    await assertAccepted({ capacity: { items: 1, queue: 200, queueBytes: 4096 } });
    await assertAccepted({ batch: { maxEvents: 1, maxBytes: 4096, maxAgeMs: 0.5 }, compress: false });
    await assertAccepted({ viewable: { ratio: 1, ms: 0, largeArea: 1e12, largeRatio: 0.01 }, impressionRatio: 1, compress: true });
  });
});

describe('the bounds README.md and index.d.ts give for each numeric option', () => {
  // [option, values accepted at the bound, values just past it]
  const BOUNDS = [
    ['viewable.ratio', [1, 1e-9], [0, 1.000001]],
    ['viewable.ms', [0], [-1e-9]],
    ['viewable.largeArea', [1e-9], [0]],
    ['viewable.largeRatio', [1, 1e-9], [0, 1.000001]],
    ['impressionRatio', [0, 1], [-1e-9, 1.000001]],
    ['batch.maxAgeMs', [0], [-1e-9]],
    ['capacity.items', [1, 22000], [0, 65536]],
    ['capacity.queue', [200, 65535], [65536]],
    ['capacity.queueBytes', [4096], [4095]],
  ];

  it('accepts each bound and refuses what lies past it', async () => {
    for (const [name, accepted, refused] of BOUNDS) {
      for (const value of accepted) await assertAccepted(withOption(name, value));
      for (const value of refused) await assertRefused(withOption(name, value), name);
    }
  });

  it('the capacities share the core\'s 4 MiB arena: past it, IMP_ERR_MEMORY', async () => {
    await assertAccepted({ capacity: { queueBytes: 3.5e6 } });
    for (const capacity of [{ items: 23000 }, { items: 65535 }, { queueBytes: 3.7e6 }]) {
      const { tracker, errors } = await start({ capacity });
      assert.equal(tracker.stats().active, false);
      assert.equal(errors[0].status, ERR_MEMORY, JSON.stringify(capacity));
      assert.match(errors[0].message, /IMP_ERR_MEMORY/);
    }
  });

  it('batch.maxEvents: 1 to capacity.queue', async () => {
    await assertAccepted({ batch: { maxEvents: 1 } });
    await assertAccepted({ batch: { maxEvents: 300 }, capacity: { queue: 300 } });
    await assertRefused({ batch: { maxEvents: 301 }, capacity: { queue: 300 } }, 'batch.maxEvents');
    await assertRefused({ batch: { maxEvents: 0 } }, 'batch.maxEvents');
  });
});

describe('endpoint', () => {
  it('refuses an endpoint that is not http(s) once resolved against the page', async () => {
    for (const endpoint of ['javascript:alert(1)', 'JavaScript:void 0', 'data:text/plain,x', 'ftp://collector.example/i',
      'file:///etc/passwd', 'mailto:a@b.example', '', ' ', 'http://[::1', 'https://', 42, null, {}]) {
      await assertRefused({ endpoint }, 'endpoint');
    }
  });

  it('accepts absolute and relative http(s) endpoints, and no endpoint at all', async () => {
    for (const endpoint of ['/collect', 'collect', '//collector.example/i', 'https://collector.example/i', 'HTTP://127.0.0.1:8080/c']) {
      await assertAccepted({ endpoint });
    }
  });

  it('refuses a missing endpoint, which would POST every batch to "undefined"', async () => {
    const { tracker, errors, transport } = await start({ endpoint: undefined });
    assert.equal(tracker.stats().active, false);
    assert.match(String(errors[0]), /option endpoint is missing/);
    assert.deepEqual(transport.calls, []);
  });

  it('refuses a relative endpoint when the page has no base URL to resolve it', async () => {
    const page = createPage();
    delete page.document.baseURI;
    const errors = [];
    const tracker = await createTracker({ endpoint: '/collect', wasm: wasmBytes(), onError: (e) => errors.push(e), env: { ...page.env, ...fakeNetwork().env } });
    assert.equal(tracker.stats().active, false);
    assert.match(String(errors[0]), /option endpoint/);
  });
});

describe('options outside their documented values', () => {
  it('refuses a consent or gpc value outside the documented set, naming the values', async () => {
    for (const [name, values] of [['consent', ['deny', 'Granted', 'yes', '']], ['gpc', ['on', 'denied', '']]]) {
      for (const value of values) {
        const { tracker, errors, transport } = await start({ [name]: value });
        assert.equal(tracker.stats().active, false, `${name}: ${value}`);
        assert.equal(errors.length, 1);
        assert.match(errors[0].message, new RegExp(`option ${name} is not one of [a-z-]+,[a-z-]+,[a-z-]+$`), String(errors[0]));
        assert.deepEqual(transport.calls, []);
      }
    }
  });

  it('refuses a debug option that trackerDebug() did not make, saying where it comes from', async () => {
    for (const debug of [{ trace: true }, { onEvent: () => {} }, []]) {
      const { tracker, errors } = await start({ debug });
      assert.equal(tracker.stats().active, false);
      assert.match(String(errors[0]), /option debug is not made by trackerDebug\(\)/);
    }
  });

  it('takes the default of every option given as undefined (a field of an unset config)', async () => {
    const options = {};
    for (const name of ['selector', 'idAttribute', 'positionAttribute', 'listAttribute', 'consent', 'gpc', 'storageKey', 'occlusion', 'compress']) {
      options[name] = undefined;
    }
    const { page, tracker, transport, errors } = await start({ ...options, page: { gpc: true } });
    const { cards } = addGrid(page, 2);
    await page.settle();
    for (const card of cards) page.intersect(card, 1);
    tracker.flush();
    assert.deepEqual(errors, []);
    assert.equal(tracker.stats().transport.storage, 'off (gpc)', 'gpc: memory-only');
    assert.deepEqual(transport.events.map((e) => [e.e, e.id, e.pos, e.list]), [['imp', 'gig-1', 1, 'q1'], ['imp', 'gig-2', 2, 'q1']]);
    tracker.stop();
  });
});

describe('options of another type than documented', () => {
  // Every documented option by the type index.d.ts gives it: s string, n number,
  // b boolean, f function, o object; w: the core's source (a string or an object).
  const TYPE_OF = {
    endpoint: 's', selector: 's', idAttribute: 's', positionAttribute: 's', listAttribute: 's', consent: 's', gpc: 's', storageKey: 's',
    viewable: 'o', 'viewable.ratio': 'n', 'viewable.ms': 'n', 'viewable.largeArea': 'n', 'viewable.largeRatio': 'n', impressionRatio: 'n',
    batch: 'o', 'batch.maxEvents': 'n', 'batch.maxBytes': 'n', 'batch.maxAgeMs': 'n', compress: 'b',
    capacity: 'o', 'capacity.items': 'n', 'capacity.queue': 'n', 'capacity.queueBytes': 'n',
    occlusion: 'b', onError: 'f', debug: 'o', wasm: 'w', env: 'o',
  };
  const TYPE_NAME = { s: 'string', n: 'number', b: 'boolean', f: 'function', o: 'object' };
  // Values of every other type; null too where it is no value (selector: null turns discovery off).
  const WRONG = {
    s: [5, true, false, {}, () => {}, null], n: [true, false, 5n, () => {}], b: [1, 0, 'true', '', {}, () => {}, null],
    f: ['onError', 1, true, {}], o: [5, 0, 'a', '', true, false, () => {}], w: [5, true, () => {}],
  };
  // What says so: the type check names the option and its type; the core's record
  // refuses the numbers (IMP_ERR_CONFIG); endpoint and wasm have their own refusals.
  const refusal = (name) => {
    if (TYPE_OF[name] === 'n') return `returned IMP_ERR_CONFIG (option ${name})`;
    if (name === 'endpoint') return 'option endpoint is not an http(s) URL';
    if (name === 'wasm') return 'impression-tracker: core: ';
    return `option ${name} is not of type ${TYPE_NAME[TYPE_OF[name]]}`;
  };

  /** A tracker started with `path` set to value: whether it is active, and what onError or the console got. */
  async function startWith(path, value) {
    const page = createPage();
    const said = [];
    const env = { ...page.env, ...fakeNetwork().env, console: { warn: (text) => said.push(text) } };
    const options = { endpoint: '/collect', wasm: wasmBytes(), onError: (error) => said.push(error.message), env, ...withOption(path, value) };
    const tracker = await createTracker(options);
    return { active: tracker.stats().active, said };
  }

  it('refuses each option given a value of another type: a no-op tracker and one error naming it', async () => {
    const refused = new Set();
    for (const [name, type] of Object.entries(TYPE_OF)) {
      for (const value of WRONG[type].filter((v) => v !== null || name !== 'selector')) {
        const { active, said } = await startWith(name, value);
        const what = `${name} given ${label({ value })}`;
        assert.equal(active, false, `${what}: a no-op tracker`);
        assert.equal(said.length, 1, `${what}: one error (${said})`);
        assert.ok(said[0].includes(refusal(name)), `${what}: ${said[0]}`);
        refused.add(name);
      }
    }
    assert.deepEqual([...refused].sort(), Object.keys(TYPE_OF).sort(), 'every option');
  });

  it('accepts a selector of null or \'\' (discovery off) and an object option given as null (its defaults)', async () => {
    for (const options of [{ selector: null }, { selector: '' }, { viewable: null, batch: null, capacity: null, debug: null }]) {
      await assertAccepted(options);
    }
  });
});

describe('a core that never loads', () => {
  /** Starts a tracker whose wasm option is `wasm`, with the fake page's clock and timers. */
  function startLoading(wasm, env = {}) {
    const page = createPage();
    const errors = [];
    let settled = null;
    const started = createTracker({ endpoint: '/collect', wasm, onError: (e) => errors.push(e), env: { ...page.env, ...fakeNetwork().env, ...env } });
    started.then((tracker) => { settled = tracker; });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    return { page, errors, started, get settled() { return settled; }, turn };
  }

  it('gives up after 10 s with a no-op tracker and onError when the wasm promise never settles', async () => {
    const run = startLoading(new Promise(() => {}));
    await run.turn();
    run.page.advance(9999);
    await run.turn();
    assert.equal(run.settled, null, 'still waiting before 10 s');
    assert.deepEqual(run.errors, []);
    run.page.advance(1);
    await run.turn();
    assert.ok(run.settled, 'createTracker resolved');
    assert.equal(run.settled.stats().active, false);
    assert.equal(run.errors.length, 1);
    assert.match(String(run.errors[0]), /core: not loaded after 10000 ms/);
    assert.doesNotThrow(() => run.settled.stop());
  });

  it('does not keep Node alive while waiting, and clears the timer once the core has loaded', async () => {
    const armed = [];
    const cleared = [];
    const page = createPage();
    const env = {
      setTimeout: (fn, ms) => {
        const id = page.env.setTimeout(fn, ms);
        const handle = { id, ms, unrefs: 0, unref() { this.unrefs++; return this; } };
        armed.push(handle);
        return handle;
      },
      clearTimeout: (handle) => {
        cleared.push(handle);
        page.env.clearTimeout(handle?.id);
      },
    };
    let resolve;
    const run = startLoading(new Promise((r) => { resolve = r; }), env);
    await run.turn();
    const load = armed.find((h) => h.ms === 10000);
    assert.ok(load, 'a 10 s timer guards the load');
    assert.equal(load.unrefs, 1, 'unref()ed: it never keeps Node alive');
    resolve(new Response(wasmBytes()));
    assert.equal((await run.started).stats().active, true, 'the core loaded in time');
    assert.ok(cleared.includes(load), 'the load timer is cleared when loading wins');
    run.page.advance(20000);
    assert.deepEqual(run.errors, [], 'no late timeout');
  });
});
