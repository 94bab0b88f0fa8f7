// doc-links.test.js: every relative link in the project's Markdown files points at a file
// that exists, and a link with a #fragment at a heading of that file (its GitHub anchor:
// lower case, punctuation dropped, spaces as hyphens, -1, -2... for a repeated heading).
// Links inside fenced code blocks and inline code are text, not links; http(s) and
// mailto links are not followed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SKIPPED_DIRS = new Set(['.git', 'node_modules', 'build', 'dist']);

/** Every *.md file under `dir`, outside generated and installed folders. */
function markdownFiles(dir = root) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) found.push(...markdownFiles(join(dir, entry.name)));
    else if (entry.isFile() && entry.name.endsWith('.md')) found.push(join(dir, entry.name));
  }
  return found;
}

const FENCED = /^[ \t]*(```|~~~)[^]*?^[ \t]*\1[^\n]*$/gm;
const onlyLineBreaks = (text) => text.replace(/[^\n]/g, '');

/** The text without fenced code blocks and inline code spans, line breaks kept. */
function proseOf(markdown) {
  return markdown.replace(FENCED, onlyLineBreaks).replace(/(`+)[^`]*?\1/g, onlyLineBreaks);
}

/** GitHub's anchor of a heading's text. */
function slug(heading) {
  return heading.trim().toLowerCase()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings, repeated ones numbered as GitHub does. */
function anchorsOf(file) {
  const anchors = new Set();
  const seen = new Map();
  const text = readFileSync(file, 'utf8').replace(FENCED, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading.replace(/`/g, ''));
    const count = seen.get(base) ?? 0;
    anchors.add(count ? `${base}-${count}` : base);
    seen.set(base, count + 1);
  }
  return anchors;
}

/** The relative links of a Markdown file: { target, fragment, line }. */
function relativeLinks(file) {
  const links = [];
  proseOf(readFileSync(file, 'utf8')).split('\n').forEach((text, index) => {
    for (const [, target] of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [path, fragment] = target.split('#');
      links.push({ path: decodeURIComponent(path), fragment, line: index + 1 });
    }
  });
  return links;
}

describe('relative links in the Markdown files', () => {
  const files = markdownFiles();

  it('finds the READMEs', () => {
    const names = files.map((file) => relative(root, file));
    for (const name of ['README.md', 'src/README.md', 'js/README.md', 'tests/README.md', 'demo/README.md']) {
      assert.ok(names.includes(name), `${name} not found`);
    }
  });

  for (const file of files) {
    it(`${relative(root, file)}: every link resolves`, () => {
      const broken = [];
      for (const { path, fragment, line } of relativeLinks(file)) {
        const target = path ? join(dirname(file), path) : file;
        const where = `${relative(root, file)}:${line} -> ${path}${fragment === undefined ? '' : `#${fragment}`}`;
        if (!existsSync(target)) { broken.push(`${where} (no such file)`); continue; }
        if (fragment === undefined || !statSync(target).isFile() || !target.endsWith('.md')) continue;
        if (!anchorsOf(target).has(fragment)) broken.push(`${where} (no such heading)`);
      }
      assert.deepEqual(broken, []);
    });
  }

  it('reads a heading as GitHub does', () => {
    assert.equal(slug('When to call newPageView()'), 'when-to-call-newpageview');
    assert.equal(slug('Measured (make bench-store)'), 'measured-make-bench-store');
    assert.equal(slug('The C core: state machine'), 'the-c-core-state-machine');
  });
});
