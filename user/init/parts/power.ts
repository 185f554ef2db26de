// The machine's power controller (docs/DEVICES.md "Power"), which belongs to process 1: the host
// presses its button when it is told to end (SIGTERM, a closed terminal), and init halts the
// system as for a HALT; before init ends it leaves there the status the host exits with (the
// session's exit code). A machine without one (a test's) has no button, and the status stays 0.
import { Cappage, Device, Interrupt, Memory, Receiver, lineBegin, lineAdd, linePrint, errorName, STDOUT, CAP_MOVE, RIGHT_RECEIVER_SEND } from "../../lib";
import { BootInfo } from "./boot-info";

const DEVICE_MAGIC: u32 = 0x6d676f64;
const KIND_POWER: u32 = 5;
const MAGIC: i32 = 0;
const KIND: i32 = 1;
const IRQ_STATUS: i32 = 3;
const IRQ_ENABLE: i32 = 4;
const HALT_STATUS: i32 = 9;
const IRQ_HALT_REQUESTED: u32 = 1;

export class PowerButton {
  /** The Receiver the button's interrupt arrives on (0: the machine has no power controller). */
  receiver: i32 = 0;
  private interrupt: i32 = 0;
  private registers: usize = 0;

  /** Finds the device named "power" in the boot info, maps it and binds its button; says so if it cannot. */
  connect(info: BootInfo, memory: Memory, devices: i32, interrupts: i32): void {
    const device = info.device("power");
    if (device == null) return;
    const index = <u32>device.index;
    const deviceCap = new Cappage(devices).get(index);
    this.interrupt = new Cappage(interrupts).get(index);
    if (deviceCap < 0 || this.interrupt < 0) return this.complain("take the device", deviceCap < 0 ? deviceCap : this.interrupt);
    const mapped = new Device(deviceCap).map();
    if (mapped < 0) return this.complain("map the device", <i32>mapped);
    this.registers = <usize>mapped;
    if (this.get(MAGIC) != DEVICE_MAGIC || this.get(KIND) != KIND_POWER) {
      this.registers = 0;
      return this.complain("find its registers", 0);
    }
    const receiver = memory.createReceiver(1);
    if (receiver < 0) return this.complain("create its Receiver", receiver);
    const send = new Receiver(receiver).mint(0, RIGHT_RECEIVER_SEND);
    const bound = send < 0 ? send : new Interrupt(this.interrupt).bind(<u32>send | CAP_MOVE);
    if (bound < 0) return this.complain("bind its interrupt", bound);
    this.receiver = receiver;
    // A press that came before this (the host was told to end while the machine booted) is
    // pending: enabling raises the line for it now.
    store<u32>(this.registers + (<usize>IRQ_ENABLE << 2), IRQ_HALT_REQUESTED);
  }

  /** The button's interrupt arrived (a message on `receiver`): acknowledge it at the device and the line. */
  acknowledge(): void {
    store<u32>(this.registers + (<usize>IRQ_STATUS << 2), IRQ_HALT_REQUESTED);
    new Interrupt(this.interrupt).ack();
  }

  /** Leaves `status` (its low 8 bits) for the host to exit with when the machine halts. */
  setHaltStatus(status: i32): void {
    if (this.registers != 0) store<u32>(this.registers + (<usize>HALT_STATUS << 2), <u32>status & 0xff);
  }

  private get(index: i32): u32 {
    return load<u32>(this.registers + (<usize>index << 2));
  }

  private complain(what: string, status: i32): void {
    lineBegin("init: the power controller: cannot ");
    lineAdd(what);
    if (status < 0) {
      lineAdd(": ");
      lineAdd(errorName(status));
    }
    lineAdd("; the host's requests to halt will not be heard");
    linePrint(STDOUT, true);
  }
}
