// A stage-by-stage copy of Loader.load's cold path (src/loader/loader.ts), so that benchmarks can
// time each stage or change the rewritten code. loader-phases.ts checks that it emits exactly the
// bytes the real Loader emits, so the copy cannot drift silently.
import { OPTIMIZE_PASSES } from "../src/loader/legacy/legacy-rewrite.ts";
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import type { LoadedImage } from "../src/kernel/image.ts";
import { binaryen, type BinaryenModule } from "../src/loader/legacy/binaryen.ts";
import { checkPolicy, type LoaderPolicy } from "../src/loader/legacy/policy.ts";
import { rewriteModule } from "../src/loader/legacy/rewrite.ts";
import { validateBinary } from "../src/loader/validate.ts";
import { now } from "./harness.ts";

/** Loader's OUTPUT_FEATURES (not exported). */
const OUTPUT_FEATURES =
  binaryen.Features.MutableGlobals | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt | binaryen.Features.BulkMemory |
  binaryen.Features.Multivalue | binaryen.Features.ReferenceTypes | binaryen.Features.TailCall | binaryen.Features.SIMD128 |
  binaryen.Features.ExtendedConst | binaryen.Features.BulkMemoryOpt;

export const PHASES = ["sha256", "validate", "parse", "policy", "rewrite", "check", "optimize", "emit", "compile"] as const;
export type Phase = (typeof PHASES)[number];

export interface Steps {
  image: LoadedImage;
  rewritten: Uint8Array;
  ms: Record<Phase, number>;
}

const policy: LoaderPolicy = {
  maxBinaryBytes: 64 << 20,
  maxMemoryPages: 16384,
  importModules: new Map(standardImportModules().map((spec) => [spec.module, spec.functions])),
};

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Validate → parse → policy → rewrite → (transform) → check → optimize → emit → compile, each
 * timed. `transform` runs on the rewritten module before the optimizer (ablations).
 */
export async function rewriteSteps(
  bytes: Uint8Array,
  name: string,
  options: { optimize: boolean; transform?: (module: BinaryenModule) => void },
): Promise<Steps> {
  const ms = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let t = now();
  const lap = (phase: Phase) => {
    const t2 = now();
    ms[phase] += t2 - t;
    t = t2;
  };
  const original = bytes.slice();
  // The loader hashes the binary, then the fingerprint and hash (a few dozen bytes).
  const hash = await sha256(original);
  await sha256(new TextEncoder().encode(`fingerprint${hash}`));
  lap("sha256");
  validateBinary(name, original, policy.maxBinaryBytes);
  lap("validate");
  const module = binaryen.readBinary(original);
  let rewritten: Uint8Array;
  let facts;
  let hasInit;
  let cloneable;
  try {
    module.setFeatures(binaryen.Features.All);
    lap("parse");
    facts = checkPolicy(name, original, module, policy);
    lap("policy");
    ({ hasInit, cloneable } = rewriteModule(name, module));
    options.transform?.(module);
    lap("rewrite");
    module.setFeatures(OUTPUT_FEATURES);
    if (!module.validate()) throw new Error(`bench bug: rewritten ${name} does not validate`);
    lap("check");
    if (options.optimize) {
      binaryen.setOptimizeLevel(2);
      binaryen.setShrinkLevel(0);
      module.runPasses([...OPTIMIZE_PASSES]);
    }
    lap("optimize");
    binaryen.setDebugInfo(true);
    rewritten = module.emitBinary();
    lap("emit");
  } finally {
    module.dispose();
  }
  const compiled = new WebAssembly.Module(rewritten as Uint8Array<ArrayBuffer>);
  lap("compile");
  const image: LoadedImage = { hash, name, bytes: original, module: compiled, hasInit, cloneable, ...facts };
  return { image, rewritten, ms };
}
