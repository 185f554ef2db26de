// Statuses in words, for what a person reads: `ls: /nodir: no such file or directory`. The
// names (E_QUOTA, FS_E_NOT_FOUND) stay what logs and tests of the protocols speak; a tool, the
// shell and every message a user sees at the console use these, worded as a Unix user knows
// them (strerror's wording where there is one). `check` and `fail` are the one copy of what a
// dozen programs used to write for themselves.
import { eprint } from "./io";
import { exit } from "./process";

/** What status `code` means, in words: a kernel status (docs/ABI.md) or a file system one (docs/FS.md). */
export function statusText(code: i32): string {
  switch (code) {
    case 0: return "success";
    case -1: return "no such capability";
    case -2: return "permission denied";
    case -3: return "not the right kind of object";
    case -4: return "too busy: its queue is full";
    case -5: return "out of memory (quota exhausted)";
    case -6: return "the other side has gone";
    case -7: return "timed out";
    case -8: return "bad message";
    case -9: return "bad address";
    case -10: return "no such process";
    case -11: return "invalid argument";
    case -12: return "not ready";
    case -13: return "outside the channel's contract";
    case -201: return "no such file or directory";
    case -202: return "file exists";
    case -203: return "not a directory";
    case -204: return "is a directory";
    case -205: return "directory not empty";
    case -206: return "not a valid name";
    case -207: return "no space left on the disk";
    case -208: return "too many open files";
    case -209: return "stale handle: it was closed, or what it named was removed";
    case -210: return "leads outside the directory it was given";
    case -211: return "input/output error";
    case -212: return "file too large";
    case -213: return "too many levels of symbolic links";
    case -214: return "too many links";
  }
  return "error " + code.toString();
}

/** Says on the error stream that `what` failed and why: `tool: what: why`. */
export function complain(tool: string, what: string, status: i32): void {
  eprint(tool + ": " + what + ": " + statusText(status));
}

/** `result` when it is not negative; otherwise says `tool: what: why` and exits with 1. */
export function check(tool: string, what: string, result: i32): i32 {
  if (result < 0) fail(tool, what, result);
  return result;
}

/** Says `tool: what: why` and exits with 1. */
export function fail(tool: string, what: string, status: i32): void {
  complain(tool, what, status);
  exit(1);
}
