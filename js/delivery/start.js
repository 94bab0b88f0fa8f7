// start.js: starts and stops delivery for a tracker. It reads what the browser offers
// (sendBeacon, fetchLater, localStorage, Web Locks, navigator.onLine), applies the
// options the outbox takes as inputs (consent, the GPC mode, the storage prefix, the
// body cap), starts the outbox with a random tab id, listens to online/offline, holds
// the tab's Web Lock while the page is visible, and passes consent changes on.
// GPC modes, when navigator.globalPrivacyControl is true: 'memory-only' (default,
// nothing written to or read from localStorage), 'deny' (as consent denied), 'ignore'.

import {
  CONSENT, CONSENT_DENIED, CONSENT_GRANTED, OB_BEACON, OB_LATER, OB_LOCKS, OB_ONLINE, OB_STORAGE,
} from '../core/outbox.js';
import { holdLock, resolveIo } from './io.js';

const TAB_CHARS = 12;

/** A random tab id of [0-9a-z]. */
const tabId = (env) => Array.from(env.getRandomValues(new Uint8Array(TAB_CHARS)), (b) => (b % 36).toString(36)).join('');

/**
 * Starts the outbox and returns the driver's record (driver.js), for drive(),
 * setVisible(), setConsent(), deliveryStats() and stopDelivery().
 * @param o resolved options; env resolved env (options.js)
 * @param ctx {_outbox, _now, _guard, _report, _pump, _check, _legacyLost} from the tracker
 */
export function startDelivery(o, env, ctx) {
  const io = resolveIo(Object(o.env));
  const gpcMode = io.gpc ? o.gpc : 'ignore';
  const storage = gpcMode === 'memory-only' ? null : io.storage(ctx._report);
  const consent = gpcMode === 'deny' ? CONSENT_DENIED : Math.max(0, CONSENT.indexOf(o.consent));
  const flags = (io.sendBeacon || io.fetch ? OB_BEACON : 0) | (io.fetchLater ? OB_LATER : 0) | (storage ? OB_STORAGE : 0)
    | (storage && io.locks ? OB_LOCKS : 0) | (io.online() ? OB_ONLINE : 0);
  const tab = tabId(env);
  ctx._outbox._configure(o.batch.maxBytes, consent, flags);
  ctx._check(ctx._outbox._start(ctx._now(), io.wallNow() - ctx._now(), tab));
  const d = {
    ...ctx, _io: io, _storage: storage, _endpoint: o.endpoint, _prefix: o.storageKey || 'impression-tracker:',
    _tab: tab, _compress: o.compress, _consent: consent, _gpcDeny: gpcMode === 'deny',
    _debug: debugHook(o.onDebug, ctx._report),
    _storageMode: storage ? 'local' : gpcMode === 'memory-only' ? 'off (gpc)' : 'memory',
    _pending: new Map(), _busy: false, _stopped: false, _failures: 0, _attempts: 0, _batches: 0,
    _releaseLock: () => {},
  };
  d._onOnline = ctx._guard(() => online(d, true));
  d._onOffline = ctx._guard(() => online(d, false));
  io.listen?.('online', d._onOnline, true);
  io.listen?.('offline', d._onOffline, true);
  setVisible(d, env.document.visibilityState !== 'hidden');
  return d;
}

function online(d, up) {
  d._check(d._outbox._online(d._now(), up ? 1 : 0));
  d._pump();
}

/** Page measuring (the tab holds its Web Lock) or not (released: it owns nothing then). */
export function setVisible(d, visible) {
  d._releaseLock();
  d._releaseLock = visible && d._io.locks && d._storage ? holdLock(d._io.locks, `${d._prefix}tab:${d._tab}`) : () => {};
}

/** setConsent(): granted or denied; GPC in deny mode keeps it denied. */
export function setConsent(d, granted) {
  if (d._gpcDeny) return;
  d._consent = granted ? CONSENT_GRANTED : CONSENT_DENIED;
  d._check(d._outbox._consent(d._now(), d._consent));
}

export function stopDelivery(d) {
  d._stopped = true;
  d._io.unlisten?.('online', d._onOnline, true);
  d._io.unlisten?.('offline', d._onOffline, true);
  d._releaseLock();
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
