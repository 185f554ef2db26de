// Futexes, and a mutex on one word of memory built on them. The word may be in a shared Page or a
// Region, so several processes can lock it; the kernel meets waiters on the word's frame.
//
// There are no atomic instructions (the loader refuses them: no threads). They are not needed:
// one process runs at a time, and the kernel only switches away at a safe point (a function
// entry or loop header) or in a kernel call, so a load-compare-store with neither in between,
// as in swapIf and swap below, cannot be interleaved with another process's.
import { futex_wait, futex_wake } from "../sys";
import { FOREVER } from "../abi";

/** Sleeps while the i32 at `addr` equals `expected`: OK when woken, E_NOT_READY at once if it differs, E_TIMEOUT. */
export function futexWait(addr: usize, expected: i32, timeoutNs: u64 = FOREVER): i32 {
  return futex_wait(<i32>addr, expected, <i64>timeoutNs);
}

/** Wakes up to `count` processes waiting on the word at `addr`: how many woke, or a status (E_MISSING_RIGHT: the caller may not write the word). */
export function futexWake(addr: usize, count: i32): i32 {
  return futex_wake(<i32>addr, count);
}

// The lock word: 0 free, 1 held, 2 held with (perhaps) waiters (Drepper, "Futexes Are Tricky").
const FREE: i32 = 0;
const HELD: i32 = 1;
const CONTENDED: i32 = 2;

// Straight-line on purpose (see the top of the file): the old value; `desired` stored if it was `expected`.
@inline function swapIf(addr: usize, expected: i32, desired: i32): i32 {
  const old = load<i32>(addr);
  if (old == expected) store<i32>(addr, desired);
  return old;
}

@inline function swap(addr: usize, value: i32): i32 {
  const old = load<i32>(addr);
  store<i32>(addr, value);
  return old;
}

/** A mutex on the aligned i32 at `word` (zero: unlocked); costs no kernel call unless contended. */
export class FutexLock {
  constructor(readonly word: usize) {
    assert((word & 3) == 0, "FutexLock: the word must be 4-byte aligned"); // futex_wait refuses others
  }

  tryLock(): bool {
    return swapIf(this.word, FREE, HELD) == FREE;
  }

  lock(): void {
    let state = swapIf(this.word, FREE, HELD);
    if (state == FREE) return;
    // Mark it contended so that unlock wakes someone, then sleep until it is free.
    if (state != CONTENDED) state = swap(this.word, CONTENDED);
    while (state != FREE) {
      futexWait(this.word, CONTENDED); // woken, or E_NOT_READY: it changed before we slept
      state = swap(this.word, CONTENDED);
    }
  }

  unlock(): void {
    if (swap(this.word, FREE) == CONTENDED) futexWake(this.word, 1);
  }
}
