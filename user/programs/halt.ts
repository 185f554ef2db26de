// halt: a clean shutdown. What was written to the file system is synced first (through the root
// the shell gave, slot 9, when there is one); then the process manager asks process 1, which stops
// every service and ends, and the machine powers off. Needs a session (docs/PROCESSES.md "Who may
// halt").
import { capKind, eprint, statusText, exit, KIND_RECEIVER } from "../lib";
import { procForTool, procHalt } from "../lib/proc-client";
import { Options } from "../lib/options";
import { args } from "../lib";
import { FsClient } from "../lib/fs-client";
import { SLOT_ROOT } from "./tool-parts/files";

const options = new Options("halt", "", "Syncs the file system and halts the machine cleanly (through process 1).").parse(args());
if (options.operands.length > 0) options.usageError("unexpected operand '" + options.operands[0] + "'");
if (capKind(SLOT_ROOT) == <i32>KIND_RECEIVER) {
  const synced = new FsClient(0, 0).sync(SLOT_ROOT);
  if (synced < 0) eprint("halt: syncing the file system: " + statusText(synced) + "; halting anyway");
}
const proc = procForTool();
const status = proc < 0 ? proc : procHalt(proc);
if (status < 0) {
  eprint("halt: " + statusText(status));
  exit(1);
}
exit(0);
