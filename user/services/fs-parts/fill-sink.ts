// Where a read through an attached handle lands when its client gave its buffer as a filler
// (docs/FS.md "Attached handles"): the bytes are still read at local addresses in the handle's read
// buffer (`base` on), but what the page cache holds is copied from the cache straight into the
// client's buffer by the kernel (REGION_FILL), and what had to be made here first (zeros for holes,
// blocks read from the disk) is passed on from the read buffer. The client's buffer offset of the
// byte at local address `to` is `at + (to - base)`.
import { regionFill } from "../../lib";

export class FillSink {
  /** The client's filler (0: none: reads stay in the read buffer). */
  cap: i32 = 0;
  /** The local address that stands for the client's offset `at`. */
  base: usize = 0;
  at: u32 = 0;

  /** Copies `length` bytes at `from` (this process's memory) to the client's place for local `to`: 0 or a status. */
  put(to: usize, from: usize, length: u32): i32 {
    if (length == 0) return 0;
    return regionFill(this.cap, this.at + <u32>(to - this.base), from, length);
  }
}
