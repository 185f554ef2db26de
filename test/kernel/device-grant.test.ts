/**
 * DEVICE_GRANT: a driver lends its device a Region it holds, for one request. The device reaches
 * that Region's frames and nothing else, writes only into an owner's grant (a view's is read-only),
 * and loses the grant when the driver empties the slot, frees the Region, or stops holding it.
 */
import { describe, expect, it } from "vitest";
import type { DmaWindow, MmioDevice } from "../../src/machine/mmio.ts";
import { ALL_RIGHTS, CAP_MOVE, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { testMachine } from "../helpers/test-host.ts";
import { invokeOp, wat } from "../helpers/wat.ts";

/** A device with 4 grant slots; its doorbell (word 1) writes the value doubled into grant 1 at 4096. */
class GrantDevice implements MmioDevice {
  readonly name = "granted";
  readonly line = 7;
  readonly grantSlots = 4;
  readonly grants: Array<DmaWindow | null> = [null, null, null, null];
  /** Every window a slot was given, in order (the old ones must be dead once replaced). */
  readonly given: DmaWindow[] = [];
  /** What each doorbell found: "wrote", or why it could not. */
  readonly rings: string[] = [];
  attachRegisters(): void {}
  /** The DMA window (DEVICE_DMA); doorbell word 2 writes the value doubled into it at 4096. */
  window: DmaWindow | null = null;
  attachDma(window: DmaWindow | null): void {
    this.window = window;
  }
  reset(): void {}
  attachGrant(slot: number, window: DmaWindow | null): void {
    this.grants[slot] = window;
    if (window) this.given.push(window);
  }
  write(index: number, value: number): void {
    if (index === 2) return void this.rings.push(this.window ? (this.window.writeWord(4096, value * 2), "wrote") : "no window");
    if (index !== 1) return;
    const grant = this.grants[1];
    if (!grant) return void this.rings.push("no grant");
    try {
      grant.writeWord(4096, value * 2);
      this.rings.push("wrote");
    } catch (error) {
      this.rings.push((error as Error).message);
    }
  }
}

const BUF = 8192;
const MODES = { OWNER: 0, VIEW: 1, FREED: 2, BAD_SLOT: 3, UNGRANT: 4, PAST_END: 5, MOVED: 6, WINDOW_MOVED: 7 } as const;
// A driver: maps the device (slot 2), makes a 2-page Region from its Memory (slot 3), grants it
// (or a view of it) as slot 1, rings with 21, and returns the word at 4096 in the Region — or,
// for BAD_SLOT, DEVICE_GRANT's status. MOVED grants the owner, then moves the owner capability out
// of its table (into a Cappage, as into a message to another process), keeping its view;
// WINDOW_MOVED does the same with the Region as the device's DMA window (rung at word 2). What the device did, the test reads from it.
const driver = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  ${invokeOp(BUF)}
  (func $grant (param $slot i32) (param $region i32) (result i32)
    (i32.store (i32.const ${BUF + 20}) (local.get $slot))
    (i32.store (i32.const ${BUF + 24}) (local.get $region))
    (call $op (i32.const 2) (i32.const ${Op.DEVICE_GRANT}) (i32.const 1) (i32.const 1)))
  (func (export "drive") (param $mode i32) (result i32)
    (local $regs i32) (local $region i32) (local $view i32) (local $at i32) (local $r i32) (local $page i32)
    (local.set $r (call $op (i32.const 2) (i32.const ${Op.DEVICE_MAP}) (i32.const 0) (i32.const 0)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (local.set $regs (i32.load (i32.const ${BUF + 20})))
    (i32.store (i32.const ${BUF + 20}) (i32.const 2))
    (i32.store (i32.const ${BUF + 24}) (i32.const 0))
    (local.set $r (call $op (i32.const 3) (i32.const ${Op.MEMORY_CREATE_REGION}) (i32.const 2) (i32.const 0)))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (local.set $region (i32.load (i32.const ${BUF + 20})))
    (drop (call $op (local.get $region) (i32.const ${Op.REGION_INFO}) (i32.const 0) (i32.const 0)))
    (local.set $at (i32.load (i32.const ${BUF + 20})))
    (drop (call $op (local.get $region) (i32.const ${Op.REGION_VIEW}) (i32.const 0) (i32.const 0)))
    (local.set $view (i32.load (i32.const ${BUF + 20})))
    (if (i32.eq (local.get $mode) (i32.const ${MODES.BAD_SLOT})) (then (return (call $grant (i32.const 4) (local.get $region)))))
    (if (i32.eq (local.get $mode) (i32.const ${MODES.WINDOW_MOVED}))
      (then
        (i32.store (i32.const ${BUF + 20}) (local.get $region))
        (local.set $r (call $op (i32.const 2) (i32.const ${Op.DEVICE_DMA}) (i32.const 0) (i32.const 1))))
      (else
        (local.set $r (call $grant (i32.const 1)
          (select (local.get $view) (local.get $region) (i32.eq (local.get $mode) (i32.const ${MODES.VIEW})))))))
    (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))
    (if (i32.eq (local.get $mode) (i32.const ${MODES.FREED})) (then
      (drop (call $op (local.get $region) (i32.const ${Op.REGION_FREE}) (i32.const 0) (i32.const 0)))))
    (if (i32.or (i32.eq (local.get $mode) (i32.const ${MODES.MOVED})) (i32.eq (local.get $mode) (i32.const ${MODES.WINDOW_MOVED}))) (then
      (drop (call $op (i32.const 3) (i32.const ${Op.MEMORY_CREATE_CAPPAGE}) (i32.const 0) (i32.const 0)))
      (local.set $page (i32.load (i32.const ${BUF + 20})))
      (i32.store (i32.const ${BUF + 20}) (i32.const 0))
      (i32.store (i32.const ${BUF + 24}) (i32.or (local.get $region) (i32.const ${CAP_MOVE})))
      (local.set $r (call $op (local.get $page) (i32.const ${Op.CAPPAGE_PUT}) (i32.const 1) (i32.const 1)))
      (if (i32.lt_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))))
    (if (i32.eq (local.get $mode) (i32.const ${MODES.UNGRANT})) (then
      (i32.store (i32.const ${BUF + 20}) (i32.const 1))
      (drop (call $op (i32.const 2) (i32.const ${Op.DEVICE_GRANT}) (i32.const 1) (i32.const 0)))))
    (if (i32.eq (local.get $mode) (i32.const ${MODES.WINDOW_MOVED}))
      (then (i32.store offset=8 (local.get $regs) (i32.const 21)))
      (else (i32.store offset=4 (local.get $regs) (i32.const 21))))
    (i32.load offset=4096 (local.get $at))))`);

async function drive(mode: number, deviceRights: number = ALL_RIGHTS) {
  const t = testMachine();
  const device = new GrantDevice();
  const object = t.kernel.deviceObject(device);
  const process = t.kernel.spawn(await t.loader.load(driver, "driver"), {
    entry: "drive",
    entryArgs: [mode],
    caps: [t.kernel.capability(object, deviceRights), t.kernel.capability(t.kernel.memoryObject(64), ALL_RIGHTS)],
  });
  await t.kernel.run();
  expect(process.outcome).toEqual({ kind: "exited", code: 0 });
  return { device, value: process.returnValue };
}

/** Whether a window the device was given is dead: any access throws. */
const dead = (window: DmaWindow) => {
  try {
    window.readWord(0);
    return false;
  } catch {
    return true;
  }
};

describe("DEVICE_GRANT", () => {
  it("lends the device an owner's Region to write into, and ends the loan when the driver no longer holds it", async () => {
    const { device, value } = await drive(MODES.OWNER);
    expect(device.rings).toEqual(["wrote"]);
    expect(value).toBe(42); // the device wrote into the driver's own pages
    expect(device.given[0]!.size).toBe(8192);
    // Past the Region's end the device reaches nothing.
    expect(() => device.given[0]!.writeWord(8192, 1)).toThrow(RangeError);
    // The driver ended: its capabilities went, and the grant with them.
    expect(device.grants[1]).toBeNull();
    expect(dead(device.given[0]!)).toBe(true);
  });

  it("lends a view read-only: the device cannot write into it", async () => {
    const { device, value } = await drive(MODES.VIEW);
    expect(device.given[0]!.readOnly).toBe(true);
    expect(device.rings[0]).toMatch(/read-only/);
    expect(value).toBe(0);
  });

  it("ends the grant when the Region is freed, though a view of it is still held", async () => {
    const { device } = await drive(MODES.FREED);
    expect(device.rings).toEqual(["no grant"]);
    expect(dead(device.given[0]!)).toBe(true);
  });

  it("ends an owner's grant when the owner capability leaves the driver, though it keeps a view", async () => {
    // Else the device went on writing into a Region another process owns now: whoever receives an
    // owner must be written by nothing it did not grant itself.
    const { device, value } = await drive(MODES.MOVED);
    expect(device.rings).toEqual(["no grant"]);
    expect(value).toBe(0); // read through the view the driver kept: the device wrote nothing
    expect(dead(device.given[0]!)).toBe(true);
  });

  it("takes the DMA window away when its owner capability leaves the driver, though it keeps a view", async () => {
    const { device, value } = await drive(MODES.WINDOW_MOVED);
    expect(device.rings).toEqual(["no window"]);
    expect(value).toBe(0);
  });

  it("ends the grant when the driver empties its slot", async () => {
    const { device, value } = await drive(MODES.UNGRANT);
    expect(device.rings).toEqual(["no grant"]);
    expect(value).toBe(0);
    expect(dead(device.given[0]!)).toBe(true);
  });

  it("refuses a slot past the device's last, and a driver without the DMA right", async () => {
    expect((await drive(MODES.BAD_SLOT)).value).toBe(Status.E_INVALID_ARGUMENT);
    const { device, value } = await drive(MODES.OWNER, Rights.DEVICE_MAP);
    expect(value).toBe(Status.E_MISSING_RIGHT);
    expect(device.given).toEqual([]);
  });
});
