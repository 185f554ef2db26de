import type { LoadedImage } from "../image.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind } from "./object-abi.ts";

/**
 * A loaded, verified binary that processes can be created from (boot modules, `--module`,
 * MEMORY_CREATE_IMAGE). Its read-only mapping is held in the image store while it lives; processes
 * of the image hold the mapping too, so it outlives the Image while they run.
 */
export class ImageObject extends KernelObject {
  readonly kind = ObjectKind.IMAGE;
  readonly image: LoadedImage;
  /** Where the image is mapped read-only in the global space. */
  readonly globalAddress: number;
  private readonly unmap: () => void;

  constructor(image: LoadedImage, globalAddress: number, unmap: () => void = () => {}) {
    super();
    this.image = image;
    this.globalAddress = globalAddress;
    this.unmap = unmap;
  }

  protected teardown(): void {
    this.unmap();
  }
}
