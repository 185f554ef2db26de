// Prints what the log service holds, oldest first: `service dmesg dmesg` (slot 2: the registry).
import { print, eprint, errorName, exit, logLookup, logRead } from "../lib";

const log = logLookup();
if (log < 0) {
  eprint("dmesg: no log service: " + errorName(log));
  exit(1);
}
let sequence: u32 = 0;
for (let line = logRead(log, sequence); line != null; line = logRead(log, sequence)) {
  print("[" + line.sequence.toString() + "] " + line.text);
  sequence = line.next;
}
exit(0);
