// Hooks on a kernel's dogma:mmu imports (the slow paths of rewritten accesses, memory.size and the
// rest, the safe point) for the processes it spawns: for tests and benches that count them, or act
// at every way into the kernel.
import type { Kernel } from "../../src/kernel/kernel.ts";
import { MMU_MODULE } from "../../src/kernel/mmu-abi.ts";

export type MmuFunction = (...args: unknown[]) => unknown;

/**
 * The calls that suspend the process's stack (Suspending imports behind the kernel's relay,
 * src/kernel/import-relay.ts): a JavaScript wrapper would stand between them and the program,
 * where JSPI cannot suspend, so they are never wrapped.
 */
const SUSPENDING = new Set(["safe_point_wait", "fault_handle"]);

/**
 * From now on, every process `kernel` spawns gets, for each function of dogma:mmu whose name
 * matches `names`, what `wrap(name, original)` makes of it; and, when given, `safePoint` as its
 * safe point (made a Suspending here: the kernel's own cannot be unwrapped).
 */
export function hookMmu(kernel: Kernel, names: RegExp, wrap: (name: string, original: MmuFunction) => MmuFunction, safePoint?: () => unknown): void {
  const imports = kernel.imports;
  const forProcess = imports.forProcess.bind(imports);
  imports.forProcess = (tlbBase, home) => {
    const object = forProcess(tlbBase, home);
    // The kernel's import objects inherit their shared parts (src/kernel/imports.ts): copy with for-in.
    const source = object[MMU_MODULE] as Record<string, unknown>;
    const mmu: Record<string, unknown> = {};
    for (const name in source) mmu[name] = source[name];
    for (const [name, value] of Object.entries(mmu)) {
      if (typeof value === "function" && names.test(name) && !SUSPENDING.has(name)) mmu[name] = wrap(name, value as MmuFunction);
    }
    if (safePoint) mmu.safe_point = new WebAssembly.Suspending(safePoint);
    const hooked = Object.create(object) as Record<string, unknown>;
    hooked[MMU_MODULE] = mmu;
    return hooked as WebAssembly.Imports;
  };
}
