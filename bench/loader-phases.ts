// Where a cold load's time goes, stage by stage (bench/rewrite-steps.ts mirrors the Loader, on one
// thread), on a generated module of a few hundred KB. The mirror's output is checked byte for byte against
// what the real Loader puts in its cache.
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import { Loader } from "../src/loader/loader.ts";
import { decodeRecord } from "../src/loader/cache.ts";
import { bigModule } from "./big-module.ts";
import { median, result, type Result } from "./harness.ts";
import { PHASES, rewriteSteps, type Phase } from "./rewrite-steps.ts";

const RUNS = 3;

export async function loaderPhases(): Promise<Result[]> {
  const bytes = bigModule(400);
  const label = `generated ${(bytes.length / 1024).toFixed(0)} KB`;

  const records = new Map<string, Uint8Array>();
  const loader = new Loader({
    importModules: standardImportModules(),
    cache: { get: async (k) => records.get(k) ?? null, put: async (k, v) => void records.set(k, v) },
  });
  await loader.load(bytes, label);
  const expected = decodeRecord([...records.values()][0]!)!.rewritten;

  const samples = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  const totals: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const steps = await rewriteSteps(bytes, label);
    if (Buffer.compare(Buffer.from(steps.rewritten), Buffer.from(expected)) !== 0) {
      throw new Error("bench/rewrite-steps.ts no longer matches the Loader: update it from src/loader/loader.ts");
    }
    for (const phase of PHASES) samples[phase].push(steps.ms[phase]);
    totals.push(PHASES.reduce((sum, p) => sum + steps.ms[p], 0));
  }
  const total = median(totals);
  return PHASES.map((phase) => result(`cold load phase: ${phase}, ${label}`, median(samples[phase]), "ms", "whole cold load (sum of phases)", total));
}
