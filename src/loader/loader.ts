import { REWRITE_VERSION } from "../kernel/constants.ts";
import type { LoadedImage } from "../kernel/image.ts";
import type { ImportModuleSpec } from "../kernel/personality.ts";
import { binaryen } from "./binaryen.ts";
import { decodeRecord, encodeRecord, type CacheRecord, type ModuleCache } from "./cache.ts";
import { LoadError } from "./load-error.ts";
import { checkPolicy, type LoaderPolicy } from "./policy.ts";
import { rewriteModule } from "./rewrite.ts";
import { validateBinary } from "./validate.ts";

export interface LoaderOptions {
  /** Import modules programs may use (the kernel's `dogma` and the personalities). */
  readonly importModules: readonly ImportModuleSpec<unknown>[];
  readonly maxBinaryBytes?: number;
  readonly maxMemoryPages?: number;
  /** Run binaryen's optimizer over the rewritten code (default true). */
  readonly optimize?: boolean;
  /** Rewritten modules kept between runs; none by default. */
  readonly cache?: ModuleCache | null;
}

export interface LoadStats {
  rewrites: number;
  diskHits: number;
  memoryHits: number;
}

/**
 * The optimizer's passes: a short list that cleans up what the rewrite leaves (its scratch locals,
 * blocks and constant arithmetic). binaryen's whole -O2 pipeline took 93% of a cold load (seven
 * times this list's time on the boot modules) and bought nothing measurable at run time: V8's own
 * tiers do the rest (bench: "Rewritten vs native", optimize:false beside optimize:true).
 */
export const OPTIMIZE_PASSES: readonly string[] = [
  "precompute", "optimize-instructions", "simplify-locals-nostructure", "vacuum", "remove-unused-brs", "merge-blocks",
  "coalesce-locals", "reorder-locals",
];

/** Features the rewritten code may use; the optimizer must not introduce others. */
const OUTPUT_FEATURES =
  binaryen.Features.MutableGlobals | binaryen.Features.NontrappingFPToInt | binaryen.Features.SignExt | binaryen.Features.BulkMemory |
  binaryen.Features.Multivalue | binaryen.Features.ReferenceTypes | binaryen.Features.TailCall | binaryen.Features.SIMD128 |
  binaryen.Features.ExtendedConst | binaryen.Features.BulkMemoryOpt;

/**
 * The dogmatic loader: validate → policy → rewrite → optimize → compile → cache. Linear in the
 * binary's size; a cached module costs a hash and a compile of the rewritten code, and one seen
 * before in this loader costs only the hash.
 */
export class Loader {
  readonly stats: LoadStats = { rewrites: 0, diskHits: 0, memoryHits: 0 };
  private readonly policy: LoaderPolicy;
  private readonly optimize: boolean;
  private readonly cache: ModuleCache | null;
  private readonly fingerprint: string;
  private readonly loaded = new Map<string, LoadedImage>();

  constructor(options: LoaderOptions) {
    this.policy = {
      maxBinaryBytes: options.maxBinaryBytes ?? 64 << 20,
      maxMemoryPages: options.maxMemoryPages ?? 16384,
      importModules: new Map(options.importModules.map((spec) => [spec.module, spec.functions])),
    };
    this.optimize = options.optimize ?? true;
    this.cache = options.cache ?? null;
    this.fingerprint = JSON.stringify([REWRITE_VERSION, this.optimize && OPTIMIZE_PASSES, this.policy.maxMemoryPages, [...this.policy.importModules]]);
  }

  /** Loads `bytes`, or throws a LoadError that says what is wrong and where. */
  async load(bytes: Uint8Array, name: string): Promise<LoadedImage> {
    const original = bytes.slice();
    const hash = await sha256(original);
    const key = await sha256(new TextEncoder().encode(this.fingerprint + hash));
    const known = this.loaded.get(key);
    if (known) {
      this.stats.memoryHits++;
      return { ...known, name };
    }
    let record = this.cache ? decodeRecord((await this.cache.get(key)) ?? new Uint8Array(0)) : null;
    // A damaged cached binary counts as a miss: the cache is never trusted over a rewrite.
    let module = record ? compileCached(record.rewritten) : null;
    if (record && module) this.stats.diskHits++;
    else {
      record = this.rewrite(name, original);
      this.stats.rewrites++;
      module = new WebAssembly.Module(record.rewritten as Uint8Array<ArrayBuffer>);
      await this.cache?.put(key, encodeRecord(record));
    }
    const image: LoadedImage = {
      hash,
      name,
      bytes: original,
      module,
      initialPages: record.initialPages,
      maximumPages: record.maximumPages,
      segments: record.segments,
      hasInit: record.hasInit,
      cloneable: record.cloneable === true,
      importModules: record.importModules,
      instanceBytes: record.instanceBytes,
    };
    this.loaded.set(key, image);
    return image;
  }

  private rewrite(name: string, bytes: Uint8Array): CacheRecord {
    validateBinary(name, bytes, this.policy.maxBinaryBytes);
    const module = binaryen.readBinary(bytes);
    try {
      module.setFeatures(binaryen.Features.All);
      const facts = checkPolicy(name, bytes, module, this.policy);
      const { hasInit, cloneable } = rewriteModule(name, module);
      module.setFeatures(OUTPUT_FEATURES);
      if (!module.validate()) throw new LoadError(name, "rewrite", "the rewritten module does not validate (a loader bug; please report it with the binary)");
      if (this.optimize) {
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
}

function compileCached(bytes: Uint8Array): WebAssembly.Module | null {
  try {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch {
    return null;
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
