// A timer driver client for the tests (test/drivers/timer.test.ts): reads the clocks, checks the
// driver's wall clock against the kernel's, sleeps (pid % 3 + 1) × 30 ms through the driver and
// checks it did not wake early, tries two requests contract Timer forbids (refused by the kernel:
// E_CONTRACT), and exits 0.
// Config: service t1 timer-test-client
import { print, eprint, errorName, exit, getpid, wallClock, msgBegin, msgAddWord, msgInvoke, msgLabel } from "../lib";
import { TimerClient, TIMER_SLEEP } from "../lib/timer-client";

const timer = new TimerClient();
const pid = getpid();
const name = "timer-test-client (pid " + pid.toString() + "): ";

function check(what: string, result: i32): i32 {
  if (result < 0) {
    eprint(name + what + ": " + errorName(result));
    exit(1);
  }
  return result;
}

function ask(label: u32, words: i32): string {
  msgBegin(label);
  for (let i = 0; i < words; i++) msgAddWord(0);
  const status = msgInvoke(timer.service);
  return errorName(status < 0 ? status : -<i32>msgLabel());
}

check("connect", timer.connect());
const before = timer.now();
check("now", before.status);
const kernelSeconds = wallClock() / 1_000_000_000;
const off = <i64>before.wallSeconds - kernelSeconds;
print(name + (off >= -60 && off <= 60 ? "the wall clocks agree" : "the wall clocks are " + off.toString() + " s apart"));
const ms = <u64>(pid % 3 + 1) * 30;
check("sleep", timer.sleep(ms * 1_000_000));
const after = timer.now();
check("now", after.status);
const slept = after.monotonicNs - before.monotonicNs;
print(name + "slept " + ms.toString() + " ms" + (slept >= ms * 1_000_000 ? "" : ", but woke after only " + slept.toString() + " ns"));
const deadline = after.monotonicNs + 5_000_000;
check("sleep until", timer.sleepUntil(deadline));
const woke = timer.now();
check("now", woke.status);
print(name + "slept until a deadline" + (woke.monotonicNs >= deadline ? "" : ", but woke " + (deadline - woke.monotonicNs).toString() + " ns early"));
print(name + "a sleep without words: " + ask(TIMER_SLEEP, 1) + "; label 9: " + ask(9, 0));
exit(0);
