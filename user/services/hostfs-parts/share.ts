// The host share device's request queue (docs/DEVICES.md "Request queues", "Host share"), driven
// one request at a time: the server handles one call at a time anyway, so each operation writes
// one descriptor, notifies, and waits for its completion on the interrupt's Receiver.
//
// Layout of the DMA window: page 0 the descriptor ring (RING_SLOTS × 32 bytes at 0), the STAT
// result at STAT_AT, the used ring at USED_AT; page 1 the path (at most 4096 bytes); then
// DATA_BYTES of data (READ and LIST results).
import { msgBegin, msgAddTimeout, msgInvoke, msgLabel, Interrupt, MSG_INTERRUPT, OP_RECEIVER_RECEIVE, E_TIMEOUT } from "../../lib";
import { Registers, IRQ_STATUS, IRQ_ENABLE } from "../../drivers/common/device-registers";

// The queue's registers (the same words as the block device's).
export const RING_OFFSET: i32 = 16;
export const RING_ENTRIES: i32 = 17;
export const USED_OFFSET: i32 = 18;
export const NOTIFY: i32 = 19;
export const USED_INDEX: i32 = 21;
export const USED_CONSUMER: i32 = 22;
const IRQ_COMPLETE: u32 = 1;

// Operations.
export const OP_STAT: u32 = 1;
export const OP_LIST: u32 = 2;
export const OP_READ: u32 = 3;

// RequestStatus (src/machine/devices/request-status.ts).
export const S_OK: u32 = 0;
export const S_E_IO: u32 = 1;
export const S_E_BUFFER: u32 = 3;
export const S_E_NOT_FOUND: u32 = 5;
export const S_E_NOT_DIRECTORY: u32 = 6;
export const S_E_IS_DIRECTORY: u32 = 7;
export const S_E_DENIED: u32 = 8;
export const S_E_PATH: u32 = 9;
/** The device did a bounded share of the request and keeps where it got to: send it again. */
export const S_E_AGAIN: u32 = 17;
/** Not the device's: no completion came within COMPLETION_WAIT_NS. */
export const S_TIMED_OUT: u32 = 0x100;

// Kinds STAT and LIST answer.
export const SHARE_FILE: u32 = 1;
export const SHARE_DIRECTORY: u32 = 2;
export const SHARE_OTHER: u32 = 3;

const RING_SLOTS: u32 = 8;
const DESCRIPTOR_BYTES: u32 = 32;
const USED_ENTRY_BYTES: u32 = 16;
export const STAT_AT: u32 = 1024;
const USED_AT: u32 = 2048;
export const PATH_AT: u32 = 4096;
export const PATH_MAX: u32 = 4096;
export const DATA_AT: u32 = 8192;
/** Bytes one READ or LIST moves at most. */
export const DATA_BYTES: u32 = 64 << 10;
/** The window's pages. */
export const WINDOW_PAGES: u32 = (DATA_AT + DATA_BYTES) >> 12;
/** Times a request answered E_AGAIN is sent again at most (a LIST skips 512 entries a time: 2^30 entries). */
const MAX_AGAIN: u32 = 1 << 21;
/** A request the host has not completed in this long is given up as failed. */
const COMPLETION_WAIT_NS: u64 = 30_000_000_000;

export class ShareQueue {
  private producer: u32 = 0;
  private consumer: u32 = 0;
  private nextId: u32 = 1;
  /** The last request's completion: status (RequestStatus, or S_TIMED_OUT), length and extra. */
  status: u32 = 0;
  length: u32 = 0;
  extra: u32 = 0;
  /** Requests given up (S_TIMED_OUT), and completions that answered none in flight. */
  timedOut: u32 = 0;
  strays: u32 = 0;

  constructor(readonly registers: Registers, readonly window: usize, readonly interrupts: i32, readonly interrupt: Interrupt) {}

  /** Places the rings and enables the completion interrupt: 0, or the device's ERROR for the store that failed. */
  configure(): u32 {
    const r = this.registers;
    let error = r.set(RING_OFFSET, 0);
    if (error == 0) error = r.set(RING_ENTRIES, RING_SLOTS);
    if (error == 0) error = r.set(USED_OFFSET, USED_AT);
    if (error == 0) error = r.set(IRQ_ENABLE, IRQ_COMPLETE);
    return error;
  }

  /** Where the path of the next request goes (at most PATH_MAX bytes). */
  @inline get path(): usize {
    return this.window + <usize>PATH_AT;
  }

  @inline get data(): usize {
    return this.window + <usize>DATA_AT;
  }

  @inline get statResult(): usize {
    return this.window + <usize>STAT_AT;
  }

  /**
   * Runs one request on the `pathLength` bytes at `path`, its result to `buffer` (an offset in the
   * window) of `room` bytes, and waits for it: its RequestStatus (also in `status`). `target` is
   * descriptor word 2: the path's offset, or what else a device names there (the host folder
   * device's file id). A request the device answers E_AGAIN (it did its bounded share of a long
   * one: a LIST to a far position, a move whose links it is checking) is sent again, each time a
   * request of its own, so other processes run in between; at most MAX_AGAIN times.
   */
  run(op: u32, pathLength: u32, buffer: u32, room: u32, position: u64, target: u32 = PATH_AT): u32 {
    let status = this.runOnce(op, pathLength, buffer, room, position, target);
    for (let again: u32 = 0; status == S_E_AGAIN && again < MAX_AGAIN; again++) status = this.runOnce(op, pathLength, buffer, room, position, target);
    if (status == S_E_AGAIN) this.status = status = S_E_IO;
    return status;
  }

  private runOnce(op: u32, pathLength: u32, buffer: u32, room: u32, position: u64, target: u32): u32 {
    const id = this.nextId++;
    const d = this.window + <usize>((this.producer % RING_SLOTS) * DESCRIPTOR_BYTES);
    store<u32>(d, op, 0);
    store<u32>(d, id, 4);
    store<u32>(d, target, 8);
    store<u32>(d, pathLength, 12);
    store<u32>(d, buffer, 16);
    store<u32>(d, room, 20);
    store<u32>(d, <u32>position, 24);
    store<u32>(d, <u32>(position >>> 32), 28);
    this.producer++;
    this.length = 0;
    this.extra = 0;
    if (this.registers.set(NOTIFY, this.producer) != 0) {
      this.producer--;
      return (this.status = S_E_IO);
    }
    for (;;) {
      while (this.consumer != this.registers.get(USED_INDEX)) {
        const u = this.window + <usize>(USED_AT + (this.consumer % RING_SLOTS) * USED_ENTRY_BYTES);
        const doneId = load<u32>(u, 0);
        const status = load<u32>(u, 4);
        const length = load<u32>(u, 8);
        const extra = load<u32>(u, 12);
        this.consumer++;
        this.registers.set(USED_CONSUMER, this.consumer);
        if (doneId != id) {
          this.strays++; // a request given up earlier, completed at last
          continue;
        }
        this.length = status == S_OK ? length : 0;
        this.extra = status == S_OK ? extra : 0;
        return (this.status = status);
      }
      if (!this.awaitInterrupt()) {
        this.timedOut++;
        return (this.status = S_TIMED_OUT);
      }
    }
    return S_E_IO;
  }

  // Waits for the completion interrupt, acknowledges it and re-arms the line: false on a timeout.
  private awaitInterrupt(): bool {
    msgBegin(OP_RECEIVER_RECEIVE);
    msgAddTimeout(COMPLETION_WAIT_NS);
    const got = msgInvoke(this.interrupts);
    if (got == E_TIMEOUT) return false;
    if (got >= 0 && msgLabel() == MSG_INTERRUPT) {
      this.registers.set(IRQ_STATUS, IRQ_COMPLETE);
      this.interrupt.ack();
    }
    return got >= 0;
  }
}
