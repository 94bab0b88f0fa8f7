// Makes groups of rows durable for the ClickHouse store: one INSERT per table into
// ClickHouse, or, when that fails, an fsync'd append to the local spool (spool.js), which
// is replayed in order in the background until ClickHouse takes it.
//
// Invariants:
// - deliver() resolves only once the group is in ClickHouse or in the spool.
// - While the spool holds records, new groups are appended behind them instead of being
//   inserted ahead of them; replays insert them in the order they were written.
// - A replayed record may already be in ClickHouse (an INSERT that timed out after
//   landing); the tables fold such copies, so replaying twice is harmless.

const REPLAY_RETRY_MS = 500;

/**
 * @param {{client: ReturnType<typeof import('./clickhouse-http.js').createClickHouseClient>,
 *          database: string, spool: Promise<Awaited<ReturnType<typeof import('./spool.js').openSpool>>>,
 *          schema: {ready(): Promise<void>}, log: (message: string) => void}} options
 */
export function createDelivery({ client, database, spool, schema, log }) {
  let replaying = null;
  let replayTimer = null;
  let closed = false;
  let outage = false;
  const stats = { inserted: 0, spooled: 0, replayedRecords: 0, insertMs: [] };

  async function insertRows(rows) {
    await schema.ready();
    const started = performance.now();
    await Promise.all([
      rows.events.length && client.insert(`${database}.events`, rows.events),
      rows.batches.length && client.insert(`${database}.batches`, rows.batches),
    ]);
    stats.insertMs.push(performance.now() - started);
    if (stats.insertMs.length > 10000) stats.insertMs.splice(0, 5000);
  }

  /** Logs the start and the end of an outage once each. */
  function noteOutage(now, message) {
    if (now && !outage) log(`clickhouse store: spooling: ${message}`);
    if (!now && outage) log('clickhouse store: ClickHouse reachable again');
    outage = now;
  }

  async function replay() {
    const opened = await spool;
    try {
      stats.replayedRecords += await opened.drain((records) => insertRows({
        events: records.flatMap((r) => r.events), batches: records.flatMap((r) => r.batches) }));
      noteOutage(false);
    } catch (error) {
      noteOutage(true, error.message); // still unreachable: replayNow schedules the next try
    }
  }

  function replayNow() {
    clearTimeout(replayTimer);
    replayTimer = null;
    replaying ??= replay().finally(async () => {
      replaying = null;
      if ((await spool).pending()) scheduleReplay();
    });
    return replaying;
  }

  function scheduleReplay(delayMs = REPLAY_RETRY_MS) {
    if (replaying || replayTimer || closed) return;
    replayTimer = setTimeout(replayNow, delayMs);
  }

  return {
    stats,
    /** Makes one group ({events, batches}) durable; resolves to 'clickhouse' or 'spool'. */
    async deliver(rows) {
      const opened = await spool;
      if (!opened.pending()) {
        try {
          await insertRows(rows);
          stats.inserted++;
          noteOutage(false);
          return 'clickhouse';
        } catch (error) {
          noteOutage(true, error.message);
        }
      }
      await opened.append({ events: rows.events, batches: rows.batches });
      stats.spooled++;
      scheduleReplay();
      return 'spool';
    },
    /** Replays what an earlier process left in the spool. */
    start() {
      spool.then((opened) => { if (opened.pending()) scheduleReplay(0); }, () => {});
    },
    /** Replays until the spool is empty (retrying every REPLAY_RETRY_MS). */
    async drained() {
      const opened = await spool;
      while (opened.pending()) {
        await replayNow();
        if (opened.pending()) await new Promise((resolve) => setTimeout(resolve, REPLAY_RETRY_MS));
      }
    },
    async close() {
      closed = true;
      clearTimeout(replayTimer);
      await replaying;
    },
  };
}
