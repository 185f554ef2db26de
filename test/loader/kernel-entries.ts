// Running a rewritten function with a hook at every way into the kernel (an access's slow path,
// memory.size, memory.fill, a safe point made to call the kernel at every loop header), for tests
// of checks that must not outlive one (loop-checks, access-streams).
import type { Kernel } from "../../src/kernel/kernel.ts";
import type { Process } from "../../src/kernel/process.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { testMachine } from "../helpers/test-host.ts";
import { hookMmu } from "../helpers/mmu-hooks.ts";

const PAGE = 4096;

export interface Outcome {
  outcome: Process["outcome"];
  value: unknown;
}

export interface KernelHooks {
  variant?: RewriteVariant;
  prepare?: (process: Process, kernel: Kernel) => void;
  /** Before the kernel does its work at each entry from the process: `what` is the import's name. */
  enter?: (process: Process, what: string, kernel: Kernel) => void;
  /** After it. */
  leave?: (process: Process, what: string) => void;
}

/**
 * Runs `entry(...args)` of `bytes` in a fresh process on a machine of its own; with `enter`, every
 * safe point of the process calls the kernel (a fuel of 0 after each), so that every loop header
 * is a way into it.
 */
export async function underDogma(bytes: Uint8Array, entry: string, args: number[], hooks: KernelHooks = {}): Promise<Outcome> {
  const t = testMachine({ loader: { rewrite: hooks.variant ?? {} } });
  const image = await t.loader.load(bytes, entry);
  let current: Process | null = null;
  const enter = hooks.enter;
  const kernel = t.kernel;
  if (enter) {
    hookMmu(
      kernel,
      /^(load|store)_|^memory_(size|fill)$/,
      (name, original) =>
        (...a: unknown[]) => {
          const mine = current !== null && kernel.current() === current;
          if (mine) enter(current!, name, kernel);
          const result = original(...a);
          if (mine) hooks.leave?.(current!, name);
          return result;
        },
      () => {
        const process = kernel.current();
        if (current !== null && process === current) enter(current, "safe_point", kernel);
        // A fuel of 0: the next loop header calls again.
        return kernel.safePoint(process, process === current ? 0 : 10_000);
      },
    );
  }
  const process = kernel.spawn(image, { entry, entryArgs: args, mapImage: false });
  current = process;
  hooks.prepare?.(process, kernel);
  await kernel.run();
  return { outcome: process.outcome, value: process.returnValue };
}

/** Moves the page at `address` to another frame, contents and all (as the group fuzzer does). */
export function movePage(kernel: Kernel, process: Process, address: number): void {
  const space = process.space;
  const page = address & -PAGE;
  if (space.mapping(page) === null) return;
  const contents = space.read(page, PAGE);
  space.unmap(page);
  // Hold the freed frame, so that the page gets another.
  const held = kernel.frames.allocate(process.pid);
  space.write(page, contents);
  if (held !== null) kernel.frames.release(held);
}
