// kill PID...: ends each process (exit code 137). The process manager allows it for processes
// spawned in the same session as this one (docs/PROCESSES.md "Who may kill").
import { print, eprint, errorName, exit, args, procForTool, procKill } from "../lib";

const argv = args();
if (argv.length < 2) {
  eprint("usage: kill PID...");
  exit(2);
}
const proc = procForTool();
if (proc < 0) {
  eprint("kill: no process manager: " + errorName(proc));
  exit(1);
}
let failed = false;
for (let i = 1; i < argv.length; i++) {
  const pid = u32.parse(argv[i]);
  const status = pid == 0 ? -11 : procKill(proc, pid);
  if (status < 0) {
    eprint("kill: " + argv[i] + ": " + errorName(status));
    failed = true;
  } else print("kill: " + argv[i] + " killed");
}
exit(failed ? 1 : 0);
