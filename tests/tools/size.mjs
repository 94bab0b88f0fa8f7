// Prints the shipped sizes (raw, gzip -9, brotli -q 11) of the core and of each JS build,
// plus the module entry without the delivery modules, so a change shows where the bytes
// went. With --modules it also prints what each module adds to the module entry (built
// again with that module's exports stubbed out; gzip is not additive, so the rows are
// estimates, and a module of constants the minifier folds, js/core/abi.js, shows a
// negative cost) and what the _x property mangling saves. With --check it fails when a
// layer is over its budget (the Makefile sets both): the module entry, the glue
// (minified, gzip), over GLUE_GZIP_BUDGET, or the module entry plus the core (gzip) over
// JS_GZIP_BUDGET, or the script-tag build (the shipped single file, core inlined) over
// SCRIPT_TAG_GZIP_BUDGET; and when the module entry bundles the debug entry (js/debug.js),
// which only a tracker that asks for it ships. The core's own budget is checked by `make wasm`.
// Usage: node tests/tools/size.mjs [--check] [--modules]   (`make size` builds what it measures)
import { existsSync, readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { bundleMinified } from './bundle.mjs';

const root = new URL('../../', import.meta.url);
const check = process.argv.includes('--check');
// Without the Makefile's budgets: the targets, 10 KiB and 5 KiB.
const budget = Number(process.env.JS_GZIP_BUDGET || 10240);
const glueBudget = Number(process.env.GLUE_GZIP_BUDGET || 5120);
const scriptTagBudget = Number(process.env.SCRIPT_TAG_GZIP_BUDGET || Infinity);

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
// The module entry built as shipped, with the modules isStubbed(path) names stubbed out.
const entryWithout = (isStubbed, mangleProperties) => bundleMinified({
  entry: 'js/index.js', plugins: [stubOut(isStubbed)], mangleProperties,
});
const { code: entryCode, inputs: entryModules } = await entryWithout(() => false);
const { code: glueOnly } = await entryWithout((path) => path.includes('/js/delivery/'));

const rows = [
  ['js/imp.wasm (core)', file('js/imp.wasm')],
  ['dist/index.min.js (module entry: glue + delivery)', file('dist/index.min.js')],
  ['  of which without js/delivery/', Buffer.from(glueOnly)],
  ['dist/embedded.min.js (module entry, core inlined)', file('dist/embedded.min.js')],
  ['dist/impression-tracker.js (script tag, core inlined)', file('dist/impression-tracker.js')],
].map(([label, bytes]) => ({ label, ...measure(bytes) }));

const pad = (s, n) => String(s).padStart(n);
console.log(`# ${'file'.padEnd(56)} ${pad('raw', 7)} ${pad('gzip', 7)} ${pad('brotli', 7)}`);
for (const r of rows) console.log(`# ${r.label.padEnd(56)} ${pad(r.raw, 7)} ${pad(r.gzip, 7)} ${pad(r.brotli, 7)}`);

const [core, moduleEntry, , embedded, scriptTag] = rows;
const total = core.gzip + moduleEntry.gzip;
console.log(`# module entry (the glue), gzip: ${moduleEntry.gzip} B, budget ${glueBudget} B; + core: ${total} B, budget ${budget} B`);
console.log(`# single file: embedded module ${embedded.gzip} B gzip, script tag ${scriptTag.gzip} B gzip, budget ${scriptTagBudget} B`);
if (check && moduleEntry.gzip > glueBudget) {
  console.error(`error: the module entry is ${moduleEntry.gzip} B gzip, over the budget of ${glueBudget} B (GLUE_GZIP_BUDGET)`);
  process.exit(1);
}
if (check && total > budget) {
  console.error(`error: module entry + core is ${total} B gzip, over the budget of ${budget} B (JS_GZIP_BUDGET)`);
  process.exit(1);
}
if (check && scriptTag.gzip > scriptTagBudget) {
  console.error(`error: the script-tag build is ${scriptTag.gzip} B gzip, over the budget of ${scriptTagBudget} B (SCRIPT_TAG_GZIP_BUDGET)`);
  process.exit(1);
}
if (check && entryModules.includes('js/debug.js')) {
  console.error('error: the module entry bundles js/debug.js, the opt-in debug entry');
  process.exit(1);
}

if (process.argv.includes('--modules')) {
  const entryGzip = gzip(entryCode);
  console.log(`# what each module adds to the module entry (${entryGzip} B gzip), with what only it imports`);
  console.log(`# ${'module'.padEnd(34)} ${pad('raw', 7)} ${pad('gzip', 7)}`);
  for (const path of entryModules.filter((p) => p.startsWith('js/') && p !== 'js/index.js')) {
    const { code: without } = await entryWithout((p) => p.endsWith(`/${path}`));
    console.log(`# ${path.padEnd(34)} ${pad(entryCode.length - without.length, 7)} ${pad(entryGzip - gzip(without), 7)}`);
  }
  const { code: unmangled } = await entryWithout(() => false, false);
  console.log(`# without the _x property mangling: ${gzip(unmangled)} B gzip (${gzip(unmangled) - entryGzip} B more)`);
}
