// The fake clock of the glue's unit tests: the time (`t`, starting at 1000 ms), timers
// that run only when the test moves the clock (`advanceClock`), and idle callbacks that
// run when the page settles (`runIdle`). A plain record and the functions over it; the
// page's env hands them to the glue as setTimeout, requestIdleCallback and the rest.

export function createClock() {
  return { t: 1000, timers: [], idle: [], nextId: 1 };
}

export function setTimer(clock, fn, ms) {
  const id = clock.nextId++;
  clock.timers.push({ id, at: clock.t + Math.max(0, ms), fn });
  return id;
}

export function clearTimer(clock, id) {
  clock.timers = clock.timers.filter((timer) => timer.id !== id);
}

export function requestIdle(clock, fn) {
  const id = clock.nextId++;
  clock.idle.push({ id, fn });
  return id;
}

export function cancelIdle(clock, id) {
  clock.idle = clock.idle.filter((idle) => idle.id !== id);
}

/** Runs every idle callback asked for so far, each with time to spare. */
export function runIdle(clock) {
  for (const idle of clock.idle.splice(0)) idle.fn({ didTimeout: false, timeRemaining: () => 50 });
}

/**
 * Moves the clock forward by ms, running due timers in order (a timer may set another).
 * Throws when over 1000 run at one instant: a timer that sets itself again for a time
 * already due, a busy loop in a real page.
 */
export function advanceClock(clock, ms) {
  const end = clock.t + ms;
  for (let sameInstant = 0; ;) {
    const due = clock.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
    if (!due) break;
    clock.timers.splice(clock.timers.indexOf(due), 1);
    sameInstant = due.at <= clock.t ? sameInstant + 1 : 0;
    if (sameInstant > 1000) throw new Error(`timers fire without end at ${clock.t} ms: a busy loop`);
    clock.t = Math.max(clock.t, due.at);
    due.fn();
  }
  clock.t = end;
}

/** The clock's part of a page's env: time, timers and idle callbacks. */
export function clockEnv(clock) {
  return {
    now: () => clock.t,
    setTimeout: (fn, ms) => setTimer(clock, fn, ms),
    clearTimeout: (id) => clearTimer(clock, id),
    requestIdleCallback: (fn) => requestIdle(clock, fn),
    cancelIdleCallback: (id) => cancelIdle(clock, id),
  };
}
