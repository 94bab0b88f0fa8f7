// Collector tests: the input POST /collect refuses or limits: status codes and reasons
// for every kind of bad body, the 64 KiB cap, random garbage, wrong methods and unknown
// endpoints, the CORS preflight, and a flooding client. collector.test.js has what it
// stores. Each test starts its own collector on 127.0.0.1:0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BODY_BYTES } from '../../demo/collector.js';
import { batch, withCollector, post, getJson } from './support.js';

test('every kind of bad input gets its exact status and a reason', async () => {
  const valid = batch();
  const cases = [
    ['empty body', '', 400, /empty/],
    ['whitespace body', '   \n', 400, /empty/],
    ['truncated JSON', JSON.stringify(valid).slice(0, 40), 400, /unparseable/],
    ['not JSON at all', 'hello', 400, /unparseable/],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, /UTF-8/],
    ['JSON array', '[]', 422, /schema: \/: must be object/],
    ['JSON number', '5', 422, /schema/],
    ['JSON null', 'null', 422, /schema/],
    ['wrong version', { ...valid, v: 2 }, 422, /\/v: must be 1/],
    ['missing pv', (({ pv, ...rest }) => rest)(valid), 422, /pv/],
    ['unknown header field', { ...valid, extra: true }, 422, /unknown property "extra"/],
    ['path too long', { ...valid, path: '/' + 'x'.repeat(600) }, 422, /\/path/],
    ['no events', { ...valid, ev: [] }, 422, /\/ev/],
    ['event is not an object', { ...valid, ev: [7] }, 422, /\/ev\/0: must be an object/],
    ['unknown event type', { ...valid, ev: [{ e: 'hover', s: 1, t: 1, id: 'g' }] }, 422, /\/ev\/0\/e: must be one of/],
    ['impression without f', { ...valid, ev: [{ e: 'imp', s: 1, t: 1, id: 'g' }] }, 422, /required property 'f' \(imp event\)/],
    ['vis with ms 0', { ...valid, ev: [{ e: 'vis', s: 1, t: 1, id: 'g', ms: 0, max: 1, n: 1 }] }, 422, /\/ev\/0\/ms/],
    ['sequence 0', { ...valid, ev: [{ ...valid.ev[0], s: 0 }] }, 422, /\/ev\/0\/s/],
    ['negative time', { ...valid, ev: [{ ...valid.ev[0], t: -1 }] }, 422, /\/ev\/0\/t/],
    ['fractional time', { ...valid, ev: [{ ...valid.ev[0], t: 1.5 }] }, 422, /\/ev\/0\/t/],
    ['unknown event field', { ...valid, ev: [{ ...valid.ev[0], url: 'x' }] }, 422, /unknown property "url"/],
    ['id over 128 bytes', { ...valid, ev: [{ ...valid.ev[0], id: 'é'.repeat(65) }] }, 422, /128 UTF-8 bytes/],
    ['deeply nested arrays', '['.repeat(30000) + ']'.repeat(30000), 422, /must be object/],
    ['deeply nested event field', JSON.stringify({ ...valid, ev: [{ ...valid.ev[0], id: 'X' }] }).replace('"X"', '['.repeat(20000) + ']'.repeat(20000)), 422, /\/ev\/0\/id/],
    ['list over 64 bytes', { ...valid, ev: [{ ...valid.ev[0], list: 'q'.repeat(65) }] }, 422, /64 UTF-8 bytes/],
  ];
  await withCollector({}, async ({ url }) => {
    for (const [name, body, status, reason] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, status, name);
      assert.match(res.body.error, reason, name);
    }
    assert.equal((await getJson(url, '/api/totals')).events, 0, 'nothing bad was stored');
  });
});

test('bodies over 64 KiB get 413, with or without Content-Length; 64 KiB exactly is fine', async () => {
  await withCollector({}, async ({ url }) => {
    const json = JSON.stringify(batch());
    const exact = json + ' '.repeat(MAX_BODY_BYTES - json.length);
    assert.equal((await post(url, exact)).status, 200);

    const over = json + ' '.repeat(MAX_BODY_BYTES + 1 - json.length);
    const res = await post(url, over);
    assert.equal(res.status, 413);
    assert.match(res.body.error, /larger than 65536/);

    // Chunked: no Content-Length, so the limit is enforced while reading.
    const chunked = await fetch(url + '/collect', {
      method: 'POST', duplex: 'half',
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(20000)));
          controller.close();
        },
      }),
    });
    assert.equal(chunked.status, 413);
    // The server is still healthy afterwards.
    assert.equal((await post(url, batch({ pv: 'after' }))).status, 200);
  });
});

test('random garbage never yields a 5xx', async () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pieces = ['{', '}', '[', ']', '"v"', ':', '1', ',', '"ev"', '"e"', '"imp"', 'null', '-1', '1e999', '"\\u0000"', '"pv"', '\u2028', 'true'];
  await withCollector({ rateLimit: { burst: 1000, perSecond: 1000 } }, async ({ url }) => {
    for (let i = 0; i < 150; i++) {
      let body = '';
      const n = Math.floor(random() * 30);
      for (let j = 0; j < n; j++) body += pieces[Math.floor(random() * pieces.length)];
      if (random() < 0.3) { // mutate a valid batch instead
        const text = JSON.stringify(batch({ pv: 'g' + i }));
        const at = Math.floor(random() * text.length);
        body = text.slice(0, at) + pieces[Math.floor(random() * pieces.length)] + text.slice(at + 1);
      }
      const res = await post(url, body);
      assert.ok([200, 400, 422].includes(res.status), `status ${res.status} for ${JSON.stringify(body)}`);
    }
  });
});

test('wrong methods and unknown endpoints', async () => {
  await withCollector({}, async ({ url }) => {
    const get = await fetch(url + '/collect');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    assert.equal((await fetch(url + '/api/gigs', { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(url + '/api/nope')).status, 404);
    assert.equal((await fetch(url + '/elsewhere')).status, 404);
  });
});

test('CORS: preflight answered, origin echoed', async () => {
  await withCollector({}, async ({ url }) => {
    const pre = await fetch(url + '/collect', { method: 'OPTIONS', headers: {
      Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/i);
    const res = await post(url, batch(), { 'Content-Type': 'text/plain', Origin: 'https://shop.example' });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
  });
});

test('one client flooding gets 429 with Retry-After; others and later requests pass', async () => {
  let clock = 1_000_000;
  const options = {
    now: () => clock,
    rateLimit: { burst: 3, perSecond: 1 },
    clientKey: (req) => String(req.headers['x-client'] ?? 'a'),
  };
  await withCollector(options, async ({ url }) => {
    for (let i = 1; i <= 3; i++) assert.equal((await post(url, batch({ pv: 'f' + i }))).status, 200);
    const flooded = await post(url, batch({ pv: 'f4' }));
    assert.equal(flooded.status, 429);
    assert.equal(flooded.headers.get('retry-after'), '1');
    assert.match(flooded.body.error, /too many/);
    // A bad body from a flooding client is still 429: the limit comes first.
    assert.equal((await post(url, '{')).status, 429);
    // Another client is not affected.
    const other = await post(url, batch({ pv: 'b1' }), { 'Content-Type': 'text/plain', 'X-Client': 'b' });
    assert.equal(other.status, 200);
    // After Retry-After seconds the client may send again.
    clock += 1000;
    assert.equal((await post(url, batch({ pv: 'f4' }))).status, 200);
    assert.equal((await post(url, batch({ pv: 'f5' }))).status, 429);
    const totals = await getJson(url, '/api/totals');
    assert.equal(totals.page_views, 5);
    assert.equal(totals.collector.rejected['429'], 3);
  });
});
