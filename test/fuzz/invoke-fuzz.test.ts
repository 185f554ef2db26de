/**
 * Fuzzing the invoke path. Processes generated from a seed call `invoke` hundreds of times with
 * random capability indices (huge and negative too), labels (kernel operations, the kernel range,
 * kernel message labels, user labels), header counts that lie, capacities, buffer pointers
 * (unmapped, page 0, the high half, across pages, across 4 GiB) and CAP_MOVE bits, over a machine
 * where a victim server keeps a pattern in memory and answers a witness's calls.
 *
 * What must hold: the kernel never throws (a throw would fault a process with a "kernel bug"
 * trap, or reject `run`); every invoke answers a documented status or a small non-negative
 * result; an invoke that fails leaves its buffer as it was; the victim's pattern is intact and the
 * witness gets every answer right; the kernel's memory invariants hold between any two of its steps
 * (src/kernel/invariants.ts); and once everything has ended and the host has destroyed the
 * Memories it handed out, every frame and every quota page is back.
 *
 * A failure names its seed; rerun one with INVOKE_FUZZ_SEED=<seed>.
 */
import { describe, expect, it } from "vitest";
import { Capability } from "../../src/kernel/caps/capability.ts";
import { Cappage } from "../../src/kernel/caps/cappage.ts";
import type { MemoryObject } from "../../src/kernel/caps/memory-object.ts";
import { CAP_MOVE, KernelMessage, Op, PageFlag, Rights } from "../../src/kernel/caps/object-abi.ts";
import { PageObject } from "../../src/kernel/caps/page.ts";
import { ImageBuilder } from "../../src/kernel/caps/image-builder.ts";
import { hostPages } from "../../src/kernel/caps/image-charge.ts";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import type { Process } from "../../src/kernel/process.ts";
import { wat } from "../helpers/wat.ts";
import { prng } from "../caps/prng.ts";
import { ALL, BUF, R0, SCRATCH, Script, type ScriptMachine, makeReceiver, scriptMachine } from "../caps/script.ts";
import { patience } from "../helpers/patience.ts";
import { TestStore } from "../helpers/test-store.ts";

const FUZZERS = 6;
const INVOKES = 400;
const DEFAULT_SEEDS = [0x1d0c5eed, 0x2b7e1516, 0x5eed0003];
const SEEDS = process.env.INVOKE_FUZZ_SEED ? [Number(process.env.INVOKE_FUZZ_SEED)] : DEFAULT_SEEDS;
/**
 * Seeds run with demand paging on and every evictable page evicted at each reclaim (free frames
 * kept below the low-water mark), so that the calls meet pages with the pager: PAGE_MAP over one,
 * PROCESS_DISCARD, PROCESS_COPY_PAGES, message buffers. Without it the fuzzer never reached paging
 * (redteam17's slot leak was there). INVOKE_FUZZ_PAGING=1 runs INVOKE_FUZZ_SEED so.
 */
const PAGING_SEEDS = process.env.INVOKE_FUZZ_SEED ? (process.env.INVOKE_FUZZ_PAGING ? SEEDS : []) : [0x9a9e_0017];
const STORE_PAGES = 4096;

/** The victim fills its scratch pages with `VICTIM_BASE + i` (word i from SCRATCH). */
const VICTIM_BASE = 0x71c7_0000;
const VICTIM_WORDS = 5 * 1024;
const WITNESS_CALLS = 60;
/** Where a fuzzer keeps its count of buffers changed by a failed invoke, and the first one. */
const VIOLATIONS = 0x1000;

const OPS = Object.values(Op);
const KERNEL_MESSAGES = Object.values(KernelMessage);

/** A word of a generated call: a constant, or a capability index the fuzzer received earlier. */
type Value = number | { recent: number; move: boolean };

/** One generated invoke. */
interface Call {
  cap: Value;
  ptr: number;
  len: number;
  /** The words written at `ptr` (header first), or null when `ptr` is not ours to write. */
  message: Value[] | null;
}

/** Where a fuzzer keeps the last RECENT capability indices it was handed, and how many so far. */
const RECENT = 0x1100;
const RECENT_SLOTS = 16;
const RECENT_COUNT = 0x1040;

/** The WebAssembly expression for a value. */
function expr(value: Value): string {
  if (typeof value === "number") return `(i32.const ${value | 0})`;
  const load = `(i32.load (i32.const ${RECENT + 4 * value.recent}))`;
  return value.move ? `(i32.or ${load} (i32.const ${CAP_MOVE | 0}))` : load;
}

/** Operations by the kind of object they are for, and the kinds of the slots a fuzzer starts with. */
const OPS_BY_PREFIX = (prefix: number) => OPS.filter((op) => op >>> 8 === prefix >>> 8 || op >>> 8 === 0xffff00);
const SLOT_OPS: Record<number, readonly number[]> = {
  1: OPS_BY_PREFIX(Op.PROCESS_START),
  2: OPS_BY_PREFIX(Op.MEMORY_INFO),
  3: OPS_BY_PREFIX(Op.RECEIVER_RECEIVE),
  4: OPS_BY_PREFIX(Op.RECEIVER_RECEIVE),
  5: OPS_BY_PREFIX(Op.RECEIVER_RECEIVE),
  6: OPS_BY_PREFIX(Op.CAPPAGE_PUT),
  7: OPS_BY_PREFIX(Op.IMAGE_INFO),
  8: OPS_BY_PREFIX(Op.INTERRUPT_BIND),
  9: OPS_BY_PREFIX(Op.PAGE_MAP),
  10: OPS_BY_PREFIX(Op.REGION_INFO),
  11: OPS_BY_PREFIX(Op.IMAGE_BUILDER_APPEND),
  12: OPS_BY_PREFIX(Op.PROCESS_START),
};
/** Given slots: 1-12 (SLOT_OPS); what a fuzzer creates lands after them. */
const GIVEN_SLOTS = 12;

function generate(seed: number): Call[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const chance = (p: number) => random() < p;
  const u32 = () => Math.floor(random() * 2 ** 32) >>> 0;
  const small = () => Math.floor(random() * 9);
  // Slots 1–GIVEN_SLOTS hold what the fuzzer was given; what it creates lands after them.
  const capIndex = (): number => {
    const r = random();
    if (r < 0.8) return 1 + Math.floor(random() * GIVEN_SLOTS);
    if (r < 0.9) return GIVEN_SLOTS + 1 + Math.floor(random() * 20);
    return pick([0, 31 + Math.floor(random() * 100), 1023, 1024, 0xffff_ffff, 0x7fff_ffff, CAP_MOVE | 2, 4096, u32()]);
  };
  // A third of the time, a capability the fuzzer was handed by an earlier answer.
  const anyCap = (move = false): Value => (chance(0.33) ? { recent: Math.floor(random() * RECENT_SLOTS), move } : (capIndex() | (move ? CAP_MOVE : 0)) >>> 0);
  const word = () => {
    const r = random();
    if (r < 0.4) return small();
    if (r < 0.55) return 0x3000 + 0x1000 * Math.floor(random() * 12);
    if (r < 0.65) return pick([0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 1024, 1025, 256, 255, 64, 65]);
    if (r < 0.75) return pick(Object.values(Rights));
    if (r < 0.85) return pick([1_000, 50_000, 0, 0xffff_ffff]);
    return u32();
  };
  const calls: Call[] = [];
  for (let i = 0; i < INVOKES; i++) {
    const cap = anyCap();
    const r = random();
    let label =
      r < 0.55 && typeof cap === "number" && SLOT_OPS[cap]
        ? pick(SLOT_OPS[cap]!)
        : r < 0.7
          ? pick(OPS)
          : r < 0.75
            ? (0xffff_0000 | Math.floor(random() * 0x1000)) >>> 0
            : r < 0.78
              ? pick(KERNEL_MESSAGES)
              : chance(0.7)
                ? small()
                : u32() % 0xffff_0000;
    // Given capabilities should not all be gone after a few calls: most drops of them become
    // another operation of their kind.
    if (label === Op.CAP_DROP && typeof cap === "number" && SLOT_OPS[cap] && chance(0.8)) label = pick(SLOT_OPS[cap]!);
    const n = chance(0.75) ? Math.floor(random() * 4) : chance(0.8) ? Math.floor(random() * 65) : 0;
    let words = Array.from({ length: n }, word);
    // Receives and waits that would block for ever mostly get a short timeout instead.
    if ((label === Op.RECEIVER_RECEIVE || label === Op.PROCESS_WAIT) && chance(0.85)) words = [pick([0, 20_000, 200_000]), 0];
    let c = chance(0.6) ? 0 : chance(0.7) ? 1 : Math.floor(random() * 5);
    let caps = Array.from({ length: c }, () => anyCap(chance(0.15)));
    // An APPEND mostly of the given Region's first 8 bytes (the builder's whole binary), so that LOADs happen.
    if (cap === 11 && label === Op.IMAGE_BUILDER_INFO) label = Op.IMAGE_BUILDER_LOAD;
    if (label === Op.IMAGE_BUILDER_APPEND && chance(0.6)) {
      words = [chance(0.8) ? 8 : small()];
      caps = [chance(0.8) ? 10 : anyCap()];
      c = 1;
    }
    let claimedN = words.length;
    let claimedC = caps.length;
    if (chance(0.04)) claimedN = pick([65, 0xffff_ffff, words.length + 1, 64, Math.max(0, words.length - 1)]);
    if (chance(0.04)) claimedC = pick([5, 0xffff_ffff, caps.length + 1, 4]);
    const recv = chance(0.92) ? 0 : anyCap();
    const message: Value[] = [label, claimedN, claimedC, recv, u32(), ...words, ...caps];
    const where = random();
    let ptr: number;
    if (where < 0.8) ptr = BUF;
    else if (where < 0.9) ptr = pick([0x2fe0, 0x2ffc, 0x3ff0, 0x2001, 0x4ffe, 0x1800, 0xfe00]) + (chance(0.3) ? Math.floor(random() * 64) : 0);
    else ptr = pick([0, 4, 0xffc, 0x10000, 0xfff0, 0xffec, 0x7fff_fff0, 0x8000_0000, 0x8000_1000, 0xc000_0000, 0xffff_fff0, 0xffff_fffc, u32()]);
    const inMemory = ptr >= 0x1800 && ptr + 4 * message.length <= 0x10000;
    const exact = 4 * message.length;
    const lr = random();
    const len = lr < 0.78 ? 292 : lr < 0.9 ? exact : pick([0, 16, 19, 20, 21, 24, 296, 1024, 0xffff_fffc, 0x7fff_ffff, exact + 2, exact - 4]);
    calls.push({ cap, ptr, len, message: inMemory ? message : null });
  }
  return calls;
}

/**
 * A straight-line program: each call stores its message, invokes, checks that a failed call left
 * its buffer alone, and remembers the capabilities a successful answer handed it.
 */
function fuzzProgram(calls: readonly Call[]): Uint8Array {
  const body = calls
    .map((call, i) => {
      const stores = call.message ? call.message.map((w, k) => `(i32.store (i32.const ${call.ptr + 4 * k}) ${expr(w)})`).join("\n") : "";
      const invoke = `(local.set $r (call $invoke ${expr(call.cap)} (i32.const ${call.ptr | 0}) (i32.const ${call.len | 0})))`;
      // Only BUF is checked: nothing the fuzzer maps (its PAGE_MAP addresses start at 0x3000) lies over it.
      const check =
        call.message && call.ptr === BUF
          ? `(if (i32.lt_s (local.get $r) (i32.const 0)) (then (if ${call.message
              .map((w, k) => `(i32.ne (i32.load (i32.const ${call.ptr + 4 * k})) ${expr(w)})`)
              .reduce((a, b) => `(i32.or ${a} ${b})`)} (then (call $violation (i32.const ${i}))))))`
          : "";
      const remember = call.message ? `(if (i32.ge_s (local.get $r) (i32.const 0)) (then (call $remember (i32.const ${call.ptr}))))` : "";
      const yieldNow = i % 17 === 16 ? "(call $yield)" : "";
      return `${stores}\n${invoke}\n${check}\n${remember}\n${yieldNow}`;
    })
    .join("\n");
  return wat(`(module
    (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
    (import "dogma" "yield" (func $yield))
    (memory 1)
    (func $violation (param $at i32)
      (if (i32.eqz (i32.load (i32.const ${VIOLATIONS}))) (then (i32.store (i32.const ${VIOLATIONS + 4}) (local.get $at))))
      (i32.store (i32.const ${VIOLATIONS}) (i32.add (i32.load (i32.const ${VIOLATIONS})) (i32.const 1))))
    (func $keep (param $cap i32)
      (if (i32.eqz (local.get $cap)) (then (return)))
      (i32.store (i32.add (i32.const ${RECENT}) (i32.shl (i32.and (i32.load (i32.const ${RECENT_COUNT})) (i32.const ${RECENT_SLOTS - 1})) (i32.const 2))) (local.get $cap))
      (i32.store (i32.const ${RECENT_COUNT}) (i32.add (i32.load (i32.const ${RECENT_COUNT})) (i32.const 1))))
    ;; The capability indices of the answer at $at (and its reply capability, if any).
    (func $remember (param $at i32) (local $n i32) (local $c i32) (local $i i32)
      (local.set $n (i32.load offset=4 (local.get $at)))
      (local.set $c (i32.load offset=8 (local.get $at)))
      (if (i32.or (i32.gt_u (local.get $n) (i32.const 64)) (i32.gt_u (local.get $c) (i32.const 4))) (then (return)))
      (call $keep (i32.load offset=16 (local.get $at)))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $c)))
        (call $keep (i32.load offset=20 (i32.add (local.get $at) (i32.shl (i32.add (local.get $n) (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
    (func (export "fuzz") (result i32) (local $r i32)
      (i32.store (i32.const ${VIOLATIONS}) (i32.const 0))
      ${body}
      (i32.or (i32.shl (i32.load (i32.const ${VIOLATIONS})) (i32.const 16)) (i32.load (i32.const ${VIOLATIONS + 4})))))`);
}

/** Serves calls on slot 2 for ever, answering label 1; keeps its pattern in SCRATCH. */
function victimScript(): Script {
  const s = new Script();
  s.fill(SCRATCH, VICTIM_BASE, VICTIM_WORDS);
  const reply = s.reg();
  const served = s.reg(0);
  const loop = s.label();
  const drop = s.label();
  s.bind(loop);
  s.invoke(2, Op.RECEIVER_RECEIVE, { words: [1_000_000, 0], dump: false });
  s.ifNegative(loop);
  s.load(reply, BUF + 16);
  s.ifEqual(reply, 0, loop);
  s.invoke(reply, 1, { dump: false });
  s.ifNegative(drop);
  s.add(served, 1);
  s.jump(loop);
  // A reply the caller's buffer refused stays here: drop it, so that the caller hears E_PEER_DEAD.
  s.bind(drop);
  s.invoke(reply, Op.CAP_DROP, { dump: false });
  s.jump(loop);
  return s;
}

/** Calls the victim WITNESS_CALLS times and checks every answer; returns how many were right. */
function witnessScript(): Script {
  const s = new Script();
  const [i, label] = [s.reg(0), s.reg()];
  const loop = s.label();
  const retry = s.label();
  const wrong = s.label();
  const done = s.label();
  s.bind(loop);
  s.invoke(2, 7, { words: [i], dump: false });
  const status = s.reg();
  s.set(status, R0);
  s.ifEqual(status, -4, retry);
  s.ifNotEqual(status, 0, wrong);
  s.load(label, BUF);
  s.ifNotEqual(label, 1, wrong);
  s.add(i, 1);
  s.ifLess(i, WITNESS_CALLS, loop);
  s.jump(done);
  s.bind(retry);
  s.yield();
  s.jump(loop);
  s.bind(wrong);
  s.end(-1);
  s.bind(done);
  s.end(i);
  return s;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TraceStats {
  counts: Map<number, number>;
  bad: string[];
}

async function fuzzRound(seed: number, paging = false): Promise<void> {
  const stats: TraceStats = { counts: new Map(), bad: [] };
  const m: ScriptMachine = await scriptMachine({
    memory: 24 << 20,
    kernel: {
      trace: (line) => {
        const match = /^\[pid (\d+)\] dogma\.invoke\(([^)]*)\) = (.*)$/.exec(line);
        if (!match) return;
        const pid = Number(match[1]);
        stats.counts.set(pid, (stats.counts.get(pid) ?? 0) + 1);
        const result = Number(match[3]);
        if (!Number.isInteger(result) || result < -12 || result > 4) stats.bad.push(line);
      },
    },
  });
  const k = m.kernel;
  const where = `seed ${seed} (rerun with INVOKE_FUZZ_SEED=${seed})`;
  const childImage = await m.loader.load(wat(`(module (memory 1) (func (export "_start")))`), "child");
  const programs = Array.from({ length: FUZZERS }, (_, i) => fuzzProgram(generate((seed + i * 0x9e37_79b9) >>> 0)));
  const images = await Promise.all(programs.map((bytes, i) => m.loader.load(bytes, `fuzz${i}`)));
  // Image objects nobody holds keep each image in the store. Their pages get frames on first use
  // and give them back when no page of the image is mapped any more (every process of it ended):
  // by the end, every frame is back.
  const childObject = k.imageObject(childImage);
  for (const image of [m.vm, ...images]) k.imageObject(image);
  const freeBefore = k.frames.freeCount;
  const usedBefore = k.rootMemory.used;

  const host: MemoryObject = k.memoryObject(64);
  const memories = Array.from({ length: FUZZERS }, () => k.memoryObject(48));
  const victimReceiver = makeReceiver(m, 64, host);
  const shared = makeReceiver(m, 32, host);
  const cappage = new Cappage();
  host.adopt(cappage, 1);
  const sharedFrame = k.services.sharedFrames.allocate()!;
  k.services.memory.zeroFrame(sharedFrame);
  const page = new PageObject(k.services, sharedFrame);
  host.adopt(page, 1);
  page.setFlags(PageFlag.SHARED);
  const hostCaps: Capability[] = [cappage, page, shared].map((object) => k.capability(object, ALL));
  // Each fuzzer owns a Region of two pages that starts with a binary (its first 8 bytes are an
  // empty module), and an ImageBuilder waiting for 8 bytes: APPEND of 8 from the Region, then LOAD
  // (which its Memory of 48 pages cannot pay for: E_QUOTA).
  const regions = memories.map((memory) => k.regionObject(new Uint8Array([...childImage.bytes, ...new Uint8Array(PAGE_SIZE)]), memory));
  const builders = memories.map((memory) => {
    const builder = new ImageBuilder(8, "built");
    if (!memory.adopt(builder, hostPages(8))) throw new RangeError("no quota for an ImageBuilder");
    return builder;
  });

  const victim = m.spawn(victimScript(), { caps: [k.capability(victimReceiver, Rights.RECEIVER_RECEIVE)] });
  const witness = m.spawn(witnessScript(), { caps: [k.capability(victimReceiver, Rights.RECEIVER_CALL, 0x717)] });
  const fuzzers: Process[] = images.map((image, i) =>
    k.spawn(image, {
      entry: "fuzz",
      caps: [
        k.capability(memories[i]!, ALL),
        k.capability(victimReceiver, Rights.RECEIVER_CALL, i),
        k.capability(victimReceiver, Rights.RECEIVER_SEND, i),
        // No RECEIVER_CALL: a user label on it is a send, not a call nobody may ever answer.
        k.capability(shared, ALL & ~Rights.RECEIVER_CALL, 0x100 + i),
        k.capability(cappage, ALL),
        k.capability(childObject, Rights.IMAGE_SPAWN),
        k.capability(k.interruptObject(10 + i), Rights.INTERRUPT_BIND),
        k.capability(page, ALL),
        k.capability(regions[i]!, ALL),
        k.capability(builders[i]!, ALL),
      ],
    }),
  );
  // Each fuzzer may give capabilities to the next one and read its state.
  fuzzers.forEach((p, i) => p.caps.install(k.capability(fuzzers[(i + 1) % FUZZERS]!, Rights.PROCESS_INFO | Rights.PROCESS_GIVE | Rights.PROCESS_LISTEN)));
  // Free frames below the low-water mark from here on: each frame taken makes the next safe point
  // evict every page it can (all but the running process's, which go when it needs a frame).
  const store = paging ? new TestStore() : null;
  if (store) k.enablePaging(store, { storePages: STORE_PAGES, lowWater: k.frames.freeCount + 32 });

  let runError: unknown = null;
  const running = k.run().catch((error: unknown) => {
    runError = error;
  });
  const fuzzerPids = new Set(fuzzers.map((p) => p.pid));
  const progress = () => [...stats.counts].reduce((sum, [pid, n]) => (fuzzerPids.has(pid) ? sum + n : sum), 0);
  let last = -1;
  let idle = 0;
  const invariantBreaks: string[] = [];
  const deadline = performance.now() + 15_000;
  while (fuzzers.some((p) => p.alive) || witness.alive) {
    await sleep(5);
    // Between two of the kernel's steps, every memory invariant holds (src/kernel/invariants.ts).
    if (invariantBreaks.length === 0) invariantBreaks.push(...checkInvariants(k));
    m.machine.interrupts.raise({ line: "irq", number: 10 + Math.floor(Math.random() * FUZZERS) });
    const now = progress();
    idle = now === last ? idle + 1 : 0;
    last = now;
    // Nothing moved for a while: whoever is blocked is blocked for good (a call nobody answers, a
    // receive without a timeout). Killing them is one more path to exercise.
    if (idle >= 4 || performance.now() > deadline) {
      for (const p of fuzzers) if (p.alive && p.state !== "ready" && p.state !== "running") k.kill(p.pid);
      if (performance.now() > deadline) for (const p of fuzzers) if (p.alive) k.kill(p.pid);
      idle = 0;
    }
    if (performance.now() > deadline + 5_000) break;
  }

  // The victim's pattern, read through its own page table before it goes (its pages with the
  // pager brought back first).
  if (k.paging && victim.alive) {
    for (const out of victim.space.pagedOutList()) {
      const answer = await k.paging.fetch(victim, out);
      if (answer) k.paging.land(victim, out, answer);
    }
  }
  const pattern = new Uint32Array(victim.alive ? victim.space.read(SCRATCH, 4 * VICTIM_WORDS).buffer : new ArrayBuffer(0));
  const victimAlive = victim.alive && victim.fault === null;
  for (const p of [...k.processes.values()]) if (p.alive) k.kill(p.pid);
  await running;

  expect(runError, where).toBe(null);
  expect(invariantBreaks, where).toEqual([]);
  expect(checkInvariants(k), where).toEqual([]);
  expect(stats.bad, where).toEqual([]);
  const faults = fuzzers
    .filter((p) => p.outcome?.kind === "faulted")
    .map((p) => `${p.image.name}: ${p.fault!.kind} at ${p.fault!.address?.toString(16)}: ${p.fault!.message}`);
  // A fuzzer may map a read-only Page over its own staging area, or make its own pages
  // unreadable (PROCESS_PROTECT through slot 1), and fault on its next store (seed 170101); a
  // kernel that throws would show up here as a "trap".
  expect(
    faults.filter((f) => !/: read-only at /.test(f) && !/: no-access at [0-9a-f]+: .*which its process made unreadable$/.test(f)),
    where,
  ).toEqual([]);
  expect(m.faults.filter((f) => /kernel bug|trap/.test(f)), where).toEqual([]);
  for (const p of fuzzers) {
    if (p.outcome?.kind !== "exited" || p.outcome.code !== 0) continue;
    const violations = p.returnValue as number;
    expect(violations >>> 16, `${where}: ${p.image.name} saw a failed invoke change its buffer (first at call ${violations & 0xffff})`).toBe(0);
  }
  expect(victimAlive, where).toBe(true);
  let broken = -1;
  for (let i = 0; i < VICTIM_WORDS && broken < 0; i++) if (pattern[i] !== ((VICTIM_BASE + i) >>> 0)) broken = i;
  expect(broken, `${where}: the victim's word ${broken} changed`).toBe(-1);
  expect(witness.returnValue, where).toBe(WITNESS_CALLS);
  expect(progress(), where).toBeGreaterThan(FUZZERS * 20);

  // Everything has ended. What the fuzzers left in kernel objects (queues, cappages, interrupt
  // bindings, reference cycles) lives in the Memories the host handed out: destroying them must
  // give back every frame and every quota page.
  for (const cap of hostCaps) cap.dispose();
  for (const memory of [...memories, host]) memory.destroy();
  for (let i = 0; i < FUZZERS; i++) k.interruptObject(10 + i).destroy();
  expect(checkInvariants(k), where).toEqual([]);
  expect(k.frames.freeCount, where).toBe(freeBefore);
  expect(k.rootMemory.used, where).toBe(usedBefore);
  if (k.paging) {
    // Every page went to the store and came back (or its process ended): every slot is free.
    expect(k.paging.evictions, where).toBeGreaterThan(0);
    await sleep(0);
    expect(k.paging.stored.freeSlots, where).toBe(STORE_PAGES);
  }
}

describe("invoke fuzzing", () => {
  for (const seed of SEEDS) {
    it(`survives random invocations (seed ${seed})`, async () => {
      await fuzzRound(seed);
    }, patience(40_000));
  }
  for (const seed of PAGING_SEEDS) {
    it(`survives random invocations with every page going to the pager (seed ${seed})`, async () => {
      await fuzzRound(seed, true);
    }, patience(40_000));
  }
});
