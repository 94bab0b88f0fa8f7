// Build check for the core module: it must import nothing, export the ABI (every
// IMP_EXPORT of the headers, under its short name), and stay
// within its gzip size budget. Usage: node check-wasm.mjs <file.wasm> <gzip-budget-bytes>
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { exportPairs } from './named-exports.mjs';

const [file, budgetText] = process.argv.slice(2);
const bytes = readFileSync(file);
const module = new WebAssembly.Module(bytes);
const imports = WebAssembly.Module.imports(module);
const exports = WebAssembly.Module.exports(module).map((e) => e.name);
const gzip = gzipSync(bytes, { level: 9 }).length;
const budget = Number(budgetText);
const problems = [];
if (imports.length) problems.push(`imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
for (const [cName, name] of [['', '_initialize'], ['', 'memory'], ...exportPairs()]) {
  if (!exports.includes(name)) problems.push(`missing export ${name}${cName && ` (${cName})`}`);
}
if (gzip > budget) problems.push(`gzip size ${gzip} B is over the budget of ${budget} B`);
console.log(`# ${file}: ${bytes.length} B raw, ${gzip} B gzip (budget ${budget} B), ${imports.length} imports`);
if (problems.length) {
  console.error(`error: ${file}: ${problems.join('; ')}`);
  process.exit(1);
}
