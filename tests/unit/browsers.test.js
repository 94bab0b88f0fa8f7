// browsers.test.js: the published JavaScript runs in the browsers README's "Limits" names
// (Chrome and Edge 80+, Firefox 79+, Safari 15+). Every published .js file parses as
// ES2020, the syntax those browsers share (a later form such as `||=` is a SyntaxError
// in Chrome 80 to 84, which would break the host page's module graph at import, where
// the tracker cannot even say why), and uses none of the newer built-ins listed below.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// The package's "files" that are JavaScript: js/*.js and the folders under js/ as
// modules, the script-tag build as a classic script.
function publishedScripts() {
  const { files } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const scripts = [];
  for (const pattern of files.filter((f) => f.endsWith('.js'))) {
    const dir = join(root, dirname(pattern));
    const names = pattern.includes('*') ? readdirSync(dir).filter((n) => n.endsWith('.js')) : [pattern.split('/').pop()];
    for (const name of names) scripts.push({ file: join(dir, name), module: !pattern.startsWith('dist/') });
  }
  return scripts;
}

// Built-ins newer than those browsers, by the first version of Chrome / Safari with them.
const NEWER_BUILT_INS = [
  [/\bObject\.hasOwn\(/, 'Object.hasOwn (Chrome 93, Safari 15.4)'],
  [/\.at\(-?\d/, 'Array.prototype.at (Chrome 92, Safari 15.4)'],
  [/\.replaceAll\(/, 'String.prototype.replaceAll (Chrome 85)'],
  [/\.findLast(Index)?\(/, 'Array.prototype.findLast (Chrome 97, Safari 15.4)'],
  [/\bPromise\.any\(/, 'Promise.any (Chrome 85)'],
  [/\bWeakRef\b|\bFinalizationRegistry\b/, 'WeakRef (Chrome 84, Safari 14.1)'],
  [/\bstructuredClone\(/, 'structuredClone (Chrome 98, Safari 15.4)'],
  [/\.to(Sorted|Reversed|Spliced)\(/, 'change-array-by-copy (Chrome 110, Safari 16)'],
];

describe('the published JavaScript and the browsers README names', () => {
  const scripts = publishedScripts();

  it('finds the entries, the internals and the script-tag build', () => {
    const names = scripts.map((s) => relative(root, s.file));
    for (const name of ['js/index.js', 'js/core/loader.js', 'js/page/observer.js', 'js/delivery/driver.js', 'dist/impression-tracker.js'])
      assert.ok(names.includes(name), `${name} among ${names.length} files`);
  });

  it('every file parses as ES2020', () => {
    const failures = [];
    for (const { file, module } of scripts) {
      try {
        parse(readFileSync(file, 'utf8'), { ecmaVersion: 2020, sourceType: module ? 'module' : 'script' });
      } catch (error) {
        failures.push(`${relative(root, file)}: ${error.message}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('a later form is refused by this check', () => {
    assert.throws(() => parse('let a; a ||= 1;', { ecmaVersion: 2020 }), SyntaxError);
  });

  it('no file uses a built-in newer than those browsers', () => {
    const uses = [];
    for (const { file } of scripts) {
      const text = readFileSync(file, 'utf8');
      for (const [pattern, what] of NEWER_BUILT_INS) if (pattern.test(text)) uses.push(`${relative(root, file)}: ${what}`);
    }
    assert.deepEqual(uses, []);
  });
});
