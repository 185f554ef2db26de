// Block I/O for the file system: whole 4 KiB blocks through the block driver (BlockClient), in
// runs of up to a buffer's worth (1 MiB) per call. A driver that dies (E_PEER_DEAD) is looked up
// again and the request repeated: reads and writes of whole blocks are idempotent.
//
// A read moves its buffer (a Region's owner) to the driver and back, and the kernel maps and
// unmaps every page of it each way (about 0.2 µs a page): a 1 MiB buffer costs ~110 µs a call
// whatever the call moves. So there are four buffers, of 1, 16, 64 and 256 pages, and a run goes
// in the smallest that holds it: a one-block read moves one page, a read-ahead of 64 blocks 64.
// A write sends a view, of which the driver keeps a copy (lib/kept-views.ts): after the first
// write from a buffer, nothing is mapped or unmapped on either side. The page cache's write-back
// sends views of its own Regions (`writeView`) and skips the copy into a buffer.
import { BlockClient, blockErrorName } from "../../lib/block-client";
import { RegionBuffer } from "../../lib/region-buffer";
import { E_PEER_DEAD, lineBegin, lineAdd, lineAddU32, linePrint } from "../../lib";
import { BLOCK_BYTES, BLOCK_SHIFT, SECTORS_PER_BLOCK } from "./format";

/** Blocks one driver call moves at most: the largest buffer's size. */
export const RUN_BLOCKS: u32 = 256;
/** The smaller buffers' sizes, in blocks. */
const SMALL_BLOCKS: u32 = 1;
const MEDIUM_BLOCKS: u32 = 16;
const LARGE_BLOCKS: u32 = 64;
const RETRIES: i32 = 8;
/** Most blocks an overlay holds: a journal transaction's. */
const OVERLAY_MAX: i32 = 1024;
// A read-only mount's overlay: block overlayTarget[i] (sorted) is read from block overlayFrom[i].
const overlayTarget = new StaticArray<u32>(OVERLAY_MAX);
const overlayFrom = new StaticArray<u32>(OVERLAY_MAX);

export class Disk {
  readonly client: BlockClient;
  /** Blocks on the disk. */
  blocks: u64 = 0;
  /** Driver calls and the blocks they moved, for the figures. */
  reads: u64 = 0;
  writes: u64 = 0;
  lastError: string = "";
  /** Times a dead driver's successor was found. */
  reconnects: u32 = 0;
  /** Blocks read from elsewhere (overlay): a read-only mount's committed journal, never replayed in place. */
  private overlayCount: i32 = 0;

  private readonly small: RegionBuffer;
  private readonly medium: RegionBuffer;
  private readonly large: RegionBuffer;

  constructor(memory: i32) {
    this.client = new BlockClient(memory, RUN_BLOCKS);
    this.small = new RegionBuffer(memory, SMALL_BLOCKS);
    this.medium = new RegionBuffer(memory, MEDIUM_BLOCKS);
    this.large = new RegionBuffer(memory, LARGE_BLOCKS);
  }

  /** The smallest buffer that holds `blocks` (at most RUN_BLOCKS). */
  private bufferFor(blocks: u32): RegionBuffer {
    if (blocks <= SMALL_BLOCKS) return this.small;
    if (blocks <= MEDIUM_BLOCKS) return this.medium;
    if (blocks <= LARGE_BLOCKS) return this.large;
    return this.client.buffer;
  }

  /** Finds the driver, looking every 10 ms, `tries` times at most; 0 or a status (E_INVALID_CAP: none registered). */
  connect(tries: i32 = 1000): i32 {
    const status = this.client.connect(tries);
    if (status < 0) return status;
    this.blocks = this.client.capacity / SECTORS_PER_BLOCK;
    return 0;
  }

  /** Whether the disk is write-protected (`dogma boot --read-only`): every write is refused. */
  get readOnly(): bool {
    return this.client.readOnly;
  }

  /**
   * From now on block `target` reads what block `from` holds (a read-only mount reads a committed
   * transaction from the journal, as replaying it would have put it in place; a later call for the
   * same target, a newer transaction's, replaces it). False when full.
   */
  overlay(target: u32, from: u32): bool {
    for (let k = 0; k < this.overlayCount; k++) {
      if (unchecked(overlayTarget[k]) != target) continue;
      unchecked((overlayFrom[k] = from)); // a newer transaction's image of it
      return true;
    }
    if (this.overlayCount == OVERLAY_MAX) return false;
    let i = this.overlayCount++;
    while (i > 0 && unchecked(overlayTarget[i - 1]) > target) {
      unchecked((overlayTarget[i] = overlayTarget[i - 1]));
      unchecked((overlayFrom[i] = overlayFrom[i - 1]));
      i--;
    }
    unchecked((overlayTarget[i] = target));
    unchecked((overlayFrom[i] = from));
    return true;
  }

  /** Reads `count` blocks from `block` into `to`; 0 or a status. */
  read(block: u64, count: u32, to: usize): i32 {
    if (this.overlayCount > 0) return this.readOverlaid(block, count, to);
    return this.readRuns(block, count, to);
  }

  // A block at a time through the overlay, runs of blocks it does not name in one call each.
  private readOverlaid(block: u64, count: u32, to: usize): i32 {
    while (count > 0) {
      const from = this.overlaid(block);
      let run: u32 = 1;
      if (from == block) while (run < count && this.overlaid(block + run) == block + run) run++;
      const status = this.readRuns(from, run, to);
      if (status < 0) return status;
      block += run;
      count -= run;
      to += <usize>run << BLOCK_SHIFT;
    }
    return 0;
  }

  // Where block `block` is read from: itself, or the overlay's block for it.
  private overlaid(block: u64): u64 {
    let low = 0;
    let high = this.overlayCount;
    while (low < high) {
      const mid = (low + high) >> 1;
      const at = <u64>unchecked(overlayTarget[mid]);
      if (at == block) return <u64>unchecked(overlayFrom[mid]);
      if (at < block) low = mid + 1;
      else high = mid;
    }
    return block;
  }

  private readRuns(block: u64, count: u32, to: usize): i32 {
    while (count > 0) {
      const run = min(count, RUN_BLOCKS);
      const buffer = this.bufferFor(run);
      const status = this.retry(buffer, false, block, run);
      if (status < 0) return status;
      memory.copy(to, buffer.address, <usize>run << BLOCK_SHIFT);
      this.reads += run;
      block += run;
      count -= run;
      to += <usize>run << BLOCK_SHIFT;
    }
    return 0;
  }

  /** Writes `count` blocks at `block` from `from`; 0 or a status. Returns once they reached the disk image. */
  write(block: u64, count: u32, from: usize): i32 {
    while (count > 0) {
      const run = min(count, RUN_BLOCKS);
      const buffer = this.bufferFor(run);
      const ready = buffer.ready();
      if (ready < 0) return this.noted(ready);
      memory.copy(buffer.address, from, <usize>run << BLOCK_SHIFT);
      const status = this.retry(buffer, true, block, run);
      if (status < 0) return status;
      this.writes += run;
      block += run;
      count -= run;
      from += <usize>run << BLOCK_SHIFT;
    }
    return 0;
  }

  /**
   * Reads `count` (at most RUN_BLOCKS) blocks from `block` into the pages at `to[0 .. count)`, one
   * driver call (a block at a time through a read-only mount's overlay). 0 or a status.
   */
  readPages(block: u64, count: u32, to: StaticArray<usize>): i32 {
    if (this.overlayCount > 0) {
      for (let i: u32 = 0; i < count; i++) {
        const status = this.readOverlaid(block + i, 1, unchecked(to[i]));
        if (status < 0) return status;
      }
      return 0;
    }
    const buffer = this.bufferFor(count);
    const status = this.retry(buffer, false, block, count);
    if (status < 0) return status;
    for (let i: u32 = 0; i < count; ) {
      const span = contiguous(to, i, count); // pages side by side: one copy (a kernel call each)
      memory.copy(unchecked(to[i]), buffer.address + (<usize>i << BLOCK_SHIFT), <usize>span << BLOCK_SHIFT);
      i += span;
    }
    this.reads += count;
    return 0;
  }

  /** Writes `count` (at most RUN_BLOCKS) blocks at `block` from the pages at `from[0 .. count)`, one driver call. 0 or a status. */
  writePages(block: u64, count: u32, from: StaticArray<usize>): i32 {
    const buffer = this.bufferFor(count);
    const ready = buffer.ready();
    if (ready < 0) return this.noted(ready);
    for (let i: u32 = 0; i < count; ) {
      const span = contiguous(from, i, count);
      memory.copy(buffer.address + (<usize>i << BLOCK_SHIFT), unchecked(from[i]), <usize>span << BLOCK_SHIFT);
      i += span;
    }
    const status = this.retry(buffer, true, block, count);
    if (status < 0) return status;
    this.writes += count;
    return 0;
  }

  /** The view `writeView` sent, as the driver gave it back (0: lost, with a driver that died). */
  viewBack: i32 = 0;

  /**
   * Writes `count` (at most RUN_BLOCKS) blocks at `block` straight from `view`, a view of a Region
   * of the caller's (the page cache's), from byte `offset` in it: one driver call, no copy here
   * (the driver lends the view to the device). The view moves and comes back in `viewBack`. Not
   * repeated after a driver restart (the view went with it): the caller writes the blocks again
   * through `writePages`. 0 or a status.
   */
  writeView(block: u64, count: u32, view: i32, offset: u32): i32 {
    const status = this.client.writeView(view, block * SECTORS_PER_BLOCK, count * SECTORS_PER_BLOCK, offset);
    this.viewBack = this.client.viewBack;
    if (status < 0) return this.noted(status);
    this.writes += count;
    return 0;
  }

  /** Writes `count` zero blocks at `block`. */
  zero(block: u64, count: u32): i32 {
    const buffer = this.client.buffer;
    const ready = buffer.ready();
    if (ready < 0) return this.noted(ready);
    memory.fill(buffer.address, 0, <usize>min(count, RUN_BLOCKS) << BLOCK_SHIFT);
    while (count > 0) {
      const run = min(count, RUN_BLOCKS);
      const status = this.retry(buffer, true, block, run);
      if (status < 0) return status;
      block += run;
      count -= run;
    }
    return 0;
  }

  /** Makes every write answered so far durable. */
  flush(): i32 {
    for (let i = 0; i < RETRIES; i++) {
      const status = this.client.flush();
      if (status != E_PEER_DEAD) return this.noted(status);
      const again = this.reconnect();
      if (again < 0) return this.noted(again);
    }
    return this.noted(E_PEER_DEAD);
  }

  // One driver call of `count` blocks through the buffer, repeated after a driver restart. A
  // read that died took the buffer with it (BlockClient makes a new one); a write's data is still
  // in ours, except when the buffer was replaced: then the caller's copy is gone, so say so.
  private retry(buffer: RegionBuffer, write: bool, block: u64, count: u32): i32 {
    const sector = block * SECTORS_PER_BLOCK;
    const sectors = count * SECTORS_PER_BLOCK;
    for (let i = 0; i < RETRIES; i++) {
      const replaced = buffer.replaced;
      const status = write ? this.client.writeWith(buffer, sector, sectors) : this.client.readWith(buffer, sector, sectors);
      if (status >= 0) return 0;
      if (status != E_PEER_DEAD) return this.noted(status);
      const again = this.reconnect();
      if (again < 0) return this.noted(again);
      if (write && buffer.replaced != replaced) return this.noted(E_PEER_DEAD);
    }
    return this.noted(E_PEER_DEAD);
  }

  // After E_PEER_DEAD: the driver's successor (init restarts it), said on the console.
  private reconnect(): i32 {
    const status = this.client.connect();
    if (status < 0) return status;
    this.reconnects++;
    lineBegin("fs: the block driver died; its successor answers (");
    lineAddU32(this.reconnects);
    lineAdd(this.reconnects == 1 ? " time)" : " times)");
    linePrint();
    return 0;
  }

  private noted(status: i32): i32 {
    if (status < 0) this.lastError = blockErrorName(status);
    return status;
  }
}

// How many of the pages from `first` (before `count`) lie side by side in memory.
function contiguous(pages: StaticArray<usize>, first: u32, count: u32): u32 {
  let span: u32 = 1;
  while (first + span < count && unchecked(pages[first + span]) == unchecked(pages[first]) + (<usize>span << BLOCK_SHIFT)) span++;
  return span;
}
