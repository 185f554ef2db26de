import type { Clock, ConsoleDevice, EntropySource, HostDevices, Timer } from "./devices.ts";
import { InterruptController } from "./interrupts.ts";
import { PhysicalMemory } from "./physical-memory.ts";

export const DEFAULT_MEMORY_SIZE = 128 << 20;

/** RAM, a clock, a timer, a console and an interrupt controller: what the kernel runs on. */
export class Machine {
  readonly memory: PhysicalMemory;
  readonly interrupts = new InterruptController();
  readonly clock: Clock;
  readonly timer: Timer;
  readonly console: ConsoleDevice;
  readonly entropy: EntropySource;
  readonly yieldToHost: () => Promise<void>;

  constructor(host: HostDevices, memorySize = DEFAULT_MEMORY_SIZE) {
    this.memory = new PhysicalMemory(memorySize);
    this.clock = host.clock;
    this.timer = host.createTimer(this.interrupts);
    this.console = host.createConsole(this.interrupts);
    this.entropy = host.entropy;
    this.yieldToHost = () => host.yieldToHost();
  }
}
