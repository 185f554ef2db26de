import { describe, expect, it } from "vitest";
import type { Clock, Schedule } from "../../src/machine/devices.ts";
import { Header, RegisterError } from "../../src/machine/devices/registers.ts";
import { IRQ_EXPIRED, MIN_PERIOD_NS, RtcTimer, RtcTimerDevice, TimerMode } from "../../src/machine/devices/rtc-timer.ts";
import { RecordingInterrupts, attach } from "./helpers.ts";

const LINE = 4;

/** A clock the test moves, and host timers that fire when the test advances it: no real time. */
class FakeTime implements Clock {
  now = 5_000;
  wall = 1_700_000_000_123_456_789n;
  timers: Array<{ at: number; callback: () => void; cancelled: boolean }> = [];
  monotonicNs(): number {
    return this.now;
  }
  wallNs(): bigint {
    return this.wall;
  }
  schedule: Schedule = (delayNs, callback) => {
    const timer = { at: this.now + delayNs, callback, cancelled: false };
    this.timers.push(timer);
    return () => void (timer.cancelled = true);
  };
  /** Moves time on by `ns`, firing due timers in order (a fired timer may schedule another). */
  advance(ns: number): void {
    const end = this.now + ns;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.now = Math.max(this.now, due.at);
      due.callback();
    }
    this.now = end;
  }
  get armed(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

function timerMachine() {
  const time = new FakeTime();
  const interrupts = new RecordingInterrupts();
  const device = new RtcTimerDevice(LINE, interrupts, time, time.schedule);
  const registers = attach(device, null);
  device.write(Header.IRQ_ENABLE, IRQ_EXPIRED);
  const start = (mode: number, intervalNs: number) => {
    device.write(RtcTimer.INTERVAL, intervalNs % 2 ** 32);
    device.write(RtcTimer.INTERVAL + 1, Math.floor(intervalNs / 2 ** 32));
    device.write(RtcTimer.TIMER_CONTROL, mode);
    return registers[Header.ERROR];
  };
  const ack = () => device.write(Header.IRQ_STATUS, IRQ_EXPIRED);
  return { time, interrupts, device, registers, start, ack };
}

describe("timer/RTC", () => {
  it("latches the wall clock and the monotonic clock on request", () => {
    const { time, device, registers } = timerMachine();
    time.wall = 1_800_000_000_987_654_321n;
    time.now = 2 ** 33 + 7;
    device.write(RtcTimer.LATCH, 1);
    expect(registers[RtcTimer.WALL_SECONDS]! + registers[RtcTimer.WALL_SECONDS + 1]! * 2 ** 32).toBe(1_800_000_000);
    expect(registers[RtcTimer.WALL_NANOSECONDS]).toBe(987_654_321);
    expect([registers[RtcTimer.MONOTONIC], registers[RtcTimer.MONOTONIC + 1]]).toEqual([7, 2]);
  });

  it("fires a one-shot timer once, then stops", () => {
    const { time, interrupts, registers, start } = timerMachine();
    expect(start(TimerMode.ONE_SHOT, 3_000_000)).toBe(RegisterError.NONE);
    time.advance(2_999_999);
    expect(interrupts.count(LINE)).toBe(0);
    time.advance(1);
    expect(interrupts.count(LINE)).toBe(1);
    expect(registers[RtcTimer.EXPIRATIONS]).toBe(1);
    expect(registers[RtcTimer.TIMER_CONTROL]).toBe(TimerMode.STOPPED);
    expect(registers[RtcTimer.MONOTONIC]).toBe(5_000 + 3_000_000);
    time.advance(10_000_000);
    expect(interrupts.count(LINE)).toBe(1);
    expect(time.armed).toBe(0);
  });

  it("keeps a periodic timer's phase and counts the expirations it could not raise separately", () => {
    const { time, interrupts, registers, start, ack } = timerMachine();
    start(TimerMode.PERIODIC, 2_000_000);
    time.advance(2_000_000);
    expect(interrupts.count(LINE)).toBe(1);
    ack();
    time.advance(2_000_000);
    expect(interrupts.count(LINE)).toBe(2);
    // Not acknowledged: three more expirations are counted, the line is not raised again.
    time.advance(6_000_000);
    expect(interrupts.count(LINE)).toBe(2);
    expect(registers[RtcTimer.EXPIRATIONS]).toBe(5);
    ack();
    time.advance(2_000_000);
    expect(interrupts.count(LINE)).toBe(3);
    expect(registers[RtcTimer.TIMER_CONTROL]).toBe(TimerMode.PERIODIC);
  });

  it("waits out a host timer that fires early", () => {
    const { time, interrupts, start } = timerMachine();
    start(TimerMode.ONE_SHOT, 1_000_000);
    const early = time.timers[0]!;
    early.cancelled = true;
    time.now += 500_000;
    early.callback();
    expect(interrupts.count(LINE)).toBe(0);
    time.advance(500_000);
    expect(interrupts.count(LINE)).toBe(1);
  });

  it("refuses a periodic interval below the minimum and a mode it does not have", () => {
    const { registers, start, time } = timerMachine();
    expect(registers[RtcTimer.MIN_PERIOD]).toBe(MIN_PERIOD_NS);
    expect(start(TimerMode.PERIODIC, MIN_PERIOD_NS - 1)).toBe(RegisterError.BAD_VALUE);
    expect(start(3, 5_000_000)).toBe(RegisterError.BAD_VALUE);
    expect(time.armed).toBe(0);
  });

  it("stops on a store of STOPPED and on reset", () => {
    const { time, interrupts, device, registers, start } = timerMachine();
    start(TimerMode.PERIODIC, 1_000_000);
    device.write(RtcTimer.TIMER_CONTROL, TimerMode.STOPPED);
    expect(time.armed).toBe(0);
    start(TimerMode.PERIODIC, 1_000_000);
    device.reset();
    expect(time.armed).toBe(0);
    expect(registers[RtcTimer.TIMER_CONTROL]).toBe(TimerMode.STOPPED);
    expect(registers[RtcTimer.MIN_PERIOD]).toBe(MIN_PERIOD_NS);
    time.advance(10_000_000);
    expect(interrupts.count(LINE)).toBe(0);
  });
});
