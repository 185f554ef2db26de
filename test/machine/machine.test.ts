import { describe, expect, it } from "vitest";
import type { ConsoleDevice, HostDevices, InterruptSink } from "../../src/machine/devices.ts";
import { MemoryBlockBackend } from "../../src/machine/devices/block-backend.ts";
import { Header } from "../../src/machine/devices/registers.ts";
import { DeviceLine } from "../../src/machine/devices/standard-devices.ts";
import { RtcTimer, TimerMode } from "../../src/machine/devices/rtc-timer.ts";
import { Uart, UartControl } from "../../src/machine/devices/uart.ts";
import { Machine } from "../../src/machine/machine.ts";
import type { MmioDevice } from "../../src/machine/mmio.ts";
import { attach } from "./helpers.ts";

/** A host with every optional piece; its console input is raised when the test types. */
function fullHost(extra: Partial<HostDevices> = {}) {
  let input: InterruptSink | null = null;
  const scheduled = new Set<() => void>();
  const host: HostDevices = {
    clock: { monotonicNs: () => 0, wallNs: () => 0n },
    createTimer: () => ({ arm() {}, disarm() {} }),
    createConsole: (interrupts): ConsoleDevice => {
      input = interrupts;
      return { write: () => true, requestInput() {} };
    },
    entropy: { fill() {} },
    yieldToHost: () => Promise.resolve(),
    schedule: (_delay, callback) => {
      scheduled.add(callback);
      return () => void scheduled.delete(callback);
    },
    disk: new MemoryBlockBackend(4096),
    share: { stat: () => Promise.reject(new Error("none")), openDirectory: async () => ({ read: async () => [], close() {} }), read: async () => new Uint8Array(0) },
    ...extra,
  };
  const type = (text: string) => input!.raise({ line: "console", data: new TextEncoder().encode(text) });
  return { host, type, scheduled };
}

describe("machine", () => {
  it("has the devices the host can back, each on its own line, in boot order", () => {
    const { host } = fullHost();
    const machine = new Machine(host, 1 << 20);
    expect(machine.devices.map((d) => [d.name, d.line])).toEqual([
      ["console", DeviceLine.CONSOLE],
      ["block", DeviceLine.BLOCK],
      ["timer", DeviceLine.TIMER],
      ["share", DeviceLine.SHARE],
      ["power", DeviceLine.POWER],
    ]);
    const bare = new Machine({ ...host, schedule: undefined, disk: undefined, share: undefined }, 1 << 20);
    expect(bare.devices.map((d) => d.name)).toEqual(["console", "power"]);
  });

  it("takes extra devices, and refuses two on one line", () => {
    const { host } = fullHost();
    const fake = (line: number): MmioDevice => ({ name: "fake", line, attachRegisters() {}, write() {}, attachDma() {}, reset() {} });
    expect(new Machine(host, 1 << 20, { extraDevices: [fake(9)] }).devices.at(-1)!.line).toBe(9);
    expect(() => new Machine(host, 1 << 20, { extraDevices: [fake(3)] })).toThrow(/both use line 3/);
    expect(() => new Machine(host, 1 << 20, { extraDevices: [fake(1)] })).toThrow(/start at 2/);
  });

  it("gives console input to the kernel until the UART takes it", () => {
    const { host, type } = fullHost();
    const machine = new Machine(host, 1 << 20);
    type("boot");
    expect(machine.interrupts.drain()).toEqual([{ line: "console", data: new TextEncoder().encode("boot") }]);
    const uart = machine.devices[0]!;
    const registers = attach(uart, null);
    uart.write(Header.IRQ_ENABLE, 1);
    uart.write(Uart.CONTROL, UartControl.RECEIVE);
    type("driver");
    expect(machine.interrupts.drain()).toEqual([{ line: "irq", number: DeviceLine.CONSOLE }]);
    expect(registers[Uart.RX_COUNT]).toBe(6);
  });

  it("stops its devices and gives the console back when powered off", () => {
    const { host, type, scheduled } = fullHost();
    const machine = new Machine(host, 1 << 20);
    const [uart, , timer] = machine.devices;
    attach(uart!, null);
    attach(timer!, null);
    uart!.write(Uart.CONTROL, UartControl.RECEIVE);
    timer!.write(RtcTimer.INTERVAL, 5_000_000);
    timer!.write(RtcTimer.TIMER_CONTROL, TimerMode.PERIODIC);
    expect(scheduled.size).toBe(1);
    machine.powerOff();
    expect(scheduled.size).toBe(0);
    type("after");
    expect(machine.interrupts.drain()).toEqual([{ line: "console", data: new TextEncoder().encode("after") }]);
  });
});
