// The trace format both ways: the writer's escaping, the reader's number parsing (C's
// strtod rules), every golden trace of tests/replay/ replayed through the WASM build
// byte-identical to the native tool and to its .expected file, and a differential run
// of generated traces (valid calls, malformed lines, odd numbers and strings) through
// both replays.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCore } from '../../js/core/loader.js';
import { parseTraceNumber, replayTrace, traceBytes } from '../../js/core/trace.js';
import { wasmBytes } from './fakes/dom.js';

const REPLAY = new URL('../../build/replay', import.meta.url).pathname;
const GOLDEN = new URL('../../tests/replay/', import.meta.url).pathname;
const noNative = !existsSync(REPLAY) && 'build/replay is missing (make replay)';

const native = (trace) => {
  const dir = mkdtempSync(join(tmpdir(), 'imp-replay-'));
  writeFileSync(join(dir, 'trace.txt'), trace);
  return execFileSync(REPLAY, [join(dir, 'trace.txt')]);
};
// A fresh instance per replay: a trace starts from a core that was never started.
const wasm = async (trace) => Buffer.from(replayTrace(await loadCore(wasmBytes()), trace));

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

describe('golden traces: WASM replay = native replay = .expected', () => {
  const goldens = existsSync(GOLDEN) ? readdirSync(GOLDEN).filter((f) => f.endsWith('.expected')) : [];
  it('there are golden traces', { skip: !goldens.length && 'tests/replay/*.expected not written yet' }, () => {
    assert.ok(goldens.length > 0);
  });
  for (const expectedFile of goldens) {
    const base = expectedFile.replace(/\.expected$/, '');
    const traceFile = readdirSync(GOLDEN).find((f) => f !== expectedFile && f.startsWith(`${base}.`));
    it(base, { skip: (!traceFile && 'no trace beside it') || noNative }, async () => {
      const trace = readFileSync(join(GOLDEN, traceFile));
      const expected = readFileSync(join(GOLDEN, expectedFile));
      const fromWasm = await wasm(trace);
      assert.equal(fromWasm.toString('latin1'), native(trace).toString('latin1'), 'WASM and native replays differ');
      assert.equal(fromWasm.toString('latin1'), expected.toString('latin1'), 'replay differs from .expected');
    });
  }
});

describe('generated traces: WASM replay = native replay', { skip: noNative }, () => {
  // Deterministic generator (xorshift), so a failure is reproducible.
  let seed = 0x9e3779b9;
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const pick = (list) => list[Math.floor(random() * list.length)];
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
});
