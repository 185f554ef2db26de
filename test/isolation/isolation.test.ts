/**
 * Whatever address a process computes, it reaches only its own memory: hostile probes against a
 * victim that holds a secret, against the kernel's tables, against the end of the window, the end
 * of the 32-bit space and page 0. Every probe runs as its own process under FuzzMachine's
 * `runIsolated`, which also fails a probe that changed any byte of physical memory outside the
 * frames allocated for it (free frames hold canaries meanwhile), or did not give them all back.
 */
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GLOBAL_SPACE_BASE } from "../../src/kernel/constants.ts";
import type { LoadedImage } from "../../src/kernel/image.ts";
import type { Process } from "../../src/kernel/process.ts";
import { LoadError } from "../../src/loader/load-error.ts";
import { FRAME, FuzzMachine, VICTIM_END, VICTIM_SECRET, VICTIM_START, userProgram, type IsolatedRun } from "../fuzz/fuzz-host.ts";
import { wat } from "../fuzz/wat.ts";
import { patience } from "../helpers/patience.ts";

const MiB = 1 << 20;
/** What write probes store; it must never appear anywhere it was not allowed to. */
const POISON = 0x41414141;

/**
 * The attacker: a 64 KiB window. `read*`, `write*`, `copy_from` and `fill` probe the address they
 * are given; `read_indirect` and `write_indirect` the one in the word at 0x1000, which the test
 * writes before the process runs (for addresses known only after the spawn, such as its own TLB).
 */
const attackerWat = `(module
  (memory 1 1)
  (func (export "read") (param $a i32) (result i32) (i32.load (local.get $a)))
  (func (export "read64") (param $a i32) (result i64) (i64.load (local.get $a)))
  (func (export "read8") (param $a i32) (result i32) (i32.load8_u (local.get $a)))
  (func (export "write") (param $a i32) (i32.store (local.get $a) (i32.const ${POISON})))
  (func (export "write64") (param $a i32) (i64.store (local.get $a) (i64.const ${POISON})))
  (func (export "write8") (param $a i32) (i32.store8 (local.get $a) (i32.const ${POISON & 0xff})))
  (func (export "read_indirect") (result i32) (i32.load (i32.load (i32.const 0x1000))))
  (func (export "write_indirect") (i32.store (i32.load (i32.const 0x1000)) (i32.const ${POISON})))
  (func (export "copy_from") (param $a i32) (result i32)
    (memory.copy (i32.const 0x2000) (local.get $a) (i32.const 16))
    (i32.load (i32.const 0x2000)))
  (func (export "fill") (param $a i32) (memory.fill (local.get $a) (i32.const 0x41) (i32.const 16)))
)`;

let host: FuzzMachine;
let attacker: LoadedImage;

beforeAll(async () => {
  host = new FuzzMachine({ memory: 4 * MiB, loader: { maxMemoryPages: 32768 } });
  await host.start();
  attacker = await host.loader.load(wat(attackerWat), "attacker");
});

afterAll(async () => {
  await host.stop();
});

/** The words a probe must never see: the victim's secret pattern, and kernel table contents. */
function forbiddenValues(): Set<number> {
  const values = new Set<number>();
  for (const [page] of host.victimPages) {
    const base = page * FRAME;
    if (base >= VICTIM_START && base < VICTIM_END) for (let i = 0; i < FRAME; i += 4) values.add(((base + i) ^ VICTIM_SECRET) | 0);
  }
  return values;
}

/** Every way a probe run can go wrong, as strings (so that one failure lists them all). */
function isolationProblems(run: IsolatedRun, label: string): string[] {
  const problems = run.strayWrites.map(
    (s) => `${label}: frame ${s.frame} (owner ${s.ownerBefore}) changed at +${s.offset}: ${(s.before >>> 0).toString(16)} -> ${(s.after >>> 0).toString(16)}`,
  );
  problems.push(...run.problems.map((p) => `${label}: ${p}`));
  if (run.timedOut) problems.push(`${label}: timed out`);
  return problems;
}

async function probe(entry: string, address: number, prepare?: (process: Process) => void): Promise<IsolatedRun> {
  return host.runIsolated(attacker, { entry, entryArgs: entry.endsWith("_indirect") ? [] : [address | 0], mapImage: false }, { prepare });
}

function expectFault(run: IsolatedRun, label: string, kinds: readonly string[]): string[] {
  const problems = isolationProblems(run, label);
  if (run.outcome.kind !== "faulted") problems.push(`${label}: did not fault; returned ${String(run.returnValue)}`);
  else if (!kinds.includes(run.outcome.fault.kind)) problems.push(`${label}: faulted ${run.outcome.fault.kind} (${run.outcome.fault.message}), expected ${kinds.join(" or ")}`);
  return problems;
}

const hex = (n: number) => "0x" + (n >>> 0).toString(16);

describe("a process cannot reach memory it was not given", () => {
  it("faults on every page beyond its window, up to 2 GiB", async () => {
    const addresses: number[] = [];
    for (let a = 0x10000; a < 0x10000 + 64 * FRAME; a += FRAME) addresses.push(a);
    for (let a = 16 * MiB; a < 2048 * MiB; a += 16 * MiB) addresses.push(a + 0x7f0);
    addresses.push(0x7ffff000, 0x7ffffffc);
    const problems: string[] = [];
    for (const address of addresses) {
      problems.push(...expectFault(await probe("read", address), `read ${hex(address)}`, ["out-of-bounds"]));
    }
    // Writes at a sample (each write probe would also show up as a stray write if it landed).
    for (const address of addresses.filter((_, i) => i % 8 === 0)) {
      problems.push(...expectFault(await probe("write", address), `write ${hex(address)}`, ["out-of-bounds"]));
    }
    expect(problems).toEqual([]);
  });

  it("faults on the whole global half when nothing is mapped there", async () => {
    const addresses: number[] = [];
    for (let a = GLOBAL_SPACE_BASE; a < 2 ** 32; a += 16 * MiB) addresses.push(a, a + 0x0abc);
    addresses.push(0xfffff000, 0xfffffffc);
    const problems: string[] = [];
    for (const address of addresses) {
      problems.push(...expectFault(await probe("read", address), `read ${hex(address)}`, ["unmapped"]));
    }
    for (const address of addresses.filter((_, i) => i % 8 === 0)) {
      problems.push(...expectFault(await probe("write", address), `write ${hex(address)}`, ["unmapped", "read-only"]));
      problems.push(...expectFault(await probe("copy_from", address), `copy_from ${hex(address)}`, ["unmapped"]));
      problems.push(...expectFault(await probe("fill", address), `fill ${hex(address)}`, ["unmapped", "read-only"]));
    }
    expect(problems).toEqual([]);
  });

  it("cannot read another program's image in the global space, only its own", async () => {
    const hello = await host.loader.load(userProgram("hello"), "hello");
    // An Image keeps hello mapped after its process ends (as a boot module's does), so the
    // attacker's image cannot take its place in the global space.
    host.kernel.imageObject(hello);
    const helloBase = (await host.runToEnd(hello, { args: ["hello"] })).process.imageBase;
    const ownBase = (await host.runToEnd(attacker, { entry: "read8", entryArgs: [0x1000] })).process.imageBase;
    expect(helloBase).toBeGreaterThanOrEqual(GLOBAL_SPACE_BASE);
    expect(ownBase).not.toBe(helloBase);
    const problems: string[] = [];
    for (const address of [helloBase, helloBase + 0x100, helloBase + FRAME]) {
      const run = await host.runIsolated(attacker, { entry: "read", entryArgs: [address | 0] });
      problems.push(...expectFault(run, `read hello's image at ${hex(address)}`, ["unmapped"]));
    }
    // Its own image it may read: the first word of a WebAssembly binary.
    const own = await host.runIsolated(attacker, { entry: "read", entryArgs: [ownBase | 0] });
    problems.push(...isolationProblems(own, "read own image"));
    expect(problems).toEqual([]);
    expect(own.returnValue).toBe(0x6d736100);
  });

  it("never sees the victim's secret at the victim's physical addresses, and cannot write there", async () => {
    // Physical addresses are meaningless to a process: in a small window they fault, in a large
    // one they are the process's own (fresh, zero) pages. Either way no secret and no write.
    const forbidden = forbiddenValues();
    expect(forbidden.size).toBeGreaterThan(1000);
    const problems: string[] = [];
    const victimFrames = host.victimPages.map(([, frame]) => frame);
    expect(victimFrames.length).toBe((VICTIM_END - VICTIM_START) / FRAME);
    for (const frame of victimFrames) {
      for (const [entry, address] of [["read", frame * FRAME], ["read", frame * FRAME + 0x7fc], ["read64", frame * FRAME + 8], ["copy_from", frame * FRAME]] as const) {
        const run = await probe(entry, address);
        problems.push(...isolationProblems(run, `${entry} ${hex(address)}`));
        const seen = typeof run.returnValue === "bigint" ? Number(BigInt.asIntN(32, run.returnValue)) : (run.returnValue as number | undefined);
        if (seen !== undefined && forbidden.has(seen | 0)) problems.push(`${entry} ${hex(address)} returned the victim's secret ${hex(seen)}`);
        if (address >= 0x10000 && run.outcome.kind !== "faulted") problems.push(`${entry} ${hex(address)} (beyond the window) did not fault`);
      }
      for (const entry of ["write", "write8", "fill"]) {
        const run = await probe(entry, frame * FRAME + 16);
        problems.push(...isolationProblems(run, `${entry} ${hex(frame * FRAME + 16)}`));
      }
    }
    problems.push(...host.checkVictim());
    expect(problems).toEqual([]);
  });

  it("reads only its own zero pages where the victim's frames are, with a window larger than physical memory", async () => {
    // 8 MiB of window over 4 MiB of RAM: every physical address is a valid virtual one. The
    // process copies the word at each victim (and kernel) frame's physical address into a list.
    const big = await host.loader.load(
      wat(`(module (memory 128 128)
        (func (export "_start") (local $i i32) (local $n i32)
          (local.set $n (i32.load (i32.const 0x1000)))
          (block $done (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (i32.store (i32.add (i32.const 0x700000) (i32.shl (local.get $i) (i32.const 2)))
              (i32.load (i32.load (i32.add (i32.const 0x1004) (i32.shl (local.get $i) (i32.const 2))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))))`),
      "big-window",
    );
    const targets: number[] = [];
    for (let f = 1; f < host.kernel.frames.frameCount; f++) {
      if (host.kernel.frames.isUsed(f)) targets.push(f * FRAME + 0x100);
    }
    const run = await host.runIsolated(big, { mapImage: false }, {
      prepare(process) {
        // This process's own kernel frames (TLB, page directory, descriptor) exist by now.
        const table = (process.space as unknown as { table: { directoryFrame: number } }).table;
        targets.push(process.space.tlb.base, process.space.tlb.base + 12, table.directoryFrame * FRAME, process.descriptor.address);
        const words = new Uint32Array([targets.length, ...targets]);
        expect(host.kernel.writeMemory(process, 0x1000, new Uint8Array(words.buffer))).toBe(true);
      },
    });
    expect(isolationProblems(run, "big window")).toEqual([]);
    expect(run.outcome).toEqual({ kind: "exited", code: 0 });
    const list = run.pages!.get(0x700000 / FRAME)!;
    const seen = new Uint32Array(list.buffer, list.byteOffset, targets.length);
    // Each address was in the process's own window and never written: it must read as zero.
    expect([...seen].filter((word) => word !== 0).map(hex)).toEqual([]);
  });

  it("cannot read or write its own TLB, page directory or descriptor at their physical addresses", async () => {
    const problems: string[] = [];
    const places: Record<string, (process: Process) => number> = {
      "read TLB": (p) => p.space.tlb.base,
      "write TLB": (p) => p.space.tlb.base + 8,
      "write TLB addend": (p) => p.space.tlb.base + 12,
      "last TLB entry": (p) => p.space.tlb.base + p.space.tlb.entries * 16 - 8,
      "page directory": (p) => (p.space as unknown as { table: { directoryFrame: number } }).table.directoryFrame * FRAME,
      descriptor: (p) => p.descriptor.address,
    };
    for (const [name, where] of Object.entries(places)) {
      for (const entry of ["read_indirect", "write_indirect"]) {
        let address = 0;
        const run = await host.runIsolated(attacker, { entry, mapImage: false }, {
          prepare(process) {
            address = where(process);
            host.kernel.writeMemory(process, 0x1000, new Uint8Array(new Uint32Array([address]).buffer));
          },
        });
        problems.push(...isolationProblems(run, `${entry} ${name} ${hex(address)}`));
        // Inside the 64 KiB window the address is the process's own memory (reads 0 or the word at
        // 0x1000 itself); beyond it, a fault. Never a TLB tag, an addend or a pid.
        if (address >= 0x10000 && run.outcome.kind !== "faulted") problems.push(`${entry} ${name} ${hex(address)}: no fault`);
        if (run.outcome.kind === "exited" && entry === "read_indirect" && run.returnValue !== 0 && !(address === 0x1000 && run.returnValue === address)) {
          problems.push(`${entry} ${name} ${hex(address)} returned ${hex(run.returnValue as number)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("faults in snoop.wasm (AssemblyScript) pointed at the global half and at the victim's frames", async () => {
    const snoop = await host.loader.load(userProgram("snoop"), "snoop");
    const problems: string[] = [];
    const targets = [GLOBAL_SPACE_BASE, 0xc0000000, 0xfffffff0, ...host.victimPages.slice(0, 4).map(([, f]) => f * FRAME + 0x40000000)];
    for (const start of targets) {
      const printed = host.stdout().length;
      const run = await host.runIsolated(snoop, { args: ["snoop", hex(start), "4"], mapImage: false });
      problems.push(...expectFault(run, `snoop ${hex(start)}`, ["unmapped", "out-of-bounds"]));
      if (host.stdout().length !== printed) problems.push(`snoop ${hex(start)} printed ${host.stdout().slice(printed)}`);
    }
    expect(problems).toEqual([]);
  });
});

describe("kernel calls act only on the caller's own memory", () => {
  // Each export hands the kernel one pointer; the kernel must refuse (E_BAD_ADDRESS -9, WASI
  // EFAULT 21) every pointer the process could not itself use that way, and write nothing.
  const callerWat = `(module
    (import "dogma" "random" (func $random (param i32 i32) (result i32)))
    (import "dogma" "arg_get" (func $arg_get (param i32 i32 i32) (result i32)))
    (import "dogma" "console_write" (func $console_write (param i32 i32 i32) (result i32)))
    (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory 1 1)
    (func (export "random") (param $p i32) (result i32) (call $random (local.get $p) (i32.const 16)))
    (func (export "arg_get") (param $p i32) (result i32) (call $arg_get (i32.const 0) (local.get $p) (i32.const 16)))
    (func (export "console_write") (param $p i32) (result i32) (call $console_write (i32.const 1) (local.get $p) (i32.const 16)))
    (func (export "invoke") (param $p i32) (result i32) (call $invoke (i32.const 0) (local.get $p) (i32.const 20)))
    (func (export "random_get") (param $p i32) (result i32) (call $random_get (local.get $p) (i32.const 16)))
    (func (export "args_get") (param $p i32) (result i32) (call $args_get (i32.const 0x2000) (local.get $p)))
    (func (export "args_get_pointers") (param $p i32) (result i32) (call $args_get (local.get $p) (i32.const 0x2000)))
    (func (export "clock_time_get") (param $p i32) (result i32) (call $clock_time_get (i32.const 0) (i64.const 1) (local.get $p)))
    (func (export "fd_write") (param $p i32) (result i32)
      (i32.store (i32.const 0x3000) (local.get $p)) (i32.store (i32.const 0x3004) (i32.const 16))
      (call $fd_write (i32.const 1) (i32.const 0x3000) (i32.const 1) (i32.const 0x3008)))
    (func (export "fd_write_iovecs") (param $p i32) (result i32) (call $fd_write (i32.const 1) (local.get $p) (i32.const 1) (i32.const 0x3008)))
    (func (export "fd_write_result") (param $p i32) (result i32)
      (i32.store (i32.const 0x3000) (i32.const 0x3100)) (i32.store (i32.const 0x3004) (i32.const 4))
      (call $fd_write (i32.const 1) (i32.const 0x3000) (i32.const 1) (local.get $p)))
    (func (export "_start")))`;

  it("refuses pointers into the image, the high half, physical addresses, past the end and past 4 GiB", async () => {
    const caller = await host.loader.load(wat(callerWat), "caller");
    // Map the image once, outside the measured runs (the image store keeps it), to learn its base.
    const imageBase = (await host.runToEnd(caller, {})).process.imageBase;
    expect(imageBase).toBeGreaterThanOrEqual(GLOBAL_SPACE_BASE);
    const victimPhysical = host.victimPages[7]![1] * FRAME;
    const pointers: Record<string, number> = {
      "the read-only image": imageBase,
      "the high half": 0x90000000,
      "a victim frame's physical address": victimPhysical < 0x10000 ? victimPhysical + 0x40000 : victimPhysical,
      "2 bytes before the end": 0xfffe,
      "the top of the 32-bit space": 0xfffffff8,
      "page 0": 0x10,
    };
    const reads = new Set(["console_write", "invoke", "fd_write", "fd_write_iovecs"]);
    const entries = ["random", "arg_get", "console_write", "invoke", "random_get", "args_get", "args_get_pointers", "clock_time_get", "fd_write", "fd_write_iovecs", "fd_write_result"];
    const problems: string[] = [];
    for (const entry of entries) {
      for (const [where, pointer] of Object.entries(pointers)) {
        // Reading the image is allowed: it is the process's own, read-only.
        if (reads.has(entry) && where === "the read-only image") continue;
        const printed = host.stdout().length;
        const run = await host.runIsolated(caller, { entry, entryArgs: [pointer | 0], args: ["caller-with-a-long-argument"] });
        const label = `${entry}(${where} ${hex(pointer)})`;
        problems.push(...isolationProblems(run, label));
        const expected = entry.startsWith("random_get") || entry.startsWith("args_get") || entry.startsWith("clock") || entry.startsWith("fd_") ? 21 : -9;
        if (run.outcome.kind !== "exited") problems.push(`${label}: ${JSON.stringify(run.outcome)}`);
        else if (run.returnValue !== expected) problems.push(`${label} returned ${String(run.returnValue)}, not ${expected}`);
        // (fd_write_result writes its data before it finds the result pointer bad, as WASI allows.)
        if (host.stdout().length !== printed && entry !== "fd_write_result") problems.push(`${label} printed ${JSON.stringify(host.stdout().slice(printed))}`);
        // Nothing was written below the end either (no partial copy).
        const last = run.pages?.get(15);
        if (last && last.subarray(FRAME - 8).some((b) => b !== 0)) problems.push(`${label} wrote below the end`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("fault kinds at the edges", () => {
  it("faults null-page on page 0, reading or writing", async () => {
    const problems: string[] = [];
    for (const [entry, address] of [["read", 0], ["read", 0xffc], ["read8", 0xfff], ["write", 0x10], ["write8", 0], ["read64", 0xff8]] as const) {
      const run = await probe(entry, address);
      problems.push(...expectFault(run, `${entry} ${hex(address)}`, ["null-page"]));
      if (run.outcome.kind === "faulted" && run.outcome.fault.address !== address) problems.push(`${entry}: fault address ${run.outcome.fault.address}`);
    }
    const nullProgram = await host.runIsolated(await host.loader.load(userProgram("fault-null"), "fault-null"), { mapImage: false });
    problems.push(...expectFault(nullProgram, "fault-null.wasm", ["null-page"]));
    expect(problems).toEqual([]);
  });

  it("faults read-only on a write to its own image, and leaves the image unchanged", async () => {
    const readonly = await host.loader.load(userProgram("fault-readonly"), "fault-readonly");
    // The image's frames are the kernel's and are kept: map them once, outside the measured run.
    await host.runToEnd(readonly, { args: ["fault-readonly"] });
    const run = await host.runIsolated(readonly, { args: ["fault-readonly"] });
    expect(isolationProblems(run, "fault-readonly")).toEqual([]);
    expect(run.outcome.kind === "faulted" && run.outcome.fault.kind).toBe("read-only");
    expect(run.outcome.kind === "faulted" && run.outcome.fault.address).toBe(run.process.imageBase);

    // The same through memory.fill and memory.copy, after reads have put the image page (and the
    // copy's source page) in the read TLB, so that only the write TLB stands in the way.
    const image = await host.loader.load(
      wat(`(module (import "dogma" "image_base" (func $base (result i32))) (memory 1 1)
        (func (export "fill") (drop (i32.load (call $base))) (memory.fill (call $base) (i32.const 0x41) (i32.const 8)))
        (func (export "copy") (drop (i32.load (call $base))) (drop (i32.load (i32.const 0x1000))) (memory.copy (call $base) (i32.const 0x1000) (i32.const 8)))
        (func (export "store") (drop (i32.load (call $base))) (i32.store (call $base) (i32.const 1))))`),
      "image-writer",
    );
    await host.runToEnd(image, { entry: "store" });
    for (const entry of ["fill", "copy", "store"]) {
      const run = await host.runIsolated(image, { entry });
      expect(isolationProblems(run, entry)).toEqual([]);
      expect(run.outcome.kind === "faulted" && run.outcome.fault.kind, entry).toBe("read-only");
    }
  });

  it("faults out-of-bounds when ptr + offset passes 4 GiB, even where the wrapped address is mapped", async () => {
    // Every probe first writes a marker at 0x1000 and reads it back, so that page 1 is in both
    // TLBs; then accesses 0xFFFFF000 + 0x2000 (and similar), whose low 32 bits are 0x1000. A
    // translation that wrapped would return the marker or overwrite it, through the TLB's fast
    // path or the kernel's slow path.
    const accesses = [
      ["i32.load", "(result i32)", "(i32.load offset=0x2000 (i32.const 0xfffff000))"],
      ["i64.load", "(result i64)", "(i64.load offset=0x2000 (i32.const 0xfffff000))"],
      ["i32.load8_u", "(result i32)", "(i32.load8_u offset=0x2000 (i32.const 0xfffff000))"],
      ["i64.load32_s", "(result i64)", "(i64.load32_s offset=0x2000 (i32.const 0xfffff000))"],
      ["f64.load", "(result f64)", "(f64.load offset=0x2000 (i32.const 0xfffff000))"],
      ["i32.load large offset", "(result i32)", "(i32.load offset=0xfffff000 (i32.const 0x2000))"],
      ["i32.load offset 0xffffffff", "(result i32)", "(i32.load offset=0xffffffff (i32.const 0x1001))"],
      ["i32.load unaligned", "(result i32)", "(i32.load offset=0x2002 (i32.const 0xfffff000))"],
      ["i32.store", "", "(i32.store offset=0x2000 (i32.const 0xfffff000) (i32.const 0x41414141))"],
      ["i64.store", "", "(i64.store offset=0x2000 (i32.const 0xfffff000) (i64.const 0x4141414141414141))"],
      ["i32.store8", "", "(i32.store8 offset=0x2000 (i32.const 0xfffff000) (i32.const 0x41))"],
      ["f32.store large offset", "", "(f32.store offset=0xfffff000 (i32.const 0x2000) (f32.const 1))"],
      ["i64.store unaligned", "", "(i64.store offset=0x2001 (i32.const 0xfffff000) (i64.const -1))"],
    ];
    const problems: string[] = [];
    for (const [name, result, access] of accesses) {
      const text = `(module (memory 1 1)
        (func (export "_start") ${result}
          (i64.store (i32.const 0x1000) (i64.const 0x0123456789abcdef))
          (drop (i64.load (i32.const 0x1000)))
          ${access}))`;
      const image = await host.loader.load(wat(text), name!);
      const run = await host.runIsolated(image, { mapImage: false });
      problems.push(...expectFault(run, name!, ["out-of-bounds"]));
      const page1 = run.pages?.get(1);
      const marker = page1 ? new DataView(page1.buffer, page1.byteOffset).getBigUint64(0, true) : null;
      if (marker !== 0x0123456789abcdefn) problems.push(`${name}: the marker at 0x1000 is ${marker?.toString(16)}`);
    }
    expect(problems).toEqual([]);
  });

  it("faults an access that straddles the end of memory without writing its first bytes", async () => {
    // The 16 bytes below the end hold 0xAB; each store straddles the end by at least one byte.
    const stores = [
      ["i64.store at end-4", "(i64.store (i32.const 0xfffc) (i64.const 0x1111111111111111))"],
      ["i64.store at end-1", "(i64.store (i32.const 0xffff) (i64.const -1))"],
      ["i64.store at end-7", "(i64.store (i32.const 0xfff9) (i64.const -1))"],
      ["i32.store at end-2", "(i32.store (i32.const 0xfffe) (i32.const -1))"],
      ["i32.store16 at end-1", "(i32.store16 (i32.const 0xffff) (i32.const -1))"],
      ["f64.store at end-3", "(f64.store (i32.const 0xfffd) (f64.const 1))"],
      ["i64.store32 at end-2", "(i64.store32 (i32.const 0xfffe) (i64.const -1))"],
      ["i32.store offset", "(i32.store offset=0xfff0 (i32.const 0xd) (i32.const -1))"],
      ["memory.fill past the end", "(memory.fill (i32.const 0xfff0) (i32.const 0x41) (i32.const 0x11))"],
      ["memory.fill from below past the end", "(memory.fill (i32.const 0xe000) (i32.const 0x41) (i32.const 0x2001))"],
      ["memory.copy to past the end", "(memory.copy (i32.const 0xfff8) (i32.const 0x1000) (i32.const 9))"],
      // The module copies and fills ranges whose pages are all in the TLB itself (bulk-helpers.ts):
      // every page but the last is, here, and still nothing may be written.
      ["memory.fill from below past the end, its pages in the TLB", "(i32.store (i32.const 0xe000) (i32.const 0)) (memory.fill (i32.const 0xe000) (i32.const 0x41) (i32.const 0x2001))"],
      [
        "memory.copy from below past the end, its pages in the TLBs",
        "(i32.store (i32.const 0xe000) (i32.const 0)) (drop (i32.load (i32.const 0x2000))) (drop (i32.load (i32.const 0x3000))) (memory.copy (i32.const 0xe000) (i32.const 0x1000) (i32.const 0x2001))",
      ],
      ["memory.copy within a page, dest past the end", "(memory.copy (i32.const 0xfffc) (i32.const 0xf000) (i32.const 8))"],
      ["memory.copy from past the end", "(memory.copy (i32.const 0xfff0) (i32.const 0xfff8) (i32.const 9))"],
      ["memory.fill wrapping past 4 GiB", "(memory.fill (i32.const 0xfffffff0) (i32.const 0x41) (i32.const 0x10010))"],
      ["memory.copy wrapping past 4 GiB", "(memory.copy (i32.const 0xfff0) (i32.const 0xfffffff8) (i32.const 0x10))"],
      ["memory.init past the end", "(memory.init $seg (i32.const 0xfff8) (i32.const 0) (i32.const 9))"],
    ];
    const problems: string[] = [];
    for (const [name, store] of stores) {
      const text = `(module (memory 1 1) (data $seg "\\41\\41\\41\\41\\41\\41\\41\\41\\41\\41\\41\\41\\41\\41\\41\\41")
        (func (export "_start")
          (memory.fill (i32.const 0xfff0) (i32.const 0xab) (i32.const 16))
          (i64.store (i32.const 0x1000) (i64.const 0x4141414141414141))
          (i64.store (i32.const 0x1008) (i64.const 0x4141414141414141))
          (drop (i32.load (i32.const 0xfff0)))
          ${store}))`;
      const image = await host.loader.load(wat(text), name!);
      const run = await host.runIsolated(image, { mapImage: false });
      problems.push(...expectFault(run, name!, ["out-of-bounds"]));
      const last = run.pages?.get(15);
      const tail = last ? [...last.subarray(FRAME - 16)] : [];
      if (tail.some((b) => b !== 0xab)) problems.push(`${name}: the last 16 bytes are ${tail.map((b) => b.toString(16)).join(" ")}`);
      // The fill from below must not have filled the pages it could reach either.
      const below = run.pages?.get(14);
      if (below && below.some((b) => b !== 0)) problems.push(`${name}: page 14 was written`);
    }
    expect(problems).toEqual([]);
  });

  it("does complete page-crossing and unaligned accesses inside the window", async () => {
    // The counterpart of the test above: crossing a page boundary is legal when both pages are.
    const image = await host.loader.load(
      wat(`(module (memory 1 1)
        (func (export "_start") (result i64)
          (i64.store (i32.const 0x1ffc) (i64.const 0x0807060504030201))
          (i32.store (i32.const 0x2ffe) (i32.const 0x0d0c0b0a))
          (memory.copy (i32.const 0x3ff8) (i32.const 0x1ff8) (i32.const 16))
          (i64.add (i64.load (i32.const 0x3ffc)) (i64.load32_u (i32.const 0x2ffe)))))`),
      "crossing",
    );
    const run = await host.runIsolated(image, { mapImage: false });
    expect(isolationProblems(run, "crossing")).toEqual([]);
    expect(run.outcome).toEqual({ kind: "exited", code: 0 });
    expect(run.returnValue).toBe(0x0807060504030201n + 0x0d0c0b0an);
  });

  it("faults a store that straddles 2 GiB into the read-only image without writing below it", async () => {
    // A 2 GiB window ends where the global space starts; the first image mapped on a machine
    // sits right there. Its frames are the kernel's: the stray-write check covers them.
    const edge = new FuzzMachine({ memory: 4 * MiB, loader: { maxMemoryPages: 32768 } });
    await edge.start();
    try {
      const image = await edge.loader.load(
        wat(`(module (import "dogma" "image_base" (func $base (result i32))) (memory 32768 32768)
          (func (export "base") (result i32) (call $base))
          (func (export "_start")
            (i64.store (i32.const 0x7ffffff8) (i64.const -1))
            (drop (i32.load (i32.const 0x80000000)))
            (i64.store (i32.const 0x7ffffffc) (i64.const 0x4141414141414141))))`),
        "edge",
      );
      await edge.runToEnd(image, { entry: "base" });
      const run = await edge.runIsolated(image, {});
      expect(run.process.imageBase).toBe(GLOBAL_SPACE_BASE);
      expect(isolationProblems(run, "edge")).toEqual([]);
      expect(run.outcome.kind === "faulted" && run.outcome.fault.kind).toBe("read-only");
      const top = run.pages!.get(0x7ffff)!;
      expect([...top.subarray(FRAME - 8)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    } finally {
      await edge.stop();
    }
  });
});

describe("zero-length bulk operations", () => {
  // WebAssembly traps memory.fill/copy/init of length 0 whose address is past the end of memory;
  // at the end exactly, or below it, they do nothing.
  const zeroLength = (op: string) => wat(`(module (memory 1 1) (data $seg "abc") (func (export "_start") ${op}))`);
  const cases: Array<[string, string]> = [
    ["fill at the end", "(memory.fill (i32.const 0x10000) (i32.const 0) (i32.const 0))"],
    ["copy to the end", "(memory.copy (i32.const 0x10000) (i32.const 0x1000) (i32.const 0))"],
    ["init at the end", "(memory.init $seg (i32.const 0x10000) (i32.const 0) (i32.const 0))"],
  ];
  const pastTheEnd: Array<[string, string]> = [
    ["fill past the end", "(memory.fill (i32.const 0x10001) (i32.const 0) (i32.const 0))"],
    ["copy from past the end", "(memory.copy (i32.const 0x1000) (i32.const 0x7fffffff) (i32.const 0))"],
    ["init past the end", "(memory.init $seg (i32.const 0x20000) (i32.const 0) (i32.const 0))"],
  ];
  // In the high half, where nothing is mapped for this process.
  const inTheHighHalf: Array<[string, string]> = [
    ["fill at 0x90000000", "(memory.fill (i32.const 0x90000000) (i32.const 0) (i32.const 0))"],
    ["copy to 0xffffffff", "(memory.copy (i32.const 0xffffffff) (i32.const 0x1000) (i32.const 0))"],
    ["copy from 0x80000000", "(memory.copy (i32.const 0x1000) (i32.const 0x80000000) (i32.const 0))"],
    ["init at 0xfffffff0", "(memory.init $seg (i32.const 0xfffffff0) (i32.const 0) (i32.const 0))"],
  ];

  async function outcomes(list: Array<[string, string]>): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    for (const [name, op] of list) {
      const bytes = zeroLength(op);
      let native = "returns";
      try {
        (new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports._start as () => void)();
      } catch {
        native = "traps";
      }
      const run = await host.runIsolated(await host.loader.load(bytes, name), { mapImage: false });
      expect(isolationProblems(run, name)).toEqual([]);
      result[name] = `native ${native}, Dogma ${run.outcome.kind === "faulted" ? "traps" : "returns"}`;
    }
    return result;
  }

  it("do nothing at the end of memory and trap past it, as natively", async () => {
    const result = await outcomes([...cases, ...pastTheEnd]);
    for (const [name, said] of Object.entries(result)) expect(said, name).toMatch(/^native (\w+), Dogma \1$/);
  });

  // A zero-length bulk operation in the high half traps unless its address is in a mapped page
  // or just past one (src/kernel/memory-instructions.ts checkEmptyRange), as natively.
  // Found by the loader fuzzer (test/fuzz).
  it("trap in the high half where nothing is mapped, as natively", async () => {
    const result = await outcomes(inTheHighHalf);
    for (const [name, said] of Object.entries(result)) expect(said, name).toMatch(/^native (\w+), Dogma \1$/);
  });
});

describe("a faulting process", () => {
  it("leaves the kernel and the other processes running, and gives all its frames back", async () => {
    const hello = await host.loader.load(userProgram("hello"), "hello");
    const faulty = ["fault-oob", "fault-null", "fault-divzero", "fault-unreachable", "fault-stack", "fault-readonly"];
    const images = await Promise.all(faulty.map(async (name) => [name, await host.loader.load(userProgram(name), name)] as const));
    // Map every image once: the image store keeps those frames for good.
    await host.runToEnd(hello, { args: ["hello"] });
    for (const [name, image] of images) await host.runToEnd(image, { args: [name] });
    const freeBefore = host.kernel.frames.freeCount;

    const printed = host.stdout().length;
    const runs = images.map(([name, image]) => host.runToEnd(image, { args: [name] }));
    const greeter = host.runToEnd(hello, { args: ["hello", "still here"] });
    const outcomes = await Promise.all(runs);
    const greeted = await greeter;
    for (const { process, outcome } of outcomes) expect(outcome.kind, process.image.name).toBe("faulted");
    expect(greeted.outcome).toEqual({ kind: "exited", code: 0 });
    expect(host.stdout().slice(printed)).toContain(`hello from dogma pid ${greeted.process.pid}\nstill here\n`);
    expect(host.kernel.frames.freeCount).toBe(freeBefore);
    for (const { process } of outcomes) {
      const usage = host.kernel.frames.usage();
      expect(usage.get(process.pid) ?? 0, process.image.name).toBe(0);
    }
    expect(host.checkVictim()).toEqual([]);
  });
});

// BUG — ISOLATION HOLE (src/loader/rewrite.ts, rewriteModule: `if (info.module ||
// info.name.startsWith("dogma$")) continue;`). The rewriter leaves alone every function whose
// internal name starts with "dogma$", meaning its own helpers dogma$copy and dogma$fill
// (rewrite-bulk.ts). But binaryen takes function names from the module's name section, which the
// program's author writes. A function named `dogma$anything` keeps its raw loads and stores and
// gets no safe points. If the module also names its memory `dogma$physical` (PHYSICAL_MEMORY,
// also a name-section name), those raw accesses still validate after replaceMemory() and go
// straight to the physical memory: the process reads and writes any physical address (other
// processes' pages, page tables, TLBs). Without safe points, a loop in such a function is never
// preempted and the host never runs again (not even its timers).
// Same cause: binaryen's addGlobalImport/addFunctionImport reuse an entity that already has the
// internal name, so a module global named `dogma$tlb` becomes the kernel's TLB-address import
// (a physical address leaks); `dogma$fuel` or a function `dogma$copy` make addGlobal/addFunction
// abort inside binaryen, and the loader throws something that is not a LoadError.
// Fix: rewrite exactly the functions the module defined (those with index below the function count
// taken before addBulkHelpers, or a set of refs recorded before), never by name; and refuse with a
// LoadError (or rename, or drop the name section for) any function, global, memory, table or
// data segment name that starts with "dogma$".
// The loader reserves "dogma$" names and rewrites functions by index, never by name.
describe("names in the loader's own namespace (dogma$…)", () => {
  it("do not let a function escape the rewriter and reach physical memory", async () => {
    const victimFrame = host.victimPages[3]![1];
    const physical = victimFrame * FRAME + 0x100;
    const secret = ((host.victimPages[3]![0] * FRAME + 0x100) ^ VICTIM_SECRET) | 0;
    let image: LoadedImage;
    try {
      image = await host.loader.load(
        wat(`(module (memory $dogma$physical 1 1)
          (func $dogma$peek (param i32) (result i32) (i32.load (local.get 0)))
          (func $dogma$poke (param i32) (i32.store (local.get 0) (i32.const ${POISON})))
          (func (export "peek") (param i32) (result i32) (call $dogma$peek (local.get 0)))
          (func (export "poke") (param i32) (call $dogma$poke (local.get 0))))`),
        "escape",
      );
    } catch (error) {
      // Refusing such a module is a fine answer too.
      expect(error).toBeInstanceOf(LoadError);
      return;
    }
    const read = await host.runIsolated(image, { entry: "peek", entryArgs: [physical], mapImage: false });
    const write = await host.runIsolated(image, { entry: "poke", entryArgs: [physical], mapImage: false });
    expect({ returned: read.returnValue === secret ? "the victim's secret" : "something else", strayWrites: write.strayWrites.length }).toEqual({
      returned: "something else",
      strayWrites: 0,
    });
    expect(read.outcome.kind).toBe("faulted");
    expect(write.outcome.kind).toBe("faulted");
    expect(host.checkVictim()).toEqual([]);
  });

  it("do not turn a module's own global into the kernel's TLB address", async () => {
    let image: LoadedImage;
    try {
      image = await host.loader.load(wat(`(module (memory 1 1) (global $dogma$tlb i32 (i32.const 0x1234)) (func (export "_start") (result i32) (global.get $dogma$tlb)))`), "tlb-leak");
    } catch (error) {
      expect(error).toBeInstanceOf(LoadError);
      return;
    }
    const run = await host.runIsolated(image, { mapImage: false });
    expect(run.returnValue).toBe(0x1234);
  });

  it("are refused with a LoadError, not a binaryen abort, when they collide with the loader's", async () => {
    const colliding = [
      `(module (memory 1 1) (global $dogma$fuel (mut i32) (i32.const 0)) (func (export "_start")))`,
      `(module (memory 1 1) (func $dogma$copy (param i32 i32 i32)) (func (export "_start") (call $dogma$copy (i32.const 0) (i32.const 0) (i32.const 0))))`,
    ];
    const outcomes: string[] = [];
    for (const [i, text] of colliding.entries()) {
      try {
        const image = await host.loader.load(wat(text), `collide-${i}`);
        const run = await host.runIsolated(image, { mapImage: false });
        outcomes.push(`loaded, ${run.outcome.kind}, stray writes ${run.strayWrites.length}`);
      } catch (error) {
        outcomes.push(error instanceof LoadError ? "LoadError" : `threw ${error?.constructor?.name}: ${String(error).slice(0, 120)}`);
      }
    }
    for (const outcome of outcomes) expect(outcome).toMatch(/^(LoadError|loaded, (exited|faulted), stray writes 0)$/);
  });

  it("do not let a function run without safe points and keep the CPU for ever", async () => {
    // In a worker thread, because the failure mode is a thread that never runs JavaScript again.
    const worker = new Worker(new URL("./spin-worker.ts", import.meta.url));
    try {
      const answer = await new Promise<string>((resolve) => {
        worker.on("message", (message: string) => {
          // Loaded: from now on a preempted spinner lets the second process end within a slice or
          // two, and a spinner that keeps the CPU never answers. The bound starts here, so a slow
          // start on a busy machine does not count against it (it took 7.4 s at load 20).
          if (message === "loaded") setTimeout(() => resolve("no answer: the spinning process kept the CPU"), patience(10_000));
          else resolve(message);
        });
        worker.once("error", (error) => resolve(`worker error: ${String(error)}`));
      });
      expect(answer).toMatch(/^(refused|ran)$/);
    } finally {
      await worker.terminate();
    }
  }, patience(60_000));
});
