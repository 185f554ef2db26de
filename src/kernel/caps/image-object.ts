import type { LoadedImage } from "../image.ts";
import { KernelObject } from "./kernel-object.ts";
import { ObjectKind } from "./object-abi.ts";

/** A loaded, verified binary that processes can be created from (boot modules, `--module`). */
export class ImageObject extends KernelObject {
  readonly kind = ObjectKind.IMAGE;
  readonly image: LoadedImage;
  /** Where the image is mapped read-only in the global space. */
  readonly globalAddress: number;

  constructor(image: LoadedImage, globalAddress: number) {
    super();
    this.image = image;
    this.globalAddress = globalAddress;
  }

  protected teardown(): void {
    // The image's frames stay in the image store: other processes of it may still run.
  }
}
