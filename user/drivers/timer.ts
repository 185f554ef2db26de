// The timer driver (docs/DRIVERS.md "Timer driver"): the timer/RTC device (docs/DEVICES.md
// "Timer/RTC") serving NOW, SLEEP and SLEEP_UNTIL to clients that find it as "timer", as contract
// Timer (contracts/timer.contract) says: the kernel lets nothing else through.
// Config:
//   driver timer timer device=timer interrupt=timer memory=64
// Slots: 2 the registry, 3 the device, 4 its interrupt line (unused: see below), 5 a Memory (its Receiver).
//
// A sleeper is answered at once with REPLY_AT (docs/ABI.md): the kernel hands it the reply when
// its deadline on the monotonic clock (the device's) has passed, and until then it waits as one of
// the kernel's sleepers. So the driver keeps no table of sleepers, and no number of them, nor any
// one program's, can make another's sleep fail (a table of 1000 in this driver could be filled by
// one program with 1000 processes). The deadline is read from the latched clock, so a sleep never
// ends early. Nothing here allocates after the start.
import {
  exit, lineBegin, lineAdd, linePrint, msgBegin, msgInvoke, msgLabel, msgReply,
  msgWordCount, msgWord64, msgCap, msgCapCount, msgAddWord, capDrop, registryRegister, replyAt, Device, Memory, Receiver,
  CAP_MOVE, OP_RECEIVER_RECEIVE, RIGHT_RECEIVER_CALL, STDERR,
} from "../lib";
import { TIMER_SERVICE } from "../lib/timer-client";
import { Timer, TimerTelling, timerAttach } from "../lib/contracts/timer";
import { Registers, KIND_TIMER } from "./common/device-registers";
import { Failure } from "./common/failure";

const DEVICE: i32 = 3;
const MEMORY: i32 = 5;
/** A slot for each endpoint of contract Timer, whose calls wait one at a time: clients holding "timer" at most. */
const CALL_QUEUE: u32 = 64;

// The timer/RTC's registers.
const WALL_SECONDS: i32 = 8;
const WALL_NANOSECONDS: i32 = 10;
const MONOTONIC: i32 = 11;
const LATCH: i32 = 13;
const LATEST: u64 = 0xffff_ffff_ffff_fffe;
/** Contract Timer's Woken (state Sleeping). */
const WOKEN: u32 = 0;

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
const calls = new Receiver(check("create the call Receiver", home.createReceiver(CALL_QUEUE)));

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
    deadline = value > LATEST - t ? LATEST : t + value;
  }
  // A caller that has gone: its reply is used up all the same (E_PEER_DEAD).
  if (replyAt(replyCap, deadline, WOKEN) < 0) capDrop(replyCap);
}

for (;;) {
  msgBegin(OP_RECEIVER_RECEIVE);
  const from = msgInvoke(calls.cap);
  if (from < 0) fail("receive", from);
  handleCall();
}
