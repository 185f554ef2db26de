// The timer driver (docs/DRIVERS.md "Timer driver"): the timer/RTC device (docs/DEVICES.md
// "Timer/RTC") serving NOW, SLEEP and SLEEP_UNTIL to clients that find it as "timer", as contract
// Timer (contracts/timer.contract) says: the kernel lets nothing else through.
// Config:
//   driver timer timer device=timer interrupt=timer memory=64
// Slots: 2 the registry, 3 the device, 4 its interrupt line, 5 a Memory (its Receivers).
//
// Sleepers wait in a table with their deadlines on the device's monotonic clock (timer-parts/
// sleepers.ts says how many, and who gives way when it is full); the one-shot timer is always set
// for the earliest of them. On its interrupt every sleeper that is due is
// answered. A sleep never ends early: the clocks are latched before deciding who is due.
// Nothing here allocates after the start.
import {
  exit, errorName, lineBegin, lineAdd, linePrint, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgReply,
  msgWordCount, msgWord64, msgCap, msgCapCount, capDrop, reply, registryRegister, Device, Interrupt, Memory, Receiver,
  CAP_MOVE, MSG_INTERRUPT, OP_RECEIVER_RECEIVE, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND, E_BAD_MESSAGE,
  E_INVALID_ARGUMENT, E_QUEUE_FULL, STDERR,
} from "../lib";
import { TIMER_SERVICE } from "../lib/timer-client";
import { Timer, TimerSleeping, TimerTelling, timerAttach } from "../lib/contracts/timer";
import { Registers, KIND_TIMER, IRQ_ENABLE, IRQ_STATUS } from "./common/device-registers";
import { SleeperTable } from "./timer-parts/sleepers";
import { Failure } from "./common/failure";

const DEVICE: i32 = 3;
const INTERRUPT: i32 = 4;
const MEMORY: i32 = 5;
/** A slot for each endpoint of contract Timer, whose calls wait one at a time: clients holding "timer" at most. */
const CALL_QUEUE: u32 = 64;

// The timer/RTC's registers.
const WALL_SECONDS: i32 = 8;
const WALL_NANOSECONDS: i32 = 10;
const MONOTONIC: i32 = 11;
const LATCH: i32 = 13;
const INTERVAL: i32 = 14;
const TIMER_CONTROL: i32 = 16;
const MODE_STOPPED: u32 = 0;
const MODE_ONE_SHOT: u32 = 1;
const IRQ_EXPIRED: u32 = 1;
const NOBODY: u64 = 0xffff_ffff_ffff_ffff;

const failure = new Failure("timer");
const fail = (what: string, status: i32): void => failure.fail(what, status);
const check = (what: string, status: i32): i32 => failure.check(what, status);

const home = new Memory(MEMORY);
const device = new Device(DEVICE);
check("reset the device", device.reset());
const mapped = device.map();
if (mapped < 0) fail("map the device", <i32>mapped);
const registers = new Registers(<usize>mapped);
if (!registers.isKind(KIND_TIMER)) {
  lineBegin("timer: slot 3 is not the timer/RTC");
  linePrint(STDERR);
  exit(1);
}
const interrupts = new Receiver(check("create the interrupt Receiver", home.createReceiver(1)));
const calls = new Receiver(check("create the call Receiver", home.createReceiver(CALL_QUEUE)));
const interrupt = new Interrupt(INTERRUPT);
check("bind the interrupt", interrupt.bind(<u32>check("mint", interrupts.mint(0, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
registers.set(IRQ_ENABLE, IRQ_EXPIRED);
const sleepers = new SleeperTable();
/** The deadline the one-shot timer is set for (NOBODY: stopped). */
let armedFor: u64 = NOBODY;

// Before the capability it registers is minted: every call through it is then the contract's.
check("give the call Receiver contract Timer", timerAttach(calls.cap));
check("register " + TIMER_SERVICE, registryRegister(TIMER_SERVICE, <u32>check("mint", calls.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
lineBegin("timer: serving \"");
lineAdd(TIMER_SERVICE);
lineAdd("\"");
linePrint();

/** The device's monotonic clock now (latched). */
function now(): u64 {
  registers.set(LATCH, 1);
  return registers.get64(MONOTONIC);
}

/** Answers a sleeper: Woken, or Busy when there is no room for it. A caller that has gone drops its reply. */
function answer(replyCap: i32, status: i32): void {
  if (status == E_QUEUE_FULL) {
    TimerSleeping.beginBusy();
    if (TimerSleeping.replyBusy(replyCap) < 0) capDrop(replyCap);
    return;
  }
  TimerSleeping.beginWoken();
  if (TimerSleeping.replyWoken(replyCap) < 0) capDrop(replyCap);
}

/** Answers every sleeper that is due, then sets the timer for the earliest of the rest. */
function wakeAndArm(): void {
  let t = now();
  for (;;) {
    const due = sleepers.takeDue(t);
    if (due == 0) break;
    answer(due, 0);
  }
  const next = sleepers.earliest();
  if (next == armedFor) return;
  armedFor = next;
  if (next == NOBODY) {
    registers.set(TIMER_CONTROL, MODE_STOPPED);
    return;
  }
  t = now();
  const wait = next > t ? next - t : 1;
  registers.set(INTERVAL, <u32>wait);
  registers.set(INTERVAL + 1, <u32>(wait >>> 32));
  registers.set(TIMER_CONTROL, MODE_ONE_SHOT);
}

function handleCall(): void {
  const label = msgLabel();
  const replyCap = msgReply();
  for (let i = 0; i < msgCapCount(); i++) if (msgCap(i) != 0) capDrop(msgCap(i));
  if (replyCap == 0) return;
  if (label == Timer.Now) {
    const t = now();
    TimerTelling.beginClock();
    msgAddWord(registers.get(WALL_SECONDS));
    msgAddWord(registers.get(WALL_SECONDS + 1));
    msgAddWord(registers.get(WALL_NANOSECONDS));
    msgAddWord(<u32>t);
    msgAddWord(<u32>(t >>> 32));
    if (TimerTelling.replyClock(replyCap) < 0) capDrop(replyCap);
    return;
  }
  // The contract lets only Sleep and SleepUntil through besides, with their two words.
  if ((label != Timer.Sleep && label != Timer.SleepUntil) || msgWordCount() < 2) {
    capDrop(replyCap);
    return;
  }
  const value = msgWord64(0);
  let deadline = value;
  if (label == Timer.Sleep) {
    const t = now();
    deadline = value > NOBODY - 1 - t ? NOBODY - 1 : t + value;
  }
  const displaced = sleepers.add(replyCap, deadline);
  if (displaced >= 0) answer(displaced == 0 ? replyCap : displaced, E_QUEUE_FULL);
  armedFor = NOBODY - 1; // the table changed: look again
}

for (;;) {
  msgBegin(OP_RECEIVER_RECEIVE);
  msgAddCap(<u32>calls.cap);
  const from = msgInvoke(interrupts.cap);
  if (from < 0) fail("receive", from);
  if (from == 0) {
    if (msgLabel() == MSG_INTERRUPT) {
      registers.set(IRQ_STATUS, IRQ_EXPIRED);
      armedFor = NOBODY - 1; // a one-shot that fired is stopped
      interrupt.ack();
    }
  } else {
    handleCall();
  }
  wakeAndArm();
}
