// The block driver's protocol (docs/DRIVERS.md "Block driver") and a client for it. The driver
// registers a call capability as "block"; data moves in a Region the client owns, never in words:
// a READ moves the Region's owner capability to the driver, which fills it and moves it back in
// the reply; a WRITE sends a read-only view of it (the owner, and so the data, stay here).
//
// Statuses are one space of negative i32: the ABI's (docs/ABI.md, -1 to -12) and the device's
// request statuses as BLOCK_E_* (-101 ...). A reply's label carries a status as its magnitude,
// since a negative i32 as a label would be a kernel label (as the registry does).
//
// Import it directly: `import { BlockClient } from "../lib/block-client";`.
import { KIND_REGION, CAP_MOVE } from "./abi";
import { RegionBuffer } from "./region-buffer";
import { E_BAD_MESSAGE, E_INVALID_CAP, E_PEER_DEAD, errorName } from "./errors";
import { BlockDevice, BlockDeviceReady } from "./contracts/block";
import { msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgWord, msgCap, msgCapCount } from "./message";
import { capKind, capDrop } from "./caps/capability";
import { registryLookup } from "./registry";
import { sleep } from "./time";

/** The name the driver registers. */
export const BLOCK_SERVICE = "block";

// Labels of requests.
/** Replies words: sector size, capacity (low, high) in sectors, the driver's requests in flight at most, sectors per device request, flags (BLOCK_FLAG_*). */
export const BLOCK_INFO: u32 = BlockDevice.Info;
/** Words: sector (low, high), count, byte offset in the Region; cap 0: the Region's owner (moved). Replies words: bytes read; cap 0: the Region. */
export const BLOCK_READ: u32 = BlockDevice.Read;
/** As READ, but cap 0 may be a view (or the owner); replies words: bytes written; cap 0: what was sent. */
export const BLOCK_WRITE: u32 = BlockDevice.Write;
/** Replies once every write the driver completed before it is durable. */
export const BLOCK_FLUSH: u32 = BlockDevice.Flush;
/** INFO's flags: the disk is write-protected; every WRITE answers BLOCK_E_READ_ONLY. */
export const BLOCK_FLAG_READ_ONLY: u32 = 1;

// The device's request statuses (docs/DEVICES.md, RequestStatus) as client statuses.
export const BLOCK_STATUS_BASE: i32 = 100;
/** The host failed the request, or the device forgot it (reset). */
export const BLOCK_E_IO: i32 = -101;
/** Sectors past the end of the disk. */
export const BLOCK_E_RANGE: i32 = -102;
/** The device found a buffer outside its window (a driver bug). */
export const BLOCK_E_BUFFER: i32 = -103;
/** The device does not know the operation (a driver bug). */
export const BLOCK_E_OP: i32 = -104;
/** The disk is write-protected (`dogma boot --read-only`): writes are refused, reads and flushes work. */
export const BLOCK_E_READ_ONLY: i32 = -110;
/** The host has no room left for the disk image: the write did not happen. */
export const BLOCK_E_NO_SPACE: i32 = -111;

/** The label that carries `status` (0 or negative) in a reply: its magnitude. */
export function blockLabel(status: i32): u32 {
  return <u32>(status < 0 ? -status : 0);
}

/** The status a reply's label stands for: 0 or negative. */
export function blockStatus(label: u32): i32 {
  return -<i32>label;
}

/** A device RequestStatus (1 ...) as a client status (BLOCK_E_*). */
export function blockDeviceStatus(requestStatus: u32): i32 {
  return requestStatus == 0 ? 0 : -(BLOCK_STATUS_BASE + <i32>requestStatus);
}

/** The name of any status a block call may answer. */
export function blockErrorName(status: i32): string {
  switch (status) {
    case BLOCK_E_IO: return "BLOCK_E_IO";
    case BLOCK_E_RANGE: return "BLOCK_E_RANGE";
    case BLOCK_E_BUFFER: return "BLOCK_E_BUFFER";
    case BLOCK_E_OP: return "BLOCK_E_OP";
    case BLOCK_E_READ_ONLY: return "BLOCK_E_READ_ONLY";
    case BLOCK_E_NO_SPACE: return "BLOCK_E_NO_SPACE";
  }
  return errorName(status);
}

/**
 * A connection to the block driver with a buffer: a Region of `pages` pages created in `memory`,
 * mapped read-write at `address` here except while a READ has it. Every call answers a status
 * (negative) or its result, and never waits for ever: a driver that dies answers E_PEER_DEAD.
 *
 * After E_PEER_DEAD the driver is gone: `connect()` finds its successor (init restarts it). A
 * READ that died took the buffer with it, so the client gets a new one, at a new `address`; a
 * WRITE's buffer stays (the driver only had a view). The methods allocate nothing but what they
 * replace, so they can run for ever on the stub runtime.
 */
export class BlockClient {
  /** The call capability to the driver (0: not connected). */
  service: i32 = 0;
  /** The data buffer: moved (its owner) for reads, shown (a view) for writes. */
  readonly buffer: RegionBuffer;
  sectorSize: u32 = 0;
  capacity: u64 = 0;
  /** Requests the driver keeps in flight at most, and sectors per device request. */
  driverRequests: u32 = 0;
  chunkSectors: u32 = 0;
  /** The disk is write-protected (INFO's flags). */
  readOnly: bool = false;
  /** Whether the last call was answered by the driver (its capabilities are back in the buffer). */
  private replied: bool = false;

  constructor(readonly memory: i32, readonly pages: u32) {
    this.buffer = new RegionBuffer(memory, pages);
  }

  /** Where the buffer is mapped; changes when a lost buffer is replaced. */
  get address(): usize {
    return this.buffer.address;
  }
  /** Buffers lost with a driver and replaced. */
  get buffersReplaced(): i32 {
    return this.buffer.replaced;
  }

  get bufferBytes(): u32 {
    return this.buffer.bytes;
  }

  /**
   * Looks "block" up and asks it for INFO, retrying every `waitNs` while it is not registered or
   * is a driver that has died (its restart is on the way), `tries` times at most. 0 or a status.
   */
  connect(tries: i32 = 1000, waitNs: i64 = 10_000_000): i32 {
    const buffer = this.buffer.ensure();
    if (buffer < 0) return buffer;
    let status: i32 = E_INVALID_CAP;
    for (let i = 0; i < tries; i++) {
      if (i > 0) sleep(waitNs);
      this.disconnect();
      const found = registryLookup(BLOCK_SERVICE);
      status = found;
      if (found == E_INVALID_CAP) continue; // not registered (yet, or its driver's Memory is gone)
      if (found < 0) return found;
      this.service = found;
      status = this.info();
      if (status != E_PEER_DEAD) return status;
    }
    this.disconnect();
    return status;
  }

  /** Drops the call capability. */
  disconnect(): void {
    if (this.service != 0) capDrop(this.service);
    this.service = 0;
  }

  /** Asks the driver for the disk's geometry (kept in the fields); 0 or a status. */
  info(): i32 {
    BlockDeviceReady.beginInfo();
    const status = this.call();
    if (status < 0) return status;
    this.sectorSize = msgWord(0);
    this.capacity = <u64>msgWord(1) | (<u64>msgWord(2) << 32);
    this.driverRequests = msgWord(3);
    this.chunkSectors = msgWord(4);
    this.readOnly = (msgWord(5) & BLOCK_FLAG_READ_ONLY) != 0;
    return 0;
  }

  /** Reads `count` sectors from `sector` into the buffer at byte `offset`: the bytes read, or a status. */
  read(sector: u64, count: u32, offset: u32 = 0): i32 {
    return this.readWith(this.buffer, sector, count, offset);
  }

  /** Writes `count` sectors at `sector` from the buffer at byte `offset`: the bytes written, or a status. */
  write(sector: u64, count: u32, offset: u32 = 0): i32 {
    return this.writeWith(this.buffer, sector, count, offset);
  }

  /**
   * As `read`, into another buffer of the caller's. A Region is mapped and unmapped whole each
   * time it moves, so a small transfer costs less in a small buffer: the file system keeps buffers
   * of 1, 16 and 256 pages and uses the smallest that holds a run.
   */
  readWith(buffer: RegionBuffer, sector: u64, count: u32, offset: u32 = 0): i32 {
    const made = buffer.ready();
    if (made < 0) return made;
    BlockDeviceReady.beginRead();
    this.request(sector, count, offset);
    msgAddCap(<u32>buffer.region | CAP_MOVE);
    const status = this.call();
    // The driver sends back what it was sent, whatever the status; a call that failed may have
    // left it here (E_QUEUE_FULL) or lost it with a dead driver (E_PEER_DEAD).
    const words = status >= 0 ? <i32>min(msgWord(0), count * this.sectorSize) : 0;
    if (!this.replied) {
      buffer.ensure();
      return status;
    }
    // Only this buffer's own Region is taken back (RegionBuffer.takeBack): one the driver kept,
    // or another it gave instead, would have the caller read sectors from a range it no longer has.
    buffer.region = 0;
    const back = msgCapCount() > 0 ? buffer.takeBack(msgCap(0)) : E_BAD_MESSAGE;
    return status < 0 ? status : back < 0 ? back : words;
  }

  /** As `write`, from another buffer of the caller's (a view of it goes with the call). */
  writeWith(buffer: RegionBuffer, sector: u64, count: u32, offset: u32 = 0): i32 {
    const view = buffer.readyView();
    if (view < 0) return view;
    const status = this.writeView(buffer.view, sector, count, offset);
    buffer.view = this.viewBack; // (0: lost; ensureView makes another)
    return status;
  }

  /** The view the last `writeView` sent, back from the driver (0: lost with it). */
  viewBack: i32 = 0;

  /**
   * Writes `count` sectors at `sector` from `view`, a view of any Region of the caller's, at byte
   * `offset` in it (the file system's page cache writes its own pages back so, with no copy into
   * the buffer). The view moves to the driver and comes back in `viewBack`. The bytes written, or a
   * status.
   */
  writeView(view: i32, sector: u64, count: u32, offset: u32): i32 {
    BlockDeviceReady.beginWrite();
    this.request(sector, count, offset);
    msgAddCap(<u32>view | CAP_MOVE);
    const status = this.call();
    const words = status >= 0 ? <i32>msgWord(0) : 0;
    if (this.replied) this.viewBack = msgCapCount() > 0 ? msgCap(0) : 0;
    else this.viewBack = capKind(view) == <i32>KIND_REGION ? view : 0;
    return status < 0 ? status : words;
  }

  /** Waits until every write completed before it is durable; 0 or a status. */
  flush(): i32 {
    BlockDeviceReady.beginFlush();
    return this.call();
  }

  /** Read's and Write's words, after BlockDeviceReady.beginRead or beginWrite. */
  private request(sector: u64, count: u32, offset: u32): void {
    msgAddWord(<u32>sector);
    msgAddWord(<u32>(sector >>> 32));
    msgAddWord(count);
    msgAddWord(offset);
  }

  // Calls the driver with the message built; the status of the call or of the reply's label.
  private call(): i32 {
    this.replied = false;
    if (this.service == 0) return E_INVALID_CAP;
    const status = msgInvoke(this.service);
    if (status < 0) return status;
    this.replied = true;
    return blockStatus(msgLabel());
  }


}

