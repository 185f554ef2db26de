/**
 * Chains of kernel objects a program can make as long as its quota allows, and what their ends
 * cost the kernel (redteam13): a list of Cappages each holding the only capability to the next,
 * Memories each owning a Cappage that holds the next, Memories nested in one another; and what
 * the kernel keeps for a program that no quota pays for: Memories asked for where none can be paid
 * for, monitors.
 */
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { Cappage, CAPPAGE_PAGES } from "../../src/kernel/caps/cappage.ts";
import { MAX_MEMORY_DEPTH, MEMORY_OBJECT_PAGES, MemoryObject } from "../../src/kernel/caps/memory-object.ts";
import { ALL_RIGHTS, Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { MAX_MONITORS } from "../../src/kernel/caps/process-control.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { testMachine } from "../helpers/test-host.ts";
import { invokeOp, receiverWithSend, wat } from "../helpers/wat.ts";

const BUF = 4096;
// `go(n, nest)`: asks its Memory (slot 2) for a child n times (nest 0: each of slot 2; nest 1:
// each of the one before, so they nest); the children made.
const asker = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  ${invokeOp(BUF)}
  (func (export "go") (param $n i32) (param $nest i32) (result i32)
    (local $i i32) (local $made i32) (local $from i32)
    (local.set $from (i32.const 2))
    (block $out (loop $again
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.const ${BUF + 20}) (i32.const 100000))
      (if (i32.ge_s (call $op (local.get $from) (i32.const ${Op.MEMORY_CREATE_MEMORY}) (i32.const 1) (i32.const 0)) (i32.const 0)) (then
        (local.set $made (i32.add (local.get $made) (i32.const 1)))
        (if (local.get $nest) (then (local.set $from (i32.load (i32.const ${BUF + 20})))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $again)))
    (local.get $made)))`);

async function ask(quota: number, n: number, nest: boolean) {
  const t = testMachine();
  const memory = t.kernel.memoryObject(quota);
  const process = t.kernel.spawn(await t.loader.load(asker, "asker"), { entry: "go", entryArgs: [n, nest ? 1 : 0], caps: [t.kernel.capability(memory, ALL_RIGHTS)] });
  await t.kernel.run();
  expect(process.outcome).toEqual({ kind: "exited", code: 0 });
  return { t, memory, made: process.returnValue };
}

// `go(n)`: mints a send capability of a Receiver of its own and monitors itself with it n times;
// how many times that was accepted.
const monitor = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (memory 1)
  ${invokeOp(BUF)}
  (func (export "go") (param $n i32) (result i32)
    (local $i i32) (local $ok i32) (local $receiver i32) (local $send i32)
    ${receiverWithSend(BUF)}
    (block $out (loop $again
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.const ${BUF + 20}) (local.get $send))
      (if (i32.ge_s (call $op (i32.const 1) (i32.const ${Op.PROCESS_MONITOR}) (i32.const 0) (i32.const 1)) (i32.const 0)) (then
        (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $again)))
    (local.get $ok)))`);

describe("chains of kernel objects", () => {
  it("destroys a list of 30,000 Cappages, each holding the only capability to the next, without overflowing the host's stack", () => {
    // A root Memory of its own: a machine's quota would need 30,000 frames.
    const memory = new MemoryObject(null, 40_000);
    const pages: Cappage[] = [];
    for (let i = 0; i < 30_000; i++) {
      const page = new Cappage();
      expect(memory.adopt(page, CAPPAGE_PAGES)).toBe(true);
      pages.push(page);
    }
    for (let i = 0; i + 1 < pages.length; i++) pages[i]!.put(0, new Capability(pages[i + 1]!, ALL_RIGHTS));
    // The last capability to the first goes: every Cappage after it goes with it.
    new Capability(pages[0]!, ALL_RIGHTS).dispose();
    expect(pages.every((page) => page.destroyed)).toBe(true);
    expect(memory.used).toBe(0);
  });

  it("destroys 15,000 Memories, each owning a Cappage that holds the only capability to the next, and gives every page back", () => {
    const memory = new MemoryObject(null, 40_000);
    const chain: MemoryObject[] = [];
    const pages: Cappage[] = [];
    for (let i = 0; i < 15_000; i++) {
      const child = new MemoryObject(memory, 10);
      expect(memory.adopt(child, MEMORY_OBJECT_PAGES)).toBe(true);
      const page = new Cappage();
      expect(child.adopt(page, CAPPAGE_PAGES)).toBe(true);
      chain.push(child);
      pages.push(page);
    }
    for (let i = 0; i + 1 < chain.length; i++) pages[i]!.put(0, new Capability(chain[i + 1]!, ALL_RIGHTS));
    new Capability(chain[0]!, ALL_RIGHTS).dispose();
    expect(chain.every((m) => m.destroyed) && pages.every((p) => p.destroyed)).toBe(true);
    expect(memory.used).toBe(0);
    expect(memory.memoryFrom(memory.id + 1)).toBe(null); // none left in the tree's table
  });

  it("keeps no Memory it refused for want of quota", async () => {
    // Each refused child stayed in its tree's table (KERNEL_MEMORY's), charged to nobody: a
    // million of them took 329 MB of the host's memory.
    const { t, memory, made } = await ask(0, 20_000, false);
    expect(made).toBe(0);
    expect(memory.memoryFrom(memory.id + 1)).toBe(null);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });

  it(`keeps ${MAX_MONITORS} monitors of a process at most`, async () => {
    // Each is a capability the kernel keeps until the process ends, charged to nobody.
    const t = testMachine();
    const process = t.kernel.spawn(await t.loader.load(monitor, "monitor"), { entry: "go", entryArgs: [5_000], caps: [t.kernel.capability(t.kernel.memoryObject(100), ALL_RIGHTS)] });
    let most = 0;
    const look = setInterval(() => (most = Math.max(most, process.monitors.length)), 1);
    await t.kernel.run();
    clearInterval(look);
    expect(process.returnValue).toBe(MAX_MONITORS);
    expect(most).toBeLessThanOrEqual(MAX_MONITORS);
    expect(process.monitors).toEqual([]); // told, at its end
  });

  it(`nests Memories ${MAX_MEMORY_DEPTH} deep at most`, async () => {
    const { memory, made } = await ask(10_000, 400, true);
    expect(memory.depth).toBe(1);
    expect(made).toBe(MAX_MEMORY_DEPTH - 1);
    expect(Status.E_QUOTA).toBeLessThan(0);
  });
});
