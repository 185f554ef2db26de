/**
 * A binary the loader accepted: validated, rewritten, compiled. Immutable: the kernel maps
 * `bytes` read-only into the global space and never changes any of it.
 */
export interface DataSegment {
  /** Where an active segment is copied at start; null for a passive one. */
  readonly offset: number | null;
  readonly data: Uint8Array;
}

export interface LoadedImage {
  /** Content hash of the original binary (hex SHA-256). */
  readonly hash: string;
  /** What the binary was called when it was loaded, for messages. */
  readonly name: string;
  /** The original binary, exactly as given. */
  readonly bytes: Uint8Array;
  /** The rewritten module, compiled. */
  readonly module: WebAssembly.Module;
  /** Memory limits in 64 KiB pages, after policy. */
  readonly initialPages: number;
  readonly maximumPages: number;
  /** Every data segment, by index. */
  readonly segments: readonly DataSegment[];
  /** Whether the original had a start function (exported as INIT_EXPORT). */
  readonly hasInit: boolean;
  /** Whether a process of it that has run can be cloned (its state is its memory and exported globals). */
  readonly cloneable: boolean;
  /** Import modules the program uses, besides the kernel's private one. */
  readonly importModules: readonly string[];
  /**
   * Host memory one instance of it can make the host allocate, in bytes, at most: its tables at
   * their (loader-capped) maximum, its globals, per-function state and a fixed part. The kernel
   * charges it to the Memory that pays for each process of the image, in pages
   * (docs/MEMORY.md "What a process costs").
   */
  readonly instanceBytes: number;
  /**
   * Host memory the loaded image itself keeps while anything holds it, in bytes: the binary, its
   * data segments, the compiled module (src/loader/host-cost.ts imageHostBytes). The kernel charges
   * it to the Memory of an Image a process loads (docs/MEMORY.md "What a process costs"). Every
   * image the loader makes has it; one made by hand (a bench) without it is charged the kernel's
   * estimate from the binary's size (imageLoadEstimateBytes).
   */
  readonly hostBytes?: number;
}

/** What the image store and an Image hold of a binary before it is loaded: who it is and its bytes. */
export type ImageBytes = Pick<LoadedImage, "hash" | "name" | "bytes">;

/**
 * A binary the loader has not necessarily loaded yet: the boot modules, each loaded as it is
 * first needed (docs/BOOT.md "Loading"). An Image made of one answers IMAGE_INFO and IMAGE_MAP
 * at once; a process made from it waits for the load.
 */
export interface DeferredImage extends ImageBytes {
  /** The loaded image (started by the first call; later calls share it). Rejects with the loader's refusal. */
  load(): Promise<LoadedImage>;
}

/** The smallest valid module: what an ended process's image record names instead of its own. */
const EMPTY_MODULE_BYTES = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
let emptyModule: WebAssembly.Module | null = null;

/**
 * What an ended process keeps of its image: who it was (name and hash, for `ps`, messages and the
 * image store) and nothing of the binary, its segments or its compiled module. Its object lives on
 * while a capability names it, charged to nobody: holding the image kept the compiled module (and
 * the binary) of every such ended child in host memory that no quota paid for (redteam13).
 */
export function endedImage(image: LoadedImage): LoadedImage {
  emptyModule ??= new WebAssembly.Module(EMPTY_MODULE_BYTES);
  return {
    hash: image.hash,
    name: image.name,
    bytes: new Uint8Array(0),
    module: emptyModule,
    initialPages: 0,
    maximumPages: 0,
    segments: [],
    hasInit: false,
    cloneable: false,
    importModules: [],
    instanceBytes: 0,
    hostBytes: 0,
  };
}
