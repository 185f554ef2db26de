import { MEMORY_OPS } from "./output-layout.ts";
import { BodyCursor, skipLeb } from "./wasm/body-cursor.ts";
import { Imm, immediates } from "./wasm/opcodes.ts";

/**
 * Check sharing (docs/LOADER.md "Accesses sharing one check"): within a run of straight-line code
 * that cannot enter the kernel, the loads and stores whose addresses are one value plus constants
 * are grouped, so that the first access of a group checks the whole span once and the others use
 * the physical address it kept.
 *
 * A *run* is a maximal sequence of instructions from `STRAIGHT`: no branch, block, loop or end, no
 * call of any kind, no bulk memory, memory.size or memory.grow. Nothing in a run can enter the
 * kernel except a memory access's own slow path, and the kernel is the only place mappings change
 * (everything runs on one thread), so a TLB entry read at one point of a run still holds later
 * unless a slow path ran in between: the rewriter ends every live group at each slow path (its
 * physical address local is zeroed).
 *
 * The planner reads the run ahead of the rewrite, following on an abstract operand stack which
 * values are `local L (as written last) + C` (C a 32-bit constant); a write to L starts a new
 * *generation* of L, so a value read before a `local.tee L` never joins one read after it.
 */

/**
 * By opcode: whether the instruction continues a run (the planner follows its operands). `block`,
 * `if` and `br_if` do: the code after each is reached only through it, so a group's first access
 * before one still dominates its later ones, and nothing is written for them that could enter the
 * kernel. `else`, `end` and `loop` are joins (or follow code that is not run first), and end a run.
 */
export const STRAIGHT = new Uint8Array(256);
/** The same without block, if and br_if (a variant, for measurements). */
export const STRAIGHT_ONLY = new Uint8Array(256);
for (const op of [0x01, 0x1a, 0x1b, 0x1c, 0xd0, 0xd1, 0xd2, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x41, 0x42, 0x43, 0x44]) STRAIGHT[op] = 1;
for (let op = 0x28; op <= 0x3e; op++) STRAIGHT[op] = 1;
for (let op = 0x45; op <= 0xc4; op++) STRAIGHT[op] = 1;
STRAIGHT_ONLY.set(STRAIGHT);
STRAIGHT[0x02] = STRAIGHT[0x04] = STRAIGHT[0x0d] = 1;

/** What the rewriter does with one access of a run. */
export const Role = { plain: 0, head: 1, member: 2 } as const;

export interface PlannedAccess {
  /** The access instruction's position in the binary. */
  readonly at: number;
  role: number;
  /** head and member: the index of the local (0..GROUP_LOCALS-1) holding the group's physical address. */
  slot: number;
  /** head and member: the access's offset from the start of the group's span (the fast path's `offset=`). */
  fastOffset: number;
  /** head: the span's start from the head's address operand (may be negative), its length, and whether it is checked for writing. */
  lo: number;
  span: number;
  write: boolean;
  /** member: the group's last. */
  ends: boolean;
  /** head and member (while planning): the index of its group in the run's groups. */
  group: number;
  /**
   * For the loop planner (loop-groups.ts): the local the address operand is `local + base` of, as
   * the local was when the run started (not written in the run before the access); -1 for a
   * constant address operand (`base` then is the constant); -2 for anything else.
   */
  local: number;
  base: number;
  /** The access's static offset, width and whether it is a store. */
  offset: number;
  bytes: number;
  store: boolean;
}

/** At most this many groups are live at once in a run (one local each). */
export const GROUP_LOCALS = 4;
/** How many of a run's latest groups an access may join (planning stays linear in the run's length). */
const GROUPS_SEARCHED = 16;

interface Group {
  key: number;
  /** Members so far, and the last. */
  members: number;
  last: PlannedAccess | null;
  /** C of the head's address (the anchor): members' constants are taken relative to it. */
  anchor: number;
  lo: number;
  hi: number;
  write: boolean;
}

/** The key of constant addresses' groups (a local's key is never negative; a closed group's is -1). */
const CONSTANT_KEY = -2;

const UNKNOWN = 0;
const LOCAL = 1;
const CONSTANT = 2;

/** Values on the abstract stack: a kind, and for LOCAL the key (local and generation) and C; for CONSTANT its value. */
class AbstractStack {
  private kinds = new Uint8Array(64);
  private keys = new Float64Array(64);
  private values = new Int32Array(64);
  height = 0;

  clear(): void {
    this.height = 0;
  }
  push(kind: number, key = 0, value = 0): void {
    const h = this.height++;
    if (h === this.kinds.length) this.grow();
    this.kinds[h] = kind;
    this.keys[h] = key;
    this.values[h] = value;
  }
  /** Pops `n` (values below the run's start are unknown) and pushes `m` unknowns. */
  pops(n: number, m: number): void {
    this.height = Math.max(0, this.height - n);
    for (let i = 0; i < m; i++) this.push(UNKNOWN);
  }
  kindAt(depth: number): number {
    return this.height > depth ? this.kinds[this.height - 1 - depth]! : UNKNOWN;
  }
  keyAt(depth: number): number {
    return this.keys[this.height - 1 - depth]!;
  }
  valueAt(depth: number): number {
    return this.values[this.height - 1 - depth]!;
  }
  private grow(): void {
    const size = this.kinds.length * 2;
    const kinds = new Uint8Array(size);
    kinds.set(this.kinds);
    const keys = new Float64Array(size);
    keys.set(this.keys);
    const values = new Int32Array(size);
    values.set(this.values);
    this.kinds = kinds;
    this.keys = keys;
    this.values = values;
  }
}

/** Operands popped and results pushed by the numeric instructions 0x45-0xc4, by opcode. */
export const NUMERIC_POPS = new Uint8Array(256);
for (let op = 0x45; op <= 0xc4; op++) {
  const unary = op === 0x45 || op === 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) || (op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f) || op >= 0xa7;
  NUMERIC_POPS[op] = unary ? 1 : 2;
}

const s32 = (n: number): number => n | 0;

export class AccessPlanner extends BodyCursor {
  private readonly stack = new AbstractStack();
  /** Each local's generation in this run (0 until written), and the locals written (to reset them). */
  private generations = new Int32Array(64);
  private readonly written: number[] = [];
  /** The run's groups (objects reused from run to run: `groupCount` of them are this run's). */
  private readonly groups: Group[] = [];
  private groupCount = 0;
  /** The plan of the run last planned, in order (objects reused: `count` of them), and where that run started. */
  private readonly accesses: PlannedAccess[] = [];
  private count = 0;
  from = -1;
  private generationCount = 0;

  /** STRAIGHT or STRAIGHT_ONLY: what continues a run. */
  readonly straight: Uint8Array;

  /** The accesses hoisted out of their loop (loop-groups.ts), by position: never grouped in a run. */
  hoisted: ReadonlyMap<number, unknown> | null = null;
  /** The last run planned: how many blocks (block, if) it opened, and the locals it wrote. */
  opened = 0;

  /** Whether accesses at constant addresses group too. */
  private readonly constants: boolean;

  constructor(bytes: Uint8Array, acrossBranches = true, constants = true) {
    super(bytes);
    this.constants = constants;
    this.straight = acrossBranches ? STRAIGHT : STRAIGHT_ONLY;
  }

  reset(): void {
    this.from = -1;
    this.count = 0;
  }

  /**
   * Plans the run starting at `from` (the first instruction after one that is not STRAIGHT, or the
   * body's first) up to the next that is not, or `end`; `maxSpan`: the longest span a group may
   * check. The rewriter calls it at a run's first access. Returns where the run ends.
   */
  plan(from: number, end: number, maxSpan: number): number {
    const bytes = this.bytes;
    const stack = this.stack;
    stack.clear();
    for (const local of this.written) this.generations[local] = 0;
    this.written.length = 0;
    this.groupCount = 0;
    this.count = 0;
    this.generationCount = 0;
    this.opened = 0;
    this.from = from;
    let at = from;
    for (;;) {
      if (at >= end) break;
      const start = at;
      const op = bytes[at++]!;
      if (!this.straight[op]) {
        at = start;
        break;
      }
      const kind = immediates[op]!;
      if (kind === Imm.none) {
        if (op >= 0x45 && op <= 0xc4) this.numeric(op);
        else if (op === 0x01) continue;
        else if (op === 0x1a) stack.pops(1, 0);
        else if (op === 0x1b) stack.pops(3, 1);
        else if (op === 0xd1) stack.pops(1, 1);
        else {
          at = start;
          break;
        }
        continue;
      }
      switch (kind) {
        case Imm.blockType:
          // block, if: entered only from here (no join), and nothing is written for them.
          at = bytes[at] === 0x63 || bytes[at] === 0x64 ? skipLeb(bytes, at + 1, end) : skipLeb(bytes, at, end);
          if (op === 0x04) stack.pops(1, 0);
          this.opened++;
          continue;
        case Imm.u32: {
          if (op === 0x0d) {
            // br_if: the code after it is reached only from it.
            at = skipLeb(bytes, at, end);
            stack.pops(1, 0);
            continue;
          }
          if (op !== 0x20 && op !== 0x21 && op !== 0x22 && op !== 0x25) {
            at = start;
            break;
          }
          const index = this.u32At(at, end);
          at = this.next;
          if (op === 0x20) stack.push(LOCAL, this.key(index), 0);
          else if (op === 0x21) {
            stack.pops(1, 0);
            this.write(index);
          } else if (op === 0x22) {
            stack.pops(1, 0);
            this.write(index);
            stack.push(LOCAL, this.key(index), 0);
          } else stack.pops(1, 1); // table.get
          continue;
        }
        case Imm.tableSet:
          at = skipLeb(bytes, at, end);
          stack.pops(2, 0);
          continue;
        case Imm.globalIndex:
          at = skipLeb(bytes, at, end);
          if (op === 0x23) stack.pops(0, 1);
          else stack.pops(1, 0);
          continue;
        case Imm.selectTypes: {
          const types = this.u32At(at, end);
          at = this.next;
          for (let i = 0; i < types; i++) at = bytes[at] === 0x63 || bytes[at] === 0x64 ? skipLeb(bytes, at + 1, end) : at + 1;
          stack.pops(3, 1);
          continue;
        }
        case Imm.i32Const: {
          const value = this.s32At(at, end);
          at = this.next;
          stack.push(CONSTANT, 0, value);
          continue;
        }
        case Imm.i64Const:
          at = skipLeb(bytes, at, end);
          stack.pops(0, 1);
          continue;
        case Imm.f32Const:
          at += 4;
          stack.pops(0, 1);
          continue;
        case Imm.f64Const:
          at += 8;
          stack.pops(0, 1);
          continue;
        case Imm.heapType:
          at = skipLeb(bytes, at, end);
          stack.pops(0, 1);
          continue;
        case Imm.functionIndex:
          if (op !== 0xd2) {
            at = start;
            break;
          }
          at = skipLeb(bytes, at, end);
          stack.pops(0, 1);
          continue;
        case Imm.load:
        case Imm.store: {
          const flags = this.u32At(at, end);
          at = this.next;
          if (flags & 0x40) at = skipLeb(bytes, at, end);
          const offset = this.u32At(at, end);
          at = this.next;
          const store = kind === Imm.store;
          this.access(start, store ? 1 : 0, offset, MEMORY_OPS[op]!.kind.bytes, store, maxSpan);
          if (store) stack.pops(2, 0);
          else stack.pops(1, 1);
          continue;
        }
        default:
          at = start;
          break;
      }
      break;
    }
    this.assignLocals();
    return at;
  }

  /** The locals the run last planned wrote. */
  writtenLocals(): readonly number[] {
    return this.written;
  }

  /** The plan's accesses, in order (for measurements). */
  planned(): readonly PlannedAccess[] {
    return this.accesses.slice(0, this.count);
  }

  /**
   * The planned access at `at`, the next one of the run; null for one the plan does not have next
   * (an access the rewriter translated otherwise), after which the run's later accesses are null
   * too, so that no group is used past an access that did not end it at a slow path.
   */
  take(at: number): PlannedAccess | null {
    const access = this.cursor < this.count ? this.accesses[this.cursor]! : null;
    if (access === null || access.at !== at) {
      this.cursor = this.count;
      return null;
    }
    this.cursor++;
    return access;
  }
  private cursor = 0;

  private key(local: number): number {
    return (local < this.generations.length ? this.generations[local]! : 0) * 65536 + local;
  }

  /** A write to `local`: its values from now on are of a new generation. */
  private write(local: number): void {
    if (local >= this.generations.length) {
      const grown = new Int32Array(Math.max(local + 1, this.generations.length * 2));
      grown.set(this.generations);
      this.generations = grown;
    }
    if (this.generations[local] === 0) this.written.push(local);
    this.generations[local] = ++this.generationCount;
  }

  private numeric(op: number): void {
    const stack = this.stack;
    if (op === 0x6a || op === 0x6b) {
      // i32.add, i32.sub: local + C stays one when the other operand is a constant.
      const top = stack.kindAt(0);
      const below = stack.kindAt(1);
      if (top === CONSTANT && below === LOCAL) {
        const c = stack.valueAt(0);
        const key = stack.keyAt(1);
        const value = stack.valueAt(1);
        stack.pops(2, 0);
        stack.push(LOCAL, key, s32(op === 0x6a ? value + c : value - c));
        return;
      }
      if (op === 0x6a && top === LOCAL && below === CONSTANT) {
        const c = stack.valueAt(1);
        const key = stack.keyAt(0);
        const value = stack.valueAt(0);
        stack.pops(2, 0);
        stack.push(LOCAL, key, s32(value + c));
        return;
      }
    }
    stack.pops(NUMERIC_POPS[op]!, 1);
  }

  /**
   * Notes an access (its address `depth` values down the stack) and groups it with the run's
   * latest group off the same value when the span stays within `maxSpan` bytes.
   *
   * The access's effective address is `wrap32(L + C) + K` (wasm: the sum with the offset does not
   * wrap). Taken relative to the group's anchor A = wrap32(L + C_head), it is
   * `wrap32(A + C') + K` with C' = C - C_head (mod 2^32, signed); when the group's check holds,
   * `A + lo >= 0` and `A + hi <= 2^32`, so for C' >= 0, or C' < 0 with K = 0, no sum wraps and the
   * address is exactly `A + C' + K`. An access with C' < 0 and K > 0 is left alone.
   */
  private access(at: number, depth: number, offset: number, bytes: number, store: boolean, maxSpan: number): void {
    const planned = this.newAccess(at);
    const kind = this.stack.kindAt(depth);
    planned.offset = offset;
    planned.bytes = bytes;
    planned.store = store;
    if (kind === CONSTANT) {
      planned.local = -1;
      planned.base = this.stack.valueAt(depth);
    } else if (kind === LOCAL && this.stack.keyAt(depth) < 65536) {
      planned.local = this.stack.keyAt(depth);
      planned.base = this.stack.valueAt(depth);
    }
    if (this.hoisted !== null && this.hoisted.has(at)) return;
    // A constant address is `0 + C`: constants group with each other (static variables).
    if (kind !== LOCAL && !(kind === CONSTANT && this.constants)) return;
    const key = kind === LOCAL ? this.stack.keyAt(depth) : CONSTANT_KEY;
    const c = this.stack.valueAt(depth);
    const index = this.latestGroup(key);
    if (index >= 0) {
      const group = this.groups[index]!;
      const relative = s32(c - group.anchor);
      if (relative < 0 && offset > 0) return;
      const d = relative + offset;
      const lo = Math.min(group.lo, d);
      const hi = Math.max(group.hi, d + bytes);
      if (hi - lo <= maxSpan && hi <= 2 ** 32 && lo >= -(2 ** 31)) {
        group.lo = lo;
        group.hi = hi;
        group.write ||= store;
        group.members++;
        group.last = planned;
        planned.fastOffset = d;
        planned.role = Role.member;
        planned.group = index;
        return;
      }
      group.key = -1; // closed: later accesses off this value start a new group
    }
    if (offset + bytes > 2 ** 32) return;
    planned.role = Role.head;
    planned.fastOffset = offset;
    planned.group = this.newGroup(key, c, offset, offset + bytes, store);
  }

  /**
   * The run's latest open group off `key`, or -1. Only the last GROUPS_SEARCHED groups are looked
   * at, so that planning stays linear in the run's length whatever it holds.
   */
  private latestGroup(key: number): number {
    const stop = Math.max(0, this.groupCount - GROUPS_SEARCHED);
    for (let i = this.groupCount - 1; i >= stop; i--) if (this.groups[i]!.key === key) return i;
    return -1;
  }

  private newAccess(at: number): PlannedAccess {
    let planned = this.accesses[this.count];
    if (planned === undefined) {
      planned = { at, role: Role.plain, slot: -1, fastOffset: 0, lo: 0, span: 0, write: false, ends: false, group: -1, local: -2, base: 0, offset: 0, bytes: 0, store: false };
      this.accesses.push(planned);
    } else {
      (planned as { at: number }).at = at;
      planned.role = Role.plain;
      planned.slot = planned.group = -1;
      planned.fastOffset = planned.lo = planned.span = 0;
      planned.write = planned.ends = planned.store = false;
      planned.local = -2;
      planned.base = planned.offset = planned.bytes = 0;
    }
    this.count++;
    return planned;
  }

  private newGroup(key: number, anchor: number, lo: number, hi: number, write: boolean): number {
    let group = this.groups[this.groupCount];
    if (group === undefined) {
      group = { key, members: 0, last: null, anchor, lo, hi, write };
      this.groups.push(group);
    } else {
      group.key = key;
      group.members = 0;
      group.last = null;
      group.anchor = anchor;
      group.lo = lo;
      group.hi = hi;
      group.write = write;
    }
    return this.groupCount++;
  }

  /** Gives each group of two or more accesses one of GROUP_LOCALS locals, in order; the rest are plain. */
  private assignLocals(): void {
    this.cursor = 0;
    const groups = this.groups;
    for (let i = 0; i < this.groupCount; i++) {
      const last = groups[i]!.last;
      if (last !== null) last.ends = true;
    }
    let free = (1 << GROUP_LOCALS) - 1;
    /** Slot of each group by index while planning this run: -1 before its head, -2 if it got none. */
    const slots = this.slots.length >= this.groupCount ? this.slots : (this.slots = new Int8Array(this.groupCount * 2));
    slots.fill(-1, 0, this.groupCount);
    for (let i = 0; i < this.count; i++) {
      const access = this.accesses[i]!;
      if (access.role === Role.plain) continue;
      const group = groups[access.group]!;
      if (access.role === Role.head) {
        if (group.members === 0 || free === 0) {
          access.role = Role.plain;
          slots[access.group] = -2;
          continue;
        }
        const slot = 31 - Math.clz32(free & -free);
        free &= ~(1 << slot);
        slots[access.group] = slot;
        access.slot = slot;
        access.lo = group.lo;
        access.span = group.hi - group.lo;
        access.write = group.write;
        access.fastOffset -= group.lo;
        continue;
      }
      const slot = slots[access.group]!;
      if (slot < 0) {
        access.role = Role.plain;
        continue;
      }
      access.slot = slot;
      access.fastOffset -= group.lo;
      if (access.ends) free |= 1 << slot;
    }
  }
  private slots = new Int8Array(64);
}
