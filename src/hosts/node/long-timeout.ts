/** Node's timers take at most 2^31 − 1 ms (24.8 days); a longer delay makes Node warn and fire after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Runs `callback` once the clock `nowMs` has reached `deadlineMs`, however far off that is: the wait
 * is made of Node timeouts of at most MAX_TIMEOUT_MS, each armed from the clock again, so a deadline
 * past Node's limit neither warns nor spins, and a timeout that fires a little early (Node rounds to
 * milliseconds) is waited out. A deadline of Infinity never comes. The callback always runs from
 * the event loop, never inside this call. Returns the cancel.
 */
export function atDeadline(deadlineMs: number, nowMs: () => number, callback: () => void): () => void {
  let handle: NodeJS.Timeout | null = null;
  const arm = () => {
    const left = deadlineMs - nowMs();
    if (left === Infinity || Number.isNaN(left)) return;
    handle = setTimeout(fire, Math.min(MAX_TIMEOUT_MS, Math.max(0, Math.ceil(left))));
  };
  const fire = () => {
    handle = null;
    if (nowMs() >= deadlineMs) callback();
    else arm();
  };
  arm();
  return () => {
    if (handle) clearTimeout(handle);
    handle = null;
  };
}
