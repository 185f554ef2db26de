// The timer driver's protocol (docs/DRIVERS.md "Timer driver"; contract Timer,
// contracts/timer.contract, whose generated wrappers this client calls through) and a client for
// it. The driver registers a call capability as "timer"; it reads the timer/RTC device's clocks
// and wakes sleepers with its one-shot timer. A reply's label carries a status as its magnitude.
//
// Import it directly: `import { TimerClient } from "../lib/timer-client";`.
import { E_INVALID_CAP, E_PEER_DEAD } from "./errors";
import { msgBegin, msgAddWord, msgInvoke, msgLabel, msgWord, msgWord64 } from "./message";
import { capDrop } from "./caps/capability";
import { registryLookup } from "./registry";
import { sleep } from "./time";
import { Timer, TimerReady } from "./contracts/timer";

/** The name the driver registers. */
export const TIMER_SERVICE = "timer";

/** Replies words: wall-clock seconds since 1970 (low, high), nanoseconds within the second, the device's monotonic ns (low, high). */
export const TIMER_NOW: u32 = Timer.Now;
/** Words: ns (low, high). Replies once that long has passed. */
export const TIMER_SLEEP: u32 = Timer.Sleep;
/** Words: a monotonic deadline in the device's ns (low, high). Replies once it has passed (at once if it has). */
export const TIMER_SLEEP_UNTIL: u32 = Timer.SleepUntil;

/** The driver's clocks at one instant. */
export class TimerNow {
  status: i32 = 0;
  wallSeconds: u64 = 0;
  wallNanoseconds: u32 = 0;
  monotonicNs: u64 = 0;
}

/**
 * A connection to the timer driver. After E_PEER_DEAD a call connects to the driver's successor
 * and tries once more (a sleep then starts over: it never ends early).
 */
export class TimerClient {
  service: i32 = 0;

  /** Looks "timer" up, retrying every `waitNs` while it is not registered; 0 or a status. */
  connect(tries: i32 = 1000, waitNs: i64 = 10_000_000): i32 {
    let status: i32 = E_INVALID_CAP;
    for (let i = 0; i < tries; i++) {
      if (i > 0) sleep(waitNs);
      if (this.service != 0) capDrop(this.service);
      this.service = 0;
      const found = registryLookup(TIMER_SERVICE);
      status = found;
      if (found == E_INVALID_CAP) continue;
      if (found < 0) return found;
      this.service = found;
      TimerReady.beginNow();
      status = this.answered(TimerReady.now(this.service));
      if (status != E_PEER_DEAD) return status;
    }
    return status;
  }

  /** The clocks now (allocates the answer). */
  now(): TimerNow {
    const answer = new TimerNow();
    let status = this.nowOnce();
    if (status == E_PEER_DEAD && this.connect() == 0) status = this.nowOnce();
    answer.status = status;
    if (status < 0) return answer;
    answer.wallSeconds = msgWord64(0);
    answer.wallNanoseconds = msgWord(2);
    answer.monotonicNs = msgWord64(3);
    return answer;
  }

  /** Waits `ns` nanoseconds; 0 or a status. */
  sleep(ns: u64): i32 {
    let status = this.sleepOnce(ns);
    if (status == E_PEER_DEAD && this.connect() == 0) status = this.sleepOnce(ns);
    return status;
  }

  /** Waits until the device's monotonic clock reaches `deadlineNs` (at once if it has); 0 or a status. */
  sleepUntil(deadlineNs: u64): i32 {
    let status = this.sleepUntilOnce(deadlineNs);
    if (status == E_PEER_DEAD && this.connect() == 0) status = this.sleepUntilOnce(deadlineNs);
    return status;
  }

  private sleepUntilOnce(deadlineNs: u64): i32 {
    if (this.service == 0) return E_INVALID_CAP;
    TimerReady.beginSleepUntil();
    msgAddWord(<u32>deadlineNs);
    msgAddWord(<u32>(deadlineNs >>> 32));
    return this.answered(TimerReady.sleepUntil(this.service));
  }

  private nowOnce(): i32 {
    if (this.service == 0) return E_INVALID_CAP;
    TimerReady.beginNow();
    return this.answered(TimerReady.now(this.service));
  }

  private sleepOnce(ns: u64): i32 {
    if (this.service == 0) return E_INVALID_CAP;
    TimerReady.beginSleep();
    msgAddWord(<u32>ns);
    msgAddWord(<u32>(ns >>> 32));
    return this.answered(TimerReady.sleep(this.service));
  }

  /** A call's status, or its answer's (a label is a status's magnitude). */
  private answered(status: i32): i32 {
    return status < 0 ? status : -<i32>msgLabel();
  }
}
