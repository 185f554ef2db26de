// The front panel's driver (docs/DRIVERS.md "Front panel driver"): the panel device (docs/DEVICES.md
// "Front panel") shows commands a person gave the machine's host — kill, suspend or resume a
// process — and this driver carries each out by asking process 1 through its control capability,
// which answers only for lines granted `supervise`: so a command can do exactly what process 1
// lets this line do, to the services process 1 started, and nothing else. Config:
//   driver panel panel device=panel interrupt=panel memory=64 control supervise
// Slots: 2 the registry, 3 the device, 4 its interrupt line, 5 a Memory (its Receiver), 6 init's
// control capability. Nothing here allocates after the start.
import {
  exit, lineBegin, linePrint, msgBegin, msgAddWord, msgInvoke, msgLabel, Device, Interrupt, Memory, Receiver,
  CAP_MOVE, MSG_INTERRUPT, OP_RECEIVER_RECEIVE, RIGHT_RECEIVER_SEND, E_INVALID_ARGUMENT, STDERR,
} from "../lib";
import { Registers, KIND_PANEL, IRQ_ENABLE, IRQ_STATUS } from "./common/device-registers";
import { CONTROL_KILL } from "../lib/init-control";
import { Failure } from "./common/failure";

const DEVICE: i32 = 3;
const INTERRUPT: i32 = 4;
const MEMORY: i32 = 5;
const CONTROL: i32 = 6;

// The panel's registers.
const COMMAND: i32 = 8;
const TARGET: i32 = 9;
const ANSWER: i32 = 11;
const COMMAND_KILL: u32 = 1;
const COMMAND_RESUME: u32 = 3;
const IRQ_COMMAND: u32 = 1;


const failure = new Failure("panel");
const fail = (what: string, status: i32): void => failure.fail(what, status);
const check = (what: string, status: i32): i32 => failure.check(what, status);

const home = new Memory(MEMORY);
const device = new Device(DEVICE);
check("reset the device", device.reset());
const mapped = device.map();
if (mapped < 0) fail("map the device", <i32>mapped);
const registers = new Registers(<usize>mapped);
if (!registers.isKind(KIND_PANEL)) {
  lineBegin("panel: slot 3 is not the front panel");
  linePrint(STDERR);
  exit(1);
}
const interrupts = new Receiver(check("create the interrupt Receiver", home.createReceiver(1)));
const interrupt = new Interrupt(INTERRUPT);
check("bind the interrupt", interrupt.bind(<u32>check("mint", interrupts.mint(0, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
registers.set(IRQ_ENABLE, IRQ_COMMAND);
// Commands the host gave before this (the reset above refused them) may be given again from now on.
lineBegin("panel: taking commands");
linePrint();

/** Carries out the command shown: init's answer (0 or a status), or E_INVALID_ARGUMENT for a command init has no label for. */
function carryOut(command: u32, pid: u32): i32 {
  if (command < COMMAND_KILL || command > COMMAND_RESUME) return E_INVALID_ARGUMENT;
  msgBegin(CONTROL_KILL + command - COMMAND_KILL);
  msgAddWord(pid);
  const status = msgInvoke(CONTROL);
  if (status < 0) return status;
  return -<i32>msgLabel();
}

for (;;) {
  msgBegin(OP_RECEIVER_RECEIVE);
  const from = msgInvoke(interrupts.cap);
  if (from < 0) fail("receive", from);
  if (msgLabel() != MSG_INTERRUPT) continue;
  registers.set(IRQ_STATUS, IRQ_COMMAND);
  for (let command = registers.get(COMMAND); command != 0; command = registers.get(COMMAND)) {
    registers.set(ANSWER, <u32>carryOut(command, registers.get(TARGET)));
  }
  interrupt.ack();
}
