// warn.js: where the tracker's errors go. With an onError option every error goes there
// and nothing is logged. Without one, the errors that leave the page without tracking
// (the tracker cannot start, or stops after a failure) and misuse the tracker can see
// are written with console.warn, once per tracker for each of the two, so a tracker
// that does nothing is never silent (not even after a warning about misuse). An onError
// that throws is written once too, with the error it was given. Neither path ever
// throws into the page.

/**
 * @param {(error: Error) => void} [onError] the page's handler
 * @param {{warn?: Function}} [console_] where the default warning goes (tests inject one)
 * @returns {(error: Error) => void} report(error); report._loud(error, what) also warns
 *   when there is no onError ("impression-tracker <what>: <message>"); report._warn(text)
 *   reports misuse the tracker can see ("impression-tracker warning: <text>")
 */
export function createReporter(onError, console_ = globalThis.console) {
  if (typeof onError !== 'function') onError = undefined; // as good as none: the console says it
  const warned = new Set(); // the kinds (what) already written
  // "impression-tracker <what>: <error's message>", once per kind, then `after`.
  const write = (what, error, after) => {
    try {
      const message = String(error?.message || error).replace(/^impression-tracker: /, '');
      if (!warned.has(what)) console_.warn(`impression-tracker ${what}: ${message}`, after);
    } catch {
      // No console, or one that throws: nothing more to do.
    }
    warned.add(what);
  };
  const report = (error) => {
    try {
      onError?.(error);
    } catch (thrown) {
      write('onError threw', thrown, error); // the page's own handler failed
    }
  };
  report._loud = (error, what = 'is not tracking') => (onError ? report(error) : write(what, error, '(onError silences this)'));
  report._warn = (text) => report._loud(new Error(`impression-tracker: ${text}`), 'warning');
  return report;
}
