// The two replays of a trace, for the tests that compare them: the native tool
// (build/replay, made by `make replay`) and the WASM one (js/core/trace.js through the
// real js/imp.wasm, a fresh instance per replay), and the requests a replay asks for.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCore } from '../../../js/core/loader.js';
import { isTrackingLine, replayTrace } from '../../../js/core/trace.js';
import { wasmBytes } from './dom.js';

const REPLAY = new URL('../../../build/replay', import.meta.url).pathname;

/** A skip reason for node:test when the native tool is not built, else false. */
export const noNativeReplay = !existsSync(REPLAY) && 'build/replay is missing (make replay)';

/** The native tool's output for a trace (string or bytes), as a Buffer. */
export function replayNative(trace) {
  const dir = mkdtempSync(join(tmpdir(), 'imp-replay-'));
  writeFileSync(join(dir, 'trace.txt'), trace);
  return execFileSync(REPLAY, [join(dir, 'trace.txt')]);
}

/** The WASM replay's output for a trace, as a Buffer. */
export const replayWasm = async (trace) => Buffer.from(replayTrace(await loadCore(wasmBytes()), trace));

/** The JSON bodies of the FETCH and BEACON actions a replay's output shows, in order. */
export const replayedSends = (output) => String(output).split('\n')
  .filter((line) => /^> (FETCH|BEACON) /.test(line)).map((line) => line.slice(line.indexOf(' {') + 1));

/** A recorded trace without delivery's lines: its header, then tracking's calls one after the other. */
export const trackingTrace = (trace) => trace.split('\n')
  .filter((line) => line[0] === '#' || isTrackingLine(line.split(' ')[0])).join('\n');
