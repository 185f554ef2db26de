// What a program run from the shell can reach through slots 2 and 3, for
// test/programs/registry-authority.test.ts: run with a manifest that asks for neither the registry
// (`cap registry`) nor the process manager (`needs proc ProcessManager`), it must reach neither;
// without a manifest, or with one that asks, both.
//   reach: lookup timer: STATUS    (through slot 2: 0, or why not; a name any program may look up)
//   reach: proc uptime: STATUS     (through slot 3)
// With the argument `spawn` it creates jobs through slot 3 (never started) until refused:
//   reach: spawned N, then STATUS
// With the argument `halt` it also tries to halt the machine, which no program may:
//   reach: halt through slot 3: STATUS
//   reach: halt through a session of proc's: STATUS
import { print, errorName, registryLookup, capDrop, args, OP_KERNEL_UPTIME } from "../lib";
import { procHalt, procInspect, procLookup, procSession, procSpawn, SLOT_PROC } from "../lib/proc-client";
import { SLOT_JOB_MEMORY } from "../lib/streams";

function statusOf(status: i32): string {
  return status >= 0 ? "0" : errorName(status);
}

const timer = registryLookup("timer");
print("reach: lookup timer: " + statusOf(timer));
if (timer > 0) capDrop(timer);
print("reach: proc uptime: " + statusOf(procInspect(SLOT_PROC, OP_KERNEL_UPTIME)));

if (args().length > 1 && args()[1] == "halt") {
  print("reach: halt through slot 3: " + statusOf(procHalt(SLOT_PROC)));
  const proc = procLookup();
  const session = proc < 0 ? proc : procSession(proc);
  print("reach: halt through a session of proc's: " + statusOf(session < 0 ? session : procHalt(session)));
}

if (args().length > 1 && args()[1] == "spawn") {
  let spawned = 0;
  let status = 0;
  for (; spawned < 100; spawned++) {
    status = procSpawn(SLOT_PROC, <u32>SLOT_JOB_MEMORY, "sleep");
    if (status < 0) break;
  }
  print("reach: spawned " + spawned.toString() + ", then " + statusOf(status));
}
