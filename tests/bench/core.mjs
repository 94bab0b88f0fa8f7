// core.mjs: the core alone, native against WASM. It runs the workload of
// tests/bench/core_bench.c call for call through js/imp.wasm's raw exports in Node
// (the same xorshift32 observation stream, ticks at the core's deadlines, every ready
// batch taken), runs the native binary for the same sizes, checks that both produced
// the same batch bytes (checksum), and reports ns per observation, observations per
// second (process CPU time on both sides), the WASM/native ratio, state bytes per item near the
// viewport (slot, index, id heap, element) and the module's linear
// memory before and after the run. Batches stay plain JSON here (compress 0 on both
// sides): the encoder is timed on its own (runDeflateBench: one 200-event batch the core
// cut, compressed 2,000 times, MB/s of JSON, native and WASM, same gzip bytes). It
// measures; it asserts nothing about speed.
// CLI: node tests/bench/core.mjs [build/core_bench] [js/imp.wasm]

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { R_ELEMENT, RESULT_BYTES } from '../../js/core/abi.js';
import { writeConfig } from '../../js/core/config.js';
import { namedExports } from '../tools/named-exports.mjs';

const PAGE_VIEWS = 10;
// Process CPU time in ns (user + system), like CLOCK_PROCESS_CPUTIME_ID in core_bench.c:
// load from elsewhere on the machine does not count.
const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const CARD_AREA = 69600;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function ratioFor(r) {
  switch ((r >>> 8) & 7) {
    case 0: case 1: return 0;
    case 2: return 0.3;
    case 3: return 0.55;
    case 4: return 0.8;
    default: return 1;
  }
}

/** Instantiates the standalone module directly (it imports nothing); its exports under C names too. */
export function instantiateCore(wasmPath) {
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, {});
  const x = instance.exports;
  if (typeof x._initialize === 'function') x._initialize();
  return namedExports(x);
}

/** The raw exports as js/core/config.js takes them. */
const rawLoaded = (x) => ({ exports: x, memoryView: (ptr, n) => new Uint8Array(x.memory.buffer, ptr, n) });

const DEFLATE_EVENTS = 200;
const DEFLATE_REPEATS = 2000;

/** Mirrors deflate_batch() and deflate_bench() in core_bench.c through the wasm exports. */
function runDeflateWasm(x) {
  const encoder = new TextEncoder();
  const put = (at, s) => encoder.encodeInto(s, new Uint8Array(x.memory.buffer, x.imp_input_ptr() + at, 256)).written;
  const result32 = () => new Uint32Array(x.memory.buffer, x.imp_result_ptr(), RESULT_BYTES / 4);
  writeConfig(rawLoaded(x), [4096, 1024, 262144, 1000, 61440, 1e9, 0.5, 1000, 242500, 0.3, 0, 1, 15]);
  if (x.imp_start() !== 0) throw new Error('imp_start refused the deflate bench configuration');
  const pvLen = put(0, 'bench-deflate-3f2a9c8e1b7d');
  x.imp_page_begin(0, pvLen, put(pvLen, '/search'), 0);
  for (let i = 0; i < Math.floor(DEFLATE_EVENTS / 3); i++) {
    const idLen = put(0, `gig-${100000 + i * 7919}`);
    x.imp_element_add(i * 13, idLen, put(idLen, 'search-results'), i + 1);
    x.imp_element_observe(i * 13 + 1, result32()[R_ELEMENT / 4], 1, CARD_AREA);
  }
  x.imp_tick(5000);
  x.imp_page_state(6000, 1);
  x.imp_take_batch(6000, 1);
  const n = result32()[4];
  const start = cpuNs();
  for (let k = 0; k < DEFLATE_REPEATS; k++) x.imp_gzip_output(n);
  const ns = cpuNs() - start;
  const gzip = result32()[12];
  let hash = 2166136261;
  for (const b of new Uint8Array(x.memory.buffer, x.imp_wire_ptr(), gzip)) hash = Math.imul(hash ^ b, 16777619) >>> 0;
  return { json_bytes: n, gzip_bytes: gzip, hash, ns, mb_per_s: (n * DEFLATE_REPEATS) / ns * 1e3 };
}

/** The encoder's speed, native and WASM (runs interleaved), and whether both wrote the same gzip. */
export function runDeflateBench({ nativeBin, wasmPath, runs = 5 }) {
  const x = instantiateCore(wasmPath);
  const native = [];
  const wasm = [];
  for (let run = 0; run < runs; run++) {
    native.push(JSON.parse(execFileSync(nativeBin, ['deflate', '1'], { encoding: 'utf8' })));
    wasm.push(runDeflateWasm(x));
  }
  return {
    jsonBytes: wasm[0].json_bytes,
    gzipBytes: wasm[0].gzip_bytes,
    sameBytes: native.every((r) => r.hash === wasm[0].hash && r.gzip_bytes === wasm[0].gzip_bytes),
    nativeMBps: median(native.map((r) => r.mb_per_s)),
    wasmMBps: median(wasm.map((r) => r.mb_per_s)),
    runs,
  };
}

export function deflateTable(d, encoderGzipBytes) {
  return [
    '| batch | JSON bytes | gzip bytes | ratio | native MB/s | WASM MB/s | same bytes | encoder in the .wasm (gzip) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: |',
    `| ${DEFLATE_EVENTS} events, one page view | ${d.jsonBytes} | ${d.gzipBytes} | ${(d.jsonBytes / d.gzipBytes).toFixed(1)}x | ${d.nativeMBps.toFixed(1)} | ${d.wasmMBps.toFixed(1)} | ${d.sameBytes ? 'yes' : 'NO'} | ${encoderGzipBytes ?? 'n/a'} B |`,
  ].join('\n');
}

/** One run of the workload through the wasm exports; mirrors run_once() in core_bench.c. */
export function runWasmOnce(x, items, observations, withChecksum = false) {
  const memory = x.memory;
  const bytes = new Uint8Array(memory.buffer);
  const encoder = new TextEncoder();
  const inputPtr = x.imp_input_ptr();
  const outputPtr = x.imp_output_ptr();
  const resultPtr = x.imp_result_ptr();
  const result32 = new Uint32Array(memory.buffer, resultPtr, 14);
  const result64 = new Float64Array(memory.buffer, resultPtr, 1);
  const putText = (at, s) => encoder.encodeInto(s, bytes.subarray(inputPtr + at, inputPtr + 256)).written;
  // result record: double next_deadline, then ready, slot, batch_bytes, batch_events
  const READY = 2;
  const BATCH_BYTES = 4;
  const BATCH_EVENTS = 5;
  const tot = { batches: 0, events: 0, bytes: 0, checksum: 2166136261, ticks: 0 };
  const consume = () => {
    const n = result32[BATCH_BYTES];
    if (withChecksum) {
      let h = tot.checksum;
      for (let i = outputPtr, end = outputPtr + n; i < end; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
      tot.checksum = h;
    }
    tot.batches++;
    tot.events += result32[BATCH_EVENTS];
    tot.bytes += n;
  };
  const takeReady = (t) => {
    while (result32[READY] && x.imp_take_batch(t, 0) === 0) consume();
  };
  let rng = 0x9e3779b9;
  const nextRandom = () => {
    let v = rng;
    v ^= v << 13; v >>>= 0;
    v ^= v >>> 17;
    v ^= v << 5; v >>>= 0;
    rng = v;
    return v;
  };
  writeConfig(rawLoaded(x), [items, 1024, 262144, 50, 16384, 5000, 0.5, 1000, 242500, 0.3, 0, 0]);
  if (x.imp_start() !== 0) {
    throw new Error(`imp_start refused ${items} items`);
  }
  let t = 0;
  const perView = Math.floor(observations / PAGE_VIEWS);
  const t0 = cpuNs();
  let pvLen = putText(0, 'bench-0');
  x.imp_page_begin(t, pvLen, putText(pvLen, '/search'), 0);
  for (let i = 0; i < items; i++) {
    const idLen = putText(0, `gig-${i}`);
    if (x.imp_element_add(t, idLen, putText(idLen, 'q1'), i + 1) !== 0) throw new Error('register failed');
  }
  const t1 = cpuNs();
  const start = cpuNs();
  for (let k = 0; k < observations; k++) {
    if (k > 0 && k % perView === 0) {
      pvLen = putText(0, `bench-${k / perView}`);
      x.imp_page_begin(t, pvLen, putText(pvLen, '/search'), 0);
      takeReady(t);
    }
    const r = nextRandom();
    t += (r & 3) * 0.25;
    const deadline = result64[0];
    if (deadline >= 0 && t >= deadline) {
      x.imp_tick(t);
      tot.ticks++;
      takeReady(t);
    }
    x.imp_element_observe(t, (r >>> 16) % items, ratioFor(r), CARD_AREA);
    takeReady(t);
  }
  x.imp_page_end(t);
  while (x.imp_take_batch(t, 1) === 0) consume();
  const ns = cpuNs() - start;
  return { ns, registerNsPerItem: (t1 - t0) / items, ...tot };
}

function runNative(bin, items, observations, runs, withChecksum = false) {
  const out = execFileSync(bin, [String(items), String(observations), String(runs), withChecksum ? '1' : '0'], { encoding: 'utf8' });
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

/**
 * Runs native and WASM for each size; returns one record per size.
 * @param {{nativeBin: string, wasmPath: string, sizes?: number[], observations?: number, runs?: number}} o
 */
export function runCoreBench({ nativeBin, wasmPath, label = 'js/imp.wasm (shipped, -Oz)', sizes = [1000, 10000], observations = 1e6, runs = 5 }) {
  const x = instantiateCore(wasmPath);
  const memoryAtStart = x.memory.buffer.byteLength;
  const records = [];
  for (const items of sizes) {
    // Verification (untimed): both builds must cut the same batches, byte for byte.
    const checkNative = runNative(nativeBin, items, observations, 1, true)[0];
    const checkWasm = runWasmOnce(x, items, observations, true);
    const same = checkNative.checksum === checkWasm.checksum && checkNative.events === checkWasm.events
      && checkNative.bytes === checkWasm.bytes;
    const native = [];
    const wasm = [];
    // Interleaved, so that load from elsewhere on the machine hits both alike.
    for (let run = 0; run < runs; run++) {
      native.push(...runNative(nativeBin, items, observations, 1));
      wasm.push(runWasmOnce(x, items, observations));
    }
    const nativeNs = median(native.map((r) => r.ns_per_obs));
    const wasmNs = median(wasm.map((r) => r.ns / observations));
    records.push({
      wasmBuild: label,
      items,
      observations,
      runs,
      native: {
        nsPerObs: nativeNs,
        obsPerSec: 1e9 / nativeNs,
        registerNsPerItem: median(native.map((r) => r.register_ns_per_item)),
        runsNsPerObs: native.map((r) => r.ns_per_obs),
      },
      wasm: {
        nsPerObs: wasmNs,
        obsPerSec: 1e9 / wasmNs,
        registerNsPerItem: median(wasm.map((r) => r.registerNsPerItem)),
        runsNsPerObs: wasm.map((r) => r.ns / observations),
      },
      ratio: wasmNs / nativeNs,
      bestRatio: Math.min(...wasm.map((r) => r.ns / observations)) / Math.min(...native.map((r) => r.ns_per_obs)),
      identicalOutput: same,
      batches: checkWasm.batches,
      events: checkWasm.events,
      batchBytes: checkWasm.bytes,
      checksum: checkWasm.checksum,
      sizeofItem: native[0].sizeof_item,
      stateBytesPerItem: native[0].state_bytes_per_item,
      seenEntryBytes: native[0].seen_entry_bytes,
    });
  }
  const memoryAfter = x.memory.buffer.byteLength;
  return { records, memory: { atStart: memoryAtStart, afterRuns: memoryAfter, grew: memoryAfter !== memoryAtStart } };
}

export function coreTable(core) {
  const rows = [
    '| WASM build | items | native ns/obs | native obs/s | WASM ns/obs | WASM obs/s | WASM/native (best runs) | same batch bytes | state B/item |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: |',
  ];
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  for (const r of core.records) {
    rows.push(`| ${r.wasmBuild} | ${fmt(r.items)} | ${r.native.nsPerObs.toFixed(0)} | ${fmt(r.native.obsPerSec)} | ${r.wasm.nsPerObs.toFixed(0)} | ${fmt(r.wasm.obsPerSec)} | ${r.ratio.toFixed(2)}x (${r.bestRatio.toFixed(2)}x) | ${r.identicalOutput ? 'yes' : 'NO'} | ${r.stateBytesPerItem.toFixed(0)} |`);
  }
  return rows.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const [nativeBin = 'build/core_bench', wasmPath = 'js/imp.wasm'] = process.argv.slice(2);
  const core = runCoreBench({ nativeBin, wasmPath, label: wasmPath });
  console.log(coreTable(core));
  console.log(`linear memory: ${core.memory.atStart} B at start, ${core.memory.afterRuns} B after ${core.records.length * (core.records[0].runs + 1)} runs of 10^6 observations`);
  console.log(deflateTable(runDeflateBench({ nativeBin, wasmPath })));
}
