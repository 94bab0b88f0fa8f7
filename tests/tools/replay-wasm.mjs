#!/usr/bin/env node
// The WASM twin of build/replay: replays a trace (file argument, or stdin) through
// js/imp.wasm with js/core/trace.js and prints exactly what the native tool prints.
// Usage: tests/tools/replay-wasm.mjs trace.txt
//        bash tests/replay/check.sh tests/tools/replay-wasm.mjs   (golden traces, WASM build)
import { readFileSync } from 'node:fs';
import { loadCore } from '../../js/core/loader.js';
import { replayTrace } from '../../js/core/trace.js';

const args = process.argv.slice(2);
if (args.length > 1) {
  console.error('usage: replay-wasm.mjs [trace-file]   (reads stdin without a file)');
  process.exit(2);
}
let trace;
try {
  trace = readFileSync(args.length && args[0] !== '-' ? args[0] : 0);
} catch (error) {
  console.error(`replay-wasm: ${error.message}`);
  process.exit(2);
}
const core = await loadCore(readFileSync(new URL('../../js/imp.wasm', import.meta.url)));
process.stdout.write(replayTrace(core, trace));
