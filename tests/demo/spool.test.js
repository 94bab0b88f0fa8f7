// The collector's spool (demo/spool.js): records come back in the order written, a line
// cut short by a crash is dropped, a failed send keeps its records for the next drain, a
// record appended while draining is never lost, and one process at a time owns a file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, appendFileSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSpool } from '../../demo/spool.js';

async function withSpoolFile(run) {
  const dir = mkdtempSync(join(tmpdir(), 'spool-'));
  try {
    await run(join(dir, 'collector.spool'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Drains into an array, each send getting one chunk of records. */
async function drainAll(spool) {
  const got = [];
  await spool.drain(async (records) => { got.push(...records); });
  return got;
}

test('records come back in order and the file is emptied once drained', async () => {
  await withSpoolFile(async (path) => {
    const spool = await openSpool(path);
    for (let i = 0; i < 50; i++) await spool.append({ i, text: 'é'.repeat(i) });
    assert.equal(spool.pending(), true);
    assert.deepEqual((await drainAll(spool)).map((r) => r.i), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(spool.pending(), false);
    assert.equal(statSync(path).size, 0);
    await spool.close();
  });
});

test('a line cut short by a crash is dropped; the complete ones survive a reopen', async () => {
  await withSpoolFile(async (path) => {
    const spool = await openSpool(path);
    await spool.append({ i: 1 });
    await spool.append({ i: 2 });
    await spool.close();
    appendFileSync(path, '{"i":3, "half'); // the write that was never acknowledged
    const reopened = await openSpool(path);
    await reopened.append({ i: 4 });
    assert.deepEqual((await drainAll(reopened)).map((r) => r.i), [1, 2, 4]);
    await reopened.close();
  });
});

test('a failed send keeps its records, and a record appended during a drain is not lost', async () => {
  await withSpoolFile(async (path) => {
    const spool = await openSpool(path);
    await spool.append({ i: 1 });
    await spool.append({ i: 2 });
    await assert.rejects(spool.drain(async () => { throw new Error('database away'); }), /database away/);
    assert.equal(spool.pending(), true);
    const got = [];
    await spool.drain(async (records) => {
      got.push(...records);
      if (got.length === 2) await spool.append({ i: 3 }); // arrives while the spool drains
    });
    got.push(...(await drainAll(spool)));
    assert.deepEqual(got.map((r) => r.i), [1, 2, 3]);
    assert.equal(readFileSync(path, 'utf8'), '');
    await spool.close();
  });
});

test('a spool owned by a live process is refused; one left by a dead process is taken over', async () => {
  await withSpoolFile(async (path) => {
    writeFileSync(`${path}.lock`, String(process.ppid));
    await assert.rejects(openSpool(path), /in use by process \d+; give each collector its own spool file/);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${path}.lock`, String(dead));
    writeFileSync(path, '{"i":1}\n');
    const spool = await openSpool(path);
    assert.deepEqual(await drainAll(spool), [{ i: 1 }]);
    assert.equal(readFileSync(`${path}.lock`, 'utf8'), String(process.pid));
    await spool.close();
  });
});
