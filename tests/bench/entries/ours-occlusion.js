// Bench entry for impression-tracker's module entry with occlusion on (IntersectionObserver
// v2 for the cards in view), to measure what the option costs over ours.js.
import { createTracker } from '../../../js/index.js';
import { trackerOptions } from './tracker-options.js';

export const start = (config) => createTracker({ ...trackerOptions(config), occlusion: true });
