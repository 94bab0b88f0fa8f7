// The store string (demo/store-select.js) and the CREATE statements per ClickHouse
// version (demo/clickhouse-schema.js). No server needed; 18.16's statements are run
// against a real server by the other files of this suite.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoreSpec } from '../../demo/store-select.js';
import { schemaStatements, isModern } from '../../demo/clickhouse-schema.js';

test('the store string picks SQLite by default and parses a ClickHouse URL', () => {
  assert.deepEqual(parseStoreSpec(undefined, { dbPath: 'a.sqlite' }), { kind: 'sqlite', path: 'a.sqlite' });
  assert.deepEqual(parseStoreSpec('sqlite:/tmp/b.sqlite', { dbPath: 'a.sqlite' }), { kind: 'sqlite', path: '/tmp/b.sqlite' });
  const parsed = parseStoreSpec('clickhouse://127.0.0.1:8123/imps?spool=/tmp/c.spool&batch_rows=100&batch_ms=50&ttl_days=30', {});
  assert.deepEqual(parsed, { kind: 'clickhouse', url: 'http://127.0.0.1:8123', database: 'imps', spoolPath: '/tmp/c.spool',
    batchRows: 100, batchMs: 50, ttlDays: 30 });
  assert.equal(parseStoreSpec('clickhouse://h:1/', {}).database, 'impressions');
  assert.equal(parseStoreSpec('clickhouse', {}).kind, 'clickhouse-local');
  assert.throws(() => parseStoreSpec('postgres://x', {}), /unknown store "postgres:\/\/x"/);
  assert.throws(() => parseStoreSpec('clickhouse://h:1/db?batch_ms=0', {}), /batch_ms must be a positive integer/);
});

test('18.16 gets plain columns; current releases get LowCardinality, codecs and TTL', () => {
  assert.equal(isModern('18.16.1'), false);
  assert.equal(isModern('24.3.2.23'), true);
  const old = schemaStatements({ database: 'imps', version: '18.16.1' }).join('\n');
  assert.doesNotMatch(old, /CODEC|LowCardinality|TTL/);
  assert.match(old, /ENGINE = ReplacingMergeTree\(keep\)\nPARTITION BY day\nORDER BY \(pv, s\)/);
  const current = schemaStatements({ database: 'imps', version: '24.3.2.23', ttlDays: 90 }).join('\n');
  assert.match(current, /path {5}LowCardinality\(String\)/);
  assert.match(current, /ts {7}UInt64 CODEC\(Delta, ZSTD\)/);
  assert.match(current, /ORDER BY \(pv, s\)\nTTL day \+ INTERVAL 90 DAY/);
  assert.doesNotMatch(schemaStatements({ database: 'imps', version: '18.16.1', ttlDays: 90 }).join('\n'), /TTL/,
    '18.16 drops old partitions instead');
  assert.throws(() => schemaStatements({ database: 'x; DROP', version: '18.16.1' }), /letters, digits and _/);
});
