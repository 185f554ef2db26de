// dogma:runtime incremental
// dmesg [-f]: prints what the log service holds, oldest first, each line with the seconds since
// boot when it was written (a program's line, not the system's, after "user: "); -f then waits for
// new lines and prints them as they come (^C ends it). A reader of the log never writes there: run
// as a service, it prints on the console.
import { args, print, exit, logLookup, logRead, systemLogOff, fail } from "../lib";
import { Options } from "../lib/options";

systemLogOff();
const o = new Options("dmesg", "[-f]", "Prints the system's log (what services, drivers and init said), oldest first.")
  .flag("f", "follow", "then wait for new lines and print them as they come (^C ends it)")
  .parse(args());
if (o.operands.length > 0) o.usageError("unexpected operand '" + o.operands[0] + "'");
const follow = o.given("f");

const log = logLookup();
if (log < 0) fail("dmesg", "the log service", log);

/** `ns` since boot as seconds with microseconds, right-aligned: "[    1.234567]". */
function stamp(ns: i64): string {
  const micros = ns / 1000;
  const fraction = (micros % 1_000_000).toString().padStart(6, "0");
  return "[" + (micros / 1_000_000).toString().padStart(5) + "." + fraction + "]";
}

let sequence: u32 = 0;
for (;;) {
  const line = logRead(log, sequence, follow);
  if (line == null) break;
  // A program's line says so: none passes for what init or a service said.
  print(stamp(line.time) + " " + (line.program ? "user: " : "") + line.text);
  sequence = line.next;
}
exit(0);
