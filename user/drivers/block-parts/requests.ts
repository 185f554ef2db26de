// The block driver's client requests: each call it has accepted and not yet answered, with the
// Reply capability it answers through and the capabilities the call brought (they go back in the
// reply). A READ or WRITE is cut into device requests of as many neighbouring data buffers as are
// free (all of a 1 MiB call when nothing else holds them), issued in order of arrival as ids and
// buffers come free; the client is answered when the last one completes.
//
// Invariant: a request is answered once, when nothing of it is left to issue (all issued, or it
// stopped at an error) and none of its device requests is in flight.
import { BLOCK_FLUSH } from "../../lib/block-client";

/** Calls in flight at most; more wait in the driver's Receiver. */
export const MAX_REQUESTS: i32 = 32;
export const MAX_CAPS: i32 = 4;

export class ClientRequest {
  busy: bool = false;
  /** Arrival order: the oldest request with work is issued first. */
  seq: u64 = 0;
  /** BLOCK_READ, BLOCK_WRITE or BLOCK_FLUSH. */
  op: u32 = 0;
  reply: i32 = 0;
  readonly caps: StaticArray<i32> = new StaticArray<i32>(MAX_CAPS);
  capCount: i32 = 0;
  /** Where the client's bytes are, mapped here while the driver holds its Region capability. */
  data: usize = 0;
  /**
   * The client's Region is lent to the device as grant slot (this entry's index): the device moves
   * the bytes itself, at `offset` in it, in one device request; no data buffer, no copy here.
   */
  granted: bool = false;
  offset: u32 = 0;
  sector: u64 = 0;
  /** Bytes to move, and bytes issued to the device so far. */
  total: u32 = 0;
  issued: u32 = 0;
  flushIssued: bool = false;
  /** An error stopped it: nothing more is issued. */
  stopped: bool = false;
  /** Device requests in flight for it. */
  outstanding: i32 = 0;
  /** The first error (a client status), else 0. */
  status: i32 = 0;
  moved: u32 = 0;

  /** Whether something of it is still to be given to the device. */
  @inline get hasWork(): bool {
    if (this.stopped) return false;
    return this.op == BLOCK_FLUSH ? !this.flushIssued : this.issued < this.total;
  }

  @inline get finished(): bool {
    return !this.hasWork && this.outstanding == 0;
  }

  /** Records a device request's end: its status (a client status) and bytes moved. */
  complete(status: i32, bytes: u32): void {
    this.outstanding--;
    if (status == 0) {
      this.moved += bytes;
      return;
    }
    if (this.status == 0) this.status = status;
    this.stopped = true;
  }
}

export class RequestTable {
  readonly entries: StaticArray<ClientRequest> = new StaticArray<ClientRequest>(MAX_REQUESTS);
  private count: i32 = 0;
  private nextSeq: u64 = 0;

  constructor() {
    for (let i = 0; i < MAX_REQUESTS; i++) unchecked((this.entries[i] = new ClientRequest()));
  }

  @inline get hasRoom(): bool {
    return this.count < MAX_REQUESTS;
  }

  @inline at(index: i32): ClientRequest {
    return unchecked(this.entries[index]);
  }

  /** A free entry, reset and marked busy (hasRoom said there is one): its index. */
  take(op: u32, reply: i32): i32 {
    for (let i = 0; i < MAX_REQUESTS; i++) {
      const r = unchecked(this.entries[i]);
      if (r.busy) continue;
      r.busy = true;
      r.seq = this.nextSeq++;
      r.op = op;
      r.reply = reply;
      r.capCount = 0;
      r.data = 0;
      r.granted = false;
      r.offset = 0;
      r.sector = 0;
      r.total = 0;
      r.issued = 0;
      r.flushIssued = false;
      r.stopped = false;
      r.outstanding = 0;
      r.status = 0;
      r.moved = 0;
      this.count++;
      return i;
    }
    return -1;
  }

  release(index: i32): void {
    unchecked(this.entries[index]).busy = false;
    this.count--;
  }

  /** The oldest request with something left to issue, or -1. */
  oldestWithWork(): i32 {
    let best = -1;
    let bestSeq: u64 = 0;
    for (let i = 0; i < MAX_REQUESTS; i++) {
      const r = unchecked(this.entries[i]);
      if (!r.busy || !r.hasWork) continue;
      if (best < 0 || r.seq < bestSeq) {
        best = i;
        bestSeq = r.seq;
      }
    }
    return best;
  }
}
