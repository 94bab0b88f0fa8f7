// The NDJSON export: every stored event, one JSON object per line, streamed to the client
// with backpressure. It owns the line format and the pace: it writes until the socket's
// buffer is full, then waits for it to drain (a slow reader costs the server one buffer,
// not the whole export), and gives other requests a turn every page of rows so beacons
// are answered while exports run. Times are ISO 8601, or null for a stored value that is
// not a date (old rows, other writers).

/** Rows written between two turns given to other requests. */
const ROWS_PER_TURN = 256;
const MAX_DATE_MS = 8.64e15; // the largest time a Date can hold

/** `ms` as an ISO 8601 string, or null when it is not a time a Date can hold. */
export function isoTime(ms) {
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS
    ? new Date(ms).toISOString() : null;
}

/** One export line for a stored row. */
export function exportLine(row) {
  return JSON.stringify({ ...row, ts: isoTime(row.ts), received: isoTime(row.received) }) + '\n';
}

/**
 * Streams `rows` (an iterator of stored events, sync or async, so any store can feed it)
 * to `res` as NDJSON. Resolves when the export is complete or the client has gone away.
 * Rejects only when the store fails before the first row, with nothing written (the
 * caller can still answer with an error); a failure after that cuts the response.
 * @param {Iterator<object> | AsyncIterator<object>} rows
 * @param {import('node:http').ServerResponse} res
 */
export async function streamExport(rows, res) {
  let next;
  try {
    next = await rows.next();
  } catch (error) {
    await rows.return?.();
    throw error;
  }
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' });
  try {
    let sinceTurn = 0;
    for (; !next.done; next = await rows.next()) {
      if (res.destroyed) return;
      if (!res.write(exportLine(next.value))) await drained(res);
      else if (++sinceTurn >= ROWS_PER_TURN) {
        sinceTurn = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    res.end();
  } catch {
    res.destroy(); // a storage error mid-stream: the client sees a cut, not a complete export
  } finally {
    await rows.return?.();
  }
}

/** Resolves when `res` can take more, or is closed. */
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
