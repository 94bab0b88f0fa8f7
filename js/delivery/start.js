// start.js: starts delivery for a tracker. It reads what the browser offers
// (sendBeacon, fetchLater, localStorage, Web Locks, navigator.onLine), applies the
// options the outbox takes as inputs (consent, the GPC mode, the storage prefix, the
// body cap), starts the outbox with a random tab id, and listens to online/offline.
// GPC modes, when navigator.globalPrivacyControl is true: 'memory-only' (default,
// nothing written to or read from localStorage), 'deny' (as consent denied), 'ignore'.

import { CONSENT, OB_BEACON, OB_LATER, OB_LOCKS, OB_ONLINE, OB_STORAGE } from '../core/outbox.js';
import { createDriver } from './driver.js';
import { resolveIo } from './io.js';

const TAB_CHARS = 12;

/** A random tab id of [0-9a-z]. */
const tabId = (env) => Array.from(env.getRandomValues(new Uint8Array(TAB_CHARS)), (b) => (b % 36).toString(36)).join('');

/**
 * @param o resolved options; env resolved env (options.js)
 * @param ctx {_outbox, _now, _guard, _report, _pump, _check, _legacyLost} from the tracker
 * @returns the driver (driver.js) with _setConsent(granted) and a _stop that also unlistens
 */
export function startDelivery(o, env, ctx) {
  const io = resolveIo(Object(o.env));
  const gpcMode = io.gpc ? o.gpc : 'ignore';
  const storage = gpcMode === 'memory-only' ? null : io.storage(ctx._report);
  const denied = gpcMode === 'deny';
  const consent = denied ? 2 : Math.max(0, CONSENT.indexOf(o.consent));
  const flags = (io.sendBeacon || io.fetch ? OB_BEACON : 0) | (io.fetchLater ? OB_LATER : 0) | (storage ? OB_STORAGE : 0)
    | (storage && io.locks ? OB_LOCKS : 0) | (io.online() ? OB_ONLINE : 0);
  const tab = tabId(env);
  ctx._outbox._configure(o.batch.maxBytes, consent, flags);
  ctx._check(ctx._outbox._start(ctx._now(), io.wallNow() - ctx._now(), tab));
  const driver = createDriver({
    ...ctx, _io: io, _storage: storage, _endpoint: o.endpoint, _prefix: o.storageKey || 'impression-tracker:',
    _tab: tab, _compress: o.compress, _consent: consent, _debug: debugHook(o.onDebug, ctx._report),
    _storageMode: storage ? 'local' : gpcMode === 'memory-only' ? 'off (gpc)' : 'memory',
  });
  const onOnline = ctx._guard(() => online(true));
  const onOffline = ctx._guard(() => online(false));
  const online = (up) => {
    driver._online(up);
    ctx._pump();
  };
  io.listen?.('online', onOnline, true);
  io.listen?.('offline', onOffline, true);
  driver._visible(env.document.visibilityState !== 'hidden');
  const stop = driver._stop;
  return Object.assign(driver, {
    _setConsent(granted) {
      if (!denied) driver._consent(granted ? 1 : 2);
    },
    _stop() {
      io.unlisten?.('online', onOnline, true);
      io.unlisten?.('offline', onOffline, true);
      stop();
    },
  });
}

/** The onDebug option, never allowed to throw into delivery. */
function debugHook(onDebug, report) {
  if (typeof onDebug !== 'function') return () => {};
  return (info) => {
    try {
      onDebug(info);
    } catch (error) {
      report(error);
    }
  };
}
