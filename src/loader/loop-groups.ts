import { PAGE_SIZE } from "../kernel/constants.ts";
import { NUMERIC_POPS, type AccessPlanner } from "./access-groups.ts";
import { MEMORY_OPS } from "./output-layout.ts";
import { constantAccess } from "./mmu-sequences.ts";
import { BodyCursor, skipLeb } from "./wasm/body-cursor.ts";
import { Imm, Misc, immediates } from "./wasm/opcodes.ts";

/**
 * Checks hoisted out of loops (docs/LOADER.md "Checks hoisted out of loops"): the loads and stores
 * of a loop's own body (not of the loops nested in it) whose address operand is a local the loop
 * never writes, plus constants, or a constant, share one check made at the loop's header; each is
 * then a member (`if h then access(h + d) else helper`), as in a run's group.
 *
 * The planner only chooses: it walks the loop's body, planning each run of it with the run planner
 * (access-groups.ts) to learn each access's address operand, and notes every local the loop
 * writes, nested loops included. What the seal rests on is checked by the rewriter as it writes
 * each member (inside its slot's checked span, with the right checked) and by the emitted code:
 * the slot's local is zeroed before the loop and after every call inside it, and set only by the
 * header's check.
 */

/** Which groups a loop's header checks: those off locals, at constant pages, or both. */
export type LoopGroupKinds = "all" | "locals" | "constants";

/** At most this many hoisted groups are live at once (a local each), over nested loops. */
export const HOIST_LOCALS = 4;

/** One group hoisted to a loop's header. */
export interface HoistedGroup {
  /** The index (0..HOIST_LOCALS-1) of the local holding the span's physical address. */
  slot: number;
  /** The local whose value anchors the span, or -1 for a constant address (the span is then a page). */
  readonly local: number;
  /** The span from the local's value (or the page's address), its length, and whether it is checked for writing. */
  readonly lo: number;
  span: number;
  write: boolean;
  /** How many accesses of the loop's body it serves. */
  members: number;
}

/** A hoisted access: its group and its offset from the start of the group's span. */
export interface HoistedAccess {
  readonly group: HoistedGroup;
  readonly fastOffset: number;
}

/** What a loop's plan is: its groups (slots given) and its accesses by position. */
export interface LoopPlan {
  readonly groups: HoistedGroup[];
}

export class LoopPlanner extends BodyCursor {
  private readonly written = new Set<number>();
  /**
   * Bytes of the function body this planner may still read: a loop's plan reads its whole body,
   * nested loops included, so loops nested deep would cost the square of the body; the rewriter
   * gives each function a few times its size, and once that is spent its loops hoist nothing.
   */
  budget = 0;

  /**
   * Plans the loop whose body starts at `from` (after its block type), in a body ending at `end`:
   * adds its hoisted accesses to `hoisted` and returns its groups, given slots from `free` (a mask),
   * the groups with the most members first; null if nothing is hoisted. `minMembers`: the fewest
   * accesses a group must serve. The run planner is left in a state the rewriter resets.
   */
  plan(from: number, end: number, runs: AccessPlanner, maxSpan: number, free: number, minMembers: number, withCalls: boolean, kinds: LoopGroupKinds, hoisted: Map<number, HoistedAccess>): HoistedGroup[] | null {
    if (free === 0 || this.budget <= 0) return null;
    const bytes = this.bytes;
    const written = this.written;
    written.clear();
    const straight = runs.straight;
    // The loop's own accesses with a local or constant address operand: the run planner's objects
    // are reused from run to run, so their facts are copied here.
    const candidates: Array<{ at: number; local: number; base: number; offset: number; bytes: number; store: boolean }> = [];
    let depth = 0;
    /** Depth at which the nested loop being skipped opened, or -1. */
    let nested = -1;
    let at = from;
    let calls = false;
    const constantsOnly = kinds === "constants";
    this.height = 0;
    const saved = runs.hoisted;
    runs.hoisted = null;
    try {
      for (;;) {
        if (at >= end || at - from > this.budget) return null;
        const start = at;
        const op = bytes[at]!;
        if (constantsOnly) {
          // Only constant addresses: followed on a small stack of its own, without the run planner.
          if (nested < 0 && straight[op]) {
            at = this.stepConstant(op, at, end, candidates);
            if (at < 0) return null;
            if (op === 0x02 || op === 0x04) depth++;
            continue;
          }
          this.height = 0;
        } else if (nested < 0 && straight[op]) {
          at = runs.plan(start, end, maxSpan);
          depth += runs.opened;
          for (const local of runs.writtenLocals()) written.add(local);
          for (const access of runs.planned()) {
            if (access.local !== -2 && (kinds === "all" || access.local !== -1)) candidates.push({ at: access.at, local: access.local, base: access.base, offset: access.offset, bytes: access.bytes, store: access.store });
          }
          if (at === start) return null; // cannot happen: a STRAIGHT instruction continues a run
          continue;
        }
        at++;
        switch (immediates[op]) {
          case Imm.none:
            if (op === 0x0b) {
              if (depth === 0) break;
              depth--;
              if (depth < nested) nested = -1;
            }
            continue;
          case Imm.blockType:
            at = this.skipBlockType(at, end);
            depth++;
            continue;
          case Imm.loop:
            at = this.skipBlockType(at, end);
            depth++;
            if (nested < 0) nested = depth;
            continue;
          case Imm.u32:
            // Only a local's groups need the locals written (a plan of constants has none).
            if (!constantsOnly && (op === 0x21 || op === 0x22)) written.add(this.u32At(at, end));
            at = skipLeb(bytes, at, end);
            continue;
          case Imm.twoU32:
            calls = true;
            at = skipLeb(bytes, skipLeb(bytes, at, end), end);
            continue;
          case Imm.functionIndex:
            calls ||= op !== 0xd2;
            at = skipLeb(bytes, at, end);
            continue;
          case Imm.memorySize:
          case Imm.memoryGrow:
            calls = true;
            at = skipLeb(bytes, at, end);
            continue;
          case Imm.prefixMisc: {
            const sub = this.u32At(at, end);
            at = this.next;
            if (sub <= 7) continue;
            calls ||= sub >= Misc.memoryInit && sub <= Misc.memoryFill;
            if (sub === Misc.memoryInit || sub === Misc.memoryCopy) at = skipLeb(bytes, skipLeb(bytes, at, end), end);
            else if (sub === Misc.dataDrop || sub === Misc.memoryFill || sub === Misc.tableGrow || sub === Misc.tableSize) at = skipLeb(bytes, at, end);
            else return null;
            continue;
          }
          default: {
            const next = this.skipPlain(immediates[op]!, at, end);
            if (next < 0) return null; // SIMD, GC and the rest: this loop hoists nothing
            at = next;
            continue;
          }
        }
        break; // the loop's end
      }
    } finally {
      this.budget -= at - from;
      runs.hoisted = saved;
      runs.reset();
    }
    if (calls && !withCalls) return null;
    return this.group(candidates, maxSpan, free, minMembers, hoisted);
  }

  /** The groups of the candidates whose local the loop never writes (or constants), each its accesses. */
  private group(candidates: ReadonlyArray<{ at: number; local: number; base: number; offset: number; bytes: number; store: boolean }>, maxSpan: number, free: number, minMembers: number, hoisted: Map<number, HoistedAccess>): HoistedGroup[] | null {
    const groups = new Map<number, { group: HoistedGroup; hi: number; accesses: Array<[number, number]> }>();
    for (const c of candidates) {
      let key: number;
      let lo: number;
      let d: number;
      if (c.local === -1) {
        // A constant address: the group is its page, checked whole.
        const address = (c.base >>> 0) + c.offset;
        if (!constantAccess(address, c.bytes)) continue;
        lo = Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
        key = -1 - lo / PAGE_SIZE;
        d = address;
      } else {
        if (this.written.has(c.local)) continue;
        // As for a run's member (access-groups.ts access): wrap32(L + C) + K is L + C + K when
        // C >= 0, or C < 0 and K = 0, within a span the check found below 4 GiB.
        if (c.base < 0 && c.offset > 0) continue;
        key = c.local;
        d = c.base + c.offset;
        lo = d;
      }
      let entry = groups.get(key);
      if (entry === undefined) {
        if (c.local !== -1 && (d < -(2 ** 31) || d + c.bytes > 2 ** 32)) continue;
        entry = { group: { slot: -1, local: c.local, lo, span: c.local === -1 ? PAGE_SIZE : c.bytes, write: c.store, members: 0 }, hi: c.local === -1 ? lo + PAGE_SIZE : d + c.bytes, accesses: [] };
        groups.set(key, entry);
      }
      const group = entry.group;
      if (c.local !== -1) {
        const newLo = Math.min(group.lo, d);
        const newHi = Math.max(entry.hi, d + c.bytes);
        if (newHi - newLo > maxSpan || newHi > 2 ** 32) continue;
        (group as { lo: number }).lo = newLo;
        entry.hi = newHi;
        group.span = newHi - newLo;
      }
      group.write ||= c.store;
      group.members++;
      entry.accesses.push([c.at, d]);
    }
    const chosen = [...groups.values()].filter((e) => e.group.members >= minMembers).sort((a, b) => b.group.members - a.group.members);
    const result: HoistedGroup[] = [];
    for (const entry of chosen) {
      if (free === 0) break;
      const slot = 31 - Math.clz32(free & -free);
      free &= ~(1 << slot);
      entry.group.slot = slot;
      result.push(entry.group);
      for (const [at, d] of entry.accesses) hoisted.set(at, { group: entry.group, fastOffset: d - entry.group.lo });
    }
    return result.length > 0 ? result : null;
  }

  /** The abstract stack of stepConstant: whether each value is a constant, and which. */
  private constant = new Uint8Array(64);
  private values = new Int32Array(64);
  private height = 0;

  /**
   * One instruction `op` at `at` that continues a run, for a plan of constant addresses only: its
   * effect on the stack (values below the run's start are not constants), and a candidate for each
   * load or store whose address operand is an `i32.const`. Returns where it ends, or -1 for an
   * instruction it does not follow (the loop then hoists nothing).
   */
  private stepConstant(op: number, at: number, end: number, candidates: Array<{ at: number; local: number; base: number; offset: number; bytes: number; store: boolean }>): number {
    const start = at++;
    switch (immediates[op]) {
      case Imm.none:
        if (op === 0x1a) this.pop(1);
        else if (op === 0x1b || op === 0xd1 || (op >= 0x45 && op <= 0xc4)) {
          this.pop(op === 0x1b ? 3 : op === 0xd1 ? 1 : NUMERIC_POPS[op]!);
          this.push(0, 0);
        } else if (op !== 0x01) return -1;
        return at;
      case Imm.blockType:
        if (op === 0x04) this.pop(1);
        return this.skipBlockType(at, end);
      case Imm.u32: {
        // No set of the locals written: a plan of constants groups no local's accesses.
        this.u32At(at, end);
        if (op === 0x20) this.push(0, 0);
        else if (op === 0x21) this.pop(1);
        else if (op === 0x22) {
          this.pop(1);
          this.push(0, 0);
        } else if (op === 0x25) {
          this.pop(1);
          this.push(0, 0);
        } else if (op === 0x0d) this.pop(1);
        else return -1;
        return this.next;
      }
      case Imm.tableSet:
        this.pop(2);
        return skipLeb(this.bytes, at, end);
      case Imm.globalIndex:
        if (op === 0x23) this.push(0, 0);
        else this.pop(1);
        return skipLeb(this.bytes, at, end);
      case Imm.selectTypes: {
        const types = this.u32At(at, end);
        at = this.next;
        for (let i = 0; i < types; i++) at = this.skipBlockType(at, end);
        this.pop(3);
        this.push(0, 0);
        return at;
      }
      case Imm.i32Const: {
        const value = this.s32At(at, end);
        this.push(1, value);
        return this.next;
      }
      case Imm.i64Const:
      case Imm.heapType:
        this.push(0, 0);
        return skipLeb(this.bytes, at, end);
      case Imm.f32Const:
        this.push(0, 0);
        return at + 4;
      case Imm.f64Const:
        this.push(0, 0);
        return at + 8;
      case Imm.functionIndex:
        if (op !== 0xd2) return -1;
        this.push(0, 0);
        return skipLeb(this.bytes, at, end);
      case Imm.load:
      case Imm.store: {
        const flags = this.u32At(at, end);
        at = this.next;
        if (flags & 0x40) at = skipLeb(this.bytes, at, end);
        const offset = this.u32At(at, end);
        at = this.next;
        const store = immediates[op] === Imm.store;
        const depth = store ? 1 : 0;
        if (this.height > depth && this.constant[this.height - 1 - depth] === 1) {
          candidates.push({ at: start, local: -1, base: this.values[this.height - 1 - depth]!, offset, bytes: MEMORY_OPS[op]!.kind.bytes, store });
        }
        this.pop(store ? 2 : 1);
        if (!store) this.push(0, 0);
        return at;
      }
      default:
        return -1;
    }
  }

  private push(constant: number, value: number): void {
    if (this.height === this.constant.length) {
      const kinds = new Uint8Array(this.height * 2);
      kinds.set(this.constant);
      this.constant = kinds;
      const values = new Int32Array(this.height * 2);
      values.set(this.values);
      this.values = values;
    }
    this.constant[this.height] = constant;
    this.values[this.height++] = value;
  }

  private pop(n: number): void {
    this.height = Math.max(0, this.height - n);
  }
}
