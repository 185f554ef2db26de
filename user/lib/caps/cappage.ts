// A Cappage: 256 capability slots shared by every process that holds it, to hand over a set of
// capabilities in one step instead of one message each.
import { OP_CAPPAGE_PUT, OP_CAPPAGE_GET, OP_CAPPAGE_CLEAR, OP_CAPPAGE_NARROW } from "../abi";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke } from "../message";
import { operation1, answeredCap } from "./operation";

export class Cappage {
  constructor(readonly cap: i32) {}

  /** Puts a copy of `cap` in `slot` (`cap | CAP_MOVE` moves it); what was there is disposed. */
  put(slot: u32, cap: u32): i32 {
    msgBegin(OP_CAPPAGE_PUT);
    msgAddWord(slot);
    msgAddCap(cap);
    return msgInvoke(this.cap);
  }

  /** A copy of what `slot` holds, installed here: its index, or E_INVALID_CAP if empty. A Region owner is taken out, not copied. */
  get(slot: u32): i32 {
    return answeredCap(operation1(this.cap, OP_CAPPAGE_GET, slot));
  }

  clear(slot: u32): i32 {
    return operation1(this.cap, OP_CAPPAGE_CLEAR, slot);
  }

  /**
   * A copy with the same rights that reaches only `count` slots from `first` of this one's, seen
   * as slots 0 to count-1 (to hand out one slot of a page and not the rest): its index, or a status.
   */
  narrow(first: u32, count: u32): i32 {
    msgBegin(OP_CAPPAGE_NARROW);
    msgAddWord(first);
    msgAddWord(count);
    return answeredCap(msgInvoke(this.cap));
  }
}
