// Callers waiting in a READ, oldest first: their Reply capabilities, kept until input comes.
// A bounded ring, so a flood of readers is refused (E_QUEUE_FULL) rather than grown without end.

export const MAX_READERS: i32 = 16;

export class ReaderQueue {
  private readonly replies: StaticArray<i32> = new StaticArray<i32>(MAX_READERS);
  private readonly limits: StaticArray<u32> = new StaticArray<u32>(MAX_READERS);
  private first: i32 = 0;
  count: i32 = 0;

  get full(): bool {
    return this.count == MAX_READERS;
  }

  /** Keeps a reader that wants at most `max` bytes. The queue must not be full. */
  push(reply: i32, max: u32): void {
    const at = (this.first + this.count) % MAX_READERS;
    unchecked((this.replies[at] = reply));
    unchecked((this.limits[at] = max));
    this.count++;
  }

  /** The oldest reader's Reply capability (the queue must not be empty). */
  @inline get reply(): i32 {
    return unchecked(this.replies[this.first]);
  }

  @inline get limit(): u32 {
    return unchecked(this.limits[this.first]);
  }

  /** Forgets the oldest reader (answered, or gone). */
  pop(): void {
    this.first = (this.first + 1) % MAX_READERS;
    this.count--;
  }
}
