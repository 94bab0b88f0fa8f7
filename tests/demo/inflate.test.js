// The collector and gzip bodies (demo/inflate.js): a gzip batch is recognised by its
// magic bytes, inflated and stored like the same batch as JSON text; a decompression
// bomb gets 413 and a truncated or corrupt gzip body 400, and neither stores anything.
// Each test starts its own collector on 127.0.0.1:0. demo/README.md's Python reader for other
// collectors (run with python3, which emcc needs anyway) refuses the same bodies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { listenCollector, MAX_BODY_BYTES } from '../../demo/collector.js';
import { decodeBody, isGzip } from '../../demo/inflate.js';

const batch = (pv = 'pv-z') => JSON.stringify({ v: 1, pv, path: '/search', at: 900, drop: 0, ev: [
  { e: 'imp', s: 1, t: 120, id: 'gig-1', pos: 1, list: 'q1', f: 1 },
  { e: 'view', s: 2, t: 1120, id: 'gig-1', pos: 1, list: 'q1' },
] });

async function withCollector(run) {
  const started = await listenCollector({});
  try {
    await run(started);
  } finally {
    await started.close();
  }
}

const post = async (url, body) => {
  const res = await fetch(`${url}/collect`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body });
  return { status: res.status, body: await res.json() };
};
const storedEvents = async (url) => (await (await fetch(`${url}/api/totals`)).json());

test('a gzip batch is stored like the same batch as text; both are accepted', async () => {
  await withCollector(async ({ url, collector }) => {
    const zipped = await post(url, gzipSync(batch('pv-gz')));
    assert.equal(zipped.status, 200);
    assert.deepEqual(zipped.body, { stored: 2, duplicates: 0 });
    const plain = await post(url, batch('pv-text'));
    assert.deepEqual(plain.body, { stored: 2, duplicates: 0 });
    const again = await post(url, gzipSync(batch('pv-gz')));
    assert.deepEqual(again.body, { stored: 0, duplicates: 2 }, 'dedup works across encodings');
    assert.equal(collector.counters.gzip, 2);
    const rows = [...collector.store.exportRows()];
    assert.deepEqual(rows.map((r) => r.pv).sort(), ['pv-gz', 'pv-gz', 'pv-text', 'pv-text']);
  });
});

test('a decompression bomb gets 413 and stores nothing', async () => {
  await withCollector(async ({ url, collector }) => {
    // 10 MB of spaces after a valid start: about 10 KB compressed.
    const bomb = gzipSync(Buffer.concat([Buffer.from(batch().slice(0, -1)), Buffer.alloc(10 << 20, 0x20), Buffer.from('}')]));
    assert.ok(bomb.length < MAX_BODY_BYTES);
    const res = await post(url, bomb);
    assert.equal(res.status, 413);
    assert.match(res.body.error, /inflates to more than/);
    assert.equal([...collector.store.exportRows()].length, 0);
    assert.equal((await storedEvents(url)).collector.rejected['413'], 1);
  });
});

test('a truncated or corrupt gzip body gets 400 and stores nothing', async () => {
  await withCollector(async ({ url, collector }) => {
    const whole = gzipSync(batch());
    for (const body of [whole.subarray(0, whole.length - 9), whole.subarray(0, 12), Buffer.from([0x1f, 0x8b, 1, 2, 3]),
      Buffer.concat([whole, Buffer.from('garbage')])]) {
      const res = await post(url, body);
      assert.equal(res.status, 400, `${body.length} bytes`);
      assert.match(res.body.error, /unreadable gzip body/);
    }
    const flipped = Buffer.from(whole);
    flipped[flipped.length - 6] ^= 0xff; // the CRC-32 no longer matches
    assert.equal((await post(url, flipped)).status, 400);
    assert.equal([...collector.store.exportRows()].length, 0);
  });
});

test('inflated bodies get the same checks as text: JSON, schema', async () => {
  await withCollector(async ({ url, collector }) => {
    assert.equal((await post(url, gzipSync('{"v":1,'))).status, 400);
    assert.equal((await post(url, gzipSync('{"v":1,"pv":"x","ev":[]}'))).status, 422);
    assert.equal([...collector.store.exportRows()].length, 0);
  });
});

test('decodeBody: magic bytes, the cap is inclusive', () => {
  assert.equal(isGzip(Buffer.from('{"v":1}')), false);
  assert.equal(isGzip(gzipSync('x')), true);
  const text = Buffer.from('{"v":1}');
  assert.equal(decodeBody(text, 10).bytes, text);
  assert.equal(decodeBody(gzipSync(Buffer.alloc(100)), 100).bytes.length, 100);
  assert.equal(decodeBody(gzipSync(Buffer.alloc(101)), 100).status, 413);
});

/** demo/README.md's Python code under "Reading a batch in Python", dedented. */
function readmePythonReader() {
  const readme = readFileSync(new URL('../../demo/README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n### Reading a batch in Python\n'));
  const block = /```python\n([^]*?)```/.exec(section)[1];
  const indent = /^ */.exec(block)[0].length;
  return block.split('\n').map((line) => line.slice(indent)).join('\n');
}

test('demo/README\'s Python reader: 413 past 64 KiB, 400 truncated or corrupt, like the collector', () => {
  const whole = gzipSync(batch());
  const corrupt = Buffer.from(whole);
  corrupt[corrupt.length - 6] ^= 0xff; // the CRC-32 no longer matches
  const cases = [
    ['text', Buffer.from(batch()), 'ok'],
    ['gzip', whole, 'ok'],
    ['64 KiB exactly', gzipSync(JSON.stringify('a'.repeat(MAX_BODY_BYTES - 2))), 'ok'],
    ['bomb', gzipSync(Buffer.alloc(10 << 20, 0x20)), '413'],
    ['trailer cut', whole.subarray(0, whole.length - 4), '400'],
    ['half', whole.subarray(0, whole.length >> 1), '400'],
    ['corrupt', corrupt, '400'],
    ['bytes after the member', Buffer.concat([whole, Buffer.from('garbage')]), '400'],
  ];
  const driver = `${readmePythonReader()}
import sys
for hex in sys.stdin.read().split():
    try:
        read_batch(bytes.fromhex(hex)); print("ok")
    except Exception as error:
        print("413" if str(error) == "too large" else "400")
`;
  const input = cases.map(([, body]) => body.toString('hex')).join('\n');
  const answers = execFileSync('python3', ['-c', driver], { input, encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(answers, cases.map(([, , want]) => want), cases.map(([name]) => name).join(', '));
});
