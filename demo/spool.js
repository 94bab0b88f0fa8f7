// A local append-only spool: records (JSON values) that could not reach the database
// yet, one per line, each fsync'd before append() resolves, so a caller may acknowledge
// a record as soon as append() returns. drain() hands the records back in the order
// they were written and empties the file once every record has been taken.
//
// Invariants:
// - Only complete lines count. A line cut short by a crash was never acknowledged (its
//   fsync had not returned); opening the spool cuts it off.
// - Appends and the final truncation are serialised, so truncation never drops a record
//   appended while the spool was draining.
// - One process per spool file: a lock file holds the owner's pid; a lock whose process
//   is gone (killed) is taken over, with its records.
// - Records between the last successful send and a crash are sent again after restart:
//   the reader of the spool must accept a record twice.

import { open, readFile, writeFile, unlink } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Opens (creating) the spool at `path`. Resolves to {append, drain, pending, size, close}. */
export async function openSpool(path) {
  mkdirSync(dirname(path), { recursive: true });
  const lockPath = `${path}.lock`;
  await takeLock(lockPath);
  const file = await open(path, 'a+');
  let size = await cutTornTail(file);
  let sent = 0; // bytes of complete records already handed to drain()'s sender
  let mutations = Promise.resolve();

  /** Runs `change` after every earlier append or truncation has finished. */
  function serialised(change) {
    const next = mutations.then(change);
    mutations = next.catch(() => {});
    return next;
  }

  function append(record) {
    const line = Buffer.from(JSON.stringify(record) + '\n');
    return serialised(async () => {
      await file.write(line, 0, line.length, null);
      await file.sync();
      size += line.length;
    });
  }

  /**
   * Hands every record to `send(records)` in order, a few MB at a time; stops at the first
   * rejection (the records stay for the next drain). Resolves to the records sent.
   */
  async function drain(send) {
    let count = 0;
    while (sent < size) {
      const { records, bytes } = await readRecords(file, sent, Math.min(size - sent, READ_CHUNK_BYTES), size - sent);
      await send(records);
      sent += bytes;
      count += records.length;
    }
    await serialised(async () => {
      if (sent !== size) return;
      await file.truncate(0);
      size = 0;
      sent = 0;
    });
    return count;
  }

  async function close() {
    await mutations;
    await file.close();
    await unlink(lockPath).catch(() => {});
  }

  return { append, drain, close, pending: () => size > sent, size: () => size - sent };
}

/**
 * Reads the whole lines in the `length` bytes from `offset`; if none ends there, reads
 * further (up to `available` bytes, which end on a line) until one does.
 */
async function readRecords(file, offset, length, available) {
  for (;;) {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, offset);
    const end = buffer.lastIndexOf(0x0a, bytesRead - 1);
    if (end >= 0) {
      const lines = buffer.subarray(0, end + 1).toString('utf8').split('\n');
      const records = lines.filter((line) => line !== '').map((line) => JSON.parse(line));
      return { records, bytes: end + 1 };
    }
    if (length >= available) throw new Error('spool: no complete record where one was expected');
    length = Math.min(available, length * 2);
  }
}

/** Cuts a last line without its newline (a write cut short); returns the new size. */
async function cutTornTail(file) {
  const { size } = await file.stat();
  if (size === 0) return 0;
  const tail = Buffer.alloc(Math.min(size, READ_CHUNK_BYTES));
  let position = size;
  while (position > 0) {
    const length = Math.min(position, tail.length);
    position -= length;
    await file.read(tail, 0, length, position);
    const newline = tail.subarray(0, length).lastIndexOf(0x0a);
    if (newline >= 0) {
      const keep = position + newline + 1;
      if (keep !== size) await file.truncate(keep);
      return keep;
    }
  }
  await file.truncate(0);
  return 0;
}

async function takeLock(lockPath) {
  try {
    await writeFile(lockPath, String(process.pid), { flag: 'wx' });
    return;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
    throw new Error(`spool ${lockPath.slice(0, -5)} is in use by process ${owner}; give each collector its own spool file`);
  }
  await writeFile(lockPath, String(process.pid));
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}
