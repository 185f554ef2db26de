import type { CacheRecord } from "../cache.ts";
import { LoadError } from "../load-error.ts";
import { validateBinary } from "../validate.ts";
import { binaryen } from "./binaryen.ts";
import { checkPolicy, type LoaderPolicy } from "./policy.ts";
import { rewriteModule } from "./rewrite.ts";

/**
 * The binaryen-based rewriter the one-pass rewriter replaced, kept only as a reference for
 * differential tests until it is deleted.
 */
export const OPTIMIZE_PASSES: readonly string[] = [
  "precompute", "optimize-instructions", "simplify-locals-nostructure", "vacuum", "remove-unused-brs", "merge-blocks",
  "coalesce-locals", "reorder-locals",
];

const OUTPUT_FEATURES =
  binaryen.Features.MutableGlobals | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt | binaryen.Features.BulkMemory |
  binaryen.Features.Multivalue | binaryen.Features.ReferenceTypes | binaryen.Features.TailCall | binaryen.Features.SIMD128 |
  binaryen.Features.ExtendedConst | binaryen.Features.BulkMemoryOpt;

export function legacyRewrite(name: string, bytes: Uint8Array, policy: LoaderPolicy, optimize = true): CacheRecord {
  validateBinary(name, bytes, policy.maxBinaryBytes);
  const module = binaryen.readBinary(bytes);
  try {
    module.setFeatures(binaryen.Features.All);
    const facts = checkPolicy(name, bytes, module, policy);
    const { hasInit, cloneable } = rewriteModule(name, module);
    module.setFeatures(OUTPUT_FEATURES);
    if (!module.validate()) throw new LoadError(name, "rewrite", "the rewritten module does not validate");
    if (optimize) {
      binaryen.setOptimizeLevel(2);
      binaryen.setShrinkLevel(0);
      module.runPasses([...OPTIMIZE_PASSES]);
    }
    binaryen.setDebugInfo(true);
    const rewritten = module.emitBinary();
    return { rewritten, ...facts, hasInit, cloneable };
  } finally {
    module.dispose();
  }
}
