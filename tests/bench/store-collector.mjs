// One collector process for `make bench-store`: `node tests/bench/store-collector.mjs STORE`
// listens on a free 127.0.0.1 port with the rate limit and the connection cap per client
// lifted (the load comes from one address), prints {"url": ...} as a JSON line, and on SIGTERM closes the store (flushing
// what it holds) and prints the store's write statistics as a second JSON line.

import { listenCollector } from '../../demo/collector.js';
import { openSelectedStore } from '../../demo/store-select.js';

const spec = process.argv[2];
const store = await openSelectedStore(spec, { dbPath: process.argv[3] ?? ':memory:' });
const collector = await listenCollector({ store, rateLimit: { burst: 1e9, perSecond: 1e9 },
  limits: { maxConnectionsPerClient: Infinity } });
console.log(JSON.stringify({ url: collector.url }));
process.once('SIGTERM', async () => {
  const stats = store.stats?.() ?? {};
  await collector.close();
  console.log(JSON.stringify({ stats }));
  process.exit(0);
});
