import type { Clock, ConsoleDevice, HostDevices, InterruptSink } from "../devices.ts";
import type { MmioDevice } from "../mmio.ts";
import { BlockDevice } from "./block.ts";
import type { ConsoleInputRouter } from "./console-input.ts";
import { HostShareDevice } from "./host-share.ts";
import { PowerDevice } from "./power.ts";
import { RtcTimerDevice } from "./rtc-timer.ts";
import { UartDevice } from "./uart.ts";

/** Each kind of device has its own line, whether or not the host has the others (docs/DEVICES.md). */
export const DeviceLine = { CONSOLE: 2, BLOCK: 3, TIMER: 4, SHARE: 5, POWER: 6 } as const;

export interface StandardDevices {
  readonly uart: UartDevice;
  readonly power: PowerDevice;
  /** In boot order: console, block, timer, share — those the host has — then power. */
  readonly all: readonly MmioDevice[];
}

/** The machine's devices over what the host supplies: a UART and the power controller always, the others when the host has their backend. */
export function standardDevices(host: HostDevices, interrupts: InterruptSink, clock: Clock, console: ConsoleDevice, input: ConsoleInputRouter): StandardDevices {
  const uart = new UartDevice(DeviceLine.CONSOLE, interrupts, console, input);
  const all: MmioDevice[] = [uart];
  if (host.disk) all.push(new BlockDevice(DeviceLine.BLOCK, interrupts, host.disk));
  if (host.schedule) all.push(new RtcTimerDevice(DeviceLine.TIMER, interrupts, clock, host.schedule));
  if (host.share) all.push(new HostShareDevice(DeviceLine.SHARE, interrupts, host.share));
  const power = new PowerDevice(DeviceLine.POWER, interrupts);
  all.push(power);
  return { uart, power, all };
}

/** Throws when two devices share a line or one uses the timer's or the console's (0, 1). */
export function checkDeviceLines(devices: readonly MmioDevice[]): void {
  const seen = new Map<number, string>();
  for (const device of devices) {
    if (!Number.isInteger(device.line) || device.line < 2) throw new RangeError(`device ${device.name} has line ${device.line}; device lines start at 2`);
    const other = seen.get(device.line);
    if (other !== undefined) throw new RangeError(`devices ${other} and ${device.name} both use line ${device.line}`);
    seen.set(device.line, device.name);
  }
}
