import { describe, expect, it } from "vitest";
import type { DmaWindow, MmioDevice } from "../../src/machine/mmio.ts";
import { ALL_RIGHTS, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { testMachine } from "../helpers/test-host.ts";
import { invokeOp, wat } from "../helpers/wat.ts";

/** A device that records what drivers store and lets the test act as the hardware. */
class FakeDevice implements MmioDevice {
  readonly name = "fake";
  readonly line = 7;
  registers: Uint32Array | null = null;
  stores: Array<[number, number]> = [];
  window: DmaWindow | null = null;
  windows: Array<number | null> = [];
  resets = 0;
  attachRegisters(words: Uint32Array): void {
    this.registers = words;
    words[0] = 0x4b415746; // what a driver reads back
  }
  write(index: number, value: number): void {
    this.stores.push([index, value]);
    // Like a doorbell: the device answers in its window at once.
    if (index === 1 && this.window) this.window.writeWord(8, value * 2);
  }
  attachDma(window: DmaWindow | null): void {
    this.window = window;
    this.windows.push(window?.size ?? null);
  }
  reset(): void {
    this.resets++;
  }
}

const BUF = 8192;
// A driver: maps the device (slot 2), creates a 2-page Region from its Memory (slot 3), gives it
// to the device, rings the doorbell with 21 and returns what the device wrote back plus register 0.
const driver = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  ${invokeOp(BUF)}
  (func (export "drive") (param $mode i32) (result i32)
    (local $regs i32) (local $region i32) (local $at i32) (local $r i32)
    (local.set $r (call $op (i32.const 2) (i32.const ${Op.DEVICE_MAP}) (i32.const 0) (i32.const 0)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (local.set $regs (i32.load (i32.const ${BUF + 20})))
    (i32.store (i32.const ${BUF + 20}) (i32.const 2))
    (i32.store (i32.const ${BUF + 24}) (i32.const 0))
    (local.set $r (call $op (i32.const 3) (i32.const ${Op.MEMORY_CREATE_REGION}) (i32.const 2) (i32.const 0)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (local.set $region (i32.load (i32.const ${BUF + 20})))
    (local.set $r (call $op (local.get $region) (i32.const ${Op.REGION_INFO}) (i32.const 0) (i32.const 0)))
    (local.set $at (i32.load (i32.const ${BUF + 20})))
    (i32.store (i32.const ${BUF + 20}) (local.get $region))
    (local.set $r (call $op (i32.const 2) (i32.const ${Op.DEVICE_DMA}) (i32.const 0) (i32.const 1)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (if (i32.eq (local.get $mode) (i32.const 1)) (then (i32.store16 offset=4 (local.get $regs) (i32.const 1))))
    (if (i32.eq (local.get $mode) (i32.const 3)) (then (i64.store32 offset=4 (local.get $regs) (i64.const 0x100000016))))
    (if (i32.eq (local.get $mode) (i32.const 2)) (then
      (drop (call $op (local.get $region) (i32.const ${Op.REGION_FREE}) (i32.const 0) (i32.const 0)))))
    (i32.store offset=4 (local.get $regs) (i32.const 21))
    (i32.add (i32.load offset=8 (local.get $at)) (i32.load (local.get $regs)))))`);

async function drive(mode: number) {
  const t = testMachine();
  const device = new FakeDevice();
  const object = t.kernel.deviceObject(device);
  const process = t.kernel.spawn(await t.loader.load(driver, "driver"), {
    entry: "drive",
    entryArgs: [mode],
    caps: [t.kernel.capability(object, ALL_RIGHTS), t.kernel.capability(t.kernel.memoryObject(64), ALL_RIGHTS)],
  });
  await t.kernel.run();
  return { t, device, process, value: process.returnValue };
}

describe("a Device object", () => {
  it("maps registers a driver reads directly, and hands its stores and a DMA window to the device", async () => {
    const { device, value, process } = await drive(0);
    expect(process.outcome).toEqual({ kind: "exited", code: 0 });
    expect(device.stores).toEqual([[1, 21]]);
    expect(value).toBe(42 + 0x4b415746);
    // The driver's Region was its window until the driver ended and its capabilities went.
    expect(device.windows).toEqual([8192, null]);
  });

  it("faults a driver that stores anything but an aligned 32-bit word to registers", async () => {
    const { device, process, t } = await drive(1);
    expect(process.fault?.kind).toBe("read-only");
    expect(t.faults[0]).toMatch(/device registers take aligned 32-bit integer stores only/);
    expect(device.stores).toEqual([]);
  });

  it("takes an i64.store32 as the 32-bit store it is: the low word reaches the device", async () => {
    const { device, process } = await drive(3);
    expect(process.outcome).toEqual({ kind: "exited", code: 0 });
    expect(device.stores).toEqual([[1, 22], [1, 21]]);
  });

  it("takes the DMA window away when the Region is freed, before its frames can be reused", async () => {
    const { device, value } = await drive(2);
    expect(device.window).toBeNull();
    // The doorbell still rang, but the device had no window to answer in.
    expect(device.stores).toEqual([[1, 21]]);
    expect(value).not.toBe(42 + 0x4b415746);
  });

  it("refuses DMA into anything but a Region owner, and mapping without the right", async () => {
    const t = testMachine();
    const object = t.kernel.deviceObject(new FakeDevice());
    const probe = wat(`(module
      (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
      (memory 1)
      (func (export "probe") (param $label i32) (param $c i32) (result i32)
        (i32.store (i32.const ${BUF}) (local.get $label))
        (i32.store (i32.const ${BUF + 8}) (local.get $c))
        (i32.store (i32.const ${BUF + 20}) (i32.const 3))
        (call $invoke (i32.const 2) (i32.const ${BUF}) (i32.const 292))))`);
    const image = await t.loader.load(probe, "probe");
    const limited = t.kernel.capability(object, Rights.DEVICE_DMA);
    const cases: Array<[number, number, number]> = [
      [Op.DEVICE_MAP, 0, Status.E_MISSING_RIGHT],
      [Op.DEVICE_DMA, 1, Status.E_WRONG_TYPE],
      [Op.DEVICE_RESET, 0, Status.E_MISSING_RIGHT],
    ];
    const processes = cases.map(([label, c]) =>
      t.kernel.spawn(image, { entry: "probe", entryArgs: [label | 0, c], caps: [limited.derive(ALL_RIGHTS), t.kernel.capability(t.kernel.rootMemory, ALL_RIGHTS)] }),
    );
    await t.kernel.run();
    processes.forEach((p, i) => expect(p.returnValue, `case ${i}`).toBe(cases[i]![2]));
  });
});
