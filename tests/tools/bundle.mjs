// How every shipped JS build is made, in one place: `make glue` runs it as a command and
// tests/tools/size.mjs imports it, so what is measured is what ships. esbuild bundles and
// simplifies the syntax (--minify-syntax), then terser minifies with five compress
// passes. Each step was measured on the module entry (gzip -9): esbuild's syntax pass
// first saves about 100 B, terser's passes about 500 B against esbuild's own --minify
// (five instead of three about 15 B), inlining only simple functions (inline: 1; the
// default 3 folds small functions into their callers, where gzip finds fewer repeats)
// about 20 B, and unsafe_arrows (function expressions that use no `this` become arrows;
// the glue never uses a function expression's prototype or `new` on one) about 15 B,
// and hoist_funs (function declarations moved to the top of their scope, where the
// language puts them anyway; the functions then sit together, and gzip finds more
// repeats) 32 B.
// Not used: unsafe (about 10 B: String(x) becomes x + '', which reads valueOf first and
// throws on a symbol), unsafe_comps (about 20 B: a <= b becomes !(a > b), wrong for NaN,
// and entry times and ratios can be NaN), booleans_as_integers (about 20 B: the public
// stats() would say 0 for false), pure_getters (4 B: a read of a getter whose value is
// unused would go, and env's localStorage is a getter that may throw); toplevel,
// ecma 2022 and more than five passes change nothing (module: true already mangles the
// top level).
// Properties named _x are the glue's internals (never public API or payload) and are
// shortened by esbuild (mangleProps), which gives the most used the shortest names and
// never a name another property of the bundle has: 38 B gzip less than terser's
// property mangling, which names them in order of appearance (`make size` prints what
// the convention saves). The one wasm export of that form, _initialize, is reserved by
// name.
// The single-file builds' inlined core (js/imp-embedded.js, base64 of gzip bytes) goes to
// the head of the bundle, as the first statement: gzip then codes it in blocks of its own
// instead of blocks shared with the glue's text, about 1 KB less than where terser
// inlines it (where it is used, in the middle).
// Usage: node tests/tools/bundle.mjs ENTRY OUT [--iife]   (ENTRY "-": the source on stdin)
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { minify } from 'terser';

export const TERSER_OPTIONS = {
  ecma: 2020,
  compress: { passes: 5, unsafe_arrows: true, inline: 1, hoist_funs: true },
};

/**
 * Bundles and minifies one entry.
 * @param {{entry?: string, contents?: string, iife?: boolean, plugins?: object[], mangleProperties?: boolean}} what
 *   an entry file, or the entry's source (resolved from the current folder); plugins
 *   for esbuild (size.mjs stubs modules out); mangleProperties false measures the _x convention
 * @returns {Promise<{code: string, inputs: string[]}>} the minified code and the files bundled
 */
export async function bundleMinified({ entry, contents, iife = false, plugins = [], mangleProperties = true }) {
  const built = await esbuild.build({
    ...(entry ? { entryPoints: [entry] } : { stdin: { contents, resolveDir: process.cwd(), sourcefile: 'entry.js' } }),
    bundle: true, format: iife ? 'iife' : 'esm', target: 'es2020', minifySyntax: true,
    write: false, logLevel: 'warning', plugins, metafile: true,
    ...(mangleProperties && { mangleProps: /^_/, reserveProps: /^_initialize$/ }),
  });
  const options = { ...TERSER_OPTIONS, module: !iife };
  const { code } = await minify(built.outputFiles[0].text, options);
  return { code: coreFirst(code, iife), inputs: Object.keys(built.metafile.inputs) };
}

const IIFE_HEAD = '(()=>{';
const CORE_NAME = '$inlinedCore';

// The inlined core's string literal (the one base64 run of 4 KB or more), moved to a
// declaration at the head (inside the IIFE's function, so a script tag adds no global).
function coreFirst(code, iife) {
  const literal = code.match(/(["'`])[A-Za-z0-9+/]{4096,}={0,2}\1/)?.[0];
  if (!literal) return code;
  if (code.includes(CORE_NAME) || (iife && !code.startsWith(IIFE_HEAD))) {
    throw new Error(`bundle: cannot move the inlined core to the head (${CORE_NAME} in use, or not an arrow IIFE)`);
  }
  const declaration = `var ${CORE_NAME}=${literal};`;
  const rest = code.replace(literal, () => CORE_NAME);
  return iife ? IIFE_HEAD + declaration + rest.slice(IIFE_HEAD.length) : declaration + rest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [entry, out] = process.argv.slice(2);
  const iife = process.argv.includes('--iife');
  const { code } = entry === '-'
    ? await bundleMinified({ contents: readFileSync(0, 'utf8'), iife })
    : await bundleMinified({ entry, iife });
  writeFileSync(out, code);
}
