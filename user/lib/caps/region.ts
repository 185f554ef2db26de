// A Region: a page-aligned range of the global space with one owner, who has it mapped
// read-write, and any number of read-only views. The owner capability cannot be copied; sending
// it always moves it, and the sender loses the mapping in the same step. A filler lets another
// process have the kernel write into the range (docs/ABI.md "Fillers") without mapping it writable.
import { OP_REGION_INFO, OP_REGION_VIEW, OP_REGION_FREE, OP_REGION_CLONE, OP_REGION_FILLER, OP_REGION_FILL, OP_REGION_FILL_GATHER, OP_REGION_REVOKE_FILLERS } from "../abi";
import { msgWord } from "../message";
import { operation, operation3, answeredCap, operationWithCap } from "./operation";

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

  /**
   * Works on views as well as on the owner capability; answers only when the range is mapped here
   * in full, so reading at `address` never faults: a filler narrowed to RIGHT_REGION_FILL, or a
   * capability with no rights, is E_MISSING_RIGHT (E_QUOTA: no page table for it could be had).
   */
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

  /**
   * A read-only view (RIGHT_REGION_READ), which may be copied and given freely. Owner only, and
   * only the Region's maker: an owner lent it answers E_MISSING_RIGHT (docs/ABI.md).
   */
  view(): i32 {
    return answeredCap(operation(this.cap, OP_REGION_VIEW));
  }

  /**
   * A filler (RIGHT_REGION_READ and RIGHT_REGION_FILL): a view whose holder may also have the
   * kernel copy its bytes into the range (`fill`), while this process holds the owner. Owner only;
   * RIGHT_REGION_FILL alone, mapping nothing, when this process is not the Region's maker.
   */
  filler(): i32 {
    return answeredCap(operation(this.cap, OP_REGION_FILLER));
  }

  /** Every filler made so far stops working. Owner only. */
  revokeFillers(): i32 {
    return operation(this.cap, OP_REGION_REVOKE_FILLERS);
  }

  /**
   * A copy-on-write clone paid by `memory` (a Memory capability with MEMORY_CREATE): the clone's
   * owner capability, or a negative status. Frames are shared until either owner writes a page.
   * The owner or a view only (a copy is read): a filler narrowed to RIGHT_REGION_FILL is E_MISSING_RIGHT.
   */
  clone(memory: i32): i32 {
    return answeredCap(operationWithCap(this.cap, OP_REGION_CLONE, <u32>memory));
  }

  /** Ends the owner's access and empties its slot; views keep the contents (zeros with REGION_ZERO_ON_FREE). */
  free(): i32 {
    return operation(this.cap, OP_REGION_FREE);
  }
}

/**
 * Through a filler (`Region.filler`, given to this process): copies `length` bytes of this
 * process's memory at `from` into the Region at `offset`. 0 or a status (E_PEER_DEAD: the owner
 * moved it on, freed it or revoked the filler).
 */
export function regionFill(filler: i32, offset: u32, from: usize, length: u32): i32 {
  return operation3(filler, OP_REGION_FILL, offset, <u32>from, length);
}

/**
 * Through a filler: copies the `count` pieces listed at `list` (pairs of u32: address, length in
 * this process's memory) one after another into the Region from `offset`, in one kernel call. 0 or
 * a status, nothing written unless it is 0.
 */
export function regionFillGather(filler: i32, offset: u32, list: usize, count: u32): i32 {
  return operation3(filler, OP_REGION_FILL_GATHER, offset, <u32>list, count);
}
