import { Kernel, type KernelOptions, describeProcessFault } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";
import type { Loader } from "../loader/loader.ts";
import type { Machine } from "../machine/machine.ts";
import type { BootImage } from "./boot-image.ts";
import { type BootProgress, startInit } from "./bootloader.ts";

/** How a host runs the system: a fresh machine per boot, and where boot messages go. */
export interface SystemHost {
  makeMachine(): Machine;
  readonly loader: Loader;
  readonly kernelOptions?: KernelOptions;
  /** A boot message: `important` ones (the machine resets) are for the console, the rest for a verbose host. */
  log(line: string, important?: boolean): void;
  readonly progress?: BootProgress;
  /** Keeps the host alive while the machine idles waiting for an interrupt; returns the release. */
  keepAlive?(): () => void;
  /** Told of each boot's kernel and machine once process 1 is started (a browser's live views inspect it). */
  booted?(kernel: Kernel, machine: Machine): void;
}

/** Boots in a row that end within this long count as failing quickly. */
const QUICK_FAILURE_NS = 10e9;
const MAX_QUICK_FAILURES = 3;

export interface SystemEnd {
  /** Why the system stopped: process 1 halted it (exit 0), it kept dying, or it went idle for good. */
  readonly reason: string;
  /** Stopped for no fault: process 1 halted it, or nothing is left that could ever run. */
  readonly halted: boolean;
  /** The status process 1 left in the power controller when it halted (a session's `exit N`); 0 otherwise. */
  readonly status: number;
}

/**
 * Boots the system and keeps it up: when process 1 ends, says why, resets the machine (fresh
 * memory, kernel and devices) and boots again. Process 1 exiting with 0 is a clean halt, with the
 * status it left in the power controller (docs/DEVICES.md "Power"); three
 * quick deaths in a row stop the machine for good, and so does a system where every process waits
 * and nothing (no timer, no input, no armed interrupt) can ever wake one.
 */
export async function runSystem(host: SystemHost, image: BootImage): Promise<SystemEnd> {
  let quickFailures = 0;
  for (let boot = 1; ; boot++) {
    const machine = host.makeMachine();
    // Processes hand the kernel binaries too (MEMORY_CREATE_IMAGE): the boot modules' loader loads them.
    const kernel = new Kernel(machine, { imageLoader: host.loader, ...host.kernelOptions });
    const bootedAt = machine.clock.monotonicNs();
    const init = await startInit(kernel, host.loader, image, machine.devices, {
      ...host.progress,
      // Said on the console: the services or programs made from it will not run.
      refused: (error) => host.log(`boot: refused boot module ${error.message}`, true),
    });
    kernel.setCritical(init);
    host.booted?.(kernel, machine);
    host.log(`boot: process 1 (init) started, pid ${init.pid}${boot > 1 ? `, boot ${boot}` : ""}`);
    const release = host.keepAlive?.();
    try {
      await kernel.run();
    } finally {
      release?.();
    }
    const status = machine.powerOff();
    const why = endOf(init, kernel);
    // The services still blocked would keep this machine (its memory, its kernel) for good.
    kernel.endEveryProcess();
    if (init.alive) return { reason: `idle for good: process 1 ${why}`, halted: true, status: 0 };
    if (init.outcome?.kind === "exited" && init.outcome.code === 0) {
      return { reason: `process 1 halted the machine${status !== 0 ? ` with status ${status}` : ""}`, halted: true, status };
    }
    quickFailures = machine.clock.monotonicNs() - bootedAt < QUICK_FAILURE_NS ? quickFailures + 1 : 0;
    if (quickFailures >= MAX_QUICK_FAILURES) {
      return { reason: `process 1 ${why}, ${quickFailures} times within ${QUICK_FAILURE_NS / 1e9} s of booting; giving up`, halted: false, status: 0 };
    }
    host.log(`boot: process 1 ${why}; resetting the machine`, true);
  }
}

function endOf(init: Process, kernel: Kernel): string {
  const outcome = init.outcome;
  if (!outcome) {
    const stuck = kernel.stuck().map((p) => `${p.image.name} (pid ${p.pid})`).join(", ");
    return `and every other process are blocked with nothing to wake them (${stuck})`;
  }
  if (outcome.kind === "faulted") return `faulted: ${describeProcessFault(init)}`;
  return `exited with code ${outcome.code}`;
}
