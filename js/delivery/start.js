// start.js: starts and stops delivery for a tracker. It reads what the browser offers
// (sendBeacon, fetchLater, localStorage, Web Locks, navigator.onLine), applies the
// options the outbox takes as inputs (consent, the GPC mode, the storage prefix, the
// body cap), starts the outbox with a random tab id, holds the tab's Web Lock while
// the page is visible, and passes consent and network changes on.
// GPC modes, when navigator.globalPrivacyControl is true: 'memory-only' (default,
// nothing written to or read from localStorage), 'deny' (as consent denied), 'ignore'.
// The functions work on the tracker's record `w` (tracker.js), to which startDelivery()
// adds delivery's fields (names _x, shortened by the build): _storage (localStorage or
// falsy), _locks (Web Locks or falsy), _prefix, _tab, _consent, _gpcDeny, _storageMode,
// _pending (ticket -> {_controller, _deferred}), _attempts, _batches, _epoch (the wall
// clock the outbox was last told), _releaseLock; driver.js adds _busy (a drive() running)
// and _said (the collector troubles already reported, bits).

import { CONSENT, CONSENT_DENIED, CONSENT_GRANTED, OB_BEACON, OB_LATER, OB_LOCKS, OB_ONLINE, OB_STORAGE } from '../core/outbox.js';
import { tell } from './driver.js';
import { holdLock, unusable } from './io.js';
import { X_OUTBOX_CONSENT, X_OUTBOX_ONLINE, X_OUTBOX_START } from '../core/abi.js';

/** A random id of 12 characters of [0-9a-z] (spread: see page-view.js). */
const randomId = (env) => [...env.getRandomValues(new Uint8Array(12))].map((b) => (b % 36).toString(36)).join('');

// localStorage, or a falsy value; reading it may throw (SecurityError), which `onError` hears.
function localStorageOf(w) {
  try {
    return w._env.localStorage;
  } catch (error) {
    w._report(unusable(error));
    return undefined;
  }
}

/** Starts the outbox; what stop() undoes goes to w._stops. */
export function startDelivery(w) {
  const { _o: o, _env: env } = w;
  const nav = env.navigator;
  const gpcMode = nav?.globalPrivacyControl === true ? o.gpc : 'ignore';
  const storage = gpcMode === 'memory-only' ? null : localStorageOf(w);
  const locks = storage && typeof nav?.locks?.request === 'function' && nav.locks; // or falsy: none
  const consent = gpcMode === 'deny' ? CONSENT_DENIED : CONSENT.indexOf(o.consent); // one of them (options.js)
  const flags = (env.sendBeacon || env.fetch ? OB_BEACON : 0) | (env.fetchLater ? OB_LATER : 0) | (storage ? OB_STORAGE : 0)
    | (locks ? OB_LOCKS : 0) | (nav?.onLine !== false ? OB_ONLINE : 0);
  Object.assign(w, {
    _storage: storage, _locks: locks, _prefix: o.storageKey || 'impression-tracker:', _tab: randomId(env),
    _consent: consent, _gpcDeny: gpcMode === 'deny', _pending: new Map(), _attempts: 0, _batches: 0,
    _storageMode: storage ? 'local' : gpcMode === 'memory-only' ? 'off (gpc)' : 'memory',
  });
  w._outbox._configure(o.batch.maxBytes, consent, flags);
  tell(w, X_OUTBOX_START, (w._epoch = env.wallNow() - env.now()), w._tab);
  w._stops.push(() => w._releaseLock());
  setVisible(w, env.document.visibilityState !== 'hidden');
}

/** Page measuring (the tab holds its Web Lock) or not (released: it owns nothing then). */
export function setVisible(w, visible) {
  w._releaseLock?.(); // none before the first call
  w._releaseLock = visible && w._locks ? holdLock(w._locks, `${w._prefix}tab:${w._tab}`) : () => {};
}

/** The online and offline events. */
export const setOnline = (w, online) => tell(w, X_OUTBOX_ONLINE, online ? 1 : 0);

/** setConsent(): granted or denied; GPC in deny mode keeps it denied. */
export function setConsent(w, granted) {
  if (w._gpcDeny) return;
  tell(w, X_OUTBOX_CONSENT, (w._consent = granted ? CONSENT_GRANTED : CONSENT_DENIED));
}
