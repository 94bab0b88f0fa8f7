// The reachability graph wasm-metadce needs to keep only the given exports of a module
// (emcc also exports stackSave, stackRestore, stackAlloc and the function table, which
// the glue never uses). Usage: node wasm-roots.mjs <export>... > graph.json
const roots = process.argv.slice(2).map((name) => ({ name: `export:${name}`, export: name, root: true }));
process.stdout.write(`${JSON.stringify(roots)}\n`);
