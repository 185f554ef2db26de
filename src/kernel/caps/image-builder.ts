import { PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import { hostPages, loadChargePages, quotaRefusal } from "./image-charge.ts";
import { MAX_BUILT_IMAGE_BYTES, imageName, loadImageFor } from "./image-create.ts";
import { type Invocation, answer, argumentObject, word } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import type { MemoryObject } from "./memory-object.ts";
import { ObjectKind, Op, Rights } from "./object-abi.ts";
import type { ObjectKernel } from "./object-kernel.ts";
import type { RegionObject } from "./region.ts";
import { Capability } from "./capability.ts";

/**
 * A binary being handed to the kernel a piece at a time (MEMORY_CREATE_IMAGE_BUILDER), for
 * binaries larger than a caller can hold in one Region: a 30 MB program read from the file system
 * through a 1 MiB Region. It holds the bytes in the host's heap, charged to its Memory a page per
 * page of them; IMAGE_BUILDER_LOAD charges it a load's estimate (imageLoadEstimateBytes), hands
 * them to the loader and answers the Image, charged what the host keeps of it.
 *
 * Invariant: `filled <= bytes.length`; once loading has begun it takes no more bytes.
 */
export class ImageBuilder extends KernelObject {
  readonly kind = ObjectKind.IMAGE_BUILDER;
  readonly name: string;
  /** What it gathered; empty once destroyed (a capability to the tombstone must not keep 64 MiB in the host). */
  bytes: Uint8Array;
  filled = 0;
  loading = false;

  constructor(length: number, name: string) {
    super();
    this.bytes = new Uint8Array(length);
    this.name = name;
  }

  /** While the loader holds its bytes (the load's end destroys it). */
  override get heldByHost(): boolean {
    return this.loading;
  }

  /** Its last capability dropped mid-load (its caller killed) must not uncharge bytes the loader holds. */
  protected override persists(): boolean {
    return this.loading;
  }

  protected teardown(): void {
    this.bytes = new Uint8Array(0);
    this.filled = 0;
  }
}

/** MEMORY_CREATE_IMAGE_BUILDER: words `length` (the whole binary's), then a name as MEMORY_CREATE_IMAGE's. */
export function createImageBuilder(k: ObjectKernel, inv: Invocation, memory: MemoryObject): number {
  if (!k.canLoadImages) return Status.E_NOT_READY;
  const length = word(inv, 0);
  if (length === 0 || length > MAX_BUILT_IMAGE_BYTES) return Status.E_INVALID_ARGUMENT;
  const name = imageName(inv.message.words.subarray(1));
  if (name === null) return Status.E_INVALID_ARGUMENT;
  // The room is looked at before the host allocates the bytes: a refused request costs it nothing.
  if (hostPages(length) > memory.available) return Status.E_QUOTA;
  const builder = new ImageBuilder(length, name);
  if (!memory.adopt(builder, hostPages(length))) return Status.E_QUOTA;
  return answer(inv, [], [new Capability(builder, Rights.IMAGE_BUILDER_WRITE)]);
}

/**
 * IMAGE_BUILDER_* operations. APPEND copies the first `length` bytes of the Region given (owner or
 * view; the caller may reuse it at once) after what is there; INFO answers `filled, length`; LOAD,
 * once every byte is there, loads the binary as MEMORY_CREATE_IMAGE does, in the builder's Memory,
 * and the builder is done (its charge, raised to the load's estimate, lasts until the load ends,
 * then the Image's comes; a Memory that cannot pay the estimate is E_QUOTA, with a message for
 * MEMORY_LOAD_ERROR).
 */
export function invokeImageBuilder(k: ObjectKernel, inv: Invocation, builder: ImageBuilder): number | Promise<number> {
  switch (inv.message.label) {
    case Op.IMAGE_BUILDER_INFO:
      return answer(inv, [builder.filled, builder.bytes.length]);
    case Op.IMAGE_BUILDER_APPEND: {
      if (!inv.cap.has(Rights.IMAGE_BUILDER_WRITE)) return Status.E_MISSING_RIGHT;
      if (builder.loading) return Status.E_NOT_READY;
      const region = argumentObject<RegionObject>(inv, 0, ObjectKind.REGION, Rights.REGION_READ);
      if (typeof region === "number") return region;
      const length = word(inv, 0);
      if (length === 0 || length > region.pages * PAGE_SIZE || builder.filled + length > builder.bytes.length) return Status.E_INVALID_ARGUMENT;
      builder.bytes.set(region.read(length), builder.filled);
      builder.filled += length;
      return answer(inv, [builder.filled]);
    }
    case Op.IMAGE_BUILDER_LOAD: {
      if (!inv.cap.has(Rights.IMAGE_BUILDER_WRITE)) return Status.E_MISSING_RIGHT;
      if (builder.loading || builder.filled < builder.bytes.length) return Status.E_NOT_READY;
      const memory = builder.payer;
      if (!memory || memory.destroyed) return Status.E_PEER_DEAD;
      inv.caller.loadError = "";
      // The loader takes a copy of the bytes and the module's fixed cost comes: paid before it starts.
      const more = loadChargePages(builder.bytes.length) - builder.chargedPages;
      if (!memory.charge(more)) {
        inv.caller.loadError = quotaRefusal(builder.name, "loading it", builder.chargedPages + more, memory);
        return Status.E_QUOTA;
      }
      builder.chargedPages += more;
      builder.loading = true;
      // The builder stays charged while the loader holds its bytes, whatever becomes of its caller
      // (killed, the wait ends at once): the load's end destroys it, as the Image's pages are charged.
      return loadImageFor(k, inv, memory, builder.bytes, builder.name, builder);
    }
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
