// How a driver gives up at start or on a broken device: one line "NAME: WHAT: STATUS" on the error
// stream, then exit 1 (init restarts it with a backoff). Allocates nothing.
import { exit, errorName, lineBegin, lineAdd, linePrint, STDERR } from "../../lib";

export class Failure {
  constructor(readonly name: string) {}

  fail(what: string, status: i32): void {
    lineBegin(this.name);
    lineAdd(": ");
    lineAdd(what);
    lineAdd(": ");
    lineAdd(errorName(status));
    linePrint(STDERR);
    exit(1);
  }

  /** `status` when it is not an error; else fails with it. */
  check(what: string, status: i32): i32 {
    if (status < 0) this.fail(what, status);
    return status;
  }
}
