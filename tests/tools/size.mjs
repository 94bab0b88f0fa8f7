// Prints the shipped sizes (raw, gzip -9, brotli -q 11) of the core and of each JS build,
// so a change shows where the bytes went. With --check it fails when a layer is over its
// budget (the Makefile sets both): the module entry (minified, gzip) plus the core (gzip)
// over JS_GZIP_BUDGET, or the glue, the module entry alone, over GLUE_GZIP_BUDGET. The core's own budget is
// checked by `make wasm`.
// Usage: node tests/tools/size.mjs [--check]   (`make size` builds what it measures)
import { existsSync, readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('../../', import.meta.url);
const check = process.argv.includes('--check');
const budget = Number(process.env.JS_GZIP_BUDGET || 15360);
const glueBudget = Number(process.env.GLUE_GZIP_BUDGET || 5376);

const measure = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const file = (path) => {
  const url = new URL(path, root);
  if (!existsSync(url)) {
    console.error(`error: ${path} is missing: run \`make wasm glue\``);
    process.exit(1);
  }
  return readFileSync(url);
};

const rows = [
  ['js/imp.wasm (core)', file('js/imp.wasm')],
  ['dist/index.min.js (module entry: the glue)', file('dist/index.min.js')],
  ['dist/embedded.min.js (module entry, core inlined)', file('dist/embedded.min.js')],
  ['dist/impression-tracker.js (script tag, core inlined)', file('dist/impression-tracker.js')],
].map(([label, bytes]) => ({ label, ...measure(bytes) }));

const pad = (s, n) => String(s).padStart(n);
console.log(`# ${'file'.padEnd(56)} ${pad('raw', 7)} ${pad('gzip', 7)} ${pad('brotli', 7)}`);
for (const r of rows) console.log(`# ${r.label.padEnd(56)} ${pad(r.raw, 7)} ${pad(r.gzip, 7)} ${pad(r.brotli, 7)}`);

const [core, moduleEntry, embedded, scriptTag] = rows;
const glue = moduleEntry; // delivery is the outbox's (in the core): the glue is the module entry
const total = core.gzip + moduleEntry.gzip;
console.log(`# module entry + core, gzip: ${total} B, budget ${budget} B; glue ${glue.gzip} B, budget ${glueBudget} B`);
console.log(`# single file: embedded module ${embedded.gzip} B gzip, script tag ${scriptTag.gzip} B gzip`);
if (check && total > budget) {
  console.error(`error: module entry + core is ${total} B gzip, over the budget of ${budget} B (JS_GZIP_BUDGET)`);
  process.exit(1);
}
if (check && glue.gzip > glueBudget) {
  console.error(`error: the glue is ${glue.gzip} B gzip, over the budget of ${glueBudget} B (GLUE_GZIP_BUDGET)`);
  process.exit(1);
}
