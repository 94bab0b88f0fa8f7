// Bench entry for impression-tracker's single-file module entry (js/embedded.js: the
// core inlined as base64), with the same options as ours.js.
import { createTracker } from '../../../js/embedded.js';
import { trackerOptions } from './tracker-options.js';

export const start = (config) => createTracker(trackerOptions(config));
