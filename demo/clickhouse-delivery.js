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
  /** The delivery's record: its ClickHouse side, its spool and the replay in flight. */
  const delivery = {
    client, database, spool, schema, log,
    replaying: null, replayTimer: null, closed: false, outage: false,
    stats: { inserted: 0, spooled: 0, replayedRecords: 0, insertMs: [] },
  };
  return {
    stats: delivery.stats,
    /** Makes one group ({events, batches}) durable; resolves to 'clickhouse' or 'spool'. */
    deliver: (rows) => deliver(delivery, rows),
    /** Replays what an earlier process left in the spool. */
    start() {
      spool.then((opened) => { if (opened.pending()) scheduleReplay(delivery, 0); }, () => {});
    },
    /** Replays until the spool is empty (retrying every REPLAY_RETRY_MS). */
    async drained() {
      const opened = await spool;
      while (opened.pending()) {
        await replayNow(delivery);
        if (opened.pending()) await new Promise((resolve) => setTimeout(resolve, REPLAY_RETRY_MS));
      }
    },
    async close() {
      delivery.closed = true;
      clearTimeout(delivery.replayTimer);
      await delivery.replaying;
    },
  };
}

async function deliver(delivery, rows) {
  const opened = await delivery.spool;
  if (!opened.pending()) {
    try {
      await insertRows(delivery, rows);
      delivery.stats.inserted++;
      noteOutage(delivery, false);
      return 'clickhouse';
    } catch (error) {
      noteOutage(delivery, true, error.message);
    }
  }
  await opened.append({ events: rows.events, batches: rows.batches });
  delivery.stats.spooled++;
  scheduleReplay(delivery);
  return 'spool';
}

async function insertRows({ client, database, schema, stats }, rows) {
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
function noteOutage(delivery, now, message) {
  if (now && !delivery.outage) delivery.log(`clickhouse store: spooling: ${message}`);
  if (!now && delivery.outage) delivery.log('clickhouse store: ClickHouse reachable again');
  delivery.outage = now;
}

async function replay(delivery) {
  const opened = await delivery.spool;
  try {
    delivery.stats.replayedRecords += await opened.drain((records) => insertRows(delivery, {
      events: records.flatMap((r) => r.events), batches: records.flatMap((r) => r.batches) }));
    noteOutage(delivery, false);
  } catch (error) {
    noteOutage(delivery, true, error.message); // still unreachable: replayNow schedules the next try
  }
}

function replayNow(delivery) {
  clearTimeout(delivery.replayTimer);
  delivery.replayTimer = null;
  delivery.replaying ??= replay(delivery).finally(async () => {
    delivery.replaying = null;
    if ((await delivery.spool).pending()) scheduleReplay(delivery);
  });
  return delivery.replaying;
}

function scheduleReplay(delivery, delayMs = REPLAY_RETRY_MS) {
  if (delivery.replaying || delivery.replayTimer || delivery.closed) return;
  delivery.replayTimer = setTimeout(() => replayNow(delivery), delayMs);
}
