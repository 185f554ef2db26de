// Callers waiting in a SLEEP: their Reply capabilities and monotonic deadlines. A fixed table, so
// a flood of sleepers is refused (E_QUEUE_FULL) rather than grown; the slots of callers that have
// died are reclaimed when the table fills.
import { capKind, KIND_REPLY } from "../../lib";

export const MAX_SLEEPERS: i32 = 64;
const NONE: u64 = 0xffff_ffff_ffff_ffff;

export class SleeperTable {
  private readonly replies: StaticArray<i32> = new StaticArray<i32>(MAX_SLEEPERS);
  private readonly deadlines: StaticArray<u64> = new StaticArray<u64>(MAX_SLEEPERS);
  count: i32 = 0;

  /** Keeps a sleeper; false when the table is full even of living callers. */
  add(reply: i32, deadline: u64): bool {
    if (this.count == MAX_SLEEPERS) this.reclaim();
    if (this.count == MAX_SLEEPERS) return false;
    unchecked((this.replies[this.count] = reply));
    unchecked((this.deadlines[this.count] = deadline));
    this.count++;
    return true;
  }

  /** The earliest deadline, or all ones when nobody sleeps. */
  earliest(): u64 {
    let best = NONE;
    for (let i = 0; i < this.count; i++) best = min(best, unchecked(this.deadlines[i]));
    return best;
  }

  /** Removes a sleeper whose deadline is at or before `now`: its Reply capability, or 0 when there is none. */
  takeDue(now: u64): i32 {
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.deadlines[i]) > now) continue;
      const reply = unchecked(this.replies[i]);
      this.remove(i);
      return reply;
    }
    return 0;
  }

  /** Forgets sleepers whose callers have gone (their Reply capability went with them). */
  private reclaim(): void {
    for (let i = this.count - 1; i >= 0; i--) {
      if (capKind(unchecked(this.replies[i])) != <i32>KIND_REPLY) this.remove(i);
    }
  }

  private remove(i: i32): void {
    this.count--;
    unchecked((this.replies[i] = this.replies[this.count]));
    unchecked((this.deadlines[i] = this.deadlines[this.count]));
  }
}
