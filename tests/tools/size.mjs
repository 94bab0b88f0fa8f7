// Prints the shipped sizes (raw, gzip -9, brotli -q 11) of the core and of each JS build,
// plus the glue without the delivery modules, so a change shows where the bytes went.
// With --modules it also prints what each glue module adds (the glue built again with
// that module's exports stubbed out; gzip is not additive, so the rows are estimates,
// and a module of constants the minifier folds, js/core/abi.js, shows a negative cost)
// and what the _x property mangling saves. With --check it fails when a layer is over
// its budget (the Makefile sets both): the module entry (minified, gzip) plus the core
// (gzip) over JS_GZIP_BUDGET, or the glue without delivery (minified, gzip) over
// GLUE_GZIP_BUDGET. The core's own budget is checked by `make wasm`.
// Usage: node tests/tools/size.mjs [--check] [--modules]   (`make size` builds what it measures)
import { existsSync, readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { bundleMinified } from './bundle.mjs';

const root = new URL('../../', import.meta.url);
const check = process.argv.includes('--check');
const budget = Number(process.env.JS_GZIP_BUDGET || 15360);
const glueBudget = Number(process.env.GLUE_GZIP_BUDGET || 5376);

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const measure = (bytes) => ({
  raw: bytes.length,
  gzip: gzip(bytes),
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

// A module replaced by one that exports the same names, each an unknown value (so the
// minifier cannot fold them away).
const stubOut = (isStubbed) => ({
  name: 'stub-out',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, ({ path }) => {
      if (!isStubbed(path)) return undefined;
      const names = [...readFileSync(path, 'utf8').matchAll(/^export\s+(?:async\s+)?(?:function|const|let|class)\s+([\w$]+)/gm)];
      return { contents: names.map(([, name]) => `export const ${name} = globalThis.stubbed;`).join('\n'), loader: 'js' };
    });
  },
});
// The glue alone: the module entry with js/delivery/ stubbed out, built as shipped.
const glueWithout = (isStubbed, mangleProperties) => bundleMinified({
  entry: 'js/index.js',
  plugins: [stubOut((path) => path.includes('/js/delivery/') || isStubbed(path))],
  mangleProperties,
});
const { code: glueOnly, inputs: glueModules } = await glueWithout(() => false);

const rows = [
  ['js/imp.wasm (core)', file('js/imp.wasm')],
  ['dist/index.min.js (module entry: glue + delivery)', file('dist/index.min.js')],
  ['  of which glue without delivery', Buffer.from(glueOnly)],
  ['dist/embedded.min.js (module entry, core inlined)', file('dist/embedded.min.js')],
  ['dist/impression-tracker.js (script tag, core inlined)', file('dist/impression-tracker.js')],
].map(([label, bytes]) => ({ label, ...measure(bytes) }));

const pad = (s, n) => String(s).padStart(n);
console.log(`# ${'file'.padEnd(56)} ${pad('raw', 7)} ${pad('gzip', 7)} ${pad('brotli', 7)}`);
for (const r of rows) console.log(`# ${r.label.padEnd(56)} ${pad(r.raw, 7)} ${pad(r.gzip, 7)} ${pad(r.brotli, 7)}`);

const [core, moduleEntry, glue, embedded, scriptTag] = rows;
const total = core.gzip + moduleEntry.gzip;
console.log(`# module entry + core, gzip: ${total} B, budget ${budget} B; glue without delivery ${glue.gzip} B, budget ${glueBudget} B (+ core: ${glue.gzip + core.gzip} B)`);
console.log(`# single file: embedded module ${embedded.gzip} B gzip, script tag ${scriptTag.gzip} B gzip`);
if (check && total > budget) {
  console.error(`error: module entry + core is ${total} B gzip, over the budget of ${budget} B (JS_GZIP_BUDGET)`);
  process.exit(1);
}
if (check && glue.gzip > glueBudget) {
  console.error(`error: the glue without delivery is ${glue.gzip} B gzip, over the budget of ${glueBudget} B (GLUE_GZIP_BUDGET)`);
  process.exit(1);
}

if (process.argv.includes('--modules')) {
  console.log(`# what each module adds to the glue without delivery (${glue.gzip} B gzip), with what only it imports`);
  console.log(`# ${'module'.padEnd(34)} ${pad('raw', 7)} ${pad('gzip', 7)}`);
  for (const path of glueModules.filter((p) => p.startsWith('js/') && !p.startsWith('js/delivery/') && p !== 'js/index.js')) {
    const { code: without } = await glueWithout((p) => p.endsWith(`/${path}`));
    console.log(`# ${path.padEnd(34)} ${pad(glueOnly.length - without.length, 7)} ${pad(glue.gzip - gzip(without), 7)}`);
  }
  const { code: unmangled } = await glueWithout(() => false, false);
  console.log(`# without the _x property mangling: ${gzip(unmangled)} B gzip (${gzip(unmangled) - glue.gzip} B more)`);
}
