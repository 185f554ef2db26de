// Callers waiting in a SLEEP: their Reply capabilities and monotonic deadlines, in a binary heap
// ordered by deadline (the earliest at the root).
//
// How many there may be: each sleeper is a whole process blocked in its call (its Memory pays for
// it, five frames at least) and holds one slot of this driver's capability table, so the table is
// sized by the capability table (1024 slots), not by a count any one program reaches cheaply (it
// was 64: 64 processes sleeping for ever made every other sleep fail). When it is full even of
// living callers, the sleeper with the latest deadline gives way to one that wakes earlier (it is
// answered Busy, as a newcomer would have been): a program holding the table with endless sleeps
// is the one turned away, not the short sleep of someone else.
import { capKind, KIND_REPLY } from "../../lib";

/** Below the 1023 usable capability slots: the driver's own capabilities and a call being answered keep theirs. */
export const MAX_SLEEPERS: i32 = 1000;
const NONE: u64 = 0xffff_ffff_ffff_ffff;

export class SleeperTable {
  private readonly replies: StaticArray<i32> = new StaticArray<i32>(MAX_SLEEPERS);
  private readonly deadlines: StaticArray<u64> = new StaticArray<u64>(MAX_SLEEPERS);
  count: i32 = 0;

  /**
   * Keeps a sleeper. When the table is full even of living callers: 0 if this one wakes no earlier
   * than every sleeper kept (it is refused), else the Reply capability of the sleeper with the
   * latest deadline, which this one replaced (the caller answers it Busy). -1: kept, nobody displaced.
   */
  add(reply: i32, deadline: u64): i32 {
    if (this.count == MAX_SLEEPERS) this.reclaim();
    if (this.count < MAX_SLEEPERS) {
      this.push(reply, deadline);
      return -1;
    }
    const latest = this.latest();
    if (unchecked(this.deadlines[latest]) <= deadline) return 0;
    const displaced = unchecked(this.replies[latest]);
    this.removeAt(latest);
    this.push(reply, deadline);
    return displaced;
  }

  /** The earliest deadline, or all ones when nobody sleeps. */
  earliest(): u64 {
    return this.count == 0 ? NONE : unchecked(this.deadlines[0]);
  }

  /** Removes a sleeper whose deadline is at or before `now`: its Reply capability, or 0 when there is none. */
  takeDue(now: u64): i32 {
    if (this.count == 0 || unchecked(this.deadlines[0]) > now) return 0;
    const reply = unchecked(this.replies[0]);
    this.removeAt(0);
    return reply;
  }

  /** The index of the sleeper with the latest deadline: a leaf (the second half of the heap). */
  private latest(): i32 {
    let best = this.count >> 1;
    for (let i = best + 1; i < this.count; i++) if (unchecked(this.deadlines[i]) > unchecked(this.deadlines[best])) best = i;
    return best;
  }

  /** Forgets sleepers whose callers have gone (their Reply capability went with them). */
  private reclaim(): void {
    for (let i = this.count - 1; i >= 0; i--) {
      if (capKind(unchecked(this.replies[i])) != <i32>KIND_REPLY) this.removeAt(i);
    }
  }

  private push(reply: i32, deadline: u64): void {
    const i = this.count++;
    this.put(i, reply, deadline);
    this.siftUp(i);
  }

  private removeAt(i: i32): void {
    this.count--;
    if (i == this.count) return;
    this.put(i, unchecked(this.replies[this.count]), unchecked(this.deadlines[this.count]));
    this.siftUp(i);
    this.siftDown(i);
  }

  private siftUp(i: i32): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (unchecked(this.deadlines[parent]) <= unchecked(this.deadlines[i])) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: i32): void {
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.count) return;
      let child = left;
      if (left + 1 < this.count && unchecked(this.deadlines[left + 1]) < unchecked(this.deadlines[left])) child = left + 1;
      if (unchecked(this.deadlines[i]) <= unchecked(this.deadlines[child])) return;
      this.swap(i, child);
      i = child;
    }
  }

  private swap(a: i32, b: i32): void {
    const reply = unchecked(this.replies[a]);
    const deadline = unchecked(this.deadlines[a]);
    this.put(a, unchecked(this.replies[b]), unchecked(this.deadlines[b]));
    this.put(b, reply, deadline);
  }

  private put(i: i32, reply: i32, deadline: u64): void {
    unchecked((this.replies[i] = reply));
    unchecked((this.deadlines[i] = deadline));
  }
}
