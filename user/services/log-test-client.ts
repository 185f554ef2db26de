// Writes 300 lines to the log service (more than its ring keeps), then reads them back and says
// what it found: a test client for test/drivers/log.test.ts.
import { print, eprint, errorName, exit, logLookup, logWrite, logRead } from "../lib";

let log = logLookup();
if (log < 0) {
  eprint("log-test-client: no log service: " + errorName(log));
  exit(1);
}
for (let i = 0; i < 300; i++) {
  const status = logWrite(log, "line " + i.toString());
  if (status != 0) {
    eprint("log-test-client: write " + i.toString() + ": " + errorName(status));
    exit(1);
  }
}
let kept = 0;
let first = "";
let last = "";
let sequence: u32 = 0;
for (let line = logRead(log, sequence); line != null; line = logRead(log, sequence)) {
  if (kept == 0) first = line.text;
  last = line.text;
  kept++;
  sequence = line.next;
}
print("log-test-client: " + kept.toString() + " lines kept, from \"" + first + "\" to \"" + last + "\"");
exit(0);
