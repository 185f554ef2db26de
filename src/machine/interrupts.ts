/**
 * The interrupt controller: devices raise lines from host callbacks; the kernel drains them
 * between two process slices, so it is never re-entered.
 */
export type Interrupt =
  | { readonly line: "timer" }
  | { readonly line: "console"; readonly data: Uint8Array | null }
  /** A device's numbered line (2 and up; 0 and 1 are the timer and the console). */
  | { readonly line: "irq"; readonly number: number };

export class InterruptController {
  private pending: Interrupt[] = [];
  private waiter: (() => void) | null = null;
  /** A poke that came while nobody waited: the next `wait` returns at once (a poke is never lost). */
  private poked = false;

  raise(interrupt: Interrupt): void {
    this.pending.push(interrupt);
    const wake = this.waiter;
    this.waiter = null;
    wake?.();
  }

  /** Takes every pending interrupt, oldest first. */
  drain(): Interrupt[] {
    const taken = this.pending;
    this.pending = [];
    return taken;
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Ends a `wait` without an interrupt (the kernel is halting, or the host made a process ready).
   * One that comes before the kernel waits ends its next wait: the host may act between the
   * kernel's last look at its run queue and its wait.
   */
  poke(): void {
    const wake = this.waiter;
    this.waiter = null;
    if (wake) wake();
    else this.poked = true;
  }

  /** Resolves when an interrupt is pending or a poke came (at once if one already did). */
  wait(): Promise<void> {
    if (this.pending.length > 0 || this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}
