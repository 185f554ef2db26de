import type { Clock, InterruptSink, Schedule } from "../devices.ts";
import { RegisterDevice } from "./device-base.ts";
import { DeviceKind, RegisterError } from "./registers.ts";

export const RtcTimer = {
  /** Read: the wall clock at the last latch, seconds since the Unix epoch (64-bit, low word first). */
  WALL_SECONDS: 8,
  /** Read: the nanoseconds within that second. */
  WALL_NANOSECONDS: 10,
  /** Read: the monotonic clock at the last latch, nanoseconds (64-bit). */
  MONOTONIC: 11,
  /** Store (any value): latch both clocks into the registers above. */
  LATCH: 13,
  /** Read/store: the timer's interval in nanoseconds (64-bit). */
  INTERVAL: 14,
  /** Read/store: a TimerMode; a store starts the timer from now, or stops it. */
  TIMER_CONTROL: 16,
  /** Read: expirations since the timer was last started. */
  EXPIRATIONS: 17,
  /** Read: the shortest periodic interval, nanoseconds. */
  MIN_PERIOD: 18,
} as const;

export const TimerMode = { STOPPED: 0, ONE_SHOT: 1, PERIODIC: 2 } as const;
/** The interrupt cause: the timer expired. */
export const IRQ_EXPIRED = 1;
/** A periodic timer faster than this would flood the kernel with interrupts the host cannot keep up with anyway. */
export const MIN_PERIOD_NS = 1_000_000;

/**
 * The wall clock and a one-shot or periodic timer. Registers are plain memory to a driver, so the
 * clocks are latched — on a LATCH store and at each expiry — rather than running. A periodic
 * timer keeps its phase (deadlines are start + k × interval); expirations it could not deliver
 * in time are counted in EXPIRATIONS, not raised one by one.
 */
export class RtcTimerDevice extends RegisterDevice {
  readonly name = "timer";
  private readonly clock: Clock;
  private readonly schedule: Schedule;
  private cancel: (() => void) | null = null;
  private deadline = 0;
  private interval = 0;
  private expirations = 0;

  constructor(line: number, interrupts: InterruptSink, clock: Clock, schedule: Schedule) {
    super(DeviceKind.TIMER, line, interrupts);
    this.clock = clock;
    this.schedule = schedule;
    this.powerOn();
  }

  protected store(index: number, value: number): number {
    switch (index) {
      case RtcTimer.LATCH:
        this.latch();
        return RegisterError.NONE;
      case RtcTimer.INTERVAL:
      case RtcTimer.INTERVAL + 1:
        this.registers.set(index, value);
        return RegisterError.NONE;
      case RtcTimer.TIMER_CONTROL:
        return this.control(value);
      default:
        return index <= RtcTimer.MIN_PERIOD ? RegisterError.READ_ONLY : RegisterError.NO_REGISTER;
    }
  }

  protected powerOn(): void {
    this.stop();
    this.expirations = 0;
    this.registers.set(RtcTimer.MIN_PERIOD, MIN_PERIOD_NS);
    this.latch();
  }

  private control(mode: number): number {
    if (mode === TimerMode.STOPPED) {
      this.stop();
      return RegisterError.NONE;
    }
    if (mode !== TimerMode.ONE_SHOT && mode !== TimerMode.PERIODIC) return RegisterError.BAD_VALUE;
    const interval = this.registers.get64(RtcTimer.INTERVAL);
    if (mode === TimerMode.PERIODIC && interval < MIN_PERIOD_NS) return RegisterError.BAD_VALUE;
    this.stop();
    this.expirations = 0;
    this.registers.set(RtcTimer.EXPIRATIONS, 0);
    this.interval = interval;
    this.deadline = this.now() + interval;
    this.registers.set(RtcTimer.TIMER_CONTROL, mode);
    this.arm();
    return RegisterError.NONE;
  }

  private arm(): void {
    this.cancel = this.schedule(Math.max(0, this.deadline - this.now()), () => {
      this.cancel = null;
      this.expire();
    });
  }

  private expire(): void {
    const mode = this.registers.get(RtcTimer.TIMER_CONTROL);
    const now = this.now();
    // A host timer may fire a little early (millisecond rounding): wait out the rest.
    if (now < this.deadline) return this.arm();
    if (mode === TimerMode.PERIODIC) {
      const due = Math.floor((now - this.deadline) / this.interval) + 1;
      this.expirations += due;
      this.deadline += due * this.interval;
      this.arm();
    } else {
      this.expirations++;
      this.registers.set(RtcTimer.TIMER_CONTROL, TimerMode.STOPPED);
    }
    this.registers.set(RtcTimer.EXPIRATIONS, this.expirations);
    this.latch();
    this.signal(IRQ_EXPIRED);
  }

  private stop(): void {
    this.cancel?.();
    this.cancel = null;
    this.registers.set(RtcTimer.TIMER_CONTROL, TimerMode.STOPPED);
  }

  private latch(): void {
    const wall = this.clock.wallNs();
    this.registers.set64(RtcTimer.WALL_SECONDS, wall / 1_000_000_000n);
    this.registers.set(RtcTimer.WALL_NANOSECONDS, Number(wall % 1_000_000_000n));
    this.registers.set64(RtcTimer.MONOTONIC, this.now());
  }

  private now(): number {
    return Math.floor(this.clock.monotonicNs());
  }
}
