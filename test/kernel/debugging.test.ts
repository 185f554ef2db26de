/**
 * Debugging a sealed process through a capability (src/kernel/debugging.ts, docs/DEBUGGING.md):
 * breakpoints by index and by name stop before the function's first instruction and are reported;
 * memory read and written while stopped changes what the program computes; a write to a
 * copy-on-write page is the target's alone; page rights hold unless overridden; watchpoints stop
 * at the first access with its address; step goes to the next safe point; a fault is held for the
 * debugger; a debugger without the right is refused; a debugger's end detaches or kills as it
 * chose; the invariants hold throughout.
 */
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { PageObject } from "../../src/kernel/caps/page.ts";
import { DEBUG_OPS } from "../../src/kernel/caps/debug-control.ts";
import { ALL_RIGHTS, BreakAt, DebugAccessFlag, DebugAttachFlag, DebugStop, KernelMessage, Op, Rights, WatchOn } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import type { Process } from "../../src/kernel/process.ts";
import { PTE_READ, PTE_WRITE } from "../../src/kernel/page-table.ts";
import { HostDebugger, until } from "../helpers/host-debugger.ts";
import type { RewriteVariant } from "../../src/loader/output-layout.ts";
import { testMachine, type TestMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const NONE = 0xffff_ffff;
const DATA = 0x10000;

/**
 * `work(n)` marks its entry at DATA+4, then sums the word at DATA n times (a loop); `leaf` is a
 * small leaf (no safe point). `_start` stores 5 at DATA and exits with leaf(work(3)) = 5*3+1.
 * Function indices: 0 exit (imported), 1 work, 2 leaf, 3 _start, 4 crash.
 */
const TARGET = wat(`(module
  (import "dogma" "exit" (func $exit (param i32)))
  (memory 2)
  (global $steps (mut i32) (i32.const 0))
  (global $wide (mut i64) (i64.const 0x100000002))
  (global $ratio (mut f64) (f64.const 1.5))
  (func $work (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (i32.store (i32.const ${DATA + 4}) (i32.const 1))
    (loop $again
      (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const ${DATA}))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (global.set $steps (local.get $i))
    (local.get $sum))
  (func $leaf (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $_start (export "_start")
    (i32.store (i32.const ${DATA}) (i32.const 5))
    (call $exit (call $leaf (call $work (i32.const 3)))))
  (func $crash (export "crash")
    (i32.store (i32.const ${DATA}) (i32.const 9))
    (drop (call $work (i32.const 1)))
    (unreachable)))`);

/** PROCESS_DEBUG_READ of the word at DATA of the process at slot 2; exits with it, or 100 + the status's magnitude. */
const READER = wat(`(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (import "dogma" "exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start") (local $status i32)
    (i32.store (i32.const 0x1000) (i32.const ${Op.PROCESS_DEBUG_READ}))
    (i32.store (i32.const 0x1004) (i32.const 3))
    (i32.store (i32.const 0x1014) (i32.const ${DATA}))
    (i32.store (i32.const 0x1018) (i32.const 4))
    (local.set $status (call $invoke (i32.const 2) (i32.const 0x1000) (i32.const 292)))
    (if (i32.lt_s (local.get $status) (i32.const 0)) (then (call $exit (i32.sub (i32.const 100) (local.get $status)))))
    (call $exit (i32.load (i32.const 0x1014)))))`);

const WORK = 1;
const LEAF = 2;
const START = 3;

interface Session {
  t: TestMachine;
  target: Process;
  dbg: HostDebugger;
  /** The debugger's capability to the target (all rights). */
  cap: number;
}

/** A target, created (not started), and a debugger attached to it (it stopped: the first event is taken). */
async function attached(entry = "_start", flags = 0, bytes = TARGET, rewrite: RewriteVariant = {}): Promise<Session> {
  const t = testMachine({ loader: { rewrite } });
  const image = await t.loader.load(bytes, "target");
  const dbg = await HostDebugger.start(t);
  const target = t.kernel.createProcess(t.kernel.imageObject(image), t.kernel.rootMemory, dbg.process, 4);
  if (typeof target === "number") throw new Error(`no target: ${target}`);
  if (entry !== "_start") (t.kernel as unknown as { entryArgs: Map<Process, unknown> }).entryArgs.set(target, { entry, args: [] });
  const cap = dbg.give(new Capability(target, ALL_RIGHTS));
  expect(dbg.now(cap, Op.PROCESS_DEBUG_ATTACH, [flags], [dbg.eventsSlot()]).status).toBe(Status.OK);
  expect(dbg.takeEvent()).toEqual({ label: KernelMessage.DEBUG_STOPPED, words: [target.pid, DebugStop.REQUEST, 0, NONE, 0, 0, 0] });
  return { t, target, dbg, cap };
}

/** Waits for the next DEBUG_STOPPED: `pid, reason, id, function, offset, address, access`. */
async function nextStop(s: Session): Promise<number[]> {
  let event: { label: number; words: number[] } | null = null;
  await until(s.t.kernel, () => (event = s.dbg.takeEvent()) !== null || !s.target.alive, "the target to stop");
  expect(checkInvariants(s.t.kernel)).toEqual([]);
  if (!event) throw new Error(`the target ended instead of stopping: ${JSON.stringify(s.target.outcome)}`);
  const stop = event as { label: number; words: number[] };
  expect(stop.label).toBe(KernelMessage.DEBUG_STOPPED);
  return stop.words;
}

async function exitCode(s: Session): Promise<number> {
  await until(s.t.kernel, () => !s.target.alive, "the target to end");
  const outcome = s.target.outcome!;
  if (outcome.kind !== "exited") throw new Error(`faulted: ${outcome.fault.message}`);
  return outcome.code;
}

function read(s: Session, address: number, length = 4, flags = 0): { status: number; bytes: Uint8Array } {
  const answer = s.dbg.now(s.cap, Op.PROCESS_DEBUG_READ, [address, length, flags]);
  return { status: answer.status, bytes: new Uint8Array(Uint32Array.from(answer.words).buffer).subarray(0, length) };
}

function readWord(s: Session, address: number): number {
  const { status, bytes } = read(s, address);
  expect(status).toBe(Status.OK);
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
}

function writeWord(s: Session, address: number, value: number, flags = 0): number {
  return s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [address, 4, flags, value]).status;
}

function nameWords(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return [bytes.length, ...new Uint32Array(padded.buffer)];
}

describe("breakpoints", () => {
  it("stop at a function's entry by index before its first instruction ran; a write changes what it computes", async () => {
    const s = await attached();
    const set = s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    expect(set.status).toBe(Status.OK);
    expect(set.words[1]).toBe(WORK);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE).status).toBe(Status.OK);
    const stop = await nextStop(s);
    expect(stop.slice(0, 4)).toEqual([s.target.pid, DebugStop.BREAKPOINT, set.words[0], WORK]);
    expect(s.target.state).toBe("suspended");
    // Stopped before work's first store: its mark is not there; _start's store is.
    expect(readWord(s, DATA + 4)).toBe(0);
    expect(readWord(s, DATA)).toBe(5);
    expect(writeWord(s, DATA, 7)).toBe(Status.OK);
    // The stack: work, called from _start.
    const trace = s.dbg.now(s.cap, Op.PROCESS_DEBUG_BACKTRACE, [0]);
    expect(trace.status).toBe(Status.OK);
    expect([trace.words[0], trace.words[2], trace.words[4]]).toEqual([2, WORK, START]);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CLEAR, [set.words[0]!]).status).toBe(Status.OK);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE).status).toBe(Status.OK);
    expect(await exitCode(s)).toBe(7 * 3 + 1);
    expect(s.dbg.takeEvent()).toBeNull();
  });

  it("stop at a function named in the name section, and say its name", async () => {
    const s = await attached();
    const set = s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [NONE, BreakAt.ENTRY, 0, ...nameWords("work")]);
    expect(set.status).toBe(Status.OK);
    expect(set.words[1]).toBe(WORK);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect((await nextStop(s))[3]).toBe(WORK);
    const named = s.dbg.now(s.cap, Op.PROCESS_DEBUG_FUNCTION, [WORK]);
    expect(named.words.slice(0, 3)).toEqual([WORK, 2, 4]);
    expect(new TextDecoder().decode(new Uint8Array(Uint32Array.from(named.words.slice(3)).buffer).subarray(0, 4))).toBe("work");
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_FUNCTION, [NONE, ...nameWords("_start")]).words[0]).toBe(START);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(await exitCode(s)).toBe(16);
  });

  it("say a function's and a global's name with its control characters written out: a debugger prints them on a terminal (redteam9)", async () => {
    // The name section's "work" (function 1) and "ratio" (global 2) with terminal escapes in them.
    const bytes = TARGET.slice();
    const patch = (name: string, evil: string) => {
      const at = Buffer.from(bytes).indexOf(Buffer.from([name.length, ...new TextEncoder().encode(name)]));
      expect(at).toBeGreaterThan(0);
      bytes.set(new TextEncoder().encode(evil), at + 1);
    };
    patch("work", "\u001b]0\u0007");
    patch("ratio", "\u001b[2J\u007f");
    const s = await attached("_start", 0, bytes);
    const textOf = (words: number[], length: number) => new TextDecoder().decode(new Uint8Array(Uint32Array.from(words).buffer).subarray(0, length));
    const fn = s.dbg.now(s.cap, Op.PROCESS_DEBUG_FUNCTION, [WORK]);
    expect(textOf(fn.words.slice(3), fn.words[2]!)).toBe("\\x1b]0\\x07");
    const global = s.dbg.now(s.cap, Op.PROCESS_DEBUG_GLOBAL_NAME, [2]);
    expect(textOf(global.words.slice(1), global.words[0]!)).toBe("\\x1b[2J\\x7f");
  });

  it("refuse a function with no safe point, an import, an unknown name or index", async () => {
    const s = await attached();
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_FUNCTION, [LEAF]).words[1]).toBe(0);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [LEAF, BreakAt.ENTRY, 0]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [0, BreakAt.ENTRY, 0]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [99, BreakAt.ENTRY, 0]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [NONE, BreakAt.ENTRY, 0, ...nameWords("nothing")]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, 7, 0]).status).toBe(Status.E_INVALID_ARGUMENT);
  });

  it("stop at every loop header of a function, and at one safe point by its offset", async () => {
    const s = await attached();
    const loops = s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.LOOPS, 0]).words[0]!;
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    const offsets: number[] = [];
    for (let i = 0; i < 3; i++) {
      const stop = await nextStop(s);
      expect(stop.slice(1, 4)).toEqual([DebugStop.BREAKPOINT, loops, WORK]);
      offsets.push(stop[4]!);
      s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    }
    expect(new Set(offsets).size).toBe(1);
    expect(await exitCode(s)).toBe(16);

    // The same loop header by its offset, in a fresh run.
    const again = await attached();
    const at = again.dbg.now(again.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.OFFSET, offsets[0]!]).words[0]!;
    again.dbg.now(again.cap, Op.PROCESS_DEBUG_CONTINUE);
    const stop = await nextStop(again);
    expect(stop.slice(1, 5)).toEqual([DebugStop.BREAKPOINT, at, WORK, offsets[0]]);
    expect(again.dbg.now(again.cap, Op.PROCESS_DEBUG_DETACH).status).toBe(Status.OK);
    expect(await exitCode(again)).toBe(16);
  });
});

describe("a loop the loader moved into a function of its own (docs/LOADER.md)", () => {
  // `spin` runs once (called once by _start), so its loop is outlined as `spin.loop0`, here
  // re-entered every 4 runs of its header; its safe points there are still spin's: index 1.
  const ONCE = wat(`(module
    (import "dogma" "exit" (func $exit (param i32)))
    (memory 1)
    (func $spin (param $n i32) (result i32)
      (local $i i32)
      (loop $again
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $i))
    (func (export "_start") (call $exit (call $spin (i32.const 10)))))`);

  it("stops at its loop header as its function's, every time round, whichever call of it runs", async () => {
    const s = await attached("_start", 0, ONCE, { outlineIterations: 4 });
    const loops = s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [1, BreakAt.LOOPS, 0]).words[0]!;
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    const offsets = new Set<number>();
    let stops = 0;
    for (;;) {
      let event: { label: number; words: number[] } | null = null;
      await until(s.t.kernel, () => (event = s.dbg.takeEvent()) !== null || !s.target.alive, "the target to stop or end");
      if (event === null) break;
      const stop = (event as { words: number[] }).words;
      expect(stop.slice(1, 4), `stop ${stops}`).toEqual([DebugStop.BREAKPOINT, loops, 1]);
      offsets.add(stop[4]!);
      stops++;
      s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    }
    expect(await exitCode(s)).toBe(10);
    // Ten times round, and once more at each return to be called again: a call's fourth run of the
    // header counts down to 0 and leaves, and the next call starts at the same header (after 3, 6, 9).
    expect(stops).toBe(13);
    expect(offsets.size).toBe(1);
  });
});

describe("stepping", () => {
  it("runs to the next safe point and stops there", async () => {
    const s = await attached();
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_STEP).status).toBe(Status.OK);
    expect((await nextStop(s)).slice(1, 4)).toEqual([DebugStop.STEP, 0, START]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_STEP);
    const entry = await nextStop(s);
    expect(entry.slice(1, 4)).toEqual([DebugStop.STEP, 0, WORK]);
    expect(readWord(s, DATA + 4)).toBe(0);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_STEP);
    const loop = await nextStop(s);
    expect(loop[3]).toBe(WORK);
    expect(loop[4]).toBeGreaterThan(entry[4]!);
    // work's first store ran between its entry and its loop.
    expect(readWord(s, DATA + 4)).toBe(1);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(await exitCode(s)).toBe(16);
  });

  it("is refused unless the target is stopped by its debugger", async () => {
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE).status).toBe(Status.E_NOT_READY);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_STEP).status).toBe(Status.E_NOT_READY);
    expect(await exitCode(s)).toBe(16);
  });
});

describe("memory and globals", () => {
  it("read and write through the target's page tables, its rights respected unless overridden", async () => {
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    await nextStop(s);
    // Page 0, past the window, the global space where nothing is mapped: out of reach.
    expect(read(s, 0x10).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, 2 * 65536).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, 0x9000_0000).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, DATA, 257).status).toBe(Status.E_INVALID_ARGUMENT);
    // A page never touched reads zeros, and is not given a frame for it.
    const pages = s.target.space.residentPages;
    expect(read(s, 0x18000, 16).bytes).toEqual(new Uint8Array(16));
    expect(s.target.space.residentPages).toBe(pages);
    // Its own binary, mapped read-only: readable, never writable.
    const info = s.dbg.now(s.cap, Op.PROCESS_DEBUG_INFO).words;
    const base = info[13]!;
    expect(read(s, base, 4).bytes).toEqual(new Uint8Array([0, 0x61, 0x73, 0x6d]));
    expect(writeWord(s, base, 0, DebugAccessFlag.OVERRIDE_RIGHTS)).toBe(Status.E_BAD_ADDRESS);
    // A Region it views (read-only, shared with its owner): readable, never written, override or not.
    const region = s.t.kernel.regionObject(new TextEncoder().encode("shared bytes"));
    s.target.caps.install(new Capability(region, Rights.REGION_READ));
    expect(new TextDecoder().decode(read(s, region.address, 12).bytes)).toBe("shared bytes");
    expect(writeWord(s, region.address, 0, DebugAccessFlag.OVERRIDE_RIGHTS)).toBe(Status.E_BAD_ADDRESS);
    expect(new TextDecoder().decode(read(s, region.address, 6).bytes)).toBe("shared");
    // A read-only page: written only with the override, and read-only after it.
    expect(s.target.space.protect(DATA, 1, PTE_READ)).toBe(Status.OK);
    expect(writeWord(s, DATA, 6)).toBe(Status.E_BAD_ADDRESS);
    expect(writeWord(s, DATA, 6, DebugAccessFlag.OVERRIDE_RIGHTS)).toBe(Status.OK);
    expect(s.target.space.privateRights(DATA)).toBe(PTE_READ);
    expect(readWord(s, DATA)).toBe(6);
    // An unreadable page: not even read without the override.
    expect(s.target.space.protect(DATA, 1, 0)).toBe(Status.OK);
    expect(read(s, DATA).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, DATA, 4, DebugAccessFlag.OVERRIDE_RIGHTS).bytes).toEqual(new Uint8Array([6, 0, 0, 0]));
    expect(s.target.space.protect(DATA, 1, PTE_READ | PTE_WRITE)).toBe(Status.OK);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE).status).toBe(Status.OK);
    expect(await exitCode(s)).toBe(6 * 3 + 1);
  });

  it("split a copy-on-write page on a write: the other sharer never sees it", async () => {
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    await nextStop(s);
    // Another process shares the target's data page copy-on-write.
    const image = s.target.image;
    const sharer = s.t.kernel.createProcess(s.t.kernel.imageObject(image), s.t.kernel.rootMemory, s.dbg.process, 4) as Process;
    expect(sharer.space.copyOnWriteFrom(s.target.space, DATA, DATA, 1)).toBe(Status.OK);
    expect(s.target.space.mapping(DATA)!.frame).toBe(sharer.space.mapping(DATA)!.frame);
    expect(writeWord(s, DATA, 8)).toBe(Status.OK);
    expect(s.target.space.mapping(DATA)!.frame).not.toBe(sharer.space.mapping(DATA)!.frame);
    expect(new DataView(sharer.space.read(DATA, 4).buffer).getUint32(0, true)).toBe(5);
    expect(readWord(s, DATA)).toBe(8);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
    s.t.kernel.terminate(sharer);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(await exitCode(s)).toBe(8 * 3 + 1);
  });

  it("bring a page back from the pager to read it, the debugger waiting", async () => {
    const { TestStore } = await import("../helpers/test-store.ts");
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    await nextStop(s);
    const paging = s.t.kernel.enablePaging(new TestStore());
    s.dbg.process.pinLevel = 2;
    for (let i = 0; i < 64 && s.target.space.pagedVersion(DATA >>> 12) === null; i++) paging.reclaim();
    expect(s.target.space.pagedVersion(DATA >>> 12)).not.toBeNull();
    // A process of its own reads it (the read blocks while the page comes back): it exits with
    // the word read, or 100 + the status's magnitude.
    const reader = s.t.kernel.spawn(await s.t.loader.load(READER, "reader"), { caps: [new Capability(s.target, Rights.PROCESS_DEBUG)] });
    reader.pinLevel = 2;
    await until(s.t.kernel, () => !reader.alive, "the reader to end");
    expect(reader.outcome).toEqual({ kind: "exited", code: 5 });
    expect(s.target.space.pagedVersion(DATA >>> 12)).toBeNull();
    expect(checkInvariants(s.t.kernel)).toEqual([]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(await exitCode(s)).toBe(16);
  });

  it("read and set the program's mutable globals", async () => {
    const s = await attached();
    const all = s.dbg.now(s.cap, Op.PROCESS_DEBUG_GLOBALS, [0]);
    expect(all.status).toBe(Status.OK);
    // next (none), 3 globals: steps i32 0, wide i64 0x1_00000002, ratio f64 1.5.
    const bits = new DataView(new ArrayBuffer(8));
    bits.setFloat64(0, 1.5, true);
    expect(all.words).toEqual([NONE, 3, 0, 0, 0, 0, 1, 1, 2, 1, 2, 3, bits.getUint32(0, true), bits.getUint32(4, true)]);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_SET_GLOBAL, [1, 7, 0]).status).toBe(Status.OK);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_GLOBALS, [1]).words.slice(0, 6)).toEqual([NONE, 2, 1, 1, 7, 0]);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_SET_GLOBAL, [9, 0, 0]).status).toBe(Status.E_INVALID_ARGUMENT);
    const name = s.dbg.now(s.cap, Op.PROCESS_DEBUG_GLOBAL_NAME, [2]);
    expect(new TextDecoder().decode(new Uint8Array(Uint32Array.from(name.words.slice(1)).buffer).subarray(0, name.words[0]))).toBe("ratio");
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_GLOBAL_NAME, [3]).status).toBe(Status.E_INVALID_ARGUMENT);
  });

  it("is refused while the target runs", async () => {
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(read(s, DATA).status).toBe(Status.E_NOT_READY);
    expect(writeWord(s, DATA, 1)).toBe(Status.E_NOT_READY);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_GLOBALS, [0]).status).toBe(Status.E_NOT_READY);
    expect(await exitCode(s)).toBe(16);
  });
});

describe("memory at the edges (the red team's cases)", () => {
  it("never reaches past the target's window, its own binary's pages, or the kernel's frames; no read costs a frame", async () => {
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    await nextStop(s);
    const info = s.dbg.now(s.cap, Op.PROCESS_DEBUG_INFO).words;
    const base = info[13]!;
    const size = info[14]!;
    const frames = s.t.kernel.frames.freeCount;
    // Across the end of the 32-bit space, across the private window's end, from the window into the
    // global space, past the binary's last page, page 0 at its first and last byte, length 0.
    expect(read(s, 0xffff_fffc, 8).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, 0xffff_ffff, 1).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, 0x7fff_fffc, 8).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, 2 * 65536 - 4, 8).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, base + Math.ceil(size / 4096) * 4096, 4).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, 0, 4).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, 0xffc, 4).status).toBe(Status.E_BAD_ADDRESS);
    expect(read(s, DATA, 0).status).toBe(Status.OK);
    // The descriptor's and the TLBs' frames are the kernel's: no address of the target names them.
    const kernelFrames = new Set([s.target.descriptor.frame]);
    s.target.space.forEachEntry((_page, frame) => expect(kernelFrames.has(frame)).toBe(false));
    // Writes: past the binary's end, over it (override or not), across the window's end; a length
    // longer than the words that carry it.
    expect(writeWord(s, base + size, 0, DebugAccessFlag.OVERRIDE_RIGHTS)).toBe(Status.E_BAD_ADDRESS);
    expect(s.t.kernel.frames.freeCount).toBe(frames);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [2 * 65536 - 2, 4, 0, 0x01020304]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [DATA, 8, 0, 1]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [DATA, 0xffff_ffff, 0, 1]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, []).status).toBe(Status.E_INVALID_ARGUMENT);
    // Nothing partly written: the word across the window's end is as it was.
    expect(readWord(s, 2 * 65536 - 4)).toBe(0);
    // Watchpoints at the window's last page and beyond its memory, at most 256 pages, never into the global space.
    const last = s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [0x7fff_f000, 1, WatchOn.WRITE]);
    expect(last.status).toBe(Status.OK);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [0x7ff0_0000, 257, WatchOn.WRITE]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [0xffff_f000, 1, WatchOn.ACCESS]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CLEAR, [last.words[0]!]).status).toBe(Status.OK);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CLEAR, [last.words[0]!]).status).toBe(Status.E_INVALID_ARGUMENT);
    // Breakpoints at indices past the table, at the top of the 32-bit range, at a loader helper's.
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [NONE - 1, BreakAt.ENTRY, 0]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [info[11]!, BreakAt.ENTRY, 0]).status).toBe(Status.E_INVALID_ARGUMENT);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BACKTRACE, [NONE]).words.slice(0, 2)).toEqual([2, 0]);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(await exitCode(s)).toBe(16);
  });
});

describe("a refused write", () => {
  // The red team's finding: PROCESS_DEBUG_WRITE translated its pages in order, giving a frame to an
  // untouched first page before the second was refused (past the window): the write was refused,
  // and the target had been charged a zeroed page it never touched.
  it("gives the target no frame, whichever of its pages refuses it", async () => {
    const s = await attached();
    // (Its page table first: protect makes it.)
    expect(s.target.space.protect(DATA + 0x1000, 1, PTE_READ)).toBe(Status.OK);
    const frames = s.t.kernel.frames.freeCount;
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [2 * 65536 - 2, 4, 0, 0x01020304]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [DATA + 0x1000 - 2, 4, 0, 0x01020304]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.t.kernel.frames.freeCount).toBe(frames);
    // With the override the same write is done, across both pages.
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [DATA + 0x1000 - 2, 4, DebugAccessFlag.OVERRIDE_RIGHTS, 0x01020304]).status).toBe(Status.OK);
    expect(readWord(s, DATA + 0x1000 - 2)).toBe(0x01020304);
    expect(s.target.space.privateRights(DATA + 0x1000)).toBe(PTE_READ);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
  });

  // The next round's finding: a write whose second page is a Page mapped read-only was refused
  // only as that page was translated, after the first (untouched) page had been given a frame.
  it("gives no frame when its second page is a read-only Page mapping", async () => {
    const s = await attached();
    const frame = s.t.kernel.services.sharedFrames.allocate()!;
    s.t.kernel.services.memory.zeroFrame(frame);
    const page = new PageObject(s.t.kernel.services, frame);
    expect(s.t.kernel.rootMemory.adopt(page, 1)).toBe(true);
    expect(page.map(s.target, DATA + 0x1000, false, () => true)).toBe("ok");
    const frames = s.t.kernel.frames.freeCount;
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [DATA + 0x1000 - 2, 4, 0, 0x01020304]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WRITE, [DATA + 0x1000 - 2, 4, DebugAccessFlag.OVERRIDE_RIGHTS, 0x01020304]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.t.kernel.frames.freeCount).toBe(frames);
    expect(s.target.space.mapping(DATA)).toBeNull();
    expect(s.t.kernel.services.memory.unsignedWords[frame * 1024]).toBe(0);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
  });
  // Redteam3: a write whose first page fits the target's quota and whose second does not was
  // refused E_QUOTA only as the second page was translated, the first already given a frame.
  it("gives no frame when its second page is past the target's quota (all or nothing)", async () => {
    const t = testMachine();
    const image = await t.loader.load(TARGET, "target");
    const dbg = await HostDebugger.start(t);
    const memory = t.kernel.memoryObject(4096);
    const target = t.kernel.createProcess(t.kernel.imageObject(image), memory, dbg.process, 4);
    if (typeof target === "number") throw new Error(`no target: ${target}`);
    const cap = dbg.give(new Capability(target, ALL_RIGHTS));
    expect(dbg.now(cap, Op.PROCESS_DEBUG_ATTACH, [0], [dbg.eventsSlot()]).status).toBe(Status.OK);
    // Its page table first (protect makes it), then room for one page only.
    expect(target.space.protect(DATA + 0x2000, 1, PTE_READ | PTE_WRITE)).toBe(Status.OK);
    const filler = memory.available - 1;
    expect(memory.charge(filler)).toBe(true);
    const frames = t.kernel.frames.freeCount;
    const used = memory.used;
    expect(dbg.now(cap, Op.PROCESS_DEBUG_WRITE, [DATA + 0x1000 - 2, 4, 0, 0x01020304]).status).toBe(Status.E_QUOTA);
    expect(t.kernel.frames.freeCount).toBe(frames);
    expect(memory.used).toBe(used);
    expect(target.space.mapping(DATA)).toBeNull();
    // Within one page the same quota takes it.
    expect(dbg.now(cap, Op.PROCESS_DEBUG_WRITE, [DATA + 0x1000 - 8, 4, 0, 0x01020304]).status).toBe(Status.OK);
    expect(memory.used).toBe(used + 1);
    memory.uncharge(filler);
    expect(checkInvariants(t.kernel)).toEqual([]);
  });
});

describe("watchpoints", () => {
  it("stop at the first write to the watched page with its address, before the write", async () => {
    const s = await attached();
    const watch = s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [DATA, 1, WatchOn.WRITE]);
    expect(watch.status).toBe(Status.OK);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    const first = await nextStop(s);
    expect(first).toEqual([s.target.pid, DebugStop.WATCHPOINT, watch.words[0], START, first[4], DATA, 2]);
    expect(readWord(s, DATA)).toBe(0);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    const second = await nextStop(s);
    expect(second.slice(1, 7)).toEqual([DebugStop.WATCHPOINT, watch.words[0], WORK, second[4], DATA + 4, 2]);
    // The first write went through once the debugger let it; the second has not yet.
    expect(readWord(s, DATA)).toBe(5);
    expect(readWord(s, DATA + 4)).toBe(0);
    // Reads of the page do not stop a write watch.
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(await exitCode(s)).toBe(16);
  });

  it("stop on a read with an access watch, and not once cleared", async () => {
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    await nextStop(s);
    const watch = s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [DATA, 1, WatchOn.ACCESS]).words[0]!;
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect((await nextStop(s)).slice(1, 7)).toEqual([DebugStop.WATCHPOINT, watch, WORK, expect.any(Number), DATA + 4, 2]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect((await nextStop(s)).slice(5, 7)).toEqual([DATA, 1]);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CLEAR, [watch]).status).toBe(Status.OK);
    expect(s.target.space.watches).toBeNull();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(await exitCode(s)).toBe(16);
  });

  it("refuse ranges outside the private window and unknown modes", async () => {
    const s = await attached();
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [0x7fff_f000, 2, WatchOn.WRITE]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [DATA, 0, WatchOn.WRITE]).status).toBe(Status.E_BAD_ADDRESS);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [DATA, 1, 3]).status).toBe(Status.E_INVALID_ARGUMENT);
  });
});

describe("faults", () => {
  it("hold a faulted target for its debugger, readable, until let go", async () => {
    const s = await attached("crash");
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    const stop = await nextStop(s);
    expect(stop.slice(1, 4)).toEqual([DebugStop.FAULT, 0, 4]);
    expect(s.target.alive).toBe(true);
    expect(s.dbg.now(s.cap, Op.PROCESS_STATE).words.slice(1, 4).map((w) => w >>> 0)).toEqual([4, NONE, 5]);
    expect(readWord(s, DATA)).toBe(9);
    const fault = s.dbg.now(s.cap, Op.PROCESS_DEBUG_FAULT).words;
    expect(fault[0]).toBe(5);
    expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_BACKTRACE, [0]).words.slice(0, 3)).toEqual([1, 1, 4]);
    expect(s.t.faults).toEqual([]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect(s.target.alive).toBe(false);
    expect(s.target.outcome!.kind).toBe("faulted");
    expect(s.t.faults).toHaveLength(1);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
  });
});

describe("authority", () => {
  it("refuses every debugging operation without PROCESS_DEBUG", async () => {
    const s = await attached();
    const weak = s.dbg.give(new Capability(s.target, ALL_RIGHTS & ~Rights.PROCESS_DEBUG));
    for (const label of DEBUG_OPS) {
      expect(s.dbg.now(weak, label, [0, 0, 0, 0], []).status, label.toString(16)).toBe(Status.E_MISSING_RIGHT);
    }
  });

  it("lets only the attached debugger stop, step and break; one debugger at a time; not itself", async () => {
    const s = await attached();
    const other = await HostDebugger.start(s.t);
    const cap = other.give(new Capability(s.target, ALL_RIGHTS));
    expect(other.now(cap, Op.PROCESS_DEBUG_ATTACH, [0], [other.eventsSlot()]).status).toBe(Status.E_NOT_READY);
    for (const label of [Op.PROCESS_DEBUG_CONTINUE, Op.PROCESS_DEBUG_STEP, Op.PROCESS_DEBUG_STOP, Op.PROCESS_DEBUG_DETACH, Op.PROCESS_DEBUG_BREAK, Op.PROCESS_DEBUG_WATCH, Op.PROCESS_DEBUG_CLEAR, Op.PROCESS_DEBUG_BACKTRACE]) {
      expect(other.now(cap, label, [WORK, 0, 0]).status, label.toString(16)).toBe(Status.E_NOT_READY);
    }
    // Reading what it is and its memory is the right's, while it holds still.
    expect(other.now(cap, Op.PROCESS_DEBUG_INFO).words[10]).toBe(1);
    expect(other.now(cap, Op.PROCESS_DEBUG_READ, [DATA, 4, 0]).status).toBe(Status.OK);
    const self = other.give(new Capability(other.process, ALL_RIGHTS));
    expect(other.now(self, Op.PROCESS_DEBUG_ATTACH, [0], [other.eventsSlot()]).status).toBe(Status.E_INVALID_ARGUMENT);
  });
});

describe("a debugger that ends", () => {
  it("leaves its target running, breakpoints and watchpoints gone", async () => {
    const s = await attached();
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [DATA, 1, WatchOn.ACCESS]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect((await nextStop(s))[1]).toBe(DebugStop.WATCHPOINT);
    expect(s.t.kernel.kill(s.dbg.process.pid)).toBe(Status.OK);
    expect(s.target.debug).toBeNull();
    expect(s.target.space.watches).toBeNull();
    expect(await exitCode(s)).toBe(16);
    expect(checkInvariants(s.t.kernel)).toEqual([]);
  });

  it("kills its target when it chose so at attach", async () => {
    const s = await attached("_start", DebugAttachFlag.KILL_ON_END);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    await nextStop(s);
    s.t.kernel.kill(s.dbg.process.pid);
    expect(s.target.alive).toBe(false);
    expect(s.target.outcome).toEqual({ kind: "exited", code: 137 });
    expect(checkInvariants(s.t.kernel)).toEqual([]);
  });

  it("lets a held fault end", async () => {
    const s = await attached("crash");
    s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
    expect((await nextStop(s))[1]).toBe(DebugStop.FAULT);
    s.t.kernel.kill(s.dbg.process.pid);
    expect(s.target.outcome!.kind).toBe("faulted");
  });
});

describe("a target killed while its debugger holds it (redteam6)", () => {
  for (const at of ["breakpoint", "watchpoint", "fault"] as const) {
    it(`at a ${at}: it ends, nothing throws into the host, the invariants hold and the debugger goes on`, async () => {
      const s = await attached(at === "fault" ? "crash" : "_start");
      if (at === "breakpoint") s.dbg.now(s.cap, Op.PROCESS_DEBUG_BREAK, [WORK, BreakAt.ENTRY, 0]);
      if (at === "watchpoint") s.dbg.now(s.cap, Op.PROCESS_DEBUG_WATCH, [DATA, 1, WatchOn.ACCESS]);
      s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE);
      await nextStop(s);
      expect(s.t.kernel.kill(s.target.pid)).toBe(Status.OK);
      expect(s.target.alive).toBe(false);
      expect(s.target.debug).toBeNull();
      expect(checkInvariants(s.t.kernel)).toEqual([]);
      // The debugger's capability to it still answers (a process that ended), and the kernel runs on.
      expect(s.dbg.now(s.cap, Op.PROCESS_DEBUG_CONTINUE).status).not.toBe(Status.OK);
      expect(s.t.kernel.kill(s.dbg.process.pid)).toBe(Status.OK);
      expect(checkInvariants(s.t.kernel)).toEqual([]);
    });
  }
});

describe("hostile requests", () => {
  it("never crash the kernel nor break its invariants (fuzzed arguments, states and order)", async () => {
    const { prng } = await import("../caps/prng.ts");
    const random = prng(0xdeb6);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const labels = [...DEBUG_OPS, 0xffff_0271, 0xffff_027f];
    const interesting = [0, 1, 2, 3, 4, 7, 255, 256, 257, 4096, DATA - 2, DATA, DATA + 4094, 0xffff, 0x1_0000 * 2 - 1, 0x7fff_f000, 0x8000_0000, NONE, NONE - 1, 0x7fff_ffff];
    const word = () => (random() < 0.7 ? pick(interesting) : Math.floor(random() * 2 ** 32));
    let s = await attached();
    let events = s.dbg.eventsSlot();
    let ran = 0;
    const tally = new Map<string, number>();
    for (let step = 0; step < 1500; step++) {
      if (!s.target.alive) {
        s.t.kernel.kill(s.dbg.process.pid);
        s = await attached(random() < 0.3 ? "crash" : "_start", random() < 0.2 ? DebugAttachFlag.KILL_ON_END : 0);
        events = s.dbg.eventsSlot();
      }
      const label = s.target.debug === null && random() < 0.5 ? Op.PROCESS_DEBUG_ATTACH : pick(labels);
      const words = Array.from({ length: Math.floor(random() * 6) }, word);
      if (label === Op.PROCESS_DEBUG_BREAK && random() < 0.5) words.splice(0, words.length, pick([WORK, START, LEAF, NONE]), Math.floor(random() * 4), word(), ...nameWords(pick(["work", "_start", "leaf", "", "x".repeat(300)])).slice(0, 1 + Math.floor(random() * 70)));
      // Half the time, arguments of the right shape (so that the operations also succeed, and act).
      if (label === Op.PROCESS_DEBUG_WATCH && random() < 0.5) words.splice(0, words.length, DATA + Math.floor(random() * 3) * 4096 - 2, 1 + Math.floor(random() * 2), 1 + Math.floor(random() * 2));
      if ((label === Op.PROCESS_DEBUG_WRITE || label === Op.PROCESS_DEBUG_READ) && random() < 0.5) {
        words.splice(0, words.length, DATA - 8 + Math.floor(random() * 8200), Math.floor(random() * 12), random() < 0.3 ? 1 : 0, word(), word(), word());
      }
      if (label === Op.PROCESS_DEBUG_ATTACH && random() < 0.5) words.splice(0, words.length, random() < 0.2 ? 1 : 0);
      const caps = random() < 0.5 || label === Op.PROCESS_DEBUG_ATTACH ? [pick([events, events, events, s.cap, 0, 1, 2, 999, events | 0x8000_0000])] : [];
      const answer = s.dbg.call(pick([s.cap, s.cap, s.cap, 0, 1, 999]), label, words, caps);
      const status = (answer instanceof Promise ? await answer : answer).status;
      tally.set(`${label.toString(16)} ${status}`, (tally.get(`${label.toString(16)} ${status}`) ?? 0) + 1);
      if (random() < 0.15) {
        // Let it run a little: to its next stop, or its end.
        s.dbg.takeEvent();
        await s.t.kernel.run();
        ran++;
      }
      while (s.dbg.takeEvent()) {}
      const broken = checkInvariants(s.t.kernel);
      if (broken.length > 0) throw new Error(`after ${label.toString(16)} ${words.map((w) => w.toString(16))}: ${broken.join("; ")}`);
    }
    expect(ran).toBeGreaterThan(50);
    // The requests reached every operation and most of them also did what they ask.
    for (const label of DEBUG_OPS) expect(tally.get(`${label.toString(16)} 0`) ?? 0, label.toString(16)).toBeGreaterThan(0);
    // Whatever state it was left in, the debugger's end lets it go (or kills it), and the machine finishes.
    s.t.kernel.kill(s.dbg.process.pid);
    await until(s.t.kernel, () => !s.target.alive, "the last target to end");
    expect(checkInvariants(s.t.kernel)).toEqual([]);
  });
});
