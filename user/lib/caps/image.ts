// An Image: a loaded, verified binary, mapped read-only in the global space. Processes are made
// from it with Memory.createProcess; `dogma run --module` hands one over per module, from slot 3.
import { OP_IMAGE_INFO, OP_IMAGE_MAP, OP_IMAGE_UNMAP } from "../abi";
import { msgWord } from "../message";
import { operation } from "./operation";

/** IMAGE_INFO's answer. */
export class ImageInfo {
  status: i32 = 0;
  size: u32 = 0;
  address: u32 = 0;
}

export class Image {
  constructor(readonly cap: i32) {}

  info(): ImageInfo {
    const info = new ImageInfo();
    info.status = operation(this.cap, OP_IMAGE_INFO);
    if (info.status >= 0) {
      info.size = msgWord(0);
      info.address = msgWord(1);
    }
    return info;
  }

  /** Maps the binary read-only at its global address here (until this process ends): as info(), and its bytes are readable at `address`. */
  map(): ImageInfo {
    const info = new ImageInfo();
    info.status = operation(this.cap, OP_IMAGE_MAP);
    if (info.status >= 0) {
      info.size = msgWord(0);
      info.address = msgWord(1);
    }
    return info;
  }

  /** Surrenders the view: the bytes leave this process, and so does this capability (its slot empties). */
  unmap(): i32 {
    return operation(this.cap, OP_IMAGE_UNMAP);
  }
}
