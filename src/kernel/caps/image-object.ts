import type { MappingSpace } from "../frame-owner.ts";
import type { DeferredImage, LoadedImage } from "../image.ts";
import type { MappedImage } from "../image-store.ts";
import type { Process } from "../process.ts";
import { KernelObject } from "./kernel-object.ts";
import { Status } from "../errors.ts";
import { type Invocation, answer } from "./invocation.ts";
import { ObjectKind, Op } from "./object-abi.ts";
import { PAGE_SIZE } from "../constants.ts";

/** What an Image needs from the kernel. */
export interface ImageHooks {
  /** Its hold on the image store goes (the store frees the frames once no mapping holds them). */
  release(): void;
  /** It was destroyed while `process`, made from it, still lives: the process ends. */
  endProcess(process: Process): void;
}

/**
 * A loaded, verified binary that processes can be created from (boot modules, `--module`,
 * MEMORY_CREATE_IMAGE). Its bytes sit read-only at one global address, held in the image store
 * while it lives. IMAGE_MAP maps the bytes into a holder (the file system installing the boot
 * modules as files, say), as they are mapped into every process made from it.
 *
 * Lifetime: it lives while a capability to it, a process made from it or a mapping of it is left,
 * charged to its Memory all that time (so a program cannot keep frames or compiled code alive
 * that no quota pays for). Destroying its Memory destroys it: its mappings go from every space
 * and the processes made from it end, their code having been the Memory's.
 */
export class ImageObject extends KernelObject {
  readonly kind = ObjectKind.IMAGE;
  readonly name: string;
  /** The binary, exactly as given (IMAGE_MAP shows it; known before the load ends). */
  readonly bytes: Uint8Array;
  /** The loaded image; null while a deferred one is still loading (`whenLoaded`). */
  private loadedImage: LoadedImage | null;
  private readonly deferred: DeferredImage | null;
  /** Where the image is mapped read-only in the global space, and its frames (kernel frames, shared; 0 until first used). */
  readonly globalAddress: number;
  readonly frames: readonly number[];
  private readonly stored: MappedImage;
  /** Live processes made from it (they hold it). */
  readonly processes = new Set<Process>();
  /** Spaces that map it, with how many pages each. */
  private readonly spaces = new Map<MappingSpace, number>();
  /** Frames of the image this Image gave (and was charged for) since the store last took them back. */
  private framesPaid = 0;
  private readonly hooks: ImageHooks;
  /** What pays for the host's copy of the loaded image, shared with the other Images of it in this Image's Memory (image-create.ts). */
  hostCharge: { drop(): void } | null = null;

  constructor(image: LoadedImage | DeferredImage, mapped: MappedImage, hooks: ImageHooks) {
    super();
    this.name = image.name;
    this.bytes = image.bytes;
    if ("load" in image) {
      this.deferred = image;
      this.loadedImage = null;
    } else {
      this.deferred = null;
      this.loadedImage = image;
    }
    this.globalAddress = mapped.base;
    this.frames = mapped.frames;
    this.stored = mapped;
    this.hooks = hooks;
  }

  /** The loaded image, or null while it loads (a process made from it waits: `whenLoaded`). */
  get image(): LoadedImage | null {
    return this.loadedImage;
  }

  /** The loaded image once the loader has it (started now if nobody asked before); rejects with the refusal. */
  whenLoaded(): Promise<LoadedImage> {
    if (this.loadedImage) return Promise.resolve(this.loadedImage);
    return this.deferred!.load().then((image) => (this.loadedImage = image));
  }

  override ownsFrame(frame: number, address: number): boolean {
    return !this.destroyed && this.frames[(address - this.globalAddress) / PAGE_SIZE] === frame;
  }

  /** A page's frame, given on its first use if `mayGive` and then charged to this Image's Memory (null: no quota or no frame, or not `mayGive`). */
  frameFor(address: number, mayGive: boolean): number | null {
    if (this.destroyed) return null;
    const index = (address - this.globalAddress) / PAGE_SIZE;
    const given = this.frames[index] !== 0;
    if (!given && !mayGive) return null;
    if (!given && this.payer && !this.payer.charge(1)) return null;
    const frame = this.stored.frameAt(index);
    if (!given && this.payer) {
      if (frame === null) this.payer.uncharge(1);
      else {
        this.chargedPages++;
        this.framesPaid++;
        this.stored.payers.add(this);
      }
    }
    return frame;
  }

  /** The image store took every frame back (nothing maps a page of it): what this Image paid for them returns to its Memory. */
  framesDropped(): void {
    if (this.payer && this.framesPaid > 0) this.payer.uncharge(this.framesPaid);
    this.chargedPages -= this.framesPaid;
    this.framesPaid = 0;
    this.stored.payers.delete(this);
  }

  override mapped(space: MappingSpace): void {
    this.spaces.set(space, (this.spaces.get(space) ?? 0) + 1);
    this.stored.pageMapped();
    super.mapped(space);
  }

  override unmapped(space: MappingSpace): void {
    const pages = (this.spaces.get(space) ?? 0) - 1;
    if (pages > 0) this.spaces.set(space, pages);
    else this.spaces.delete(space);
    this.stored.pageUnmapped();
    super.unmapped(space);
  }

  /** `process`, made from it, ended: one holder fewer. */
  processEnded(process: Process): void {
    if (this.processes.delete(process)) this.collect();
  }

  protected override persists(): boolean {
    return this.processes.size > 0 || this.mappedPages > 0;
  }

  protected teardown(): void {
    for (const space of [...this.spaces.keys()]) {
      this.frames.forEach((_frame, i) => {
        const address = this.globalAddress + i * PAGE_SIZE;
        if (space.ownerAt(address) === this) space.unmap(address);
      });
    }
    for (const process of [...this.processes]) this.hooks.endProcess(process);
    this.processes.clear();
    this.hostCharge?.drop();
    this.hostCharge = null;
    // Its charge goes back whole when it is destroyed (KernelObject.destroy): it pays for no frame later dropped.
    this.stored.payers.delete(this);
    this.hooks.release();
  }
}

/**
 * IMAGE_UNMAP surrenders the view: the pages go from the caller and so does the capability it
 * invoked, so access is gone for good unless it holds another copy. A process's own binary stays
 * (the kernel maps it for `image_base`): unmapping it is E_INVALID_ARGUMENT.
 */
function surrender(inv: Invocation, image: ImageObject): number {
  const caller = inv.caller;
  // Images of the same binary share their frames and address: that is the caller's own binary.
  if (image.globalAddress === caller.imageBase) return Status.E_INVALID_ARGUMENT;
  image.frames.forEach((_frame, i) => {
    const address = image.globalAddress + i * PAGE_SIZE;
    if (caller.space.ownerAt(address) === image) caller.space.unmap(address);
  });
  caller.caps.take(inv.capIndex)?.dispose();
  return Status.OK;
}

/**
 * IMAGE_* operations; any right will do (whoever holds an Image may see what it would run).
 * IMAGE_MAP maps the bytes read-only at their global address in the caller until it ends, like
 * the binary of a process made from the Image; the pages past the binary's end read zeros.
 */
export function invokeImage(inv: Invocation, image: ImageObject): number {
  switch (inv.message.label) {
    case Op.IMAGE_INFO:
      return answer(inv, [image.bytes.length, image.globalAddress]);
    case Op.IMAGE_MAP:
      try {
        // The caller's own binary is mapped already, held by what it was made from.
        if (image.globalAddress !== inv.caller.imageBase) inv.caller.space.mapShared(image.globalAddress, image.frames, image);
      } catch (error) {
        if (error instanceof RangeError) return Status.E_QUOTA; // no frame for a page table
        throw error;
      }
      return answer(inv, [image.bytes.length, image.globalAddress]);
    case Op.IMAGE_UNMAP:
      return surrender(inv, image);
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
