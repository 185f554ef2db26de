import { IMAGE_MODULE_FIXED_BYTES, PAGE_SIZE } from "../constants.ts";
import type { LoadedImage } from "../image.ts";
import type { ImageObject } from "./image-object.ts";
import { KernelObject } from "./kernel-object.ts";
import type { MemoryObject } from "./memory-object.ts";
import { ObjectKind } from "./object-abi.ts";

/*
 * What an Image a process loads is charged: the host memory it keeps (docs/MEMORY.md "What a
 * process costs"), estimated from the binary's size while the load runs and settled to the loaded
 * image's own figure (LoadedImage.hostBytes, src/loader/host-cost.ts) when it ends.
 */

/**
 * The host bytes a load is charged before it is done, from the binary's size alone: what the host
 * surely holds meanwhile, the bytes handed over and the loader's own copy of them, and the
 * engine's fixed cost of a module (src/loader/host-cost.ts). When the load ends the charge is
 * settled to what the loaded image keeps (LoadedImage.hostBytes): the binary, its data segments
 * and its compiled code, several times a code-heavy binary's size.
 */
export function imageLoadEstimateBytes(length: number): number {
  return 2 * length + IMAGE_MODULE_FIXED_BYTES;
}

/** Pages a load of a binary of `length` bytes is charged until it ends. */
export function loadChargePages(length: number): number {
  return hostPages(imageLoadEstimateBytes(length));
}

/** Pages that pay for `bytes` of host memory. */
export function hostPages(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE);
}

/** Pages an Image of `image` is charged for what the host keeps of it (a page for each of its pages that gets a frame comes besides). */
export function imageHostPages(image: { readonly bytes: Uint8Array; readonly hostBytes?: number }): number {
  return hostPages(image.hostBytes ?? imageLoadEstimateBytes(image.bytes.length));
}

/** Why a Memory cannot pay for an Image: what the host keeps for it and what the Memory has left, in MiB. */
export function quotaRefusal(name: string, what: string, pages: number, memory: MemoryObject): string {
  const mib = (n: number) => ((n * PAGE_SIZE) / (1 << 20)).toFixed(1);
  return `${name}: its Memory cannot pay for ${what}: the host keeps ${mib(pages)} MiB for it and the Memory has ${mib(memory.available)} MiB left`;
}

/**
 * What the host keeps of one loaded image, charged once to a Memory however many of its Images
 * hold it: the loader hands out one compiled module per binary while it holds it, and the image
 * store keeps one set of frames, so a second Image of the same module in the same Memory costs the
 * host nothing more. Shared by the compiled module itself, not by the binary's hash: a loader that
 * let go of a load nobody took (its caller killed) while another load of the same bytes ran
 * compiles the bytes again for the next, and each copy is paid for (redteam6). It lives while an
 * Image of that Memory holds it; an Image of the same module in another Memory pays in full there,
 * since either may be left alone.
 */
class ImageHostCharge extends KernelObject {
  readonly kind = ObjectKind.IMAGE;
  private holders = 0;
  private readonly shared: Map<WebAssembly.Module, ImageHostCharge>;
  private readonly module: WebAssembly.Module;

  constructor(shared: Map<WebAssembly.Module, ImageHostCharge>, module: WebAssembly.Module) {
    super();
    this.shared = shared;
    this.module = module;
  }

  hold(image: ImageObject): void {
    this.holders++;
    image.hostCharge = this;
  }

  drop(): void {
    if (--this.holders === 0) this.destroy();
  }

  protected teardown(): void {
    if (this.shared.get(this.module) === this) this.shared.delete(this.module);
  }
}

/** Each Memory's host charges, by compiled module. */
const hostCharges = new WeakMap<MemoryObject, Map<WebAssembly.Module, ImageHostCharge>>();

/** The charge `memory` pays for the host's copy of `image`: one its Images of the same compiled module share, or a new one (null: the Memory cannot pay). */
export function hostChargeFor(memory: MemoryObject, image: LoadedImage, pages: number): ImageHostCharge | null {
  let shared = hostCharges.get(memory);
  if (!shared) hostCharges.set(memory, (shared = new Map()));
  const known = shared.get(image.module);
  if (known && !known.destroyed) return known;
  const charge = new ImageHostCharge(shared, image.module);
  if (!memory.adopt(charge, pages)) return null;
  shared.set(image.module, charge);
  return charge;
}
