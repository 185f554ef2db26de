import type { Clock, ConsoleDevice, EntropySource, HostDevices, Timer } from "./devices.ts";
import { ConsoleInputRouter } from "./devices/console-input.ts";
import { checkDeviceLines, standardDevices } from "./devices/standard-devices.ts";
import type { PanelDevice } from "./devices/panel.ts";
import type { PowerDevice } from "./devices/power.ts";
import type { UartDevice } from "./devices/uart.ts";
import { InterruptController } from "./interrupts.ts";
import type { MmioDevice } from "./mmio.ts";
import { PhysicalMemory } from "./physical-memory.ts";

export const DEFAULT_MEMORY_SIZE = 128 << 20;

export interface MachineOptions {
  /** Devices beyond the standard ones (each on its own line, 7 and up; 2 to 6 are the standard devices'). */
  readonly extraDevices?: readonly MmioDevice[];
  /** The memory made so that the engine does not count it (PhysicalMemory): for the only machine a host process makes. */
  readonly unaccountedMemory?: boolean;
}

/**
 * RAM, a clock, a timer, a console, an interrupt controller and the memory-mapped devices
 * (docs/DEVICES.md): what the kernel runs on. The console's input goes to the kernel's boot
 * console until a driver takes it through the UART.
 */
export class Machine {
  readonly memory: PhysicalMemory;
  readonly interrupts = new InterruptController();
  readonly clock: Clock;
  readonly timer: Timer;
  readonly console: ConsoleDevice;
  readonly entropy: EntropySource;
  readonly yieldToHost: () => Promise<void>;
  /** The MMIO devices, in the order process 1 gets them: console, block, timer, share, power, panel, extras. */
  readonly devices: readonly MmioDevice[];
  /** The power controller: the host presses its button, process 1 leaves its halt status there. */
  readonly power: PowerDevice;
  /** The front panel, when the host asked for one (HostDevices.panel). */
  readonly panel: PanelDevice | null;
  private readonly uart: UartDevice;

  constructor(host: HostDevices, memorySize = DEFAULT_MEMORY_SIZE, options: MachineOptions = {}) {
    this.memory = new PhysicalMemory(memorySize, { unaccounted: options.unaccountedMemory === true });
    this.clock = host.clock;
    this.timer = host.createTimer(this.interrupts);
    const input = new ConsoleInputRouter(this.interrupts);
    this.console = host.createConsole(input);
    this.entropy = host.entropy;
    this.yieldToHost = () => host.yieldToHost();
    const standard = standardDevices(host, this.interrupts, this.clock, this.console, input);
    this.uart = standard.uart;
    this.power = standard.power;
    this.panel = standard.panel;
    this.devices = [...standard.all, ...(options.extraDevices ?? [])];
    checkDeviceLines(this.devices);
  }

  /**
   * Stops the devices (timers cancelled, requests in flight dropped) and gives the console's input
   * back, so a machine that is being replaced neither keeps the host busy nor takes its input.
   * Returns the halt status process 1 left in the power controller (0 when it left none).
   */
  powerOff(): number {
    const status = this.power.haltStatus;
    this.timer.disarm();
    for (const device of this.devices) device.reset();
    this.uart.release();
    this.console.close?.();
    return status;
  }
}
