import { describe, expect, it } from "vitest";
import type { ConsoleDevice } from "../../src/machine/devices.ts";
import { ConsoleInputRouter } from "../../src/machine/devices/console-input.ts";
import { DeviceKind, Header, RegisterError } from "../../src/machine/devices/registers.ts";
import { IRQ_RX, RX_FIFO_BYTES, Uart, UartCommand, UartControl, UartDevice, UartStatus } from "../../src/machine/devices/uart.ts";
import { MemoryDmaWindow, RecordingInterrupts, attach } from "./helpers.ts";

const LINE = 2;
const text = (s: string) => new TextEncoder().encode(s);

/** A host console that records output, counts input requests and lets the test type. */
class FakeConsole implements ConsoleDevice {
  readonly out: Record<1 | 2, string> = { 1: "", 2: "" };
  requests = 0;
  raw: boolean[] = [];
  write(stream: 1 | 2, bytes: Uint8Array): boolean {
    this.out[stream] += new TextDecoder().decode(bytes);
    return true;
  }
  requestInput(): void {
    this.requests++;
  }
  setRawInput(raw: boolean): void {
    this.raw.push(raw);
  }
}

function uartMachine() {
  const interrupts = new RecordingInterrupts();
  const router = new ConsoleInputRouter(interrupts);
  const console = new FakeConsole();
  const device = new UartDevice(LINE, interrupts, console, router);
  const window = new MemoryDmaWindow(8192);
  const registers = attach(device, window);
  /** The host typing: what a host console raises. */
  const type = (data: string | null) => router.raise({ line: "console", data: data === null ? null : text(data) });
  const receive = (max: number, at = 0) => {
    device.write(Uart.DMA_OFFSET, at);
    device.write(Uart.DMA_LENGTH, max);
    device.write(Uart.COMMAND, UartCommand.RECEIVE);
    return new TextDecoder().decode(window.bytes.subarray(at, at + registers[Uart.RESULT]!));
  };
  return { interrupts, router, console, device, window, registers, type, receive };
}

describe("console UART", () => {
  it("writes stored bytes and DMA ranges through to the host console", () => {
    const { device, console, window, registers } = uartMachine();
    expect(registers[Header.KIND]).toBe(DeviceKind.CONSOLE);
    expect(registers[Uart.STATUS]! & UartStatus.TX_READY).toBeTruthy();
    for (const byte of text("hi ")) device.write(Uart.TX_BYTE, byte);
    window.write(100, text("there\n"));
    device.write(Uart.DMA_OFFSET, 100);
    device.write(Uart.DMA_LENGTH, 6);
    device.write(Uart.COMMAND, UartCommand.TRANSMIT);
    expect(registers[Uart.RESULT]).toBe(6);
    device.write(Uart.TX_STREAM, 2);
    device.write(Uart.TX_BYTE, 0x21);
    expect(console.out).toEqual({ 1: "hi there\n", 2: "!" });
  });

  it("refuses commands it cannot carry out, with the reason in ERROR", () => {
    const { device, registers } = uartMachine();
    device.write(Uart.TX_BYTE, 256);
    expect(registers[Header.ERROR]).toBe(RegisterError.BAD_VALUE);
    device.write(Uart.DMA_OFFSET, 8190);
    device.write(Uart.DMA_LENGTH, 4);
    device.write(Uart.COMMAND, UartCommand.TRANSMIT);
    expect(registers[Header.ERROR]).toBe(RegisterError.DMA_RANGE);
    device.write(Uart.COMMAND, 7);
    expect(registers[Header.ERROR]).toBe(RegisterError.BAD_VALUE);
    device.write(Uart.RX_COUNT, 1);
    expect(registers[Header.ERROR]).toBe(RegisterError.READ_ONLY);
    device.write(Header.MAGIC, 1);
    expect(registers[Header.ERROR]).toBe(RegisterError.READ_ONLY);
    device.write(500, 1);
    expect(registers[Header.ERROR]).toBe(RegisterError.NO_REGISTER);
    device.attachDma(null);
    device.write(Uart.COMMAND, UartCommand.TRANSMIT);
    expect(registers[Header.ERROR]).toBe(RegisterError.NO_DMA);
  });

  it("leaves input to the kernel's boot console until a driver sets RECEIVE", () => {
    const { interrupts, device, console, registers, type, receive } = uartMachine();
    type("early");
    expect(interrupts.raised).toEqual([{ line: "console", data: text("early") }]);
    expect(console.requests).toBe(0);
    device.write(Header.IRQ_ENABLE, IRQ_RX);
    device.write(Uart.CONTROL, UartControl.RECEIVE);
    expect(console.requests).toBe(1);
    expect(console.raw).toEqual([true]);
    type("ls\r");
    expect(interrupts.raised.slice(1)).toEqual([{ line: "irq", number: LINE }]);
    expect(registers[Uart.RX_COUNT]).toBe(3);
    expect(registers[Uart.STATUS]! & UartStatus.RX_READY).toBeTruthy();
    expect(receive(2)).toBe("ls");
    expect(receive(10)).toBe("\r");
    expect(registers[Uart.STATUS]! & UartStatus.RX_READY).toBe(0);
    device.write(Uart.CONTROL, 0);
    expect(console.raw).toEqual([true, false]);
    type("late");
    expect(interrupts.raised.at(-1)).toEqual({ line: "console", data: text("late") });
  });

  it("raises its line when input arrives after an acknowledgement, not for every chunk", () => {
    const { interrupts, device, type, receive } = uartMachine();
    device.write(Header.IRQ_ENABLE, IRQ_RX);
    device.write(Uart.CONTROL, UartControl.RECEIVE);
    type("a");
    type("b");
    expect(interrupts.count(LINE)).toBe(1);
    device.write(Header.IRQ_STATUS, IRQ_RX);
    expect(receive(10)).toBe("ab");
    type("c");
    expect(interrupts.count(LINE)).toBe(2);
  });

  it("holds back what does not fit in its FIFO and asks for no more until there is room", () => {
    const { device, console, registers, type, receive } = uartMachine();
    device.write(Uart.CONTROL, UartControl.RECEIVE);
    const big = "x".repeat(RX_FIFO_BYTES - 10) + "0123456789abcdef";
    type(big);
    expect(registers[Uart.RX_COUNT]).toBe(RX_FIFO_BYTES);
    const asked = console.requests;
    expect(receive(RX_FIFO_BYTES - 10).length).toBe(RX_FIFO_BYTES - 10);
    // The held-back bytes moved in; everything fits again, so the UART asks for more.
    expect(registers[Uart.RX_COUNT]).toBe(16);
    expect(console.requests).toBe(asked + 1);
    expect(receive(100)).toBe("0123456789abcdef");
  });

  it("reports end of input, also when the input ended before a driver took it", () => {
    const first = uartMachine();
    first.device.write(Uart.CONTROL, UartControl.RECEIVE);
    first.type("last");
    first.type(null);
    expect(first.registers[Uart.STATUS]! & UartStatus.END_OF_INPUT).toBeTruthy();
    expect(first.receive(10)).toBe("last");

    const late = uartMachine();
    late.type(null);
    late.device.write(Header.IRQ_ENABLE, IRQ_RX);
    late.device.write(Uart.CONTROL, UartControl.RECEIVE);
    expect(late.registers[Uart.STATUS]! & UartStatus.END_OF_INPUT).toBeTruthy();
    expect(late.interrupts.count(LINE)).toBe(1);
    expect(late.console.requests).toBe(0);
  });

  it("keeps the input it holds across a reset, for the restarted driver", () => {
    const { device, registers, type, receive } = uartMachine();
    device.write(Header.IRQ_ENABLE, IRQ_RX);
    device.write(Uart.CONTROL, UartControl.RECEIVE);
    type("typed while the driver restarts");
    device.reset();
    expect(registers[Header.IRQ_ENABLE]).toBe(0);
    expect(registers[Uart.CONTROL]).toBe(UartControl.RECEIVE);
    expect(registers[Uart.TX_STREAM]).toBe(1);
    expect(receive(100)).toBe("typed while the driver restarts");
  });
});
