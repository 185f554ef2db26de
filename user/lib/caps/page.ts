// A Page: one frame, mapped into private windows (at an address you choose) or at its global
// address (the same in every process). Only a SHARED page may be mapped by more than one process.
import {
  OP_PAGE_MAP, OP_PAGE_UNMAP, OP_PAGE_MAP_GLOBAL, OP_PAGE_COPY, OP_PAGE_MOVE, OP_PAGE_SET_FLAGS, OP_PAGE_INFO,
} from "../abi";
import { msgWord } from "../message";
import { operation, operation1, operation2, operationWithCap } from "./operation";

/** PAGE_INFO's answer. */
export class PageInfo {
  status: i32 = 0;
  flags: u32 = 0;
  /** 0 until mapGlobal gave it one. */
  globalAddress: u32 = 0;
  mappings: u32 = 0;
}

export class Page {
  constructor(readonly cap: i32) {}

  /** Maps it at a page-aligned private `address`; what was there is freed. */
  map(address: usize, writable: bool): i32 {
    return operation2(this.cap, OP_PAGE_MAP, <u32>address, writable ? 1 : 0);
  }

  /** Removes its mapping at `address`: the private page reads zeros again. */
  unmap(address: usize): i32 {
    return operation1(this.cap, OP_PAGE_UNMAP, <u32>address);
  }

  /**
   * Maps it at its global address: that address, or a negative status. i64, because global
   * addresses have the top bit set and would read as negative in an i32.
   */
  mapGlobal(writable: bool): i64 {
    const status = operation1(this.cap, OP_PAGE_MAP_GLOBAL, writable ? 1 : 0);
    return status < 0 ? <i64>status : <i64>msgWord(0);
  }

  /** `target` (a Page cap) gets the same bytes; the frame is shared until either is mapped writable. */
  copyTo(target: i32): i32 {
    return operationWithCap(this.cap, OP_PAGE_COPY, <u32>target);
  }

  /** `target` takes this page's frame without copying; this page is unmapped everywhere and reads zeros. */
  moveTo(target: i32): i32 {
    return operationWithCap(this.cap, OP_PAGE_MOVE, <u32>target);
  }

  /** PAGE_READ_ONLY makes every mapping read-only; PAGE_SHARED lets several processes map it. */
  setFlags(flags: u32): i32 {
    return operation1(this.cap, OP_PAGE_SET_FLAGS, flags);
  }

  info(): PageInfo {
    const info = new PageInfo();
    info.status = operation(this.cap, OP_PAGE_INFO);
    if (info.status >= 0) {
      info.flags = msgWord(0);
      info.globalAddress = msgWord(1);
      info.mappings = msgWord(2);
    }
    return info;
  }
}
