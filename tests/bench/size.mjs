// size.mjs: what each tracker costs in bytes to download. Every
// tracker is bundled and minified the same way, with esbuild (--bundle --minify
// --target=es2020, the flags of the glue's own build) from a small entry in
// tests/bench/entries/ that starts it as a page would, then measured raw, gzip
// (level 9) and brotli (quality 11). Ours is measured three ways: the module entry
// plus js/imp.wasm fetched beside it, the single-file module with the core inlined,
// and the script-tag build. The bundles are also written to tests/bench/results/
// bundles/ for the in-page benchmark, so the page runs exactly what was measured.
// The files `make glue` ships (dist/, minified its own way) are listed as well.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

export const measure = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length,
});

const add = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

async function bundle(options) {
  const result = await esbuild.build({
    bundle: true,
    minify: true,
    target: 'es2020',
    write: false,
    logLevel: 'warning',
    absWorkingDir: root,
    ...options,
  });
  return Buffer.from(result.outputFiles[0].contents);
}

/** The trackers the size table lists; `page` names the bundle the in-page bench loads. */
export const TRACKERS = [
  { name: 'ours (module + imp.wasm)', key: 'ours', entry: 'tests/bench/entries/ours.js', wasm: true, page: 'ours' },
  // Same bytes as ours (one option differs): bundled for the page, not listed in the size table.
  { name: 'ours, occlusion on', key: 'ours-occlusion', entry: 'tests/bench/entries/ours-occlusion.js', wasm: true, page: 'ours-occlusion', pageOnly: true },
  { name: 'ours, compress: false', key: 'ours-plain', entry: 'tests/bench/entries/ours-plain.js', wasm: true, page: 'ours-plain', pageOnly: true },
  { name: 'ours (single file, core inlined)', key: 'ours-embedded', entry: 'tests/bench/entries/ours-embedded.js' },
  { name: 'ours (script tag)', key: 'ours-script', stdin: 'import { startFromScriptTag } from "./js/script-tag.js"; startFromScriptTag();', format: 'iife' },
  { name: 'plain-JS baseline', key: 'baseline', entry: 'tests/bench/entries/baseline.js', page: 'baseline' },
  { name: 'Snowplow + element tracking', key: 'snowplow', entry: 'tests/bench/entries/snowplow.js', page: 'snowplow' },
  { name: 'search-insights (Algolia), with its IntersectionObserver', key: 'search-insights', entry: 'tests/bench/entries/search-insights.js', page: 'search-insights' },
];

/**
 * Bundles and measures every tracker; writes the page bundles to outDir.
 * @returns {Promise<Array<{name, key, js, wasm?, total}>>}
 */
export async function measureSizes(outDir = join(here, 'results', 'bundles')) {
  mkdirSync(outDir, { recursive: true });
  const wasmBytes = readFileSync(join(root, 'js', 'imp.wasm'));
  const wasm = measure(wasmBytes);
  writeFileSync(join(outDir, 'imp.wasm'), wasmBytes);
  const rows = [];
  for (const t of TRACKERS) {
    let code;
    try {
      code = t.stdin
        ? await bundle({ stdin: { contents: t.stdin, resolveDir: root, sourcefile: 'script-tag-entry.js' }, format: t.format })
        : await bundle({ entryPoints: [join(root, t.entry)], format: 'esm' });
    } catch (error) {
      rows.push({ name: t.name, key: t.key, error: String(error.message || error).split('\n')[0] });
      continue;
    }
    writeFileSync(join(outDir, `${t.key}.js`), code);
    // The same bundle not minified, for CPU profiles that name their functions.
    if (t.page) writeFileSync(join(outDir, `${t.key}.readable.js`), await bundle({ entryPoints: [join(root, t.entry)], format: 'esm', minify: false }));
    const js = measure(code);
    rows.push({ name: t.name, key: t.key, pageOnly: t.pageOnly, js, wasm: t.wasm ? wasm : undefined, total: t.wasm ? add(js, wasm) : js });
  }
  // What `make glue` ships (its own minifier settings), when it has been built.
  for (const [file, name, withWasm] of [
    ['dist/index.min.js', 'ours as shipped: dist/index.min.js + imp.wasm', true],
    ['dist/impression-tracker.js', 'ours as shipped: dist/impression-tracker.js (script tag)', false],
  ]) {
    let code;
    try {
      code = readFileSync(join(root, file));
    } catch {
      continue;
    }
    const js = measure(code);
    rows.push({ name, key: file, shipped: true, js, wasm: withWasm ? wasm : undefined, total: withWasm ? add(js, wasm) : js });
  }
  return { wasm, rows };
}

const kib = (n) => (n / 1024).toFixed(1);

export function sizeTable(sizes) {
  const lines = [
    '| tracker | JS min | JS gzip | JS brotli | .wasm gzip | .wasm brotli | total gzip | total brotli |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of sizes.rows.filter((row) => !row.pageOnly)) {
    if (r.error) {
      lines.push(`| ${r.name} | build failed: ${r.error} | | | | | | |`);
      continue;
    }
    const w = r.wasm;
    lines.push(`| ${r.name} | ${r.js.raw} B | ${r.js.gzip} B | ${r.js.brotli} B | ${w ? `${w.gzip} B` : '-'} | ${w ? `${w.brotli} B` : '-'} | **${r.total.gzip} B** (${kib(r.total.gzip)} KiB) | ${r.total.brotli} B |`);
  }
  lines.push(`\njs/imp.wasm alone: ${sizes.wasm.raw} B raw, ${sizes.wasm.gzip} B gzip, ${sizes.wasm.brotli} B brotli.`);
  return lines.join('\n');
}
