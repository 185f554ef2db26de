// How a protocol check program (fs-check, fs-links-check, hostfs-check, folderfs-check) reports:
// "NAME: ok: STEP" for each step passed, or "NAME: FAIL: what: got STATUS" and exit 1 at the
// first wrong answer. `checkName` says whose lines they are.
import { eprint, print } from "./io";
import { exit } from "./process";
import { fsErrorName } from "./fs-protocol";

let name = "check";

/** The name the lines begin with. */
export function checkName(program: string): void {
  name = program;
}

export function fail(what: string, got: i32): void {
  eprint(name + ": FAIL: " + what + ": got " + fsErrorName(got));
  exit(1);
}

/** Fails unless `got` is `want` (a status, or a count); returns it. */
export function expect(what: string, got: i32, want: i32): i32 {
  if (got != want) {
    eprint(name + ": FAIL: " + what + ": got " + fsErrorName(got) + ", wanted " + fsErrorName(want));
    exit(1);
  }
  return got;
}

/** Fails when `got` is a status; returns it. */
export function ok(what: string, got: i32): i32 {
  if (got < 0) fail(what, got);
  return got;
}

/** Fails unless `holds`. */
export function check(what: string, holds: bool): void {
  if (!holds) {
    eprint(name + ": FAIL: " + what);
    exit(1);
  }
}

export function passed(step: string): void {
  print(name + ": ok: " + step);
}
