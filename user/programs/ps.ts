// Lists every live process: pid, parent, state, priority, pages, cpu time, Memory, image name
// (and "(page 0 unchecked)" for a program whose data lies in page 0 and runs without null checks).
// The process manager relays KERNEL_PROCESS (docs/PROCESSES.md "Tools").
import {
  print, eprint, statusText, exit, readKernelProcess, KernelProcess, stateName, OP_KERNEL_PROCESS, E_NO_PROCESS,
  KERNEL_PROCESS_FLAG_PAGE_ZERO_UNCHECKED,
} from "../lib";
import { procForTool, procInspect } from "../lib/proc-client";
import { Options } from "../lib/options";
import { args } from "../lib";

function pad(s: string, width: i32): string {
  return s.length >= width ? s : " ".repeat(width - s.length) + s;
}

const options = new Options("ps", "", "Lists every live process: pid, parent, state, priority, pages, CPU time, Memory and name.").parse(args());
if (options.operands.length > 0) options.usageError("unexpected operand '" + options.operands[0] + "'");
const proc = procForTool();
if (proc < 0) {
  eprint("ps: no process manager: " + statusText(proc));
  exit(1);
}
print("  PID  PPID STATE     PRI  PAGES     CPU ms  MEM NAME");
let pid: u32 = 0;
const p = new KernelProcess();
for (;;) {
  const status = procInspect(proc, OP_KERNEL_PROCESS, pid);
  if (status == E_NO_PROCESS) break;
  if (status < 0) {
    eprint("ps: " + statusText(status));
    exit(1);
  }
  readKernelProcess(p);
  const state = stateName(p.state);
  print(
    pad(p.pid.toString(), 5) + " " + pad(p.ppid.toString(), 5) + " " + state + " ".repeat(max(1, 10 - state.length)) + pad(p.priority.toString(), 3) +
      " " + pad(p.pages.toString(), 6) + " " + pad((p.cpuMicros / 1000).toString(), 10) + " " + pad(p.memory.toString(), 4) + " " + p.name +
      (p.flags & KERNEL_PROCESS_FLAG_PAGE_ZERO_UNCHECKED ? " (page 0 unchecked)" : ""),
  );
  pid = p.pid + 1;
}
exit(0);
