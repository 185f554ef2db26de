import { describe, expect, it } from "vitest";
import { IRQ_HALT_REQUESTED, Power, PowerDevice, PowerRequest } from "../../src/machine/devices/power.ts";
import { DEVICE_MAGIC, DeviceKind, Header, RegisterError } from "../../src/machine/devices/registers.ts";
import { RecordingInterrupts, attach } from "./helpers.ts";

const LINE = 6;

function powerMachine() {
  const interrupts = new RecordingInterrupts();
  const device = new PowerDevice(LINE, interrupts);
  const registers = attach(device, null);
  return { interrupts, device, registers };
}

describe("power controller", () => {
  it("raises its line when the host presses the button, once until acknowledged", () => {
    const { interrupts, device, registers } = powerMachine();
    expect([registers[Header.MAGIC], registers[Header.KIND], registers[Power.REQUEST]]).toEqual([DEVICE_MAGIC, DeviceKind.POWER, PowerRequest.NONE]);
    device.write(Header.IRQ_ENABLE, IRQ_HALT_REQUESTED);
    device.requestHalt();
    expect(registers[Power.REQUEST]).toBe(PowerRequest.HALT);
    expect(registers[Header.IRQ_STATUS]).toBe(IRQ_HALT_REQUESTED);
    device.requestHalt();
    expect(interrupts.count(LINE)).toBe(1);
    device.write(Header.IRQ_STATUS, IRQ_HALT_REQUESTED);
    device.requestHalt();
    expect(interrupts.count(LINE)).toBe(2);
  });

  it("keeps a press from before its interrupt was enabled, and raises the line when it is", () => {
    const { interrupts, device } = powerMachine();
    device.requestHalt();
    expect(interrupts.count(LINE)).toBe(0);
    device.write(Header.IRQ_ENABLE, IRQ_HALT_REQUESTED);
    expect(interrupts.count(LINE)).toBe(1);
  });

  it("holds the status process 1 leaves for the host, 0 to 255", () => {
    const { device, registers } = powerMachine();
    expect(device.haltStatus).toBe(0);
    device.write(Power.HALT_STATUS, 3);
    expect([device.haltStatus, registers[Header.ERROR]]).toEqual([3, RegisterError.NONE]);
    device.write(Power.HALT_STATUS, 256);
    expect([device.haltStatus, registers[Header.ERROR]]).toEqual([3, RegisterError.BAD_VALUE]);
    device.write(Power.REQUEST, 1);
    expect(registers[Header.ERROR]).toBe(RegisterError.READ_ONLY);
    device.reset();
    expect(device.haltStatus).toBe(0);
  });
});
