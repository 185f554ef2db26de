/**
 * Fault handlers: a process names an exported function that the kernel calls on a repairable
 * fault (read-only, no-access, out-of-bounds, unmapped) instead of tearing it down. Checked: the
 * faulting load, store or bulk operation completes after the handler repairs the mapping and
 * returns 0, with the handler told the right kind and address; the handler may block; it can ask
 * to be torn down; a handler that does not repair, faults itself, or whose own stack faulted ends
 * the process with a clear record; registration refuses what is not an export of its own.
 */
import { describe, expect, it } from "vitest";
import { Op, PageRights } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { FAULT_KINDS } from "../../src/kernel/fault.ts";
import type { Process } from "../../src/kernel/process.ts";
import { program as userProgram } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const kindCode = (kind: (typeof FAULT_KINDS)[number]) => FAULT_KINDS.indexOf(kind);

/**
 * The handler's modes: 0 makes the faulting page read-write again (or grows memory past its end),
 * 1 asks to be torn down, 2 returns without repairing, 3 faults itself, 4 yields first, then
 * repairs. It records how often it ran, the last kind and address, and the stack pointer it saw.
 */
const program = `(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (import "dogma" "yield" (func $yield))
  (memory 2)
  (data (i32.const 0x1000) "handler")
  (data (i32.const 0x1010) "__dogma_init")
  (global $mode (mut i32) (i32.const 0))
  (global $calls (mut i32) (i32.const 0))
  (global $kind (mut i32) (i32.const -1))
  (global $addr (mut i32) (i32.const 0))
  (global $seen_sp (mut i32) (i32.const 0))
  (global $seen_top (mut i32) (i32.const 0))
  (global $sp (export "__stack_pointer") (mut i32) (i32.const 0x4000))
  (func $op (param $label i32) (param $n i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32) (result i32)
    (i32.store (i32.const 0x2000) (local.get $label))
    (i32.store (i32.const 0x2004) (local.get $n))
    (i32.store (i32.const 0x2008) (i32.const 0))
    (i32.store (i32.const 0x200c) (i32.const 0))
    (i32.store (i32.const 0x2010) (i32.const 0))
    (i32.store (i32.const 0x2014) (local.get $a))
    (i32.store (i32.const 0x2018) (local.get $b))
    (i32.store (i32.const 0x201c) (local.get $c))
    (i32.store (i32.const 0x2020) (local.get $d))
    (call $invoke (i32.const 1) (i32.const 0x2000) (i32.const 64)))
  (func $protect (export "protect") (param $address i32) (param $pages i32) (param $rights i32) (result i32)
    (call $op (i32.const ${Op.PROCESS_PROTECT}) (i32.const 3) (local.get $address) (local.get $pages) (local.get $rights) (i32.const 0)))
  (func $register (export "register") (param $name i32) (param $len i32) (param $stack i32) (param $bytes i32) (result i32)
    (call $op (i32.const ${Op.PROCESS_SET_FAULT_HANDLER}) (i32.const 4) (local.get $name) (local.get $len) (local.get $stack) (local.get $bytes)))
  (func $setup (param $mode i32)
    (global.set $mode (local.get $mode))
    (if (call $register (i32.const 0x1000) (i32.const 7) (i32.const 0x7000) (i32.const 0x1000)) (then unreachable)))
  (func $handler (export "handler") (param $kind i32) (param $addr i32) (param $top i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (global.set $kind (local.get $kind))
    (global.set $addr (local.get $addr))
    (global.set $seen_sp (global.get $sp))
    (global.set $seen_top (local.get $top))
    (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (i32.const 1))))
    (if (i32.eq (global.get $mode) (i32.const 2)) (then (return (i32.const 0))))
    (if (i32.eq (global.get $mode) (i32.const 3)) (then (drop (i32.load (i32.const 0x6000)))))
    (if (i32.eq (global.get $mode) (i32.const 4)) (then (call $yield)))
    (if (i32.eq (local.get $kind) (i32.const ${kindCode("out-of-bounds")}))
      (then (drop (memory.grow (i32.const 1))) (return (i32.const 0))))
    (if (call $protect (i32.and (local.get $addr) (i32.const 0xfffff000)) (i32.const 1) (i32.const ${PageRights.READ_WRITE}))
      (then unreachable))
    (i32.const 0))
  (func $results (param $value i32) (result i32 i32 i32 i32)
    (local.get $value) (global.get $calls) (global.get $kind) (global.get $addr))
  ;; A store to a read-only page; then the stored value.
  (func $store_read_only (export "store_read_only") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (drop (call $protect (i32.const 0x5000) (i32.const 1) (i32.const ${PageRights.READ})))
    (i32.store offset=8 (i32.const 0x5000) (i32.const 77))
    (call $results (i32.load (i32.const 0x5008))))
  ;; A load of an unreadable page holding 5.
  (func (export "load_no_access") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (i32.store (i32.const 0x5010) (i32.const 5))
    (drop (call $protect (i32.const 0x5000) (i32.const 1) (i32.const ${PageRights.NONE})))
    (drop (call $protect (i32.const 0x6000) (i32.const 1) (i32.const ${PageRights.NONE})))
    (call $results (i32.load (i32.const 0x5010))))
  ;; An unaligned i64 load across two unreadable pages.
  (func (export "load_i64_across") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (i64.store (i32.const 0x5ffc) (i64.const 0x0102030405060708))
    (drop (call $protect (i32.const 0x5000) (i32.const 2) (i32.const ${PageRights.NONE})))
    (call $results (i32.wrap_i64 (i64.shr_u (i64.load (i32.const 0x5ffc)) (i64.const 24)))))
  ;; memory.fill over three read-only pages.
  (func (export "fill_read_only") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (drop (call $protect (i32.const 0x9000) (i32.const 3) (i32.const ${PageRights.READ})))
    (memory.fill (i32.const 0x9800) (i32.const 0xab) (i32.const 0x2000))
    (call $results (i32.load8_u (i32.const 0xb7ff))))
  ;; A store past the end of memory; the handler grows it.
  (func (export "store_past_end") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (i32.store (i32.const 0x20010) (i32.const 9))
    (call $results (i32.load (i32.const 0x20010))))
  ;; What the handler saw of its stack; the stack pointer after it returned.
  (func (export "stack") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (drop (call $protect (i32.const 0x5000) (i32.const 1) (i32.const ${PageRights.READ})))
    (i32.store (i32.const 0x5000) (i32.const 1))
    (global.get $seen_sp) (global.get $seen_top) (global.get $sp) (global.get $calls))
  ;; A fault inside the handler's own stack.
  (func (export "fault_in_stack") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (drop (call $protect (i32.const 0x7000) (i32.const 1) (i32.const ${PageRights.READ})))
    (i32.store (i32.const 0x7ff0) (i32.const 1))
    (call $results (i32.const 0)))
  ;; Registration refusals, then no handler at all.
  (func (export "refusals") (param $mode i32) (result i32 i32 i32 i32)
    (call $register (i32.const 0x1000) (i32.const 6) (i32.const 0) (i32.const 0))
    (call $register (i32.const 0x1010) (i32.const 12) (i32.const 0) (i32.const 0))
    (call $register (i32.const 0x1000) (i32.const 7) (i32.const 0x1f000) (i32.const 0x2000))
    (call $register (i32.const 0x0) (i32.const 7) (i32.const 0) (i32.const 0)))
  (func $cleared (export "cleared") (param $mode i32) (result i32 i32 i32 i32)
    (call $setup (local.get $mode))
    (drop (call $register (i32.const 0x1000) (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $protect (i32.const 0x5000) (i32.const 1) (i32.const ${PageRights.READ})))
    (i32.store (i32.const 0x5000) (i32.const 1))
    (call $results (i32.const 0)))
  (func (export "_start")))`;

async function run(entry: string, mode = 0): Promise<{ process: Process; result: number[] | undefined; faults: string[] }> {
  const t = testMachine();
  const image = await t.loader.load(wat(program), "handled");
  const process = t.kernel.spawn(image, { entry, entryArgs: [mode] });
  await t.kernel.run();
  return { process, result: process.returnValue as number[] | undefined, faults: t.faults };
}

describe("a fault handler", () => {
  it("repairs a store to a read-only page, which then completes", async () => {
    const { process, result } = await run("store_read_only");
    expect(process.fault).toBe(null);
    expect(result).toEqual([77, 1, kindCode("read-only"), 0x5008]);
  });

  it("repairs a load of an unreadable page", async () => {
    const { process, result } = await run("load_no_access");
    expect(process.fault).toBe(null);
    expect(result).toEqual([5, 1, kindCode("no-access"), 0x5010]);
  });

  it("repairs an access across two pages one page at a time", async () => {
    const { process, result } = await run("load_i64_across");
    expect(process.fault).toBe(null);
    // Bytes 3-6 of 0x0102030405060708, little-endian.
    expect(result).toEqual([0x02030405, 2, kindCode("no-access"), 0x6000]);
  });

  it("repairs a bulk fill over three pages, writing nothing before all are writable", async () => {
    const { process, result } = await run("fill_read_only");
    expect(process.fault).toBe(null);
    expect(result).toEqual([0xab, 3, kindCode("read-only"), 0xb000]);
  });

  it("grows memory for a store past its end", async () => {
    const { process, result } = await run("store_past_end");
    expect(process.fault).toBe(null);
    expect(result).toEqual([9, 1, kindCode("out-of-bounds"), 0x20010]);
  });

  it("may block (yield) before it repairs", async () => {
    const { process, result } = await run("store_read_only", 4);
    expect(process.fault).toBe(null);
    expect(result).toEqual([77, 1, kindCode("read-only"), 0x5008]);
  });

  it("runs on its registered stack: __stack_pointer points at its top, and is restored after", async () => {
    const { process, result } = await run("stack", 0);
    expect(process.fault).toBe(null);
    expect(result).toEqual([0x8000, 0x8000, 0x4000, 1]);
  });

  it("can ask to be torn down: the record is the fault's, in the faulting function", async () => {
    const { process, faults } = await run("store_read_only", 1);
    expect(process.fault).toMatchObject({ kind: "read-only", address: 0x5008, functionName: "store_read_only" });
    expect(process.fault!.message).toContain("asked to be torn down");
    expect(faults).toHaveLength(1);
  });

  it("that resumes without repairing ends the process instead of looping", async () => {
    const { process } = await run("store_read_only", 2);
    expect(process.fault).toMatchObject({ kind: "read-only", address: 0x5008 });
    expect(process.fault!.message).toContain("resumed without repairing");
  });

  it("that faults itself ends the process: no recursion", async () => {
    const { process } = await run("load_no_access", 3);
    expect(process.fault).toMatchObject({ kind: "no-access", address: 0x6000, functionName: "handler" });
    expect(process.fault!.message).toContain("inside its fault handler");
  });

  it("is not called for a fault in its own stack", async () => {
    const { process } = await run("fault_in_stack", 0);
    expect(process.fault).toMatchObject({ kind: "read-only", address: 0x7ff0 });
    expect(process.fault!.message).toContain("stack of its fault handler");
  });

  it("must be an export of the process's own, with its stack in its window", async () => {
    const { process, result } = await run("refusals");
    expect(process.fault).toBe(null);
    expect(result).toEqual([Status.E_INVALID_ARGUMENT, Status.E_INVALID_ARGUMENT, Status.E_BAD_ADDRESS, Status.E_BAD_ADDRESS]);
  });

  it("once removed, a fault tears the process down as without one", async () => {
    const { process } = await run("cleared");
    expect(process.fault).toMatchObject({ kind: "read-only", address: 0x5000, functionName: "cleared" });
    expect(process.fault!.message).not.toContain("handler");
  });

  it("works from AssemblyScript through libdogma (user/programs/page-rights.ts)", async () => {
    const t = testMachine();
    const process = t.kernel.spawn(await t.loader.load(userProgram("page-rights"), "page-rights"));
    await t.kernel.run();
    expect(process.fault).toBe(null);
    expect(t.stdout().split("\n")).toEqual([
      "statuses 0 0 0 0",
      `faults 2 kinds ${kindCode("read-only").toString(16)}${kindCode("no-access").toString(16).padStart(2, "0")} store at +8`,
      "values 7 5",
      "copy 1234 original 1234 written 99",
      "",
    ]);
  });
});
