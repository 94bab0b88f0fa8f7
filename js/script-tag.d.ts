// Types of 'impression-tracker/script-tag' (dist/impression-tracker.js): the build adds
// nothing to import; it declares the one global the build sets, for pages in TypeScript:
//   import type {} from 'impression-tracker/script-tag';
//   impressionTracker.then((tracker) => tracker.setConsent(true));
import type { Tracker } from './index.js';

/** The script-tag build's tracker; with the data-trace attribute it also has trace() (js/debug.d.ts). */
export type ScriptTagTracker = Tracker & { trace?: () => string };

declare global {
  /** The build's tracker, once its core is ready (the stub's promise until the build has loaded). Never rejects. */
  var impressionTracker: Promise<ScriptTagTracker>;
}
