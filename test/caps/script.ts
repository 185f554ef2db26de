/**
 * Scripted processes for capability tests: one WebAssembly interpreter ("the script VM") that runs
 * a small bytecode from its own memory, and a TypeScript builder for that bytecode. A test writes
 * what each process does (invoke with a message, branch on the result, read and write memory,
 * futexes) and reads back what each invoke answered, from the log the VM writes to the console.
 *
 * Memory of a scripted process (two 64 KiB pages):
 *   0x1000 registers (64 words; r0 is the last result), 0x1100 log staging, 0x1400 log line,
 *   0x2000 the message buffer (capacity 292), 0x3000–0x7fff scratch (for Page mappings),
 *   0x8000–0x1ffff the script.
 *
 * Each log line is `pid id v0 v1 …` in hex; an invoke logs its result and, when asked, the buffer
 * as it was after the call (header, data words, capability indices).
 */
import { expect } from "vitest";
import { CAP_MOVE, Op, SLOT_SELF } from "../../src/kernel/caps/object-abi.ts";
import { PageObject } from "../../src/kernel/caps/page.ts";
import type { Capability } from "../../src/kernel/caps/capability.ts";
import type { MemoryObject } from "../../src/kernel/caps/memory-object.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import type { LoadedImage } from "../../src/kernel/image.ts";
import type { Process } from "../../src/kernel/process.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { testMachine, type TestMachine, type TestMachineOptions } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

export const REGS = 0x1000;
const VALS = 0x1100;
const LINE = 0x1400;
export const BUF = 0x2000;
export const BUF_CAPACITY = 292;
export const SCRATCH = 0x3000;
export const SCRIPT = 0x8000;
const SCRIPT_END = 0x20000;

const Code = {
  END: 0,
  STORE: 1,
  INVOKE: 2,
  LOAD: 3,
  LOADCAP: 4,
  LOG: 5,
  READ: 6,
  JMP: 7,
  BRNEG: 8,
  SET: 9,
  ADD: 10,
  BRLT: 11,
  BREQ: 12,
  FUTEX_WAIT: 13,
  FUTEX_WAKE: 14,
  EXIT: 15,
  YIELD: 16,
  SLEEP: 17,
  FILL: 18,
  CHECK: 19,
  BRNE: 20,
} as const;
type Code = (typeof Code)[keyof typeof Code];

/** `operand`: two script words, register+1 (or 0) and a literal; its value is reg + literal. */
const OPERAND = `
  (func $op (result i32) (local $r i32) (local $lit i32)
    (local.set $r (call $next))
    (local.set $lit (call $next))
    (if (result i32) (local.get $r)
      (then (i32.add (i32.load (i32.add (i32.const ${REGS - 4}) (i32.shl (local.get $r) (i32.const 2)))) (local.get $lit)))
      (else (local.get $lit))))`;

const reg = (expr: string) => `(i32.add (i32.const ${REGS}) (i32.shl ${expr} (i32.const 2)))`;
const loop = (count: string, body: string) => `
  (local.set $i (i32.const 0))
  (block $done (loop $again
    (br_if $done (i32.ge_u (local.get $i) ${count}))
    ${body}
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $again)))`;
const at = (base: string) => `(i32.add ${base} (i32.shl (local.get $i) (i32.const 2)))`;
const branchIf = (condition: string) => `
  (local.set $a (call $next)) (local.set $b (call $op)) (local.set $c (call $next))
  (if ${condition.replace("X", `(i32.load ${reg("(local.get $a)")})`)} (then (global.set $pc (local.get $c))))`;

/** Handlers, by opcode. Each runs with the pc just past its opcode. */
const HANDLERS: string[] = [];
HANDLERS[Code.END] = `(return (call $op))`;
HANDLERS[Code.STORE] = `(local.set $a (call $op)) (local.set $c (call $next)) ${loop("(local.get $c)", `(local.set $b (call $op)) (i32.store ${at("(local.get $a)")} (local.get $b))`)}`;
HANDLERS[Code.INVOKE] = `
  (local.set $id (call $next)) (local.set $a (call $op)) (local.set $b (call $op)) (local.set $c (call $op)) (local.set $d (call $next))
  (i32.store (i32.const ${REGS}) (call $invoke (local.get $a) (local.get $b) (local.get $c)))
  (i32.store (i32.const ${VALS}) (i32.load (i32.const ${REGS})))
  (local.set $count (i32.const 1))
  (if (local.get $d) (then
    (local.set $n (i32.load offset=4 (local.get $b)))
    (if (i32.gt_u (local.get $n) (i32.const 64)) (then (local.set $n (i32.const 64))))
    (local.set $m (i32.load offset=8 (local.get $b)))
    (if (i32.gt_u (local.get $m) (i32.const 4)) (then (local.set $m (i32.const 4))))
    (local.set $count (i32.add (i32.const 5) (i32.add (local.get $n) (local.get $m))))
    ${loop("(local.get $count)", `(i32.store ${at(`(i32.const ${VALS + 4})`)} (i32.load ${at("(local.get $b)")}))`)}
    (local.set $count (i32.add (local.get $count) (i32.const 1)))))
  (call $log (local.get $id) (local.get $count))`;
HANDLERS[Code.LOAD] = `(local.set $a (call $next)) (local.set $b (call $op)) (i32.store ${reg("(local.get $a)")} (i32.load (local.get $b)))`;
HANDLERS[Code.LOADCAP] = `(local.set $a (call $next)) (local.set $b (call $next))
  (i32.store ${reg("(local.get $a)")} (i32.load offset=${BUF + 20} (i32.shl (i32.add (i32.load (i32.const ${BUF + 4})) (local.get $b)) (i32.const 2))))`;
HANDLERS[Code.LOG] = `(local.set $id (call $next)) (i32.store (i32.const ${VALS}) (call $op)) (call $log (local.get $id) (i32.const 1))`;
HANDLERS[Code.READ] = `(local.set $id (call $next)) (i32.store (i32.const ${VALS}) (i32.load (call $op))) (call $log (local.get $id) (i32.const 1))`;
HANDLERS[Code.JMP] = `(global.set $pc (call $next))`;
HANDLERS[Code.BRNEG] = `(local.set $a (call $next)) (if (i32.lt_s (i32.load (i32.const ${REGS})) (i32.const 0)) (then (global.set $pc (local.get $a))))`;
HANDLERS[Code.SET] = `(local.set $a (call $next)) (i32.store ${reg("(local.get $a)")} (call $op))`;
HANDLERS[Code.ADD] = `(local.set $a (call $next)) (local.set $b (call $op)) (i32.store ${reg("(local.get $a)")} (i32.add (i32.load ${reg("(local.get $a)")}) (local.get $b)))`;
HANDLERS[Code.BRLT] = branchIf("(i32.lt_s X (local.get $b))");
HANDLERS[Code.BREQ] = branchIf("(i32.eq X (local.get $b))");
HANDLERS[Code.BRNE] = branchIf("(i32.ne X (local.get $b))");
HANDLERS[Code.FUTEX_WAIT] = `
  (local.set $id (call $next)) (local.set $a (call $op)) (local.set $b (call $op)) (local.set $c (call $next)) (local.set $d (call $next))
  (i32.store (i32.const ${REGS}) (call $futex_wait (local.get $a) (local.get $b)
    (i64.or (i64.extend_i32_u (local.get $c)) (i64.shl (i64.extend_i32_u (local.get $d)) (i64.const 32)))))
  (i32.store (i32.const ${VALS}) (i32.load (i32.const ${REGS})))
  (call $log (local.get $id) (i32.const 1))`;
HANDLERS[Code.FUTEX_WAKE] = `
  (local.set $id (call $next)) (local.set $a (call $op)) (local.set $b (call $op))
  (i32.store (i32.const ${REGS}) (call $futex_wake (local.get $a) (local.get $b)))
  (i32.store (i32.const ${VALS}) (i32.load (i32.const ${REGS})))
  (call $log (local.get $id) (i32.const 1))`;
HANDLERS[Code.EXIT] = `(call $exit (call $op))`;
HANDLERS[Code.YIELD] = `(call $yield)`;
HANDLERS[Code.SLEEP] = `(local.set $c (call $next)) (local.set $d (call $next))
  (call $sleep (i64.or (i64.extend_i32_u (local.get $c)) (i64.shl (i64.extend_i32_u (local.get $d)) (i64.const 32))))`;
HANDLERS[Code.FILL] = `(local.set $a (call $op)) (local.set $b (call $op)) (local.set $c (call $next))
  ${loop("(local.get $c)", `(i32.store ${at("(local.get $a)")} (i32.add (local.get $b) (local.get $i)))`)}`;
HANDLERS[Code.CHECK] = `(local.set $id (call $next)) (local.set $a (call $op)) (local.set $b (call $op)) (local.set $c (call $next))
  (local.set $n (i32.const 0)) (local.set $m (i32.const -1))
  ${loop(
    "(local.get $c)",
    `(if (i32.ne (i32.load ${at("(local.get $a)")}) (i32.add (local.get $b) (local.get $i))) (then
      (if (i32.eqz (local.get $n)) (then (local.set $m (local.get $i))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))))`,
  )}
  (i32.store (i32.const ${VALS}) (local.get $n)) (i32.store (i32.const ${VALS + 4}) (local.get $m))
  (call $log (local.get $id) (i32.const 2))`;

function vmText(script: Uint8Array | null): string {
  const cases = HANDLERS.map((_, i) => `$h${i}`);
  // Nested blocks: `br_table` jumps past block $hK, where handler K's code follows.
  let dispatch = `(br_table ${cases.join(" ")} $bad (local.get $opcode))`;
  for (let i = 0; i < HANDLERS.length; i++) dispatch = `(block $h${i} ${dispatch}) ${HANDLERS[i]} (br $dispatch)`;
  const data = script ? `(data (i32.const ${SCRIPT}) "${[...script].map((b) => "\\" + b.toString(16).padStart(2, "0")).join("")}")` : "";
  return `(module
  (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
  (import "dogma" "futex_wait" (func $futex_wait (param i32 i32 i64) (result i32)))
  (import "dogma" "futex_wake" (func $futex_wake (param i32 i32) (result i32)))
  (import "dogma" "console_write" (func $write (param i32 i32 i32) (result i32)))
  (import "dogma" "exit" (func $exit (param i32)))
  (import "dogma" "yield" (func $yield))
  (import "dogma" "sleep" (func $sleep (param i64)))
  (import "dogma" "getpid" (func $getpid (result i32)))
  (memory 2)
  ${data}
  (global $pc (mut i32) (i32.const 0))
  (global $pid (mut i32) (i32.const 0))
  (func $next (result i32)
    (global.set $pc (i32.add (global.get $pc) (i32.const 4)))
    (i32.load (i32.sub (global.get $pc) (i32.const 4))))
  ${OPERAND}
  (func $hex (param $p i32) (param $v i32) (local $i i32) (local $d i32)
    (loop $digit
      (local.set $d (i32.and (i32.shr_u (local.get $v) (i32.sub (i32.const 28) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 15)))
      (i32.store8 (i32.add (local.get $p) (local.get $i))
        (i32.add (local.get $d) (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digit (i32.lt_u (local.get $i) (i32.const 8)))))
  (func $log (param $id i32) (param $count i32) (local $p i32) (local $i i32)
    (call $hex (i32.const ${LINE}) (global.get $pid))
    (i32.store8 (i32.const ${LINE + 8}) (i32.const 32))
    (call $hex (i32.const ${LINE + 9}) (local.get $id))
    (local.set $p (i32.const ${LINE + 17}))
    ${loop(
      "(local.get $count)",
      `(i32.store8 (local.get $p) (i32.const 32))
      (call $hex (i32.add (local.get $p) (i32.const 1)) (i32.load ${at(`(i32.const ${VALS})`)}))
      (local.set $p (i32.add (local.get $p) (i32.const 9)))`,
    )}
    (i32.store8 (local.get $p) (i32.const 10))
    (drop (call $write (i32.const 1) (i32.const ${LINE}) (i32.sub (i32.add (local.get $p) (i32.const 1)) (i32.const ${LINE})))))
  (func $run (export "run") (result i32)
    (local $opcode i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $i i32)
    (local $id i32) (local $n i32) (local $m i32) (local $count i32)
    (global.set $pid (call $getpid))
    ;; Touch the register and buffer pages first, so that later accounting sees no first touches.
    (i32.store (i32.const ${LINE}) (i32.const 0))
    (i32.store (i32.const ${BUF}) (i32.const 0))
    (global.set $pc (i32.const ${SCRIPT}))
    (loop $dispatch
      (local.set $opcode (call $next))
      (block $bad ${dispatch})
      (unreachable))
    (unreachable))
  (func (export "_start") (call $exit (call $run))))`;
}

let vmImage: Promise<LoadedImage> | null = null;
const childImages = new Map<string, Promise<LoadedImage>>();

export interface ScriptMachine extends TestMachine {
  /** The script VM, loaded once per test file. */
  vm: LoadedImage;
  /** Spawns a scripted process: entry `run`, `caps` from slot 2. */
  spawn(script: Script, options?: { caps?: readonly Capability[]; memory?: MemoryObject; name?: string; priority?: number }): Process;
  /** The image of a VM whose `_start` runs `script` (for MEMORY_CREATE_PROCESS children). */
  childImage(script: Script, name?: string): Promise<LoadedImage>;
  /** Everything the scripted processes logged. */
  log(): ScriptLog;
}

export async function scriptMachine(options: TestMachineOptions = {}): Promise<ScriptMachine> {
  const t = testMachine({ ...options, loader: options.loader });
  vmImage ??= t.loader.load(wat(vmText(null)), "vm");
  const vm = await vmImage;
  const m: ScriptMachine = Object.assign(t, {
    vm,
    spawn(script: Script, o: { caps?: readonly Capability[]; memory?: MemoryObject; name?: string; priority?: number } = {}) {
      const process = t.kernel.spawn(vm, { entry: "run", caps: o.caps, memory: o.memory, priority: o.priority, args: [o.name ?? "vm"] });
      process.space.write(SCRIPT, script.bytes());
      return process;
    },
    async childImage(script: Script, name = "child") {
      const bytes = script.bytes();
      // (By name too: the test files of a worker share this table, and a child's arguments are its image's name.)
      const key = `${name}:${Buffer.from(bytes).toString("hex")}`;
      let image = childImages.get(key);
      if (!image) {
        image = t.loader.load(wat(vmText(bytes)), name);
        childImages.set(key, image);
      }
      return image;
    },
    log: () => new ScriptLog(t.stdout()),
  });
  return m;
}

/** A register; `plus` adds a constant to its value when used as an operand. */
export class Reg {
  readonly index: number;
  readonly offset: number;
  constructor(index: number, offset = 0) {
    this.index = index;
    this.offset = offset;
  }
  plus(n: number): Reg {
    return new Reg(this.index, (this.offset + n) | 0);
  }
  /** As a capability in a message: moved rather than copied. */
  get move(): Reg {
    return this.plus(CAP_MOVE | 0);
  }
}
export type Operand = number | Reg;
/** r0: the result of the last invoke or futex call. */
export const R0 = new Reg(0);

export interface Label {
  at: number | null;
  uses: number[];
}

export interface InvokeOptions {
  words?: readonly Operand[];
  caps?: readonly Operand[];
  /** Header word 3 (a Receiver to wait on after a reply; RECV_TIMEOUT: word 4 is a timeout). */
  recv?: Operand;
  /** Header word 4 on input (with RECV_TIMEOUT in `recv`: the receive's timeout in µs). */
  timeoutUs?: Operand;
  /** Header counts to claim instead of the real ones. */
  n?: number;
  c?: number;
  /** Buffer capacity (default 292) and address (default BUF). */
  len?: Operand;
  ptr?: Operand;
  /** Log the buffer after the call (default true). */
  dump?: boolean;
  /** Leave the message in memory alone: invoke with what is at `ptr` already. */
  noWrite?: boolean;
}

/** The bytecode of one process, built call by call. Loggable steps return their log id. */
export class Script {
  private readonly code: number[] = [];
  private nextId = 1;
  private nextReg = 1;
  private readonly labels: Label[] = [];

  /** A fresh register (1 … 63). */
  reg(initial?: Operand): Reg {
    const r = new Reg(this.nextReg++);
    if (r.index > 63) throw new Error("script: out of registers");
    if (initial !== undefined) this.set(r, initial);
    return r;
  }

  private operand(value: Operand): void {
    if (value instanceof Reg) this.code.push(value.index + 1, value.offset | 0);
    else this.code.push(0, value | 0);
  }

  private id(): number {
    return this.nextId++;
  }

  private target(label: Label): void {
    label.uses.push(this.code.length);
    this.code.push(0);
  }

  /** A place to jump to; bind it where it belongs with `bind`. */
  label(): Label {
    const label: Label = { at: null, uses: [] };
    this.labels.push(label);
    return label;
  }

  bind(label: Label): this {
    label.at = SCRIPT + 4 * this.code.length;
    return this;
  }

  store(address: Operand, values: readonly Operand[]): this {
    this.code.push(Code.STORE);
    this.operand(address);
    this.code.push(values.length);
    for (const v of values) this.operand(v);
    return this;
  }

  /** Writes the message into the buffer (unless `noWrite`) and invokes `cap`; logs the answer. */
  invoke(cap: Operand, label: number, o: InvokeOptions = {}): number {
    const words = o.words ?? [];
    const caps = o.caps ?? [];
    const ptr = o.ptr ?? BUF;
    if (!o.noWrite) this.store(ptr, [label >>> 0, o.n ?? words.length, o.c ?? caps.length, o.recv ?? 0, o.timeoutUs ?? 0, ...words, ...caps]);
    const id = this.id();
    this.code.push(Code.INVOKE, id);
    this.operand(cap);
    this.operand(ptr);
    this.operand(o.len ?? BUF_CAPACITY);
    this.code.push(o.dump === false ? 0 : 1);
    return id;
  }

  /** `reg` = the i-th capability index of the answer in the buffer. */
  loadCap(r: Reg, i = 0): this {
    this.code.push(Code.LOADCAP, r.index, i);
    return this;
  }

  /** `reg` = the word at `address`. */
  load(r: Reg, address: Operand): this {
    this.code.push(Code.LOAD, r.index);
    this.operand(address);
    return this;
  }

  /** `reg` = data word i of the answer in the buffer. */
  loadWord(r: Reg, i: number): this {
    return this.load(r, BUF + 20 + 4 * i);
  }

  set(r: Reg, value: Operand): this {
    this.code.push(Code.SET, r.index);
    this.operand(value);
    return this;
  }

  add(r: Reg, value: Operand): this {
    this.code.push(Code.ADD, r.index);
    this.operand(value);
    return this;
  }

  logValue(value: Operand): number {
    const id = this.id();
    this.code.push(Code.LOG, id);
    this.operand(value);
    return id;
  }

  /** Logs the word at `address` (a read that may fault). */
  read(address: Operand): number {
    const id = this.id();
    this.code.push(Code.READ, id);
    this.operand(address);
    return id;
  }

  /** Stores one word (a write that may fault). */
  write(address: Operand, value: Operand): this {
    return this.store(address, [value]);
  }

  /** Words `value + i` at `address + 4i`, i < count. */
  fill(address: Operand, value: Operand, count: number): this {
    this.code.push(Code.FILL);
    this.operand(address);
    this.operand(value);
    this.code.push(count);
    return this;
  }

  /** Logs how many of the words `value + i` at `address + 4i` differ, and the first that does. */
  check(address: Operand, value: Operand, count: number): number {
    const id = this.id();
    this.code.push(Code.CHECK, id);
    this.operand(address);
    this.operand(value);
    this.code.push(count);
    return id;
  }

  jump(label: Label): this {
    this.code.push(Code.JMP);
    this.target(label);
    return this;
  }

  /** Jumps when the last result is negative. */
  ifNegative(label: Label): this {
    this.code.push(Code.BRNEG);
    this.target(label);
    return this;
  }

  private branch(code: Code, r: Reg, value: Operand, label: Label): this {
    this.code.push(code, r.index);
    this.operand(value);
    this.target(label);
    return this;
  }

  ifLess(r: Reg, value: Operand, label: Label): this {
    return this.branch(Code.BRLT, r, value, label);
  }

  ifEqual(r: Reg, value: Operand, label: Label): this {
    return this.branch(Code.BREQ, r, value, label);
  }

  ifNotEqual(r: Reg, value: Operand, label: Label): this {
    return this.branch(Code.BRNE, r, value, label);
  }

  futexWait(address: Operand, expected: Operand, ns: bigint = 0xffff_ffff_ffff_ffffn): number {
    const id = this.id();
    this.code.push(Code.FUTEX_WAIT, id);
    this.operand(address);
    this.operand(expected);
    this.code.push(Number(ns & 0xffff_ffffn) | 0, Number(ns >> 32n) | 0);
    return id;
  }

  futexWake(address: Operand, count: Operand): number {
    const id = this.id();
    this.code.push(Code.FUTEX_WAKE, id);
    this.operand(address);
    this.operand(count);
    return id;
  }

  exit(code: Operand): this {
    this.code.push(Code.EXIT);
    this.operand(code);
    return this;
  }

  yield(): this {
    this.code.push(Code.YIELD);
    return this;
  }

  sleep(ns: bigint): this {
    this.code.push(Code.SLEEP, Number(ns & 0xffff_ffffn) | 0, Number(ns >> 32n) | 0);
    return this;
  }

  /** Polls PROCESS_STATE on `process` (yielding between) until its state code is `state`. */
  waitForState(process: Operand, state: number): this {
    const r = this.reg();
    const again = this.label();
    const done = this.label();
    this.bind(again);
    this.invoke(process, Op.PROCESS_STATE, { dump: false });
    this.loadWord(r, 1);
    this.ifEqual(r, state, done);
    this.yield();
    this.jump(again);
    this.bind(done);
    return this;
  }

  /** Polls CAP_INFO on slot `index` (yielding between) until it holds a capability. */
  waitForSlot(index: Operand): this {
    const again = this.label();
    const done = this.label();
    this.bind(again);
    this.invoke(index, Op.CAP_INFO, { dump: false });
    const ok = this.reg(0);
    this.set(ok, R0);
    this.ifEqual(ok, 0, done);
    this.yield();
    this.jump(again);
    this.bind(done);
    return this;
  }

  /** Returns `value` from the entry (the exit code of a `_start` child). */
  end(value: Operand = 0): this {
    this.code.push(Code.END);
    this.operand(value);
    return this;
  }

  /** The bytecode, labels resolved (`bind` may come after the jumps that use a label). */
  bytes(): Uint8Array {
    const words = Int32Array.from(this.code);
    for (const label of this.labels) {
      if (label.uses.length > 0 && label.at === null) throw new Error("script: a label was used but never bound");
      for (const use of label.uses) words[use] = label.at!;
    }
    if (SCRIPT + words.length * 4 > SCRIPT_END) throw new Error("script: too long");
    return new Uint8Array(words.buffer);
  }
}

/** One decoded invoke answer: the result and the buffer after the call. */
export interface Answer {
  status: number;
  label: number;
  n: number;
  c: number;
  badge: number;
  reply: number;
  words: number[];
  caps: number[];
}

/** The parsed console log of scripted processes. */
export class ScriptLog {
  private readonly entries = new Map<string, number[][]>();

  constructor(text: string) {
    for (const line of text.split("\n")) {
      const match = /^([0-9a-f]{8}) ([0-9a-f]{8})((?: [0-9a-f]{8})*)$/.exec(line);
      if (!match) continue;
      const key = `${parseInt(match[1]!, 16)}:${parseInt(match[2]!, 16)}`;
      const values = match[3]!.trim() === "" ? [] : match[3]!.trim().split(" ").map((h) => parseInt(h, 16) >>> 0);
      const list = this.entries.get(key) ?? [];
      list.push(values);
      this.entries.set(key, list);
    }
  }

  /** Every record of step `id` of `process` (loops log a step more than once). */
  all(process: Process | number, id: number): number[][] {
    const pid = typeof process === "number" ? process : process.pid;
    return this.entries.get(`${pid}:${id}`) ?? [];
  }

  /** The one record of a step; fails the test if it ran never or more than once. */
  one(process: Process | number, id: number): number[] {
    const list = this.all(process, id);
    expect(list.length, `step ${id} of pid ${typeof process === "number" ? process : process.pid} ran ${list.length} times`).toBe(1);
    return list[0]!;
  }

  /** The step's result as a signed status or answer. */
  status(process: Process | number, id: number): number {
    return this.one(process, id)[0]! | 0;
  }

  /** Whether the step ran at all. */
  ran(process: Process | number, id: number): boolean {
    return this.all(process, id).length > 0;
  }

  answer(process: Process | number, id: number, occurrence = 0): Answer {
    const list = this.all(process, id);
    const v = list[occurrence];
    if (!v) throw new Error(`step ${id} has no record ${occurrence}`);
    const [status, label, n, c, badge, reply] = v;
    const words = v.slice(6, 6 + Math.min(n ?? 0, 64));
    const caps = v.slice(6 + words.length, 6 + words.length + Math.min(c ?? 0, 4));
    return { status: status! | 0, label: label!, n: n!, c: c!, badge: badge!, reply: reply!, words, caps };
  }

  /** A logged value (logValue, read, futex): the first word, signed. */
  value(process: Process | number, id: number): number {
    return this.one(process, id)[0]! | 0;
  }
}

/** The labels of operations, re-exported for tests. */
export { Op };

/** Every right. */
export const ALL = 0xffff_ffff;

/** A Page made by the host, which keeps a capability to it (so it outlives the processes). */
export function hostPage(m: ScriptMachine): PageObject {
  const frame = m.kernel.services.sharedFrames.allocate()!;
  m.kernel.services.memory.zeroFrame(frame);
  const page = new PageObject(m.kernel.services, frame);
  expect(m.kernel.rootMemory.adopt(page, 1)).toBe(true);
  m.kernel.capability(page, ALL);
  return page;
}

/** The script's PROCESS_PROTECT of its own pages (or through `cap`); the step's id. */
export const protectPages = (s: Script, address: number, pages: number, rights: number, cap: number = SLOT_SELF) =>
  s.invoke(cap, Op.PROCESS_PROTECT, { words: [address, pages, rights] });

/** The script's PROCESS_STATE of itself, whose word 7 is the pages it holds; the step's id. */
export const pagesOf = (s: Script) => s.invoke(SLOT_SELF, Op.PROCESS_STATE);

/**
 * Invokes `cap` with a message in a buffer the caller may read but not write: a Page (created in
 * `memory`, mapped at SCRATCH) that holds the message and is then mapped again read-only. Every
 * answer then fails with E_BAD_ADDRESS. Returns the invoke's log id.
 */
export function invokeReadOnly(s: Script, memory: Operand, cap: Operand, label: number, o: InvokeOptions = {}): number {
  const page = s.reg();
  s.invoke(memory, Op.MEMORY_CREATE_PAGE);
  s.loadCap(page);
  s.invoke(page, Op.PAGE_MAP, { words: [SCRATCH, 1] });
  const words = o.words ?? [];
  const caps = o.caps ?? [];
  s.store(SCRATCH, [label >>> 0, words.length, caps.length, o.recv ?? 0, 0, ...words, ...caps]);
  s.invoke(page, Op.PAGE_MAP, { words: [SCRATCH, 0] });
  return s.invoke(cap, label, { ...o, ptr: SCRATCH, noWrite: true });
}

/** A Receiver in `memory` (default the root), made by the host. */
export function makeReceiver(m: TestMachine, capacity = 16, memory: MemoryObject = m.kernel.rootMemory): Receiver {
  const receiver = new Receiver(capacity);
  if (!memory.adopt(receiver, 1)) throw new Error("no quota for a Receiver");
  return receiver;
}

/** Process states as PROCESS_STATE reports them. */
export const State = { ready: 0, running: 1, blocked: 2, exited: 3, faulted: 4, created: 5, suspended: 6 } as const;

/** Runs the kernel until nothing can run; kills what is left (blocked for ever) and returns it. */
/**
 * Runs the machine until it stops or every one of `watched` has ended, looking at the kernel's
 * invariants every `pollMs` while it runs and once after: the first violations found ([] if none).
 */
export async function runCheckingInvariants(m: TestMachine, watched: readonly Process[], pollMs: number): Promise<string[]> {
  const broken: string[] = [];
  const running = m.kernel.run();
  let done = false;
  void running.then(() => (done = true));
  while (!done && watched.some((p) => p.alive)) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    if (broken.length === 0) broken.push(...checkInvariants(m.kernel));
  }
  await running;
  if (broken.length === 0) broken.push(...checkInvariants(m.kernel));
  return broken;
}

export async function runAll(m: TestMachine): Promise<Process[]> {
  await m.kernel.run();
  const stuck = m.kernel.stuck();
  for (const process of stuck) m.kernel.kill(process.pid);
  return stuck;
}
