/**
 * Write-back in the background for a disk image: once `threshold` bytes were written since the
 * last sync began, an fdatasync starts on its own (in libuv's thread pool) while the machine goes
 * on, as a kernel's flusher starts writing dirty pages before anyone asks (Linux's
 * dirty_background_bytes). A FLUSH then finds most of the data on the host's disk already and
 * waits only for the rest. Measured (fs-write-bench, 16 MiB written back then flushed): the flush
 * at the end waited for the whole 16 MiB, 7–10 ms of a 23 ms sync.
 *
 * Writes that follow a flush get a sync of their own too, however few, at the host's next turn:
 * they are mostly a journal's checkpoint (the metadata it wrote in place once its record was
 * durable), which the file system's next commit must find durable before its record; once such a
 * sync has begun after the last write, a flush has nothing left to make durable and waits for it
 * instead of syncing again (an overwrite's SYNC then waits for one fdatasync, not two: journal.ts).
 *
 * A background sync changes nothing a flush promises: `flush` syncs at once (an fdatasync waits
 * for every page dirty when it is called, those another one is writing too), beside the one
 * running rather than after it, and waits for both, and for every other begun while its own ran. A
 * background failure is not lost: the host reports a write-back error to one fdatasync only, so
 * `flush` rethrows what a background sync met.
 */
export class BackgroundSync {
  private readonly sync: () => Promise<void>;
  private readonly threshold: number;
  private readonly later: (start: () => void) => void;
  private unsynced = 0;
  private running: Promise<void> | null = null;
  /** The last sync, when it began after the last write: it makes every write durable (it rejects as that sync did). */
  private covering: Promise<void> | null = null;
  /** A flush came, and no sync began since: the next write asks for one at the host's turn. */
  private afterFlush = false;
  /** That sync waits for the host's turn. */
  private pending = false;
  private closing = false;
  private failure: { readonly error: unknown } | null = null;
  /** Every sync not yet settled (background and flushes' own), as its outcome. */
  private readonly inFlight = new Set<Promise<{ readonly error: unknown } | null>>();

  /**
   * `sync` is the file's fdatasync; `threshold` the bytes written that start one (0: never, nor
   * after a flush); `later` runs a start at the host's next turn (setImmediate).
   */
  constructor(sync: () => Promise<void>, threshold: number, later: (start: () => void) => void = (start) => void setImmediate(start)) {
    this.sync = sync;
    this.threshold = threshold;
    this.later = later;
  }

  /**
   * `bytes` more were written (called after every write, even one that failed part of the way):
   * starts a sync if enough were since the last began, none runs and none failed untold; after a
   * flush, asks for one at the host's next turn.
   */
  wrote(bytes: number): void {
    this.unsynced += bytes;
    this.covering = null;
    if (this.due() && this.running === null) this.start();
    else if (this.afterFlush && !this.pending && this.threshold > 0) {
      this.pending = true;
      this.later(() => {
        this.pending = false;
        if (this.afterFlush && this.covering === null && this.running === null && this.failure === null && !this.closing) this.start();
      });
    }
  }

  /** Makes every write so far durable: waits for a running sync, then syncs; rejects with what either met. */
  async flush(): Promise<void> {
    const covering = this.covering;
    if (covering !== null) {
      // A sync began after the last write: it makes every write so far durable.
      const failed = await covering.then(
        () => null,
        (error: unknown) => ({ error }),
      );
      const told = this.failure;
      this.failure = null;
      this.afterFlush = true;
      const failure = failed ?? told;
      if (failure) throw failure.error;
      return;
    }
    this.unsynced = 0;
    const own = this.sync();
    this.covering = own;
    own.catch(() => {}); // (told by this flush; a flush after it that finds it covering tells it again)
    this.afterFlush = true;
    const ownOutcome = this.track(own);
    const running = this.running;
    if (running) await running;
    const ownFailed = await ownOutcome;
    // Another sync that ran beside `own` (a background one begun at the host's turn after a write
    // the queue let in meanwhile, or another flush's) may be the fdatasync the host told of a
    // write-back error on pages written before this flush, `own` then told nothing (redteam16):
    // wait for every one begun before `own` ended and tell what they met. One begun after cannot
    // take its error (`own` waited for those pages' write-back, then looked).
    const beside = await Promise.all([...this.inFlight]);
    const failed = this.failure ?? ownFailed ?? beside.find((outcome) => outcome !== null) ?? null; // (a background failure first)
    this.failure = null;
    if (failed) throw failed.error;
  }

  // `sync`'s outcome (null: it succeeded), counted in `inFlight` until it settles.
  private track(sync: Promise<void>): Promise<{ readonly error: unknown } | null> {
    const outcome = sync.then(
      () => null,
      (error: unknown) => ({ error }),
    );
    this.inFlight.add(outcome);
    void outcome.then(() => this.inFlight.delete(outcome));
    return outcome;
  }

  /** Resolves once no sync runs, and starts none after (before the file closes). */
  async settle(): Promise<void> {
    this.closing = true;
    while (this.running) await this.running;
  }

  private start(): void {
    this.unsynced = 0;
    this.afterFlush = false;
    const sync = this.sync();
    this.covering = sync;
    void this.track(sync);
    this.running = sync.then(
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
    return this.threshold > 0 && this.unsynced >= this.threshold && this.failure === null && !this.closing;
  }
}
