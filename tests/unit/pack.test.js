// The npm package as a consumer gets it: `npm pack` (which runs prepack: make wasm glue),
// the tarball's file list, an install into a fresh project, imports of every entry
// point by its package name, a replay through the packaged core, the script-tag build
// imported in Node (silent), a bundle that imports the script-tag build for its effect
// (kept: "sideEffects"), and a TypeScript check of the packaged declarations resolved
// through "exports" (moduleResolution nodenext, node16 and bundler), the README's
// browser examples included.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('../../', import.meta.url).pathname;
const tsc = join(root, 'node_modules/.bin/tsc');
const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });

describe('npm package', () => {
  let files;
  let project;
  before(() => {
    const out = mkdtempSync(join(tmpdir(), 'imp-pack-'));
    // prepack's own output (make) comes first on stdout; the JSON report follows it.
    const report = npm(['pack', '--json', '--pack-destination', out], root);
    const [packed] = JSON.parse(report.slice(report.search(/^\[/m)));
    files = packed.files.map((f) => f.path).sort();
    project = mkdtempSync(join(tmpdir(), 'imp-consumer-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    npm(['install', '--offline', join(out, packed.filename)], project);
  });

  it('ships the module, its types, the core, the embedded core, the React binding and the script-tag build, and nothing else', () => {
    for (const f of ['js/index.js', 'js/index.d.ts', 'js/embedded.js', 'js/embedded.d.ts', 'js/imp.wasm', 'js/imp-embedded.js',
      'js/react.js', 'js/react.d.ts', 'js/debug.js', 'js/debug.d.ts', 'js/tracker/share.js', 'js/tracker/warn.js', 'js/page/page-view-check.js',
      'js/delivery/driver.js', 'js/debug/record.js', 'js/replay.js', 'js/payload.schema.json', 'dist/impression-tracker.js', 'package.json', 'README.md', 'LICENSE']) {
      assert.ok(files.includes(f), `missing ${f}`);
    }
    const stray = files.filter((f) => !/^(js\/((core|page|delivery|tracker|debug)\/)?[^/]+|dist\/impression-tracker\.js|package\.json|README\.md|LICENSE)$/.test(f));
    assert.deepEqual(stray, []);
    // The README's links into js/ (the schema, delivery and privacy in full) open in the package too.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\((js\/[^)#]+)/g)].map((m) => m[1]);
    assert.ok(linked.includes('js/README.md'));
    for (const f of linked) assert.ok(files.includes(f), `README links to ${f}, which is not in the package`);
  });

  it('imports by package name, degrades to a no-op without a DOM, and replays with the packaged core', () => {
    writeFileSync(join(project, 'main.js'), `
      import { readFileSync } from 'node:fs';
      import { createTracker } from 'impression-tracker';
      import { createTracker as createEmbedded } from 'impression-tracker/embedded';
      import { replay } from 'impression-tracker/replay';
      import { trackerDebug } from 'impression-tracker/debug';
      const errors = [];
      const tracker = await createTracker({ endpoint: '/c', onError: (e) => errors.push(e.message), debug: trackerDebug({ trace: true, onDelivery: () => {} }) });
      const embedded = await createEmbedded({ endpoint: '/c', onError: (e) => errors.push(e.message) });
      const wasm = readFileSync(new URL(import.meta.resolve('impression-tracker/imp.wasm')));
      const trace = 'start 8 8 4096 8 4096 0 0.5 1000 242500 0.3 0\\npage 0 0 pv /\\nelem 0 1 gig-1 -\\neobs 5 0 1 100\\ntake 6 1\\n';
      const out = new TextDecoder().decode(await replay(trace, wasm));
      await import('impression-tracker/script-tag');
      console.log(JSON.stringify({ active: [tracker.stats().active, embedded.stats().active], errors, out }));
    `);
    const run = spawnSync(process.execPath, ['main.js'], { cwd: project, encoding: 'utf8' });
    assert.equal(run.stderr, '', 'nothing on stderr (the script-tag build does nothing outside a browser)');
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.active, [false, false]);
    assert.equal(result.errors.length, 2);
    assert.match(result.errors[0], /IntersectionObserver or the DOM is missing/);
    assert.match(result.out, /^\{"v":1,"pv":"pv","path":"\/","at":6,"drop":0,"ev":\[\{"e":"imp","s":1,"t":5,"id":"gig-1","pos":1,"f":1\}\]\}\n~ gzip \d+ [0-9a-f]{8}\n$/);
  });

  it('keeps the script-tag build in a bundle that imports it for its effect (package.json "sideEffects")', async () => {
    writeFileSync(join(project, 'tag.js'), "import 'impression-tracker/script-tag';\n");
    const out = await build({ entryPoints: ['tag.js'], absWorkingDir: project, bundle: true, write: false, logLevel: 'silent' });
    assert.deepEqual(out.warnings.map((w) => w.text), []);
    assert.match(out.outputFiles[0].text, /impressionTracker/, 'the build that starts the tracker, not an empty bundle');
  });

  it('resolves the declarations through "exports" for a TypeScript consumer (moduleResolution nodenext, node16, bundler)', () => {
    writeFileSync(join(project, 'use.ts'), `
      import { createTracker, type TrackerOptions } from 'impression-tracker';
      import { createTracker as createEmbedded } from 'impression-tracker/embedded';
      import { replay } from 'impression-tracker/replay';
      import { trackerDebug } from 'impression-tracker/debug';
      const options: TrackerOptions = { endpoint: '/c', consent: 'pending', debug: trackerDebug({ trace: true, onEvent: (event) => console.log(event.e), onDelivery: (info) => console.log(info.kind) }) };
      export const started = Promise.all([createTracker(options), createEmbedded({ endpoint: '/c' }), replay('', new Uint8Array())]);
      export const sent: Promise<number> = started.then(([tracker]) => tracker.stats().transport?.sent ?? 0);
    `);
    // A page that uses the script-tag build's global.
    writeFileSync(join(project, 'page.ts'), `
      import type {} from 'impression-tracker/script-tag'; // as the README says
      export const consented: Promise<void> = impressionTracker.then((tracker) => tracker.setConsent(true));
      export const trace: Promise<string | undefined> = impressionTracker.then((tracker) => tracker.trace?.());
    `);
    // The README's browser examples as written, in TypeScript: the module build, observe(), the debug entry.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = (heading, nth = 0) => readme.slice(readme.indexOf(`\n${heading}\n`)).split('```js\n')[nth + 1].split('```')[0];
    writeFileSync(join(project, 'readme.ts'), `${block('## Use it (module build)')}
      declare const element: Element;
      ${block('## Use it (module build)', 1)}`);
    writeFileSync(join(project, 'readme-debug.ts'), `import { createTracker } from 'impression-tracker';
      ${block('### Debugging: `impression-tracker/debug`')}
      export { tracker };`);
    for (const [module, resolution] of [['nodenext', 'nodenext'], ['node16', 'node16'], ['esnext', 'bundler']]) {
      execFileSync(tsc, ['--strict', '--noEmit', '--module', module, '--moduleResolution', resolution, '--target', 'es2022', '--lib', 'es2022,dom', 'use.ts', 'page.ts', 'readme.ts', 'readme-debug.ts'], { cwd: project, encoding: 'utf8' });
    }
  });
});
