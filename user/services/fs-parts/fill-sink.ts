// Where a read through an attached handle lands when its client gave its buffer as a filler
// (docs/FS.md "Attached handles"): the bytes are still read at local addresses in the handle's read
// buffer (`base` on), but what the page cache holds is copied from the cache straight into the
// client's buffer by the kernel, and what had to be made here first (zeros for holes, blocks read
// from the disk) is passed on from the read buffer. The client's buffer offset of the byte at local
// address `to` is `at + (to - base)`.
//
// The pieces are gathered and sent in one kernel call (REGION_FILL_GATHER) at `flush`: the pages
// of a file seldom lie side by side in the cache, and a call a page cost more than the copy. So a
// listed page must not change before the flush: FileData.read flushes before anything that may
// take a cache page for another block (a miss), and everything else listed is the read buffer's
// or a map's, which nothing else writes during the read.
import { regionFillGather } from "../../lib";

/** Pieces gathered before they must go (REGION_FILL_GATHER takes at most 512). */
const MAX_PIECES: i32 = 256;
const list = new StaticArray<u32>(MAX_PIECES * 2);

export class FillSink {
  /** The client's filler (0: none: reads stay in the read buffer). */
  cap: i32 = 0;
  /** The local address that stands for the client's offset `at`. */
  base: usize = 0;
  at: u32 = 0;
  private count: i32 = 0;
  /** The client's offset the first gathered piece goes to. */
  private start: u32 = 0;
  /** The client's offset after the last gathered piece. */
  private next: u32 = 0;

  /** Begins a read into the client's buffer at `at`, through `cap`, for local addresses from `base`. */
  begin(cap: i32, base: usize, at: u32): void {
    this.cap = cap;
    this.base = base;
    this.at = at;
    this.count = 0;
  }

  /** `length` bytes at `from` (this process's memory) are to go to the client's place for local `to`: 0 or a status. */
  put(to: usize, from: usize, length: u32): i32 {
    if (length == 0) return 0;
    const offset = this.at + <u32>(to - this.base);
    if (this.count > 0 && offset != this.next) {
      const status = this.flush();
      if (status < 0) return status;
    }
    if (this.count == 0) this.start = offset;
    unchecked((list[this.count * 2] = <u32>from));
    unchecked((list[this.count * 2 + 1] = length));
    this.count++;
    this.next = offset + length;
    return this.count == MAX_PIECES ? this.flush() : 0;
  }

  /** Sends what is gathered: 0 or the kernel's status (E_PEER_DEAD: the client's buffer moved on). */
  flush(): i32 {
    if (this.count == 0) return 0;
    const count = this.count;
    this.count = 0;
    return regionFillGather(this.cap, this.start, changetype<usize>(list), <u32>count);
  }
}
