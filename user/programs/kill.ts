// kill PID...: ends each process (exit code 137). The process manager allows it for processes
// spawned in the same session as this one (docs/PROCESSES.md "Who may kill"); the shell's own
// `kill %N` ends its jobs.
import { print, eprint, exit, args, statusText, E_NO_PROCESS, E_MISSING_RIGHT } from "../lib";
import { procForTool, procKill } from "../lib/proc-client";
import { Options, parseCount } from "../lib/options";

const o = new Options("kill", "PID...", "Ends each process PID, if this session started it (the shell's kill %N ends a job).").parse(args());
if (o.operands.length == 0) o.usageError("missing operand");
const proc = procForTool();
if (proc < 0) {
  eprint("kill: no process manager: " + statusText(proc));
  exit(1);
}
let failed = false;
for (let i = 0; i < o.operands.length; i++) {
  const arg = o.operands[i];
  const pid = parseCount(arg);
  if (pid <= 0 || pid > 0xffffffff) {
    eprint("kill: " + arg + ": not a process id (a number; %N for a job of the shell's)");
    failed = true;
    continue;
  }
  const status = procKill(proc, <u32>pid);
  if (status == E_NO_PROCESS || status == E_MISSING_RIGHT) {
    eprint("kill: " + arg + ": not a process of this session");
    failed = true;
  } else if (status < 0) {
    eprint("kill: " + arg + ": " + statusText(status));
    failed = true;
  } else print("kill: " + arg + " killed");
}
exit(failed ? 1 : 0);
