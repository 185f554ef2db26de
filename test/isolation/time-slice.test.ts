/**
 * Issue 16, finding 3: the slice must be enforced by time however much work one instruction does.
 * A loop doing one large `memory.fill` per iteration passed a safe point per fill, and the kernel
 * looked at the clock only every 10,000 safe points: a process of the same priority sleeping 10 ms
 * at a time did not run for seconds. Bulk operations now spend fuel for their bytes (fuel.ts).
 *
 * No wall-clock assertion: the filler counts its fills, and the bound is on fills per sleep, which
 * a slower machine only lowers.
 */
import { describe, expect, it } from "vitest";
import { BULK_BYTES_PER_FUEL } from "../../src/kernel/fuel.ts";
import { CODE_BYTES_PER_FUEL, FUEL_PER_CHECK } from "../../src/kernel/constants.ts";
import { Op, PageRights, SLOT_SELF } from "../../src/kernel/caps/object-abi.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const FILL_BYTES = 8 << 20;
const COUNTER = 0x1000;

const filler = wat(`(module
  (memory 160)
  (func (export "_start")
    (loop $again
      (memory.fill (i32.const 0x10000) (i32.load (i32.const ${COUNTER})) (i32.const ${FILL_BYTES}))
      (i32.store (i32.const ${COUNTER}) (i32.add (i32.load (i32.const ${COUNTER})) (i32.const 1)))
      (br $again))))`);

const SLEEPS = 5;
const sleeper = wat(`(module
  (import "dogma" "sleep" (func $sleep (param i64)))
  (memory 1)
  (func (export "_start") (local $i i32)
    (loop $again
      (call $sleep (i64.const 10000000))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${SLEEPS}))))))`);

/** Protects 20,000 pages read-write again and again (a kernel call whose work is its page count). */
const protector = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 2048)
  (func (export "_start")
    (loop $again
      (i32.store (i32.const 0x8000) (i32.const ${Op.PROCESS_PROTECT}))
      (i32.store (i32.const 0x8004) (i32.const 3))
      (i32.store (i32.const 0x8008) (i32.const 0))
      (i32.store (i32.const 0x800c) (i32.const 0))
      (i32.store (i32.const 0x8010) (i32.const 0))
      (i32.store (i32.const 0x8014) (i32.const 0x10000))
      (i32.store (i32.const 0x8018) (i32.const 20000))
      (i32.store (i32.const 0x801c) (i32.const ${PageRights.READ}))
      (if (i32.ne (call $invoke (i32.const ${SLOT_SELF}) (i32.const 0x8000) (i32.const 64)) (i32.const 0)) (then (unreachable)))
      (i32.store (i32.const ${COUNTER}) (i32.add (i32.load (i32.const ${COUNTER})) (i32.const 1)))
      (br $again))))`);

/**
 * A leaf function of 40,000 straight-line steps (no loop, no call; rotate and xor, which no
 * compiler folds into fewer), called in a loop.
 */
const STEPS = 40_000;
const longLeaf = wat(`(module
  (memory 1)
  (func $leaf (param $x i32) (result i32)
    ${Array.from({ length: STEPS }, (_, i) => `(local.set $x (i32.xor (i32.rotl (local.get $x) (i32.const 5)) (i32.const ${i})))`).join("\n")}
    (local.get $x))
  (func (export "leaf") (result i32) (call $leaf (i32.const 0)))
  (func (export "_start")
    (loop $again
      (drop (call $leaf (i32.const 1)))
      (i32.store (i32.const ${COUNTER}) (i32.add (i32.load (i32.const ${COUNTER})) (i32.const 1)))
      (br $again))))`);

describe("the time slice holds against heavy instructions", () => {
  it("a sleeper runs while a process of its priority calls a long straight-line function in a loop", async () => {
    const t = testMachine();
    const p = t.kernel.spawn(await t.loader.load(longLeaf, "long-leaf"));
    const s = t.kernel.spawn(await t.loader.load(sleeper, "sleeper"));
    const running = t.kernel.run();
    await s.wait();
    const calls = new DataView(p.space.read(COUNTER, 4).buffer).getUint32(0, true);
    t.kernel.kill(p.pid);
    await running;
    expect(s.outcome).toEqual({ kind: "exited", code: 0 });
    // Each call now spends thousands of units, so the kernel looks at the clock every few calls;
    // charged one unit a call, it looked every 10,000 calls, and each sleep waited for that many.
    // 40,000 dependent steps take well over 5 us anywhere: fewer than 5,000 calls fit in a sleep.
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(SLEEPS * 5000);
  });

  // Each program ends waiting for ever on a futex nobody wakes, so that its fuel can be read
  // while it is alive (an ended process's fuel is set to -1, whatever it spent).
  const waitForever = `(call $wait (i32.const ${COUNTER}) (i32.const 0) (i64.const -1)) drop`;
  async function fuelLeft(program: Uint8Array): Promise<number> {
    const t = testMachine();
    const p = t.kernel.spawn(await t.loader.load(program, "bulk"), { entry: "_start" });
    await t.kernel.run();
    expect(t.kernel.stuck()).toEqual([p]);
    const fuel = p.fuel!.value as number;
    t.kernel.kill(p.pid);
    return fuel;
  }

  it("a bulk operation spends fuel for its bytes, so the next safe point looks at the clock", async () => {
    const once = wat(`(module
      (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
      (memory 20)
      (func (export "_start")
        (memory.fill (i32.const 0x10000) (i32.const 7) (i32.const ${1 << 20}))
        ${waitForever}))`);
    // 1 MiB at BULK_BYTES_PER_FUEL bytes a unit is more than a whole check's fuel: spent to -1.
    expect((1 << 20) / BULK_BYTES_PER_FUEL).toBeGreaterThan(FUEL_PER_CHECK);
    expect(await fuelLeft(once)).toBe(-1);
    // Without the fill, the same program spends a few units (its entry's safe point).
    const none = wat(`(module
      (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
      (memory 20)
      (func (export "_start") ${waitForever}))`);
    expect(await fuelLeft(none)).toBeGreaterThan(FUEL_PER_CHECK - 10);
  });

  it("a long function spends fuel for its size at its entry, loop or no loop", async () => {
    // Read while the program waits: an ended process's fuel is -1 whatever it spent, so a test
    // that read it after the end could not fail.
    const leafOnce = wat(`(module
      (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
      (memory 1)
      (func $leaf (param $x i32) (result i32)
        ${Array.from({ length: STEPS }, (_, i) => `(local.set $x (i32.xor (i32.rotl (local.get $x) (i32.const 5)) (i32.const ${i})))`).join("\n")}
        (local.get $x))
      (func (export "_start")
        (drop (call $leaf (i32.const 0)))
        ${waitForever}))`);
    // The body is at least 8 bytes a step: its entry spends a unit per CODE_BYTES_PER_FUEL bytes,
    // less than one check's fuel, so no safe point refilled it meanwhile.
    expect((8 * STEPS) / CODE_BYTES_PER_FUEL).toBeLessThan(FUEL_PER_CHECK);
    const spent = FUEL_PER_CHECK - (await fuelLeft(leafOnce));
    expect(spent).toBeGreaterThan((8 * STEPS) / CODE_BYTES_PER_FUEL);
  });

  it("a bulk operation the module does itself (its pages in the TLB) spends fuel for its bytes too", async () => {
    // The first fill touches the pages (the kernel's work, charged there); a short loop's safe
    // point then refills the fuel; the second fill finds every page in the TLB and runs in the
    // module (bulk-helpers.ts), which must charge the same; then a copy between those pages.
    for (const second of [`(memory.fill (i32.const 0x10000) (i32.const 9) (i32.const ${1 << 20}))`, `(memory.copy (i32.const 0x10100) (i32.const 0x10000) (i32.const ${1 << 20}))`]) {
      const twice = wat(`(module
        (import "dogma" "futex_wait" (func $wait (param i32 i32 i64) (result i32)))
        (memory 20)
        (func (export "_start") (local $i i32)
          (memory.fill (i32.const 0x10000) (i32.const 7) (i32.const ${(1 << 20) + 256}))
          (loop $spin (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $spin (i32.lt_u (local.get $i) (i32.const 3))))
          ${second}
          ${waitForever}))`);
      expect(await fuelLeft(twice), second).toBe(-1);
    }
  });

  it("a sleeper runs while a process of its priority fills 8 MiB per loop iteration", async () => {
    const t = testMachine({ memory: 48 << 20 });
    const f = t.kernel.spawn(await t.loader.load(filler, "filler"));
    const s = t.kernel.spawn(await t.loader.load(sleeper, "sleeper"));
    const running = t.kernel.run();
    await s.wait();
    const fills = new DataView(f.space.read(COUNTER, 4).buffer).getUint32(0, true);
    t.kernel.kill(f.pid);
    await running;
    expect(s.outcome).toEqual({ kind: "exited", code: 0 });
    // Each sleep waits at most about two of the filler's slices (20 ms); a fill of 8 MiB takes
    // well over 0.2 ms on any machine, so fewer than 100 fills fit in a sleep. Without the
    // charge the kernel looked at the clock once per 10,000 fills.
    expect(fills).toBeLessThan(SLEEPS * 100);
  });

  it("a sleeper runs while a process of its priority protects 20,000 pages per kernel call in a loop", async () => {
    const t = testMachine({ memory: 48 << 20 });
    const p = t.kernel.spawn(await t.loader.load(protector, "protector"));
    const s = t.kernel.spawn(await t.loader.load(sleeper, "sleeper"));
    const running = t.kernel.run();
    await s.wait();
    const calls = new DataView(p.space.read(COUNTER, 4).buffer).getUint32(0, true);
    t.kernel.kill(p.pid);
    await running;
    expect(p.fault).toBe(null);
    expect(s.outcome).toEqual({ kind: "exited", code: 0 });
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(SLEEPS * 200);
  });
});
