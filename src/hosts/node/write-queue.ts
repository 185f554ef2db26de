/**
 * A disk image's large writes, done in the background (in libuv's thread pool) one after another
 * in the order they came, while the machine's thread goes on — as a disk's write cache takes a
 * write and answers before the medium has it. Copying a write's bytes out of the DMA window costs
 * the machine's thread less than the host's write of them into its page cache, which now runs on
 * another core beside the file system's next copy.
 *
 * Nothing a flush promises changes: `drain` waits for every write queued before it (a flush then
 * syncs), and a write that failed in the background is told by the next `drain` (the device had
 * already answered it: as a disk's cache tells at the next FLUSH). Reads wait for the queue first
 * (`settle`), so a read never sees a disk older than a write answered before it. The copies go
 * into `slots` buffers of `slotBytes`, made once and used again (a new 1 MiB Buffer each time cost
 * more in first-touch page faults than the write it moved off the thread): while every slot is
 * taken, `add` answers only once its own write is done.
 */
export class WriteQueue {
  private readonly write: (offset: number, data: Buffer) => Promise<void>;
  private readonly slotBytes: number;
  private readonly free: Buffer[] = [];
  private made = 0;
  private readonly slots: number;
  private tail: Promise<void> = Promise.resolve();
  private count = 0;
  private failure: { readonly error: unknown } | null = null;

  /** `write` puts `data` at `offset` of the file, whole; `slots` buffers of `slotBytes` hold what waits. */
  constructor(write: (offset: number, data: Buffer) => Promise<void>, slots: number, slotBytes: number) {
    this.write = write;
    this.slots = slots;
    this.slotBytes = slotBytes;
  }

  /** Whether a write waits or runs (then every later write must queue behind it, in order). */
  get pending(): boolean {
    return this.count > 0;
  }

  /** Copies `length` bytes of the pieces (they may change once this returns) and queues their write at `offset`. */
  add(offset: number, pieces: readonly Uint8Array[], length: number): Promise<void> {
    // A slot, or (a write larger than a slot, or every slot taken and none left to make) a Buffer of its own.
    const slot = length <= this.slotBytes ? (this.free.pop() ?? (this.made < this.slots ? (this.made++, Buffer.allocUnsafeSlow(this.slotBytes)) : null)) : null;
    const copy = slot ?? Buffer.allocUnsafe(length);
    let at = 0;
    for (const piece of pieces) {
      if (at >= length) break;
      copy.set(piece.subarray(0, length - at), at);
      at += piece.length;
    }
    this.count++;
    const done = this.tail
      .then(() => this.write(offset, copy.subarray(0, length)))
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.count--;
        if (slot) this.free.push(slot);
      });
    this.tail = done;
    return slot ? Promise.resolve() : done;
  }

  /** Resolves once every write queued so far is done; rejects with a background failure not told yet. */
  async drain(): Promise<void> {
    await this.tail;
    const failed = this.failure;
    this.failure = null;
    if (failed) throw failed.error;
  }

  /** Resolves once every write queued so far is done (a failure is kept for `drain`). */
  settle(): Promise<void> {
    return this.tail;
  }
}
