/**
 * How long tests wait for the system before they call it stuck: bounds against hangs, never timing
 * assertions. A loaded machine is slower, not wrong, so every bound is multiplied by
 * DOGMA_TEST_SLOWDOWN (default 1; e.g. 3 on a busy 2-core machine). vitest.config.ts scales the
 * test and hook timeouts by the same factor.
 */
export const SLOWDOWN = slowdown(process.env.DOGMA_TEST_SLOWDOWN);

export function slowdown(text: string | undefined): number {
  const factor = Number(text ?? "1");
  return Number.isFinite(factor) && factor >= 1 ? factor : 1;
}

/** `ms` scaled by the slowdown factor. */
export function patience(ms: number): number {
  return Math.round(ms * SLOWDOWN);
}
