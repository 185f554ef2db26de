import type { ImageBytes, LoadedImage } from "./image.ts";

/**
 * What the kernel needs from the loader to load binaries processes hand it (MEMORY_CREATE_IMAGE).
 * The loader sits above the kernel, so the host passes it in; src/loader/loader.ts's Loader is one.
 * `load` rejects with an Error whose message says what is wrong and where (a LoadError).
 */
export interface ImageLoader {
  load(bytes: Uint8Array, name: string): Promise<LoadedImage>;
  /**
   * The kernel holds nothing of `image` any more (no Image object, no process of it): a loader
   * that keeps compiled modules in memory may let it go.
   */
  release?(image: ImageBytes): void;
}
