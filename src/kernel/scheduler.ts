import type { Machine } from "../machine/machine.ts";
import { Status } from "./errors.ts";
import type { SchedulerObserver } from "./inspect-hooks.ts";
import type { Process } from "./process.ts";
import { SleeperHeap } from "./sleeper-heap.ts";

export const PRIORITY_LEVELS = 8;
export const DEFAULT_PRIORITY = 4;
export const DEFAULT_SLICE_NS = 10_000_000;
/** The wake value of a wait whose deadline passed: what the waiting kernel call returns. */
export const TIMED_OUT = Status.E_TIMEOUT;

/** Longest run of process slices before the host's own events (input, timers) get a turn. */
const HOST_TURN_NS = 2_000_000;
/**
 * A process woken after waiting at least this long goes to the front of its priority's queue: it
 * waited for input, a timer or a reply that took time (the shell at its prompt), and runs before
 * the processes that kept the CPU busy meanwhile, at most one slice late. Shorter waits (a pipe's
 * two ends taking turns) wake at the back, so that no pair of processes can keep others of their
 * priority from the CPU by waking each other.
 */
export const INTERACTIVE_WAIT_NS = 1_000_000;

/**
 * One CPU: strict priorities (0 runs first), round robin within a level, time slices enforced
 * at safe points. A process gives up the CPU only by blocking, yielding, being preempted at a
 * safe point, or ending; each of those calls `switchOut`, which resumes the dispatch loop.
 *
 * Invariants: `current` is the only process whose stack is running; a process is in at most one
 * run queue, and only when its state is "ready".
 */
export class Scheduler {
  sliceNs = DEFAULT_SLICE_NS;
  current: Process | null = null;
  /** Told of every switch while an inspector watches (inspect.ts); null otherwise. */
  observer: SchedulerObserver | null = null;
  private readonly queues: Process[][] = Array.from({ length: PRIORITY_LEVELS }, () => []);
  private readonly sleepers = new SleeperHeap<Process>();
  /** Callers waiting for the deadline of a reply each replier gave with REPLY_AT (wakeAt). */
  private readonly deferredAnswers = new Map<Process, Set<Process>>();
  private readonly machine: Machine;
  private readonly startProcess: (process: Process) => void;
  private lastHostTurnNs = 0;
  private halted = false;

  constructor(machine: Machine, startProcess: (process: Process) => void) {
    this.machine = machine;
    this.startProcess = startProcess;
  }

  makeReady(process: Process, wakeValue?: unknown, first = false): void {
    process.wakeValue = wakeValue;
    this.removeSleeper(process);
    if (process.suspended) {
      process.descriptor.state = "suspended";
      process.parkedReady = true;
      return;
    }
    process.descriptor.state = "ready";
    const queue = this.queues[process.descriptor.priority]!;
    if (first) queue.unshift(process);
    else queue.push(process);
  }

  /**
   * Suspends the current process until `makeReady` is called for it. Must be returned from a
   * blocking (JSPI-wrapped) kernel call of that process.
   */
  block<T>(process: Process): Promise<T> {
    if (process.state !== "ready" && process.state !== "suspended") {
      process.descriptor.state = "blocked";
      process.blockedAtNs = this.machine.clock.monotonicNs();
    }
    const blocked = new Promise<T>((resolve, reject) => {
      process.resume = resolve as (value: unknown) => void;
      process.unwind = reject;
      this.yieldCpu(process);
    });
    process.blockedCall = blocked;
    return blocked;
  }

  /** Puts the current process at the back of its queue and switches away. */
  yield<T>(process: Process, wakeValue?: T, toFront?: Process): Promise<T> {
    this.makeReady(process, wakeValue);
    if (toFront) {
      this.remove(toFront);
      this.makeReady(toFront, toFront.wakeValue, true);
    }
    return this.block<T>(process);
  }

  /**
   * The current process's slice is over: sleepers whose time has come are queued first, so that
   * one that woke during the slice runs before the process it was waiting behind.
   */
  preempt<T>(process: Process, wakeValue: T): Promise<T> {
    this.wakeSleepers();
    return this.yield(process, wakeValue);
  }

  sleep(process: Process, deadlineNs: number): Promise<void> {
    this.addSleeper(process, deadlineNs);
    return this.block<void>(process);
  }

  /**
   * Blocks the current process in a wait that `wake` ends (its registration undone by
   * `process.waitCancel`, which the caller has set), or that the deadline ends with TIMED_OUT.
   */
  waitUntil<T>(process: Process, deadlineNs: number): Promise<T | typeof TIMED_OUT> {
    if (deadlineNs !== Infinity) this.addSleeper(process, deadlineNs);
    return this.block<T | typeof TIMED_OUT>(process);
  }

  /**
   * Gives the wait `process` is entering (through `handoff`, which registers none) a deadline: it
   * ends with TIMED_OUT then, as a `waitUntil` would.
   */
  setDeadline(process: Process, deadlineNs: number): void {
    if (deadlineNs === Infinity) return;
    this.addSleeper(process, deadlineNs);
  }

  /** Ends `process`'s wait with `value`: it becomes ready (at the front with `first`, or after a long wait). */
  wake(process: Process, value: unknown, first = false): void {
    if (!process.alive) return;
    this.endWait(process);
    this.makeReady(process, value, first || this.waitedLong(process));
  }

  /**
   * Ends `process`'s wait at `deadlineNs` with `value`: a reply `replier` gave with REPLY_AT.
   * The process is one of the sleepers, so the wait costs the kernel nothing a blocked process
   * does not already cost. Only the replier's end ends it sooner (`takeDeferredAnswers`): a
   * server that answers for a far deadline and ends does not leave its caller blocked for nothing.
   */
  wakeAt(process: Process, value: unknown, deadlineNs: number, replier: Process): void {
    if (!process.alive) return;
    this.endWait(process);
    process.deadlineWakeValue = value;
    this.addSleeper(process, deadlineNs);
    if (!replier.alive) return;
    process.deferredBy = replier;
    let callers = this.deferredAnswers.get(replier);
    if (!callers) this.deferredAnswers.set(replier, (callers = new Set()));
    callers.add(process);
  }

  /**
   * The callers still waiting for the deadline of a reply `replier` gave (it ended): each leaves
   * the sleepers, its deferred answer forgotten, for whoever wakes it with what it is to be told.
   */
  takeDeferredAnswers(replier: Process): Process[] {
    const callers = this.deferredAnswers.get(replier);
    if (!callers) return [];
    const taken = [...callers];
    for (const caller of taken) {
      this.removeSleeper(caller);
      caller.deadlineWakeValue = undefined;
    }
    return taken;
  }

  // `process` left the sleepers: a deferred answer it waited for is no longer its replier's.
  private leaveDeferral(process: Process, replier: Process): void {
    process.deferredBy = null;
    const callers = this.deferredAnswers.get(replier);
    if (callers?.delete(process) && callers.size === 0) this.deferredAnswers.delete(replier);
  }

  /** Whether `process` has been blocked at least INTERACTIVE_WAIT_NS (it then wakes at the front of its queue). */
  private waitedLong(process: Process): boolean {
    return process.state === "blocked" && this.machine.clock.monotonicNs() - process.blockedAtNs >= INTERACTIVE_WAIT_NS;
  }

  /**
   * The current process `from` blocks and `to`, blocked in a wait, runs at once with `value` on
   * the rest of `from`'s slice: no trip through the run queue. `from`'s wait registration must be
   * set up by the caller.
   */
  handoff<T>(from: Process, to: Process, value: unknown): Promise<T> {
    this.endWait(to);
    const now = this.machine.clock.monotonicNs();
    from.descriptor.addCpuTime((now - from.runStartNs) / 1000);
    from.descriptor.state = "blocked";
    to.descriptor.state = "running";
    to.switchOut = from.switchOut;
    from.switchOut = null;
    to.sliceStartNs = from.sliceStartNs;
    to.runStartNs = now;
    this.current = to;
    this.observer?.running(to, now);
    const blocked = new Promise<T>((resolve, reject) => {
      from.resume = resolve as (value: unknown) => void;
      from.unwind = reject;
      const resume = to.resume!;
      to.resume = null;
      to.unwind = null;
      to.blockedCall = null;
      resume(value);
    });
    from.blockedCall = blocked;
    return blocked;
  }

  /** Whether `to` can take a handoff: blocked in a wait, not suspended. */
  canHandoff(to: Process): boolean {
    return to.waitCancel !== null && to.resume !== null && !to.suspended && to.alive;
  }

  suspend(process: Process): void {
    process.suspended = true;
    if (process.state === "ready") {
      this.remove(process);
      process.parkedReady = true;
      process.descriptor.state = "suspended";
    }
  }

  resume(process: Process): void {
    process.suspended = false;
    if (!process.parkedReady) return;
    process.parkedReady = false;
    this.makeReady(process, process.wakeValue);
  }

  /** Stops `run` after the current slice: the machine is going down (process 1 ended). */
  halt(): void {
    this.halted = true;
    this.machine.interrupts.poke();
  }

  hasSleepers(): boolean {
    return this.sleepers.size > 0;
  }

  private endWait(process: Process): void {
    const cancel = process.waitCancel;
    process.waitCancel = null;
    cancel?.();
    this.removeSleeper(process);
  }

  /**
   * Whether the current slice is over: the *preemption pending* bit, computed from the clock. A
   * sleeper whose time has come ends it too: the host's timer cannot fire while a process runs
   * (one thread), so the kernel looks at the sleepers' deadlines itself at each look at the clock,
   * and a sleeper runs within microseconds of its time instead of at the end of the slice.
   */
  preemptionPending(process: Process): boolean {
    const now = this.machine.clock.monotonicNs();
    return now - process.sliceStartNs >= this.sliceNs || this.machine.interrupts.hasPending() || now >= this.earliestWakeNs();
  }

  private addSleeper(process: Process, deadlineNs: number): void {
    this.sleepers.set(process, deadlineNs);
  }

  private removeSleeper(process: Process): void {
    if (process.deferredBy !== null) this.leaveDeferral(process, process.deferredBy);
    this.sleepers.delete(process);
  }

  /** The earliest sleeper's deadline (Infinity: none). */
  private earliestWakeNs(): number {
    return this.sleepers.peek()?.sleepUntilNs ?? Infinity;
  }

  /** Takes a process out of every queue and wait (it was killed). */
  remove(process: Process): void {
    this.endWait(process);
    process.parkedReady = false;
    for (const queue of this.queues) {
      const at = queue.indexOf(process);
      if (at >= 0) queue.splice(at, 1);
    }
  }

  /** Called when a process's stack stops running for any reason. */
  yieldCpu(process: Process): void {
    const done = process.switchOut;
    process.switchOut = null;
    done?.();
  }

  /**
   * Runs processes until `live()` reports none left. `onInterrupts` handles device interrupts;
   * it runs between slices, never inside one.
   */
  async run(live: () => number, onInterrupts: () => void): Promise<void> {
    for (;;) {
      if (this.halted) return;
      onInterrupts();
      this.wakeSleepers();
      const next = this.pickNext();
      if (next) {
        await this.dispatch(next);
        await this.giveHostATurn();
        continue;
      }
      if (live() === 0) return;
      this.armTimer();
      await this.machine.interrupts.wait();
      this.lastHostTurnNs = this.machine.clock.monotonicNs();
    }
  }

  private dispatch(process: Process): Promise<void> {
    return new Promise<void>((done) => {
      // Whoever is running when the CPU comes back is charged: a handoff moves this callback on.
      process.switchOut = () => {
        const running = this.current!;
        const now = this.machine.clock.monotonicNs();
        running.descriptor.addCpuTime((now - running.runStartNs) / 1000);
        this.current = null;
        this.observer?.running(null, now);
        done();
      };
      this.current = process;
      process.descriptor.state = "running";
      process.sliceStartNs = this.machine.clock.monotonicNs();
      process.runStartNs = process.sliceStartNs;
      this.observer?.running(process, process.sliceStartNs);
      if (!process.started) {
        process.started = true;
        this.startProcess(process);
        return;
      }
      const resume = process.resume!;
      process.resume = null;
      process.unwind = null;
      process.blockedCall = null;
      resume(process.wakeValue);
    });
  }

  private pickNext(): Process | null {
    for (const queue of this.queues) {
      const next = queue.shift();
      if (next) return next;
    }
    return null;
  }

  private wakeSleepers(): void {
    if (this.sleepers.size === 0) return;
    const now = this.machine.clock.monotonicNs();
    // Every dispatch passes here: the heap's first says at once whether any is due.
    const earliest = this.sleepers.peek();
    if (earliest === undefined || earliest.sleepUntilNs > now) return;
    const due: Process[] = [];
    for (let sleeper = this.sleepers.peek(); sleeper !== undefined && sleeper.sleepUntilNs <= now; sleeper = this.sleepers.peek()) {
      due.push(sleeper);
      this.sleepers.delete(sleeper);
    }
    // Those due at one look run in the order of their deadlines: the ones that waited long go to
    // the front of their queues (pushed there last first), the others to the back (earliest first).
    // Woken one by one at the front, a host turn late (a busy machine) ran them latest first.
    const front = due.map((sleeper) => this.waitedLong(sleeper));
    for (let i = due.length - 1; i >= 0; i--) if (front[i]) this.wakeSleeper(due[i]!, true);
    for (let i = 0; i < due.length; i++) if (!front[i]) this.wakeSleeper(due[i]!, false);
  }

  /** A sleeper's deadline came: its wait ends (TIMED_OUT), or a deferred answer is delivered. */
  private wakeSleeper(sleeper: Process, first: boolean): void {
    if (sleeper.waitCancel) {
      this.wake(sleeper, TIMED_OUT, first);
      return;
    }
    const value = sleeper.deadlineWakeValue;
    sleeper.deadlineWakeValue = undefined;
    this.makeReady(sleeper, value, first);
  }

  private armTimer(): void {
    const earliest = this.earliestWakeNs();
    if (earliest === Infinity) this.machine.timer.disarm();
    else this.machine.timer.arm(earliest);
  }

  /** Promise jobs starve the host's event loop; let it deliver input and timers now and then. */
  private async giveHostATurn(): Promise<void> {
    const now = this.machine.clock.monotonicNs();
    if (now - this.lastHostTurnNs < HOST_TURN_NS) return;
    this.lastHostTurnNs = now;
    await this.machine.yieldToHost();
  }
}
