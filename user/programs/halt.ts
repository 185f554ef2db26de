// halt: a clean shutdown. The process manager asks process 1, which stops every service and ends;
// the machine then powers off. Needs a session (docs/PROCESSES.md "Who may halt").
import { eprint, errorName, exit, procForTool, procHalt } from "../lib";

const proc = procForTool();
const status = proc < 0 ? proc : procHalt(proc);
if (status < 0) {
  eprint("halt: " + errorName(status));
  exit(1);
}
exit(0);
