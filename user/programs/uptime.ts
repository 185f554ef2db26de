// uptime: how long the machine has run (KERNEL_UPTIME, relayed by the process manager).
import { print, eprint, statusText, exit, msgWord64, OP_KERNEL_UPTIME } from "../lib";
import { procForTool, procInspect } from "../lib/proc-client";
import { Options } from "../lib/options";
import { args } from "../lib";

function two(n: u64): string {
  return n < 10 ? "0" + n.toString() : n.toString();
}

const options = new Options("uptime", "", "Shows how long the machine has been up.").parse(args());
if (options.operands.length > 0) options.usageError("unexpected operand '" + options.operands[0] + "'");
const proc = procForTool();
const status = proc < 0 ? proc : procInspect(proc, OP_KERNEL_UPTIME);
if (status < 0) {
  eprint("uptime: " + statusText(status));
  exit(1);
}
const ms = msgWord64(0) / 1_000_000;
const s = ms / 1000;
const millis = (ms % 1000).toString();
print("up " + (s / 3600).toString() + ":" + two((s / 60) % 60) + ":" + two(s % 60) + "." + "0".repeat(3 - millis.length) + millis);
exit(0);
