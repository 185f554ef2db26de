// Views the driver keeps of the buffers WRITEs came from. A WRITE brings a view of the caller's
// buffer, and it goes back with the answer; the kernel maps a Region into a process when that
// process's access to it changes, so without a view of its own the driver had the buffer mapped
// and unmapped again at every call (256 pages for a 1 MiB buffer, each a page-table update both
// ways). Keeping a copy of the view of the last KEPT buffers — the file system writes through the
// same few — makes the next WRITE from one of them map nothing. A view reads only: the driver
// sees no more than the callers send it, and a buffer its owner frees reads as zeros here too.
// The least recently used is dropped for a new one (its pages unmapped then).
import { capCopy, capDrop } from "../../lib";

const KEPT: i32 = 4;

export class KeptViews {
  private readonly address: StaticArray<u32> = new StaticArray<u32>(KEPT);
  private readonly cap: StaticArray<i32> = new StaticArray<i32>(KEPT);
  private readonly used: StaticArray<u64> = new StaticArray<u64>(KEPT);
  private clock: u64 = 0;

  /** A WRITE brought `view`, a view of the Region at global `address`: keep a copy of it if none is kept. */
  keep(view: i32, address: u32): void {
    this.clock++;
    let oldest = 0;
    for (let i = 0; i < KEPT; i++) {
      if (unchecked(this.cap[i]) != 0 && unchecked(this.address[i]) == address) {
        unchecked((this.used[i] = this.clock));
        return;
      }
      if (unchecked(this.used[i]) < unchecked(this.used[oldest])) oldest = i;
    }
    const copy = capCopy(view);
    if (copy < 0) return; // (the table is full: the call goes on without keeping it)
    if (unchecked(this.cap[oldest]) != 0) capDrop(unchecked(this.cap[oldest]));
    unchecked((this.cap[oldest] = copy));
    unchecked((this.address[oldest] = address));
    unchecked((this.used[oldest] = this.clock));
  }
}
