// server.js: the browser suite's two local servers and the helpers that read what they
// recorded, in one import. Not a test file (the runner only picks up *.test.js).
//
//  - startSite() (./site.js): serves the fixture pages (tests/browser/fixtures/) with
//    per-page headers a test chooses, the package files from js/ and dist/, pages a test
//    built in memory, and on request a wrong MIME type or a tampered core module
//    (./tamper.js).
//  - startCollector() (./collector.js): a recording collector at POST /collect on its own
//    port, which can go down and come back on the same port, with switchable fault modes.
// Both listen on 127.0.0.1, port 0 (./http.js). Helpers (./records.js): waitFor(predicate),
// acceptedBatches, deliveredEvents, eventIds ("pv:s" of every delivered event),
// duplicateCount, uniqueEvents.

export { startCollector } from './collector.js';
export { acceptedBatches, deliveredEvents, duplicateCount, eventIds, uniqueEvents, waitFor } from './records.js';
export { DIST_DIR, FIXTURES_DIR, PACKAGE_DIR, startSite } from './site.js';
export { tamperWasm } from './tamper.js';
