import type { InterruptSink } from "../devices.ts";
import { RegisterDevice } from "./device-base.ts";
import { DeviceKind, RegisterError } from "./registers.ts";

export const Power = {
  /** Read: what the host asks of the machine, a PowerRequest (0 until it asks). */
  REQUEST: 8,
  /** Read/store: the status (0 to 255) the host ends with when process 1 halts the machine; 0 at power-on. */
  HALT_STATUS: 9,
} as const;

export const PowerRequest = { NONE: 0, HALT: 1 } as const;
/** The interrupt cause: the host asks for a clean halt (its power button was pressed). */
export const IRQ_HALT_REQUESTED = 1;

/**
 * The machine's power controller, as ACPI's power button and QEMU's exit device are to a PC: the
 * host presses the button when it is told to end (SIGTERM, a closed terminal) and process 1 halts
 * the system cleanly; process 1 leaves the status the host exits with (a session's `exit 3`) in
 * HALT_STATUS before it ends. A request pressed before anyone enabled the interrupt stays pending,
 * and enabling it raises the line then.
 */
export class PowerDevice extends RegisterDevice {
  readonly name = "power";

  constructor(line: number, interrupts: InterruptSink) {
    super(DeviceKind.POWER, line, interrupts);
    this.powerOn();
  }

  /** The host asks for a clean halt. Pressing again while a request is pending changes nothing. */
  requestHalt(): void {
    this.registers.set(Power.REQUEST, PowerRequest.HALT);
    this.signal(IRQ_HALT_REQUESTED);
  }

  /** The status process 1 left for the host (0 when it left none). */
  get haltStatus(): number {
    return this.registers.get(Power.HALT_STATUS);
  }

  protected store(index: number, value: number): number {
    if (index === Power.HALT_STATUS) {
      if (value > 0xff) return RegisterError.BAD_VALUE;
      this.registers.set(index, value);
      return RegisterError.NONE;
    }
    return index === Power.REQUEST ? RegisterError.READ_ONLY : RegisterError.NO_REGISTER;
  }

  protected powerOn(): void {}
}
