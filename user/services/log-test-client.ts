// Writes 600 lines to the log service (more than its ring keeps), reads them back and prints what
// it found (which, being a service, goes to the log itself), then says one thing on its errors
// stream (which the log shows on the console whatever the boot said): a test client for
// test/drivers/log.test.ts.
import { print, eprint, exit, logLookup, logWrite, logRead, fail } from "../lib";

const log = logLookup();
if (log < 0) fail("log-test-client", "no log service", log);
for (let i = 0; i < 600; i++) {
  const status = logWrite(log, "line " + i.toString());
  if (status != 0) fail("log-test-client", "write " + i.toString(), status);
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
eprint("log-test-client: this went to the errors stream");
exit(0);
