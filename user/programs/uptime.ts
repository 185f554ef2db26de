// uptime: how long the machine has run (KERNEL_UPTIME, relayed by the process manager).
import { print, eprint, errorName, exit, procForTool, procInspect, msgWord64, OP_KERNEL_UPTIME } from "../lib";

function two(n: u64): string {
  return n < 10 ? "0" + n.toString() : n.toString();
}

const proc = procForTool();
const status = proc < 0 ? proc : procInspect(proc, OP_KERNEL_UPTIME);
if (status < 0) {
  eprint("uptime: " + errorName(status));
  exit(1);
}
const ms = msgWord64(0) / 1_000_000;
const s = ms / 1000;
const millis = (ms % 1000).toString();
print("up " + (s / 3600).toString() + ":" + two((s / 60) % 60) + ":" + two(s % 60) + "." + "0".repeat(3 - millis.length) + millis);
exit(0);
