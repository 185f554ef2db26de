// A Region: a page-aligned range of the global space with one owner, who has it mapped
// read-write, and any number of read-only views. The owner capability cannot be copied; sending
// it always moves it, and the sender loses the mapping in the same step.
import { OP_REGION_INFO, OP_REGION_VIEW, OP_REGION_FREE, OP_REGION_CLONE } from "../abi";
import { msgWord } from "../message";
import { operation, answeredCap, operationWithCap } from "./operation";

/** REGION_INFO's answer. */
export class RegionInfo {
  status: i32 = 0;
  /** The global address, the same in every process. */
  address: u32 = 0;
  pages: u32 = 0;
  flags: u32 = 0;
  /** Whether the asking process holds the owner capability (and so may write). */
  owner: bool = false;
}

export class Region {
  constructor(readonly cap: i32) {}

  /** Works on views as well as on the owner capability. */
  info(): RegionInfo {
    const info = new RegionInfo();
    info.status = operation(this.cap, OP_REGION_INFO);
    if (info.status >= 0) {
      info.address = msgWord(0);
      info.pages = msgWord(1);
      info.flags = msgWord(2);
      info.owner = msgWord(3) != 0;
    }
    return info;
  }

  /** A read-only view (RIGHT_REGION_READ), which may be copied and given freely. Owner only. */
  view(): i32 {
    return answeredCap(operation(this.cap, OP_REGION_VIEW));
  }

  /** Ends the owner's access and empties its slot; views keep the contents (zeros with REGION_ZERO_ON_FREE). */
  /**
   * A copy-on-write clone paid by `memory` (a Memory capability with MEMORY_CREATE): the clone's
   * owner capability, or a negative status. Frames are shared until either owner writes a page.
   */
  clone(memory: i32): i32 {
    return answeredCap(operationWithCap(this.cap, OP_REGION_CLONE, <u32>memory));
  }

  free(): i32 {
    return operation(this.cap, OP_REGION_FREE);
  }
}
