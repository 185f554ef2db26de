/**
 * When a cold load's rewrite goes to the workers (rewrite-module.ts): in a module of its own, so
 * that a host can size its worker pool without loading the rewriter, which a process whose
 * programs are all cached never needs (loader.ts).
 */

/**
 * Below this much code, a binary is rewritten on this thread: handing it to workers costs more
 * (and starting them costs tens of MB each). What counts is the code section, the work: a binary
 * that is mostly data (flite: 21 MB, 0.2 MB of code) gains nothing from them.
 */
export const WORKER_THRESHOLD = 512 << 10;
/** A body this large is rewritten on the workers, when there are any, whatever the binary's size. */
export const WORKER_BODY_BYTES = 128 << 10;
