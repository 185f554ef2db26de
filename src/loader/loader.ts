import { REWRITE_VERSION } from "../kernel/constants.ts";
import type { DeferredImage, ImageBytes, LoadedImage } from "../kernel/image.ts";
import type { ImageLoader } from "../kernel/image-loader.ts";
import type { ImportModuleSpec } from "../kernel/personality.ts";
import { decodeRecord, encodeRecord, recordParts, type CacheRecord, type ModuleCache } from "./cache.ts";
import { releaseBytes } from "./code-output.ts";
import { imageHostBytes } from "./host-cost.ts";
import { LoadError } from "./load-error.ts";
import { codeSectionBytes, engineValidation, validateBinary } from "./validate.ts";
import type { CodeWorkers } from "./rewrite-code.ts";
import type { RewriteVariant } from "./output-layout.ts";
import type { LoaderPolicy } from "./policy.ts";

export interface LoaderOptions {
  /** Import modules programs may use (the kernel's `dogma` and the personalities). */
  readonly importModules: readonly ImportModuleSpec<unknown>[];
  readonly maxBinaryBytes?: number;
  readonly maxMemoryPages?: number;
  /** Rewritten modules kept between runs; none by default. */
  readonly cache?: ModuleCache | null;
  /**
   * Where big modules are validated and rewritten, off the machine's thread (on Node: worker
   * threads, src/hosts/node/loader-workers.ts). Without, the loader works on its own thread in
   * slices, letting the machine run between them.
   */
  readonly workers?: CodeWorkers | null;
  /** A variant of the rewrite, for tests and measurements (output-layout.ts); the defaults otherwise. */
  readonly rewrite?: RewriteVariant;
  /**
   * A digest of the code that rewrites (the host computes it: src/hosts/node/loader-identity.ts),
   * part of every cache key, so that a cache shared by two builds never hands one's output to the
   * other when REWRITE_VERSION was not bumped: the output's TLB layout and safe points must be
   * exactly what this kernel expects, or the seal does not hold.
   */
  readonly codeIdentity?: string;
  /**
   * SHA-256 of `bytes` as 64 hex digits: how the loader names binaries and cache records. The
   * host's may be faster than WebCrypto's, which copies its input first (on Node, node:crypto's
   * takes half the time on a 31 MB binary).
   */
  readonly sha256?: (bytes: Uint8Array) => Promise<string>;
  /**
   * The engine validates every function body when it compiles a module (V8's default, a
   * browser's): the loader's fresh output is then not validated a second time before its compile.
   * Unset, the loader validates it itself (the Node host has V8 validate lazily: engine-flags.ts).
   */
  readonly engineValidatesEagerly?: boolean;
  /**
   * The engine's compile of the loader's fresh output with every function body validated by the
   * compile, which rejects with the engine's message (which names the function and the offset)
   * when one is invalid: on Node, `WebAssembly.compile` with lazy validation off meanwhile
   * (engine-flags.ts `compileValidating`), which V8 validates on its own threads. For the outputs
   * the workers do not compile: the machine's thread then does not validate the output itself
   * (`WebAssembly.validate`, a decode and a pass over every body: about 17 ms of a cold boot's
   * 1.6 MB of output, issue 20's boot work). Unset: the loader validates, then compiles.
   */
  readonly compileValidating?: ((bytes: Uint8Array) => Promise<WebAssembly.Module>) | null;
}

/** Outputs at least this big are compiled (and validated) on a worker when there are workers. */
const OWNED_VALIDATION_BYTES = 1 << 20;

/** The largest binary a Loader accepts unless told otherwise. */
export const DEFAULT_MAX_BINARY_BYTES = 256 << 20;

export interface LoadStats {
  rewrites: number;
  diskHits: number;
  memoryHits: number;
}

/**
 * The dogmatic loader: validate → policy → rewrite → compile → cache. Linear in the binary's
 * size; a cached module costs a hash and a compile of the rewritten code, and one this loader
 * still holds costs only the hash.
 */
export class Loader implements ImageLoader {
  readonly stats: LoadStats = { rewrites: 0, diskHits: 0, memoryHits: 0 };
  private readonly policy: LoaderPolicy;
  private readonly cache: ModuleCache | null;
  private readonly workers: CodeWorkers | null;
  private readonly variant: RewriteVariant;
  private readonly fingerprint: string;
  private readonly sha256: (bytes: Uint8Array) => Promise<string>;
  private readonly engineValidatesEagerly: boolean;
  private readonly compileValidating: ((bytes: Uint8Array) => Promise<WebAssembly.Module>) | null;
  /** Images this loader holds, by hash of the original, until the kernel releases them. */
  private readonly loaded = new Map<string, LoadedImage>();
  /** Loads under way, by hash of the original: a second asker of the same binary waits for the first. */
  private readonly loading = new Map<string, Promise<LoadedImage>>();

  constructor(options: LoaderOptions) {
    this.policy = {
      maxBinaryBytes: options.maxBinaryBytes ?? DEFAULT_MAX_BINARY_BYTES,
      maxMemoryPages: options.maxMemoryPages ?? 16384,
      importModules: new Map(options.importModules.map((spec) => [spec.module, spec.functions])),
    };
    this.cache = options.cache ?? null;
    this.workers = options.workers ?? null;
    this.variant = options.rewrite ?? {};
    this.sha256 = options.sha256 ?? webCryptoSha256;
    this.engineValidatesEagerly = options.engineValidatesEagerly === true;
    this.compileValidating = options.compileValidating ?? null;
    this.fingerprint = JSON.stringify([REWRITE_VERSION, options.codeIdentity ?? "", this.variant, this.policy.maxMemoryPages, [...this.policy.importModules]]);
  }

  /** Loads `bytes`, or rejects with a LoadError that says what is wrong and where. */
  async load(bytes: Uint8Array, name: string): Promise<LoadedImage> {
    return this.adopt(bytes.slice(), name);
  }

  /**
   * `load` of bytes the caller hands over and never changes again (a file the host has just
   * read): the image keeps them as they are, without the copy `load` makes (31 MB for yosys).
   * `digest`, their SHA-256 when the host knows it already (a file it has hashed before).
   */
  async adopt(bytes: Uint8Array, name: string, digest?: string): Promise<LoadedImage> {
    if (digest === undefined) return this.loadHashed(bytes, await this.sha256(bytes), name);
    return this.loadHashed(bytes, digest, name, true);
  }

  /**
   * `bytes` validated by the engine and hashed now, loaded when first asked (docs/BOOT.md
   * "Loading"): the boot modules, of which a boot needs a few and the rest when someone runs them.
   * Rejects with a LoadError when the binary is malformed; the policy's and the rewrite's refusals
   * come with the load. `bytes` must not change after. A binary this loader holds already comes
   * back loaded.
   */
  async defer(bytes: Uint8Array, name: string): Promise<DeferredImage | LoadedImage> {
    const hash = await this.sha256(bytes);
    const known = this.loaded.get(hash);
    if (known) {
      this.stats.memoryHits++;
      return { ...known, name };
    }
    await validateBinary(name, bytes, this.policy.maxBinaryBytes);
    return { hash, name, bytes, load: () => this.loadHashed(bytes, hash, name, false, true) };
  }

  /**
   * `told`: `hash` is the caller's word (adopt's digest), not taken from `original` here;
   * `validated`: the engine has validated `original` (defer), so its rewrite does not again.
   */
  private async loadHashed(original: Uint8Array, hash: string, name: string, told = false, validated = false): Promise<LoadedImage> {
    const known = this.loaded.get(hash);
    if (known) {
      this.stats.memoryHits++;
      return { ...known, name };
    }
    const under = this.loading.get(hash);
    if (under) return { ...(await under), name };
    const load = this.loadMissing(original, hash, name, told, validated);
    this.loading.set(hash, load);
    try {
      return await load;
    } finally {
      this.loading.delete(hash);
    }
  }

  private async loadMissing(original: Uint8Array, hash: string, name: string, told: boolean, validated: boolean): Promise<LoadedImage> {
    const key = await this.sha256(new TextEncoder().encode(this.fingerprint + hash));
    let record = this.cache ? decodeRecord((await this.cache.get(key)) ?? new Uint8Array(0)) : null;
    // A damaged cached binary counts as a miss: the cache is never trusted over a rewrite. (With
    // the engine validating lazily, a body damaged on disk would fail its first call instead.)
    let module = record ? await compileOrNull(record.rewritten) : null;
    let rewrittenBytes = record?.rewritten.length ?? 0;
    // A digest remembered for a file that changed since (its identity kept) would file this
    // rewrite under another binary's key, for every later load of that binary to run: a rewrite
    // is checked against the bytes it comes from (a hash costs far less than the rewrite).
    const actual = record && module ? hash : told ? await this.sha256(original) : hash;
    if (actual !== hash) return this.loadHashed(original, actual, name);
    if (record && module) this.stats.diskHits++;
    else {
      // The output is at least about as big as the code it comes from: a compile on a worker follows.
      if (this.workerCompile(codeSectionBytes(original) * 1.5)) this.workers?.standBy?.();
      const { rewriteModule } = await rewriter();
      const fresh = await rewriteModule(name, original, this.policy, this.workers, this.variant, validated);
      this.stats.rewrites++;
      rewrittenBytes = fresh.rewritten.length; // before the output is released below
      const compile = this.workerCompile(fresh.rewritten.length);
      if (compile) {
        // Compiled on a worker with every body validated by the compile, then cached: the engine
        // copies and decodes the output once, where a validation first did it too (a fifth of
        // the generated 25 MB module's cold load). Only output the engine accepted is cached.
        const compiled = await compile(fresh.rewritten);
        if (compiled.module === null) {
          releaseBytes(compiled.bytes);
          throw refusedOutput(name, compiled.message ?? "the engine refused the module without saying why");
        }
        record = { ...fresh, rewritten: compiled.bytes };
        await this.put(key, record);
        releaseBytes(compiled.bytes);
        module = compiled.module;
      } else if (this.compileValidating && !this.engineValidatesEagerly) {
        // Validated by the compile, off this thread, then cached: only output the engine accepted.
        module = await compileRewritten(name, fresh.rewritten, this.compileValidating);
        record = fresh;
        await this.put(key, record);
        releaseBytes(record.rewritten);
      } else {
        record = { ...fresh, rewritten: await this.validateOutput(name, fresh.rewritten) };
        // Cached first, then compiled: the engine copies the bytes as the compile starts, so the
        // output can be freed then instead of living beside the engine's copy and the tables it
        // builds. A compile that fails after all leaves a record that the next load finds
        // damaged, a miss.
        await this.put(key, record);
        const compiling = compileRewritten(name, record.rewritten);
        releaseBytes(record.rewritten);
        module = await compiling;
      }
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
      hostBytes: imageHostBytes(original.length, rewrittenBytes, record.segments.reduce((n, s) => n + s.data.length, 0)),
    };
    this.loaded.set(hash, image);
    return image;
  }

  /** The workers' compile when an output of `outputBytes` is to be validated by it, else null. */
  private workerCompile(outputBytes: number): NonNullable<CodeWorkers["compileValidated"]> | null {
    const workers = this.workers;
    if (!workers?.compileValidated || this.engineValidatesEagerly || outputBytes < OWNED_VALIDATION_BYTES) return null;
    return (bytes) => workers.compileValidated!(bytes);
  }

  private async put(key: string, record: CacheRecord): Promise<void> {
    if (this.cache?.putParts) await this.cache.putParts(key, recordParts(record));
    else await this.cache?.put(key, encodeRecord(record));
  }

  /**
   * The engine's full validation of a fresh rewrite done here, whatever the engine does at
   * compile time (the Node host has V8 validate each function at its first call: engine-flags.ts),
   * so that a loader bug is refused here, by name, and never reaches a process; the bytes.
   */
  private async validateOutput(name: string, bytes: Uint8Array): Promise<Uint8Array> {
    if (this.engineValidatesEagerly) return bytes; // the compile that follows does it
    const message = await engineValidation(bytes);
    if (message !== null) throw refusedOutput(name, message);
    return bytes;
  }

  /** The kernel holds nothing of `image` any more: forget its compiled module. */
  release(image: ImageBytes): void {
    this.loaded.delete(image.hash);
  }

  /** Whether the image of the binary hashed `hash` is held in memory (for tests). */
  holds(hash: string): boolean {
    return this.loaded.has(hash);
  }

  /** Images held in memory (for tests and `--trace`). */
  get heldImages(): number {
    return this.loaded.size;
  }
}

let loadingRewriter: Promise<typeof import("./rewrite-module.ts")> | null = null;

/**
 * The rewriter, loaded at the first load that misses the cache: a process whose programs are all
 * cached never loads its ~180 KB of code (a sixth of a warm `dogma run`'s start on the bench
 * machine; the code cache Node keeps of it was the biggest one read at each start).
 */
function rewriter(): Promise<typeof import("./rewrite-module.ts")> {
  return (loadingRewriter ??= import("./rewrite-module.ts"));
}

async function compileOrNull(bytes: Uint8Array): Promise<WebAssembly.Module | null> {
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch {
    return null;
  }
}

/** Compiles the fresh output (with `compile`: the engine's own); the engine copies it as the compile starts. */
async function compileRewritten(name: string, bytes: Uint8Array, compile = (b: Uint8Array) => WebAssembly.compile(b as Uint8Array<ArrayBuffer>)): Promise<WebAssembly.Module> {
  try {
    return await compile(bytes);
  } catch (error) {
    throw refusedOutput(name, error instanceof Error ? error.message : String(error));
  }
}

/** The engine refused the loader's own output: a loader bug, with the engine's what and where. */
function refusedOutput(name: string, message: string): LoadError {
  return new LoadError(name, "rewrite", `the engine refused the rewritten module (a loader bug; please report it with the binary): ${message}`);
}

async function webCryptoSha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

