// An Image: a loaded, verified binary, mapped read-only in the global space. Processes are made
// from it with Memory.createProcess; `dogma run --module` hands one over per module, from slot 3.
import { OP_IMAGE_BUILDER_APPEND, OP_IMAGE_BUILDER_LOAD, OP_IMAGE_INFO, OP_IMAGE_MAP, OP_IMAGE_UNMAP } from "../abi";
import { msgAddCap, msgAddWord, msgBegin, msgInvoke, msgWord } from "../message";
import { answeredCap, operation } from "./operation";

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

/**
 * A binary handed to the kernel a Region at a time (Memory.createImageBuilder), for binaries
 * larger than a Region this process can hold: append each piece, then load.
 */
export class ImageBuilder {
  constructor(readonly cap: i32) {}

  /** Copies the first `length` bytes of `region` (owner or view; it stays here) after what is there: the bytes held so far, or a status. */
  append(region: i32, length: u32): i32 {
    msgBegin(OP_IMAGE_BUILDER_APPEND);
    msgAddWord(length);
    msgAddCap(<u32>region);
    const status = msgInvoke(this.cap);
    return status < 0 ? status : <i32>msgWord(0);
  }

  /** Loads the whole binary as Memory.createImage does (this process waits): an Image cap, or a status (Memory.loadError says why a refusal). */
  load(): i32 {
    return answeredCap(operation(this.cap, OP_IMAGE_BUILDER_LOAD));
  }
}
