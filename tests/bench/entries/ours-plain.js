// Bench entry for impression-tracker with compress: false (batches sent as JSON text),
// to measure what compression saves on the wire over ours.js.
import { createTracker } from '../../../js/index.js';
import { trackerOptions } from './tracker-options.js';

export const start = (config) => createTracker({ ...trackerOptions(config), compress: false });
