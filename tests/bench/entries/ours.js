// Bench entry for impression-tracker's module entry (js/index.js; the core is fetched
// from imp.wasm beside the bundle), with the bench options of tracker-options.js.
import { createTracker } from '../../../js/index.js';
import { trackerOptions } from './tracker-options.js';

export const start = (config) => createTracker(trackerOptions(config));
