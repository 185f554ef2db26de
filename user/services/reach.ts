// What a program run from the shell can reach through slots 2 and 3, for
// test/programs/registry-authority.test.ts: run with a manifest that asks for neither the registry
// (`cap registry`) nor the process manager (`needs proc ProcessManager`), it must reach neither;
// without a manifest, or with one that asks, both.
//   reach: lookup pipe: STATUS     (through slot 2: 0, or why not)
//   reach: proc uptime: STATUS     (through slot 3)
import { print, errorName, registryLookup, capDrop, OP_KERNEL_UPTIME } from "../lib";
import { procInspect, SLOT_PROC } from "../lib/proc-client";

function statusOf(status: i32): string {
  return status >= 0 ? "0" : errorName(status);
}

const pipe = registryLookup("pipe");
print("reach: lookup pipe: " + statusOf(pipe));
if (pipe > 0) capDrop(pipe);
print("reach: proc uptime: " + statusOf(procInspect(SLOT_PROC, OP_KERNEL_UPTIME)));
