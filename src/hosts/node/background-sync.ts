/**
 * Write-back in the background for a disk image: once `threshold` bytes were written since the
 * last sync began, an fdatasync starts on its own (in libuv's thread pool) while the machine goes
 * on, as a kernel's flusher starts writing dirty pages before anyone asks (Linux's
 * dirty_background_bytes). A FLUSH then finds most of the data on the host's disk already and
 * waits only for the rest. Measured (fs-write-bench, 16 MiB written back then flushed): the flush
 * at the end waited for the whole 16 MiB, 7–10 ms of a 23 ms sync.
 *
 * A background sync changes nothing a flush promises: `flush` syncs at once (an fdatasync waits
 * for every page dirty when it is called, those another one is writing too), beside the one
 * running rather than after it, and waits for both. A background failure is not lost: the host
 * reports a write-back error to one fdatasync only, so `flush` rethrows what a background sync met.
 */
export class BackgroundSync {
  private readonly sync: () => Promise<void>;
  private readonly threshold: number;
  private unsynced = 0;
  private running: Promise<void> | null = null;
  private failure: { readonly error: unknown } | null = null;

  /** `sync` is the file's fdatasync; `threshold` the bytes written that start one (0: never). */
  constructor(sync: () => Promise<void>, threshold: number) {
    this.sync = sync;
    this.threshold = threshold;
  }

  /** `bytes` more were written; starts a sync if enough were since the last began, none runs and none failed untold. */
  wrote(bytes: number): void {
    this.unsynced += bytes;
    if (this.due() && this.running === null) this.start();
  }

  /** Makes every write so far durable: waits for a running sync, then syncs; rejects with what either met. */
  async flush(): Promise<void> {
    this.unsynced = 0;
    const own = this.sync();
    const running = this.running;
    if (running) await running;
    const failed = this.failure;
    this.failure = null;
    if (failed) {
      await own.catch(() => {}); // (the background failure is the one to tell)
      throw failed.error;
    }
    await own;
  }

  /** Resolves once no sync runs (before the file closes). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  private start(): void {
    this.unsynced = 0;
    this.running = this.sync().then(
      () => {},
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    void this.running.then(() => {
      this.running = null;
      // What came while it ran may be enough for the next one.
      if (this.due()) this.start();
    });
  }

  // Enough written for a sync, and no failure waiting for a flush to tell it (until then, syncing again is of no use).
  private due(): boolean {
    return this.threshold > 0 && this.unsynced >= this.threshold && this.failure === null;
  }
}
