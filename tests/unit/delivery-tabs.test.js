// Two tabs' delivery under fake Web Locks, with the real core's outbox on a fake page: a
// scan writes its claims before it releases the scan lock, a scan that waited past a
// consent revocation finds nothing to do, and a tab holds its lock only while visible.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fakeNetwork } from './fakes/dom.js';
import { addGrid, startOnPage as start } from './fakes/tracker.js';
import { deferGrants, fakeLocks, fakeStorage } from './fakes/delivery.js';
import { ticks } from './delivery-setup.js';

describe('two tabs', () => {
  it('a scan under Web Locks writes its claims before it releases the scan lock', async () => {
    const log = [];
    const storage = fakeStorage([['impression-tracker:q:1700000000000:olda:0',
      'I2 1700000000000 1700000030000 1 -\n{"v":1,"pv":"p","path":"/","at":5,"drop":0,"ev":[{"e":"imp","s":1,"t":1,"id":"a","pos":1,"f":1}]}']]);
    const setItem = storage.setItem;
    storage.setItem = (key, value) => {
      log.push(`claim ${value.split('\n')[0].split(' ').pop()}`);
      setItem(key, value);
    };
    const { locks } = fakeLocks(log);
    const network = fakeNetwork({ status: 503 }); // the adopted batch stays (and so does its record)
    await start({ env: { ...network.env, localStorage: storage, navigator: { locks }, wallNow: () => 1700000000000 + 60000 } });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const claim = log.findIndex((line) => line.startsWith('claim ') && line !== 'claim -');
    assert.ok(claim >= 0, `the record is claimed: ${log}`);
    assert.ok(claim < log.indexOf('release impression-tracker:scan'), `claim first: ${log}`);
  });

  it('consent revoked while the scan waits for its lock: the late scan finds nothing to do and the tracker goes on', async () => {
    const { locks } = fakeLocks();
    const grant = deferGrants(locks, ':scan');
    const storage = fakeStorage();
    const { page, tracker, errors } = await start({ env: { localStorage: storage, navigator: { locks } } });
    tracker.setConsent(false);
    grant();
    await ticks(4);
    assert.deepEqual(errors, []);
    assert.equal(tracker.stats().active, true, 'still tracking');
    addGrid(page, 1);
    await page.settle();
    assert.equal(tracker.stats().elements, 1, 'a card added later is observed');
  });

  it('a tab holds its Web Lock while visible only: hidden (or stopped) it owns nothing', async () => {
    const { held, locks } = fakeLocks();
    const { page, tracker } = await start({ env: { localStorage: fakeStorage(), navigator: { locks } } });
    const tabLocks = () => [...held].filter((name) => name.startsWith('impression-tracker:tab:'));
    assert.equal(tabLocks().length, 1, 'visible: held');
    page.hide();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(tabLocks(), [], 'hidden: released');
    page.show();
    assert.equal(tabLocks().length, 1, 'shown again: held');
    tracker.stop();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(tabLocks(), [], 'stopped: released');
  });
});
