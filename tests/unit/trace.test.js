// The trace format both ways: the writer's escaping, the reader's number parsing (C's
// strtod rules), every golden trace of tests/replay/ and tests/replay/delivery/ replayed
// through the WASM build byte-identical to the native tool and to its .expected file,
// and differential runs of generated traces (valid calls, malformed lines, odd numbers
// and strings; tracking lines, then delivery's: sends, outcomes, storage, scans, tabs,
// reloads) through both replays.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatG15 } from '../../js/core/replay-outbox.js';
import { parseTraceNumber, traceBytes } from '../../js/core/trace.js';
import { noNativeReplay as noNative, replayNative as native, replayWasm as wasm } from './fakes/replay.js';

const GOLDEN = new URL('../../tests/replay/', import.meta.url).pathname;

describe('trace writer', () => {
  it('escapes what the format requires and nothing else', () => {
    const enc = (s) => traceBytes(new TextEncoder().encode(s));
    assert.equal(enc(''), '-');
    assert.equal(enc('-'), '%2D');
    assert.equal(enc('--'), '--');
    assert.equal(enc('gig-1'), 'gig-1');
    assert.equal(enc('a b%c\n'), 'a%20b%25c%0A');
    assert.equal(enc('é'), '%C3%A9');
    assert.equal(enc('\x7f~!'), '%7F~!');
  });

  it('writes every byte value as itself or as %XX (upper-case hex), as the format says', () => {
    for (let b = 0; b < 256; b++) {
      const escaped = b <= 0x20 || b >= 0x7f || b === 0x25;
      const expected = escaped ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
      assert.equal(traceBytes(Uint8Array.of(0x61, b)).slice(1), expected, `byte ${b}`);
    }
  });
});

describe('trace reader numbers follow strtod', () => {
  const cases = [
    ['0', 0], ['-0', -0], ['12.5', 12.5], ['.5', 0.5], ['5.', 5], ['+3', 3], ['1e3', 1000], ['1E-2', 0.01],
    ['1e400', Infinity], ['1e-400', 0], ['Infinity', Infinity], ['-inf', -Infinity], ['INFINITY', Infinity],
    ['0x10', 16], ['-0x1.8p1', -3], ['0X.8', 0.5],
    ['', undefined], [' 1', undefined], ['1 ', undefined], ['1\t', undefined], ['1e', undefined], ['0x', undefined],
    ['0b1', undefined], ['1_0', undefined], ['--1', undefined], ['infinit', undefined], ['0x1p', undefined],
  ];
  for (const [text, value] of cases) {
    it(`${JSON.stringify(text)} -> ${value}`, () => assert.equal(parseTraceNumber(text), value));
  }
  it('NaN spellings are numbers', () => {
    for (const text of ['NaN', 'nan', '-nan', 'nan(123)']) assert.ok(Number.isNaN(parseTraceNumber(text)), text);
  });
});

describe('trace deadlines are written as C\'s printf("%.15g")', () => {
  const cases = [
    [1e15, '1e+15'], [123456789012345.6, '123456789012346'], [0.0001, '0.0001'], [0.00001, '1e-05'], [-1, '-1'],
    [1 / 3, '0.333333333333333'], [2.5, '2.5'], [7200, '7200'], [9299.999999999998, '9300'], [5e-324, '4.94065645841247e-324'],
    [1.7976931348623157e308, '1.79769313486232e+308'], [999999999999999.9, '1e+15'], [0, '0'],
  ];
  for (const [value, text] of cases) it(`${value} -> ${text}`, () => assert.equal(formatG15(value), text));
});

describe('golden traces: WASM replay = native replay = .expected', () => {
  // Tracking traces, and delivery's (the outbox's scenarios) in delivery/.
  const goldens = [GOLDEN, join(GOLDEN, 'delivery')].flatMap((dir) => (existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.expected')).map((f) => [dir, f]) : []));
  it('there are golden traces, delivery\'s among them', { skip: !goldens.length && 'tests/replay/*.expected not written yet' }, () => {
    assert.ok(goldens.length > 0);
    assert.ok(goldens.some(([dir]) => dir.endsWith('delivery')));
  });
  for (const [dir, expectedFile] of goldens) {
    const base = expectedFile.replace(/\.expected$/, '');
    const traceFile = readdirSync(dir).find((f) => f !== expectedFile && f.startsWith(`${base}.`));
    it(dir.endsWith('delivery') ? `delivery/${base}` : base, { skip: (!traceFile && 'no trace beside it') || noNative }, async () => {
      const trace = readFileSync(join(dir, traceFile));
      const expected = readFileSync(join(dir, expectedFile));
      const fromWasm = await wasm(trace);
      assert.equal(fromWasm.toString('latin1'), native(trace).toString('latin1'), 'WASM and native replays differ');
      assert.equal(fromWasm.toString('latin1'), expected.toString('latin1'), 'replay differs from .expected');
    });
  }
});

// A deterministic generator (xorshift) for the generated traces, so a failure is
// reproducible: random() in [0, 1), pick(list).
function generator(seed) {
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  return { random, pick: (list) => list[Math.floor(random() * list.length)] };
}

describe('generated traces: WASM replay = native replay', { skip: noNative }, () => {
  const { random, pick } = generator(0x9e3779b9);
  const ODD_NUMBERS = ['-1', 'NaN', 'inf', '-0', '1e309', '0x1p4', '4294967296', '4294967297', '2147483648', '1.9999',
    '-4294967295', '', ' 2', '3x', '.', '+', '1e+', '0.30000000000000004', '5e-324', '65535', '65536'];
  const ODD_STRINGS = ['-', '%2D', '%zz', '%4', 'a%2', 'caf%C3%A9', '%00x', 'x'.repeat(130), 'y'.repeat(1100), '%FF%fe', 'ok', '\u00e9'];
  let t = 0;
  const num = (normal) => (random() < 0.08 ? pick(ODD_NUMBERS) : String(normal));
  const str = (normal) => (random() < 0.12 ? pick(ODD_STRINGS) : normal);
  const handle = () => num(Math.floor(random() * 6));
  const line = () => {
    t += Math.floor(random() * 700);
    const time = () => num(t + (random() < 0.1 ? -50 : 0));
    const kind = pick(['page', 'state', 'focus', 'end', 'item', 'elem', 'elem', 'unelem', 'eobs', 'eobs', 'eobs', 'cover', 'act', 'tick', 'take', 'take', 'drop', 'junk']);
    switch (kind) {
      case 'page': return `page ${time()} ${num(pick([0, 1, 2, 4, 8, 16, 31]))} ${str(`pv${Math.floor(random() * 3)}`)} ${str('/p')}`;
      case 'state': return `state ${time()} ${num(pick([0, 0, 1, 2, 3, 4]))}`;
      case 'focus': return `focus ${time()} ${num(pick([0, 1]))}`;
      case 'end': return `end ${time()}`;
      case 'item':
      case 'elem': return `${kind} ${time()} ${num(Math.floor(random() * 40))} ${str(`g${Math.floor(random() * 8)}`)} ${str(pick(['-', 'q1', 'q%202']))}`;
      case 'unelem': return `unelem ${time()} ${handle()}`;
      case 'eobs': return `eobs ${time()} ${handle()} ${num(pick([0, 0.25, 0.3, 0.5, 0.75, 1, 1.5]))} ${num(pick([100, 300000, 0, -1]))}`;
      case 'cover': return `cover ${time()} ${handle()} ${num(pick([0, 1, 1, 2, 3]))}`;
      case 'act': return `act ${time()} ${handle()} ${num(pick([0, 0, 1, 2, 3]))}`;
      case 'tick': return `tick ${time()}`;
      case 'take': return `take ${time()} ${num(pick([0, 1]))}`;
      case 'drop': return `drop ${num(Math.floor(random() * 5))}`;
      default: return pick(['', '   ', '# comment', 'take', 'take 1 0 0', 'tick  5', 'TICK 5', 'eobs 1 2', 'obs 1 0 1 100 0', 'tick 5\r', 'bogus 1', 'tick 5 ', '\ttick 5']);
    }
  };
  const seen = { batches: 0, errors: 0, parse: 0 };
  for (let run = 0; run < 12; run++) {
    it(`trace ${run + 1}`, async () => {
      t = 0;
      const lines = [pick([
        'start 8 16 4096 4 4096 3000 0.5 1000 242500 0.3 0',
        'start 4 4 4096 2 4096 500 0.5 200 1000 0.3 0.1',
        'start 2 8 8192 8 8192 0 1 0 1 1 0',
      ])];
      if (run === 0) lines.unshift('tick 1', 'start 0 1 1 1 1 1 1 1 1 1 1');
      for (let i = 0; i < 150; i++) lines.push(line());
      lines.push(`take ${t + 1} 1`, `take ${t + 2} 1`);
      const trace = `${lines.join('\n')}${run % 3 ? '\n' : ''}`;
      const fromWasm = await wasm(trace);
      const fromNative = native(trace);
      assert.equal(fromWasm.toString('latin1'), fromNative.toString('latin1'));
      const out = fromNative.toString('latin1');
      seen.batches += (out.match(/^\{/gm) || []).length;
      seen.errors += (out.match(/^! \d+ IMP_/gm) || []).length;
      seen.parse += (out.match(/^! \d+ PARSE/gm) || []).length;
      if (run === 0) assert.match(fromNative.toString(), /^! 1 IMP_ERR_STATE\n! 2 IMP_ERR_CONFIG\n/);
    });
  }
  it('the generated traces exercised batches, core errors and malformed lines', () => {
    assert.ok(seen.batches > 20 && seen.errors > 20 && seen.parse > 20, JSON.stringify(seen));
  });
  it('a NUL byte and raw non-ASCII bytes make a line malformed, in both', async () => {
    const trace = Buffer.concat([
      Buffer.from('start 8 16 4096 4 4096 3000 0.5 1000 242500 0.3 0\n# c\0mment\npage 0 0 pv /\nitem 1 0 caf'),
      Buffer.from([0xc3, 0xa9]),
      Buffer.from(' -\nelem 1 0 g -\neobs 2 0 1 100\ntake 3 1\n'),
    ]);
    const fromNative = native(trace);
    assert.equal((await wasm(trace)).toString('latin1'), fromNative.toString('latin1'));
    assert.match(fromNative.toString(), /^! 2 PARSE\n! 4 PARSE\n\{/);
  });
  it('a start line with fewer than its eleven numbers is malformed, in both', async () => {
    const trace = 'start 16 1024 262144\npage 0 0 pv /\nstart 16 1024 262144 50 16384 5000 0.5 1000 242500 0.3 0 1 15 0 1000 9\n';
    const fromWasm = (await wasm(trace)).toString('latin1');
    assert.equal(fromWasm, '! 1 PARSE\n! 2 IMP_ERR_STATE\n! 3 PARSE\n');
    assert.equal(fromWasm, native(trace).toString('latin1'));
  });
});

describe('generated delivery traces: WASM replay = native replay', { skip: noNative }, () => {
  const { random, pick } = generator(0x2545f491);
  const int = (n) => Math.floor(random() * n);
  const odd = (normal) => (random() < 0.05 ? pick(['-1', 'NaN', 'inf', '4294967297', '1.5', '', 'x']) : String(normal));
  const TABS = ['taba', 'tabb', 'tabc', 'x'.repeat(17), '-'];
  const KEYS = ['q:1700000000100:tabb:0', 'q:1700000000200:tabc:1', 'q:1:taba:0', 'q:x', 'k'.repeat(65), 'q%00x', 'q:%20'];
  const RECORD = 'I2%201700000000100%201700000030200%201%20tabb%0A{"v":1,"pv":"p0","path":"/s","at":1,"drop":0,"ev":[{"e":"imp","s":1,"t":1,"id":"g1","pos":1,"f":1}]}';
  let t = 0;
  const time = () => odd(t);
  // A scan as the recorder writes one: its steps, with records given in the lines.
  const scanSteps = () => [
    ...(random() < 0.5 ? [`tablive ${time()} ${pick(TABS)}`] : []),
    ...Array.from({ length: int(3) }, () => `found ${time()} ${pick(KEYS)} ${pick([RECORD, RECORD, 'junk', '-', '%zz'])}`),
    `scandone ${time()}`,
  ];
  const pageLoad = () => [
    pick(['start 16 64 8192 2 4096 5000 0.5 1000 242500 0.3 0', 'start 16 64 8192 1 4096 500 0.5 200 1000 0.3 0 0']),
    `page ${t} 0 p${int(3)} /s`,
    ...(random() < 0.4 ? [`obcfg ${pick(['max_batches', 'body_bytes', 'timeout_ms', 'lease_ms', 'flags', 'stored_events', 'bogus'])} ${odd(pick([1, 2, 8, 100, 4096, 31]))}`] : []),
    `outbox ${t} ${odd(1700000000000 + t)} ${random() < 0.1 ? pick(TABS) : pick(TABS.slice(0, 3))}`,
    `next ${t} 0.5`, // the first action: a scan of what earlier loads and other tabs stored
    ...(random() < 0.5 ? [`scan ${t}`] : scanSteps()),
    ...[0, 1, 2, 3].map((i) => `elem ${t} ${i + 1} g${int(12)} -`),
  ];
  const line = () => {
    t += int(900);
    switch (pick(['elem', 'eobs', 'eobs', 'eobs', 'state', 'next', 'next', 'next', 'fetched', 'fetched', 'beaconed', 'later', 'stored',
      'online', 'consent', 'live', 'dead', 'put', 'del', 'scan', 'steps', 'flush', 'auto', 'stats', 'storage', 'reload', 'junk'])) {
      case 'elem': return [`elem ${time()} ${int(30)} g${int(12)} -`];
      case 'eobs': return [`eobs ${time()} ${int(5)} ${pick([0, 0.6, 1, 1])} ${pick([100, 300000])}`];
      case 'state': return [`state ${time()} ${odd(pick([0, 0, 1, 2, 3]))}`];
      case 'next': return [`next ${time()} ${odd(pick([0, 0.25, 0.5, 0.999]))}`];
      case 'fetched': return [`fetched ${time()} ${odd(1 + int(8))} ${odd(pick([204, 200, 0, 408, 429, 500, 503, 400, 413, 999, 1000]))} ${odd(pick([-1, -1, 0, 1500, 7000]))} ${odd(pick([0, 0.5, 0.9]))}`];
      case 'beaconed': return [`beaconed ${time()} ${odd(1 + int(8))} ${odd(int(4))}`];
      case 'later': return [`later ${time()} ${odd(1 + int(8))} ${odd(int(3))}`];
      case 'stored': return [`stored ${time()} ${odd(1 + int(8))} ${odd(int(4))}`];
      case 'online': return [`online ${time()} ${odd(int(3))}`];
      case 'consent': return [`consent ${time()} ${odd(int(4))}`];
      case 'live':
      case 'dead': return [`${pick(['live', 'dead'])} ${pick(TABS)}`];
      case 'put': return [`put ${pick(KEYS)} ${pick([RECORD, RECORD, 'junk', '-', '%zz'])}`];
      case 'del': return [`del ${pick(KEYS)}`];
      case 'scan': return [`scan ${time()}`];
      case 'steps': return scanSteps();
      case 'flush': return [`flush ${time()}`];
      case 'auto': return [`auto ${time()} ${odd(0.5)} ${odd(pick([204, 503, 413]))} ${odd(int(3))} ${odd(int(3))}`];
      case 'stats': return ['stats'];
      case 'storage': return ['storage'];
      case 'reload': return pageLoad();
      default: return [pick(['next 1', 'outbox 1 2', 'put', 'del 1 2', 'live', 'auto 1 0 204 1', 'scan', 'fetched 1 1 204 -1', 'stats 1',
        'found 1 k', 'found 1 %zz v', 'tablive 1', 'flush', 'scandone 1 2'])];
    }
  };
  const seen = { fetch: 0, store: 0, scan: 0, verdicts: 0, idle: 0, errors: 0, parse: 0 };
  for (let run = 0; run < 10; run++) {
    it(`trace ${run + 1}`, async () => {
      t = 0;
      const lines = pageLoad();
      for (let i = 0; i < 200; i++) lines.push(...line());
      lines.push('stats', 'storage');
      const trace = `${lines.join('\n')}\n`;
      const fromNative = native(trace).toString('latin1');
      assert.equal((await wasm(trace)).toString('latin1'), fromNative);
      for (const [key, pattern] of Object.entries({
        fetch: /^> FETCH/gm, store: /^> STORE/gm, scan: /^> SCAN/gm, verdicts: /^~ (adopted|left|remove) /gm,
        idle: /^\. idle /gm, errors: /^! \d+ IMP_/gm, parse: /^! \d+ PARSE/gm,
      })) seen[key] += (fromNative.match(pattern) || []).length;
    });
  }
  it('the generated traces exercised sends, writes, scans, verdicts, idles, core errors and malformed lines', () => {
    assert.ok(Object.values(seen).every((n) => n > 5), JSON.stringify(seen));
  });
});
