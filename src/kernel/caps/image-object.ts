import type { LoadedImage } from "../image.ts";
import type { MappedImage } from "../image-store.ts";
import { KernelObject } from "./kernel-object.ts";
import { Status } from "../errors.ts";
import { type Invocation, answer } from "./invocation.ts";
import { ObjectKind, Op } from "./object-abi.ts";
import { PAGE_SIZE } from "../constants.ts";

/**
 * A loaded, verified binary that processes can be created from (boot modules, `--module`,
 * MEMORY_CREATE_IMAGE). Its bytes sit read-only at one global address, held in the image store
 * while it lives; processes of the image hold the mapping too, so it outlives the Image while
 * they run. IMAGE_MAP maps the bytes into a holder (the file system installing the boot modules
 * as files, say), as they are mapped into every process made from it.
 */
export class ImageObject extends KernelObject {
  readonly kind = ObjectKind.IMAGE;
  readonly image: LoadedImage;
  /** Where the image is mapped read-only in the global space, and its frames (kernel frames, shared). */
  readonly globalAddress: number;
  readonly frames: readonly number[];
  private readonly unmap: () => void;

  constructor(image: LoadedImage, mapped: MappedImage, unmap: () => void = () => {}) {
    super();
    this.image = image;
    this.globalAddress = mapped.base;
    this.frames = mapped.frames;
    this.unmap = unmap;
  }

  protected teardown(): void {
    this.unmap();
  }
}

/**
 * IMAGE_UNMAP surrenders the view: the pages go from the caller and so does the capability it
 * invoked, so access is gone for good unless it holds another copy. A process's own binary stays
 * (the kernel maps it for `image_base`): unmapping it is E_INVALID_ARGUMENT.
 */
function surrender(inv: Invocation, image: ImageObject): number {
  const caller = inv.caller;
  if (caller.image === image.image) return Status.E_INVALID_ARGUMENT;
  image.frames.forEach((frame, i) => {
    const address = image.globalAddress + i * PAGE_SIZE;
    if (caller.space.mapping(address)?.frame === frame) caller.space.unmap(address);
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
      return answer(inv, [image.image.bytes.length, image.globalAddress]);
    case Op.IMAGE_MAP:
      try {
        inv.caller.space.mapShared(image.globalAddress, image.frames);
      } catch (error) {
        if (error instanceof RangeError) return Status.E_QUOTA; // no frame for a page table
        throw error;
      }
      return answer(inv, [image.image.bytes.length, image.globalAddress]);
    case Op.IMAGE_UNMAP:
      return surrender(inv, image);
    default:
      return Status.E_INVALID_ARGUMENT;
  }
}
