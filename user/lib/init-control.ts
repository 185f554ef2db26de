// Process 1's control protocol (docs/BOOT.md "Halting"): calls on the capability a config line's
// `control` grant gives (badge: the service's number). Replies carry a status as their label's
// magnitude.

/** Stop every service, in order, and halt the machine. */
export const CONTROL_HALT: u32 = 1;
/** The pager (pager= grant) is ready: paging may start through its channel. */
export const CONTROL_PAGER_READY: u32 = 2;
/**
 * Cap 0: a send capability of the caller's. At a halt, once the session and the services without
 * one are stopped, init sends CONTROL_FINISH through it and waits (at most 5 s) for the caller's
 * CONTROL_FINISHED before it stops it: the file system commits what it holds.
 */
export const CONTROL_ON_HALT: u32 = 3;
/** The caller has finished what CONTROL_FINISH asked: it may be stopped. */
export const CONTROL_FINISHED: u32 = 4;
/** What init sends through a CONTROL_ON_HALT capability (a send: no reply). */
export const CONTROL_FINISH: u32 = 0x1f00;
/**
 * KILL, SUSPEND, RESUME (word 0: a pid): what a line granted `supervise` may ask init to do to a
 * service init started, with init's own capability to it (docs/BOOT.md "Control").
 */
export const CONTROL_KILL: u32 = 5;
export const CONTROL_SUSPEND: u32 = 6;
export const CONTROL_RESUME: u32 = 7;
