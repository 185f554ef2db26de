// Where the time goes in the rewritten kernels: how often rewritten code leaves the fast path.
// Counts calls into the `dogma:mmu` imports (TLB misses, unaligned or page-crossing accesses,
// bulk memory operations, safe-point slow paths) by wrapping the kernel's import object. This
// reaches into a private field of the kernel, so it lives in its own untimed run.
import { FUEL_PER_CHECK } from "../src/kernel/constants.ts";
import { deadline, dogma, program, schedulerState } from "./harness.ts";
import { PROGRAMS } from "./rewritten-vs-native.ts";
import { hookMmu } from "../test/helpers/mmu-hooks.ts";

interface Counts {
  calls: Map<string, number>;
  safePoints: number;
  preemptions: number;
}

export async function slowPaths(): Promise<string[]> {
  const machine = dogma(256);
  const kernel = machine.kernel;
  let counts: Counts = { calls: new Map(), safePoints: 0, preemptions: 0 };
  hookMmu(
    kernel,
    /./,
    (name, original) =>
      (...args: unknown[]) => {
        counts.calls.set(name, (counts.calls.get(name) ?? 0) + 1);
        return original(...args);
      },
    // The same slow path as src/kernel/imports.ts, counted.
    () => {
      counts.safePoints++;
      const fuel = kernel.safePoint(kernel.current(), FUEL_PER_CHECK);
      if (fuel instanceof Promise) counts.preemptions++;
      return fuel;
    },
  );

  const lines = [
    "| program | TLB slow-path calls | pages first touched | misses beyond first touch | bulk memory calls | safe-point slow paths (≈ safe points run) | preemptions |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const details: string[] = [];
  for (const name of PROGRAMS) {
    const image = await machine.loader.load(program(name), name);
    counts = { calls: new Map(), safePoints: 0, preemptions: 0 };
    const process = machine.kernel.spawn(image, { entry: "run", entryArgs: [1] });
    await deadline(`${name} (counted): kernel.run`, 120_000, kernel.run(), () => schedulerState(kernel));
    if (process.outcome?.kind !== "exited") throw new Error(`${name} did not exit cleanly`);
    let access = 0;
    let bulk = 0;
    const detail: string[] = [];
    for (const [call, n] of counts.calls) {
      if (call.startsWith("load_") || call.startsWith("store_")) access += n;
      else bulk += n;
      detail.push(`${call} ${n}`);
    }
    details.push(`${name}: ${detail.length ? detail.join(", ") : "no dogma:mmu calls"}`);
    const pages = process.space.residentPages;
    lines.push(
      `| ${name} | ${access} | ${pages} | ${Math.max(0, access - pages)} | ${bulk} | ${counts.safePoints} (≈ ${(counts.safePoints * FUEL_PER_CHECK).toExponential(1)}) | ${counts.preemptions} |`,
    );
  }
  return [...lines, "", "Slow-path calls by import:", ...details.map((d) => `- ${d}`)];
}
