import { CODE_BYTES_PER_FUEL, PAGE_SIZE, SMALL_LEAF_BYTES } from "../kernel/constants.ts";
import { constantAccess, emitAccessCall, emitCall, emitCalledGroupHead, emitConstCall, emitGroupEnds, emitGroupHead, emitGroupMember, emitHoistedCheck, emitHoistedClears, emitLoad, emitSafePoint, emitStore, emitStreamAccess, emitTlbLocal, STREAM_GLOBAL_CLEAR, patchSafePoint, type AccessLocals, type GroupLocals, type StreamLocals } from "./mmu-sequences.ts";
import { AccessPlanner, GROUP_LOCALS, Role, type PlannedAccess } from "./access-groups.ts";
import { HOIST_LOCALS, LoopPlanner, type HoistedAccess } from "./loop-groups.ts";
import { LoopPaths } from "./loop-paths.ts";
import { SequenceMarks } from "./sequence-marks.ts";
import { ACCESS_HELPER_COUNT, MEMORY_OPS, type CodeLayout } from "./output-layout.ts";
import { ACCESS_KINDS } from "../kernel/mmu-abi.ts";
import { LoopScan, STREAM_LOCALS } from "./access-streams.ts";
import { CallSites } from "./call-sites.ts";
import { DecodeError } from "./wasm/byte-reader.ts";
import { BodyCursor, skipLeb } from "./wasm/body-cursor.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";
import { Imm, Misc, ACCEPTED_GC, immediates, refusedAtomic, refusedGc, refusedMisc, refusedOpcodes, refusedSimd, simdImmediateBytes } from "./wasm/opcodes.ts";
import { F32, F64, I32, I64 } from "./wasm/value-types.ts";

/**
 * Rewrites one function body in a single pass over its instructions: each is decoded and either
 * copied as it is (runs of untouched instructions in one copy) or replaced by its translation
 * (mmu-sequences.ts); function and global indices are renumbered for the output's index spaces
 * (output-layout.ts); a safe point goes at the entry and at every loop header; the scratch locals
 * the translations used are declared after the function's own; the `if`s of those sequences are
 * noted for the branch-hint section (write-module.ts). Iterative: nesting depth costs nothing. The binary has been validated, so every instruction is well typed; its encoding is
 * still checked as it is read.
 */

/** An instruction the loader does not accept, in a function. */
export class CodeRefusal extends Error {
  readonly functionIndex: number;
  readonly offset: number;
  readonly what: string;
  constructor(functionIndex: number, offset: number, what: string) {
    super(`function ${functionIndex}: uses ${what}`);
    this.functionIndex = functionIndex;
    this.offset = offset;
    this.what = what;
  }
}

/** Thrown inside a rewrite that must start again: see BodyRewriter.rewrite. */
const LOOP_FOUND = Symbol("loop found");
const TOO_BIG_INLINE = Symbol("too big inline");
const NESTS_TOO_BIG = Symbol("nests too big");

/** How many times its body's size a function's loop plans may read in all (loop-groups.ts LoopPlanner.budget). */
const LOOP_PLAN_BUDGET = 4;

/** V8 refuses a function with more locals (parameters included). */
export const MAX_FUNCTION_LOCALS = 50_000;

const SCRATCH_TYPES = [I32, I32, I32, I64, F32, F64, I32, I32, ...Array<number>(GROUP_LOCALS + HOIST_LOCALS).fill(I32), ...Array<number>(STREAM_LOCALS).fill(I64), ...Array<number>(STREAM_LOCALS).fill(I32), I64] as const;
/**
 * group: the first of GROUP_LOCALS locals holding groups' physical addresses (access-groups.ts);
 * hoist: the first of HOIST_LOCALS holding those of groups checked at a loop's header (loop-groups.ts);
 * streamPage, streamAddend: the first of STREAM_LOCALS each, an access stream's page and addend
 * (mmu-sequences.ts emitStreamAccess); wide: the i64 of a check's wide key (CodeLayout.wideKeys).
 */
const Scratch = { address: 0, entry: 1, i32: 2, i64: 3, f32: 4, f64: 5, tlb: 6, anchor: 7, group: 8, hoist: 8 + GROUP_LOCALS, streamPage: 8 + GROUP_LOCALS + HOIST_LOCALS, streamAddend: 8 + GROUP_LOCALS + HOIST_LOCALS + STREAM_LOCALS, wide: 8 + GROUP_LOCALS + HOIST_LOCALS + 2 * STREAM_LOCALS } as const;
const VALUE_SCRATCH: Record<number, number> = { [I32]: Scratch.i32, [I64]: Scratch.i64, [F32]: Scratch.f32, [F64]: Scratch.f64 };

/** The locals a sequence ends when it ends none (BodyRewriter.kernelClears). */
const NO_CLEARS: readonly number[] = [];

/** Where a body loop outlining wrote has its dispatch loops (no safe point: each round calls an outlined loop, whose entry has one), and its outlined loop's header with the depth of the label that leaves the loop's function. */
export interface OutlinedLoops {
  readonly dispatches: ReadonlySet<number>;
  readonly leaving: ReadonlyMap<number, number>;
}

export interface BodyFacts {
  /** It has table.set or table.grow. */
  writesTables: boolean;
}

/**
 * The writers a body's code and its header are written into before they are copied to the
 * output, one pair for every BodyRewriter of the thread: a rewrite of one body is never entered
 * again before it returns, and it copies both out before it does. A 64 KiB buffer per rewriter,
 * one per chunk (dozens in a boot's loads), cost its zeroing and page faults each time.
 */
const sharedCode = new ByteWriter(1 << 16);
const sharedHeader = new ByteWriter(256);
/** Past this, the shared code writer's buffer (grown by one huge body) is dropped after the body, not kept for the thread's life. */
const KEPT_CODE_BYTES = 4 << 20;

export class BodyRewriter extends BodyCursor {
  private readonly layout: CodeLayout;
  private readonly code = sharedCode;
  /** The new body's size-less start: local declarations and prologue. */
  private readonly header = sharedHeader;
  /** Local index of each scratch local, -1 while unused, for the body being rewritten. */
  private readonly scratch = new Int32Array(SCRATCH_TYPES.length);
  private readonly scratchOrder: number[] = [];
  private localCount = 0;
  /** Access streams (access-streams.ts): the slots of the loop nest open (bit i: slot i). */
  private streamLive = 0;
  /** For each open loop (by depth): the stream slots it took (an outermost loop), and those its nest's accesses have not used yet. */
  private loopStreams = new Uint8Array(64);
  private loopStreamsFree = new Uint8Array(64);
  /** For each open block (by depth): the depth of the innermost loop open at it (itself if a loop), or -1. */
  private innermost = new Int32Array(64);
  /** For each open loop (by depth): the depth of the outermost loop around it (itself if none). */
  private outermost = new Int32Array(64);
  private readonly loopScan: LoopScan;
  private readonly locals: AccessLocals = { address: 0, entry: 0, tlb: -1, wide: -1 };
  private readonly groupScratch: GroupLocals = { anchor: 0, address: 0, entry: 0, tlb: -1, physical: 0, wide: -1 };
  private readonly streamScratch: StreamLocals = { anchor: 0, address: 0, entry: 0, tlb: -1, page: 0, addend: 0, globals: false, wide: -1 };

  private functionIndex = 0;
  private blocks = new Uint8Array(64);
  /** For each open loop (by depth): where its safe point's charge is in `code`, and where its body starts in the binary. */
  private loopCharges = new Int32Array(64);
  private loopStarts = new Int32Array(64);
  /**
   * Which access helpers (by accessHelper's order) the bodies rewritten so far call, then which
   * slow-path wrappers (at ACCESS_HELPER_COUNT + the kind's index in ACCESS_KINDS) they may call:
   * every access of a kind may, whatever its translation.
   */
  readonly usedAccessHelpers = new Uint8Array(ACCESS_HELPER_COUNT + ACCESS_KINDS.length);
  /** Whether those bodies use memory.copy (index 0) and memory.fill (1): their helpers are long. */
  readonly usedBulkHelpers = new Uint8Array(2);
  private bodyStart = 0;
  /** Loop outlining's loops in the body being rewritten (outline-bodies.ts), if any. */
  private outlining: OutlinedLoops | null = null;
  /** This rewrite of the body calls the access helpers for every access (a huge function: see rewrite). */
  private huge = false;
  /** In a huge function, the depth of the loop whose nest is written inline as in any other function (hugeInlineNest), or -1. */
  private inlineNest = -1;
  /** This rewrite of a huge function may write its small loop nests inline (until its output passes hugeInlineOutput), and whether it has. */
  private inlineNests = false;
  private wroteNests = false;
  /** This rewrite of the body translates accesses outside loops inline (until a loop shows it should not). */
  private inlineOutsideLoops = false;
  private accessesOutsideLoops = false;
  private readonly marks = new SequenceMarks();
  private readonly paths = new LoopPaths();
  private readonly planner: AccessPlanner;
  /** The run whose groups `liveGroups` (bit per slot) are, and each slot's checked span and right (startGroup). */
  private groupRun = -1;
  private liveGroups = 0;
  private readonly groupSpans = new Int32Array(GROUP_LOCALS);
  private readonly groupWrites = new Uint8Array(GROUP_LOCALS);
  /** Accesses hoisted to their loop's header, by position; the hoisted groups live (bit per slot), each slot's checked span and right, and each open loop's slots. */
  private readonly hoisted = new Map<number, HoistedAccess>();
  private readonly loopPlanner: LoopPlanner;
  private hoistLive = 0;
  private readonly hoistSpans = new Int32Array(HOIST_LOCALS);
  private readonly hoistWrites = new Uint8Array(HOIST_LOCALS);
  private loopHoists = new Uint8Array(64);
  /** The branch-hint section's entries for the bodies rewritten so far (write-module.ts), and how many functions they cover. */
  readonly hints = new ByteWriter(1024);
  hintedFunctions = 0;
  /** Where the direct references to functions the bodies rewritten make are recorded (call-sites.ts: which functions run once). */
  calls = new CallSites();

  constructor(bytes: Uint8Array, layout: CodeLayout) {
    super(bytes);
    this.layout = layout;
    this.planner = new AccessPlanner(bytes, layout.groupAcrossBranches, layout.groupConstants);
    this.planner.hoisted = this.hoisted;
    this.loopPlanner = new LoopPlanner(bytes);
    this.loopScan = new LoopScan(bytes);
  }

  /** Takes the helpers `other` used, and (unless `hints` is false) its branch-hint entries after this one's. */
  absorb(other: BodyRewriter, hints = true): void {
    for (let i = 0; i < this.usedAccessHelpers.length; i++) this.usedAccessHelpers[i] = this.usedAccessHelpers[i]! | other.usedAccessHelpers[i]!;
    for (let i = 0; i < 2; i++) this.usedBulkHelpers[i] = this.usedBulkHelpers[i]! | other.usedBulkHelpers[i]!;
    if (!hints) return;
    this.hints.bytes(other.hints.view());
    this.hintedFunctions += other.hintedFunctions;
  }

  /**
   * Writes function `functionIndex`'s body, `[start, end)` of the binary (after its size), with
   * `paramCount` parameters, rewritten and preceded by its new size, to `out`.
   */
  rewrite(functionIndex: number, start: number, end: number, paramCount: number, out: ByteWriter, outlining: OutlinedLoops | null = null): BodyFacts {
    this.outlining = outlining;
    // A function without loops has its accesses inline: it may well be the hot body a caller's loop
    // calls. One with loops calls helpers for the accesses outside them, which run once a call:
    // found out at its first loop, where the rewrite starts again.
    this.inlineOutsideLoops = this.layout.accessCalls === "cold-in-looping";
    // A huge function calls the access helpers for every access: one of allCallsMinBody input
    // bytes or more, or one of allCallsDenseBody or more whose translation grows past
    // allCallsDensity times its size (found out as it grows, where the rewrite starts again).
    this.huge = this.layout.accessCalls !== "never" && end - start >= this.layout.allCallsMinBody;
    // (Not one whose input is that big already: its output, calls for the rest, would pass it anyway.)
    this.inlineNests = this.layout.hugeInlineNest > 0 && end - start < this.layout.hugeInlineOutput;
    this.calls.begin(functionIndex);
    for (;;) {
      try {
        return this.rewriteOnce(functionIndex, start, end, paramCount, out);
      } catch (error) {
        if (error === LOOP_FOUND) this.inlineOutsideLoops = false;
        else if (error === TOO_BIG_INLINE) this.huge = true;
        else if (error === NESTS_TOO_BIG) this.inlineNests = false;
        else throw error;
      }
    }
  }

  private rewriteOnce(functionIndex: number, start: number, end: number, paramCount: number, out: ByteWriter): BodyFacts {
    const bytes = this.bytes;
    const facts: BodyFacts = { writesTables: false };
    this.functionIndex = functionIndex;
    this.bodyStart = start;
    this.accessesOutsideLoops = false;
    // Local declarations: counted, then copied as they are.
    let at = start;
    const groups = this.u32At(at, end);
    at = this.next;
    let declared = paramCount;
    const groupsStart = at;
    for (let i = 0; i < groups; i++) {
      declared += this.u32At(at, end);
      at = this.skipValueType(this.next, end);
      if (declared > MAX_FUNCTION_LOCALS) throw new DecodeError(at, `function ${functionIndex} declares more than ${MAX_FUNCTION_LOCALS} locals`);
    }
    const groupsEnd = at;
    this.localCount = declared;
    this.scratch.fill(-1);
    this.scratchOrder.length = 0;
    this.streamLive = 0;
    this.loopScan.budget = LOOP_PLAN_BUDGET * (end - start);

    const code = this.code;
    code.length = 0;
    const marks = this.marks;
    marks.clear();
    const layout = this.layout;
    // A small function that neither loops nor calls runs a bounded few instructions: it needs no
    // safe point of its own (its callers' loops and entries have theirs). Any other spends fuel
    // for its size at its entry, so that a loop calling it pays for what each call runs.
    let loopsOrCalls = false;
    // Open blocks, innermost last (1 for a loop, 0 otherwise), and how many of them are loops.
    let depth = 0;
    let loops = 0;
    let run = at;
    // The last i32.const read (where it starts and ends, its value as an unsigned address) and the
    // starts of the two instructions before the current one: an access whose address operand is
    // that constant is translated with constants (emitLoad and emitStore with a constant).
    let constStart = -1;
    let constEnd = -1;
    let constValue = 0;
    let before = -1;
    let previous = -1;
    let opStart = -1;
    const paths = this.paths;
    paths.reset(at);
    // Where the current run of straight-line code started (access-groups.ts), -1 outside one.
    let runStart = -1;
    const straight = this.planner.straight;
    this.planner.reset();
    this.groupRun = -1;
    this.liveGroups = 0;
    this.hoisted.clear();
    this.hoistLive = 0;
    this.inlineNest = -1;
    this.wroteNests = false;
    // Past this many bytes written, a function whose accesses are inline is huge (see rewrite). Not
    // a function whose loops are outlined, nor an outlined loop: the density rule saves TurboFan's
    // time on big programs' many dense functions, where outlining is for small programs' one
    // function that runs once, and its loop, alone and denser than its function, is where the run's
    // time goes (interp.c's dispatch loop went through helpers: 3.1x node:wasi against 1.6x).
    const tooBig = this.huge || this.outlining !== null || layout.accessCalls === "never" || end - start < layout.allCallsDenseBody ? Infinity : layout.allCallsDensity * (end - start);
    this.loopPlanner.budget = LOOP_PLAN_BUDGET * (end - start);
    while (at < end) {
      before = previous;
      previous = opStart;
      opStart = at;
      paths.step(opStart);
      const op = bytes[at++]!;
      if (!straight[op]) runStart = -1;
      else if (runStart < 0) runStart = opStart;
      switch (immediates[op]) {
        case Imm.none:
          if (op === 0x0b && depth > 0) {
            if (this.blocks[--depth] === 1) {
              loops--;
              // The loop's safe point spends fuel for the longest path through its body, now known
              // (loop-paths.ts), or for its whole body under the variant that measures the choice.
              const longest = paths.endLoop(at);
              const body = opStart - this.loopStarts[depth]!;
              if (this.loopCharges[depth]! >= 0) patchSafePoint(code, this.loopCharges[depth]!, fuelFor(layout.loopPaths ? Math.min(longest, body) : body));
              this.hoistLive &= ~this.loopHoists[depth]!;
              this.streamLive &= ~this.loopStreams[depth]!;
              if (depth === this.inlineNest) this.inlineNest = -1;
            } else paths.endBlock(depth, at);
          } else if (op === 0x05) paths.otherwise(depth - 1, at);
          else if (op === 0x0f || op === 0x00) paths.unreachable(at);
          continue;
        case Imm.blockType:
          if (depth === this.blocks.length) this.growBlocks();
          at = this.skipBlockType(at, end);
          paths.block(depth, op === 0x04, at);
          this.innermost[depth] = this.innermostLoop(depth);
          this.blocks[depth++] = 0;
          continue;
        case Imm.loop:
          if (this.inlineOutsideLoops) {
            if (this.accessesOutsideLoops) throw LOOP_FOUND;
            this.inlineOutsideLoops = false;
          }
          loopsOrCalls = true;
          if (depth === this.blocks.length) this.growBlocks();
          this.blocks[depth] = 1;
          this.innermost[depth] = depth;
          loops++;
          // A dispatch loop of loop outlining (outline-bodies.ts) needs none: each time round it
          // calls the outlined loop, whose entry has one.
          const safePoint = layout.safePoints && !(this.outlining?.dispatches.has(opStart) ?? false);
          // An outlined loop's own header leaves to be called again when its safe point's call gave it fuel.
          const leave = this.outlining?.leaving.get(opStart) ?? -1;
          this.loopCharges[depth] = -1;
          at = this.skipBlockType(at, end);
          paths.loop(depth, at);
          this.loopStarts[depth] = at;
          this.loopHoists[depth] = 0;
          // A huge function's small loop nest is written as any other function's: its accesses
          // inline, and it is a nest of its own for streams (the loops around it take none).
          const nestRoot = this.huge && this.inlineNests && this.inlineNest < 0 && this.loopScan.fits(at, end, layout.hugeInlineNest);
          if (nestRoot) {
            this.inlineNest = depth;
            this.wroteNests = true;
          }
          // Checks are hoisted, and streams taken, only where accesses are inline (not in huge functions).
          const inlineChecks = layout.accessCalls !== "always" && (!this.huge || this.inlineNest >= 0);
          // Access streams: a loop nest that calls nothing takes its slots at its outermost loop.
          const outermost = this.innermostLoop(depth) < 0 || nestRoot;
          this.outermost[depth] = outermost ? depth : this.outermost[this.innermostLoop(depth)]!;
          this.loopStreams[depth] = this.loopStreamsFree[depth] = 0;
          const streams = inlineChecks && layout.accessStreams > 0 && outermost ? this.takeStreams(depth, at, end) : 0;
          const groups = layout.loopGroups && layout.groupSpan > 0 && inlineChecks ? this.loopPlanner.plan(at, end, this.planner, layout.groupSpan, ~this.hoistLive & ((1 << HOIST_LOCALS) - 1), layout.loopGroupMembers, layout.loopGroupsWithCalls, layout.loopGroupKinds, this.hoisted) : null;
          if (streams !== 0) {
            // Before the loop: its streams' pages made invalid (every way into the kernel in it does the same).
            code.copy(bytes, run, opStart);
            emitGroupEnds(code, this.streamClears(streams));
            run = opStart;
          }
          if (groups !== null) {
            // Checks hoisted to the header (loop-groups.ts): their locals zeroed before the loop,
            // checked after the safe point (whose call, as every call in the loop, zeroes them).
            let mask = 0;
            for (const group of groups) mask |= 1 << group.slot;
            if (mask & this.hoistLive) throw new Error(`loader bug: loop at ${opStart} of function ${functionIndex} reuses a live hoisted slot`);
            code.copy(bytes, run, opStart);
            emitHoistedClears(code, this.hoistClears(mask));
            this.hoistLive |= mask;
            this.loopHoists[depth] = mask;
            code.copy(bytes, opStart, at);
            this.loopCharges[depth] = safePoint ? emitSafePoint(code, marks, layout, 1, this.kernelClears(), true, leave) : -1;
            for (const group of groups) {
              if (group.span > PAGE_SIZE || group.span <= 0) throw new Error(`loader bug: loop at ${opStart} of function ${functionIndex} hoists a span of ${group.span} bytes`);
              this.hoistSpans[group.slot] = group.span;
              this.hoistWrites[group.slot] = group.write ? 1 : 0;
              emitHoistedCheck(code, marks, layout, group, this.hoistLocals(group.slot));
            }
            run = at;
          } else if (safePoint) {
            code.copy(bytes, run, at);
            this.loopCharges[depth] = emitSafePoint(code, marks, layout, 1, this.kernelClears(), true, leave);
            run = at;
          }
          depth++;
          continue;
        case Imm.u32:
          if (op === 0x0c || op === 0x0d) {
            // br, br_if
            const label = this.u32At(at, end);
            at = this.next;
            paths.branch(depth, label, at);
            if (op === 0x0c) paths.unreachable(at);
            continue;
          }
          at = skipLeb(bytes, at, end);
          continue;
        case Imm.tableSet:
          facts.writesTables = true;
          at = skipLeb(bytes, at, end);
          continue;
        case Imm.twoU32:
          loopsOrCalls = true; // call_indirect, return_call_indirect
          at = skipLeb(bytes, skipLeb(bytes, at, end), end);
          if (op === 0x13) paths.unreachable(at);
          else if (this.hoistLive !== 0 || this.streamLive !== 0) {
            // The callee may enter the kernel: the hoisted groups end.
            code.copy(bytes, run, at);
            emitGroupEnds(code, this.kernelClears());
            run = at;
          }
          continue;
        case Imm.brTable: {
          const labels = this.u32At(at, end);
          at = this.next;
          const first = at;
          for (let i = 0; i <= labels; i++) at = skipLeb(bytes, at, end);
          for (let i = 0, label = first; i <= labels; i++) {
            paths.branch(depth, this.u32At(label, end), at);
            label = this.next;
          }
          paths.unreachable(at);
          continue;
        }
        case Imm.selectTypes: {
          const types = this.u32At(at, end);
          at = this.next;
          for (let i = 0; i < types; i++) at = this.skipValueType(at, end);
          continue;
        }
        case Imm.i32Const:
          constStart = opStart;
          constValue = this.s32At(at, end) >>> 0;
          at = constEnd = this.next;
          continue;
        case Imm.i64Const:
          at = skipLeb(bytes, at, end);
          continue;
        case Imm.f32Const:
          at += 4;
          continue;
        case Imm.f64Const:
          at += 8;
          continue;
        case Imm.heapType:
          at = skipLeb(bytes, at, end);
          continue;
        case Imm.functionIndex: {
          loopsOrCalls ||= op !== 0xd2; // call, return_call (not ref.func)
          const index = this.u32At(at, end);
          this.calls.note(opStart, index, loops > 0, op === 0xd2);
          code.copy(bytes, run, at);
          code.u32(index < layout.functionImports ? index : index + layout.addedImports);
          at = run = this.next;
          if (op === 0x12) paths.unreachable(at); // return_call
          else if (op === 0x10 && (this.hoistLive !== 0 || this.streamLive !== 0)) emitGroupEnds(code, this.kernelClears());
          continue;
        }
        case Imm.globalIndex: {
          const index = this.u32At(at, end);
          code.copy(bytes, run, at);
          code.u32(index + layout.globalShift);
          at = run = this.next;
          continue;
        }
        case Imm.load:
        case Imm.store: {
          const flags = this.u32At(at, end);
          at = this.next;
          if (flags & 0x40) at = skipLeb(bytes, at, end); // memory index: there is only memory 0
          const offset = this.u32At(at, end);
          at = this.next;
          const memoryOp = MEMORY_OPS[op]!;
          this.usedAccessHelpers[ACCESS_HELPER_COUNT + memoryOp.slowPath] = 1;
          if (loops === 0) this.accessesOutsideLoops = true;
          if (code.length + (opStart - run) >= tooBig) throw TOO_BIG_INLINE;
          if (this.wroteNests && code.length + (opStart - run) >= layout.hugeInlineOutput) throw NESTS_TOO_BIG;
          const huge = this.huge && this.inlineNest < 0;
          const call = layout.accessCalls === "always" || huge || (loops === 0 && ((layout.accessCalls === "cold" && end - start >= layout.coldCallsMinBody) || (layout.accessCalls === "cold-in-looping" && !this.inlineOutsideLoops)));
          // Groups whose head this run has written (access-groups.ts) end at any slow path.
          if (runStart !== this.groupRun) {
            this.groupRun = runStart;
            this.liveGroups = 0;
          }
          // A huge function's accesses share checks through a called head (emitCalledGroupHead).
          const calledHeads = call && huge && (layout.hugeFunctionGroups === true || (layout.hugeFunctionGroups === "loops" && loops > 0)) && layout.accessCalls !== "always";
          const planned = layout.groupSpan > 0 && (!call || calledHeads) ? this.planned(runStart, opStart, end) : null;
          if (call && (planned === null || planned.role === Role.plain)) {
            code.copy(bytes, run, opStart);
            emitAccessCall(code, layout, op, offset, layout.helperTlbArgument ? this.scratchLocal(Scratch.tlb) : -1);
            if (this.liveGroups !== 0 || this.hoistLive !== 0 || this.streamLive !== 0) emitGroupEnds(code, this.groupClears(this.liveGroups));
            this.usedAccessHelpers[(op - 0x28) * 2 + (offset !== 0 ? 1 : 0)] = 1;
            run = at;
            continue;
          }
          const load = immediates[op] === Imm.load;
          const hoisted = this.hoisted.get(opStart);
          if (hoisted !== undefined) {
            // A member of a group checked at its loop's header.
            if (call || (planned !== null && planned.role !== Role.plain)) throw new Error(`loader bug: hoisted access at ${opStart} of function ${functionIndex} is also planned otherwise`);
            this.checkHoisted(opStart, hoisted, memoryOp.kind.bytes, !load);
            code.copy(bytes, run, opStart);
            const value = load ? -1 : this.scratchLocal(VALUE_SCRATCH[memoryOp.valueType]!);
            emitGroupMember(code, marks, layout, memoryOp, op, flags & 0x3f, offset, this.hoistLocals(hoisted.group.slot), value, hoisted.fastOffset, this.groupClears(this.liveGroups));
            this.usedAccessHelpers[(op - 0x28) * 2 + (offset !== 0 ? 1 : 0)] = 1;
            run = at;
            continue;
          }
          if (planned !== null && planned.role !== Role.plain) {
            code.copy(bytes, run, opStart);
            const locals = this.groupLocals(planned.slot, planned.role === Role.head ? planned.lo : 0);
            const value = load ? -1 : this.scratchLocal(VALUE_SCRATCH[memoryOp.valueType]!);
            const clears = this.groupClears(this.liveGroups & ~(1 << planned.slot));
            if (planned.role === Role.head) {
              this.startGroup(planned, memoryOp.kind.bytes, !load);
              (calledHeads ? emitCalledGroupHead : emitGroupHead)(code, marks, layout, memoryOp, op, flags & 0x3f, offset, locals, value, planned, clears);
            } else {
              this.checkMember(planned, memoryOp.kind.bytes, !load);
              emitGroupMember(code, marks, layout, memoryOp, op, flags & 0x3f, offset, locals, value, planned.fastOffset, clears);
            }
            this.usedAccessHelpers[(op - 0x28) * 2 + (offset !== 0 ? 1 : 0)] = 1;
            run = at;
            continue;
          }
          const clears = this.groupClears(this.liveGroups);
          // The address is a constant when the instruction before a load, or the one before a
          // store's value (a local or a constant, which nothing in between can change), was i32.const.
          const constantAt = load ? previous : before;
          if (layout.constantAddresses && constantAt === constStart && constStart >= run && constantAccess(constValue + offset, memoryOp.kind.bytes) && (load || simpleValue(bytes[previous]!))) {
            code.copy(bytes, run, constStart);
            const locals = this.constantLocals();
            if (load) emitLoad(code, marks, layout, memoryOp, op, flags & 0x3f, 0, locals, constValue + offset, clears);
            else {
              code.copy(bytes, constEnd, opStart);
              emitStore(code, marks, layout, memoryOp, op, flags & 0x3f, 0, locals, this.scratchLocal(VALUE_SCRATCH[memoryOp.valueType]!), constValue + offset, clears);
            }
            run = at;
            continue;
          }
          code.copy(bytes, run, opStart);
          const nest = depth > 0 && this.innermost[depth - 1]! >= 0 ? this.outermost[this.innermost[depth - 1]!]! : -1;
          if (nest >= 0 && this.loopStreamsFree[nest] !== 0) {
            // An access inside a loop nest with streams keeps the page it reached last (emitStreamAccess).
            const free = this.loopStreamsFree[nest]!;
            const slot = 31 - Math.clz32(free & -free);
            this.loopStreamsFree[nest] = free & ~(1 << slot);
            if ((this.streamLive & (1 << slot)) === 0) throw new Error(`loader bug: access at ${opStart} of function ${functionIndex} takes stream slot ${slot}, which no open loop took`);
            const value = load ? -1 : this.scratchLocal(VALUE_SCRATCH[memoryOp.valueType]!);
            emitStreamAccess(code, marks, layout, memoryOp, op, flags & 0x3f, offset, this.streamLocals(slot, offset), value, clears);
            run = at;
            continue;
          }
          const locals = this.accessLocals(offset);
          if (load) emitLoad(code, marks, layout, memoryOp, op, flags & 0x3f, offset, locals, null, clears);
          else emitStore(code, marks, layout, memoryOp, op, flags & 0x3f, offset, locals, this.scratchLocal(VALUE_SCRATCH[memoryOp.valueType]!), null, clears);
          run = at;
          continue;
        }
        case Imm.memorySize:
        case Imm.memoryGrow:
          code.copy(bytes, run, opStart);
          at = skipLeb(bytes, at, end);
          emitCall(code, immediates[op] === Imm.memorySize ? layout.memorySize : layout.memoryGrow, this.kernelClears());
          run = at;
          continue;
        case Imm.prefixMisc: {
          const sub = this.u32At(at, end);
          at = this.next;
          if (sub <= 7) continue; // saturating truncations
          if (sub === Misc.tableGrow || sub === Misc.tableSize) {
            facts.writesTables ||= sub === Misc.tableGrow;
            at = skipLeb(bytes, at, end);
            continue;
          }
          if (sub < Misc.memoryInit || sub > Misc.memoryFill) throw new CodeRefusal(functionIndex, opStart, refusedMisc(sub));
          code.copy(bytes, run, opStart);
          at = run = this.bulkMemory(sub, at, end);
          continue;
        }
        case Imm.prefixSimd: {
          const sub = this.u32At(at, end);
          at = this.next;
          const refusal = refusedSimd(sub);
          if (refusal) throw new CodeRefusal(functionIndex, opStart, refusal);
          at += simdImmediateBytes(sub);
          continue;
        }
        case Imm.prefixGc: {
          const sub = this.u32At(at, end);
          at = this.next;
          if (!ACCEPTED_GC.has(sub)) throw new CodeRefusal(functionIndex, opStart, refusedGc(sub));
          continue;
        }
        default: {
          if (op === 0xfe) throw new CodeRefusal(functionIndex, opStart, refusedAtomic(this.u32At(at, end)));
          const known = refusedOpcodes[op];
          throw new CodeRefusal(functionIndex, opStart, known ?? `an instruction Dogma does not support (opcode 0x${op.toString(16)})`);
        }
      }
    }
    if (at !== end) throw new DecodeError(end, `the last instruction of function ${functionIndex} runs past the end of its body`);
    code.copy(bytes, run, end);
    // A huge function whose small nests inline made it bigger than a function that is not huge calls the helpers in them too.
    if (this.wroteNests && code.length >= layout.hugeInlineOutput) throw NESTS_TOO_BIG;

    // The new body: its size, the local declarations (the function's, then the scratch ones), the code.
    const extra = this.scratchOrder.length;
    const header = this.header;
    header.length = 0;
    header.u32(groups + extra);
    header.copy(bytes, groupsStart, groupsEnd);
    for (const kind of this.scratchOrder) {
      header.u8(1);
      header.u8(SCRATCH_TYPES[kind]!);
    }
    const tlb = this.scratch[Scratch.tlb]!;
    if (tlb >= 0) emitTlbLocal(header, layout, tlb);
    // The entry charges the longest path to anywhere outside the function's loops, whose own safe
    // points charge their iterations (or the whole body, under the variant that measures it).
    const longest = paths.finish(end);
    if ((loopsOrCalls || end - start >= SMALL_LEAF_BYTES) && layout.safePoints) emitSafePoint(header, marks, layout, fuelFor(layout.loopPaths ? Math.min(longest, end - start) : end - start), [], false);
    out.u32(header.length + code.length);
    out.bytes(header.view());
    out.bytes(code.view());
    if (layout.branchHints) this.writeHints(functionIndex + layout.addedImports, header);
    if (code.buffer.length > KEPT_CODE_BYTES) code.buffer = new Uint8Array(1 << 16);
    return facts;
  }

  /** This body's entry in the branch-hint section: offsets from the body's start (its local declarations). */
  private writeHints(outputIndex: number, header: ByteWriter): void {
    const marks = this.marks;
    const count = marks.ifPositions.length;
    if (count === 0) return;
    const w = this.hints;
    w.u32(outputIndex);
    w.u32(count);
    // The header's (the entry safe point) come first in the body.
    for (const inHeader of [true, false]) {
      for (let i = 0; i < count; i++) {
        if ((marks.ifWriters[i] === header) !== inHeader) continue;
        w.u32(marks.ifPositions[i]! + (inHeader ? 0 : header.length));
        w.u8(1);
        w.u8(marks.ifLikely[i]!);
      }
    }
    this.hintedFunctions++;
  }

  /**
   * memory.init, data.drop, memory.copy or memory.fill (0xfc `sub`, immediates at `at`) as a call:
   * the segment index pushed last for the two that take one. Returns where the instruction ends.
   */
  private bulkMemory(sub: number, at: number, end: number): number {
    const layout = this.layout;
    if (sub === Misc.memoryInit || sub === Misc.dataDrop) {
      const segment = this.u32At(at, end);
      at = this.next;
      if (sub === Misc.memoryInit) at = skipLeb(this.bytes, at, end); // memory index
      emitConstCall(this.code, segment, sub === Misc.memoryInit ? layout.initHelper : layout.dataDrop, this.kernelClears());
      return at;
    }
    at = skipLeb(this.bytes, at, end); // memory index(es)
    if (sub === Misc.memoryCopy) at = skipLeb(this.bytes, at, end);
    this.usedBulkHelpers[sub === Misc.memoryCopy ? 0 : 1] = 1;
    emitCall(this.code, sub === Misc.memoryCopy ? layout.copyHelper : layout.fillHelper, this.kernelClears());
    return at;
  }

  private growBlocks(): void {
    const grown = new Uint8Array(this.blocks.length * 2);
    grown.set(this.blocks);
    this.blocks = grown;
    const hoists = new Uint8Array(grown.length);
    hoists.set(this.loopHoists);
    this.loopHoists = hoists;
    const charges = new Int32Array(grown.length);
    charges.set(this.loopCharges);
    this.loopCharges = charges;
    const starts = new Int32Array(grown.length);
    starts.set(this.loopStarts);
    this.loopStarts = starts;
    for (const name of ["loopStreams", "loopStreamsFree"] as const) {
      const streams = new Uint8Array(grown.length);
      streams.set(this[name]);
      this[name] = streams;
    }
    for (const name of ["innermost", "outermost"] as const) {
      const depths = new Int32Array(grown.length);
      depths.set(this[name]);
      this[name] = depths;
    }
  }

  /** `offset`: the K its check adds to the address operand (a wide key's local only for K > 0). */
  private accessLocals(offset: number): AccessLocals {
    const locals = this.locals as { address: number; entry: number; tlb: number; wide: number };
    locals.address = this.scratchLocal(Scratch.address);
    locals.entry = this.scratchLocal(Scratch.entry);
    locals.tlb = this.layout.tlbLocal ? this.scratchLocal(Scratch.tlb) : -1;
    locals.wide = this.wideLocal(offset);
    return locals;
  }

  /** The i64 local of a wide key (CodeLayout.wideKeys) for a check that adds `offset`, or -1: the 32-bit key. */
  private wideLocal(offset: number): number {
    return this.layout.wideKeys && offset > 0 ? this.scratchLocal(Scratch.wide) : -1;
  }

  /** The locals of an access of the group kept in group local `slot`; `lo`: what a head's check adds to its address operand. */
  private groupLocals(slot: number, lo: number): GroupLocals {
    return this.spanLocals(Scratch.group + slot, lo);
  }

  /**
   * The locals of a checked span's accesses, its physical address in scratch local `physical`, `lo`
   * what its check adds to the address operand (0 for a hoisted check's: a constant address): in
   * one object, filled afresh for each access (the sequences read it before the next is asked for),
   * rather than an object per access.
   */
  private spanLocals(physical: number, lo = 0): GroupLocals {
    const locals = this.groupScratch as { anchor: number; address: number; entry: number; tlb: number; physical: number; wide: number };
    locals.anchor = this.scratchLocal(Scratch.anchor);
    locals.address = this.scratchLocal(Scratch.address);
    locals.entry = this.scratchLocal(Scratch.entry);
    locals.tlb = this.layout.tlbLocal ? this.scratchLocal(Scratch.tlb) : -1;
    locals.physical = this.scratchLocal(physical);
    locals.wide = this.wideLocal(lo);
    return locals;
  }

  /** The plan's word on the access at `at` of the run from `runStart`, planning the run first if needed. */
  private planned(runStart: number, at: number, end: number): PlannedAccess | null {
    const planner = this.planner;
    if (planner.from !== runStart) planner.plan(runStart, end, this.layout.groupSpan);
    return planner.take(at);
  }

  /**
   * A group's first access: its slot becomes live. The rewriter keeps this account itself rather
   * than trust the plan's, so that what the seal rests on is checked here, where the code is
   * written: a later access uses only a slot set by a head earlier in the same run, inside the span
   * that head checked, with the right it checked (checkMember); every slow path in the run zeroes
   * every live slot.
   */
  private startGroup(head: PlannedAccess, bytes: number, store: boolean): void {
    const bit = 1 << head.slot;
    if (this.liveGroups & bit || head.span > PAGE_SIZE || head.fastOffset < 0 || head.fastOffset + bytes > head.span || (store && !head.write)) throw new Error(`loader bug: group head at ${head.at} of function ${this.functionIndex} is inconsistent`);
    this.liveGroups |= bit;
    this.groupSpans[head.slot] = head.span;
    this.groupWrites[head.slot] = head.write ? 1 : 0;
  }

  /** A group's later access of `bytes` (a store if `store`): see startGroup. */
  private checkMember(member: PlannedAccess, bytes: number, store: boolean): void {
    const slot = member.slot;
    const bit = 1 << slot;
    if ((this.liveGroups & bit) === 0 || member.fastOffset < 0 || member.fastOffset + bytes > this.groupSpans[slot]! || (store && this.groupWrites[slot] === 0)) {
      throw new Error(`loader bug: group access at ${member.at} of function ${this.functionIndex} is outside its group's check`);
    }
    if (member.ends) this.liveGroups &= ~bit;
  }

  /**
   * The group locals of the run's groups in `mask` (bit i: slot i), and of every hoisted group
   * live, which an access's slow path ends.
   */
  private groupClears(mask: number): readonly number[] {
    // Streams in globals are made invalid by the slow paths' wrappers themselves (rewrite-helpers.ts).
    const streams = !this.layout.streamGlobals;
    if (mask === 0) return this.kernelClears(streams);
    const locals = this.hoistClears(this.hoistLive);
    if (streams && this.streamLive !== 0) this.addStreamClears(locals, this.streamLive);
    for (let slot = 0; slot < GROUP_LOCALS; slot++) if (mask & (1 << slot)) locals.push(this.scratchLocal(Scratch.group + slot));
    return locals;
  }

  /**
   * What every way into the kernel ends: the hoisted groups live and the access streams (as
   * endGroups takes them: a stream's page local `s` as `~s`). Most accesses end none: one empty
   * list for them all, not an array each.
   */
  private kernelClears(streams = true): readonly number[] {
    if (this.hoistLive === 0 && (!streams || this.streamLive === 0)) return NO_CLEARS;
    const locals = this.hoistClears(this.hoistLive);
    if (streams && this.streamLive !== 0) this.addStreamClears(locals, this.streamLive);
    return locals;
  }

  /** The page locals of the streams in `mask`, as endGroups takes them (`~s`). */
  private streamClears(mask: number): number[] {
    const locals: number[] = [];
    this.addStreamClears(locals, mask);
    return locals;
  }

  private addStreamClears(locals: number[], mask: number): void {
    for (let slot = 0; slot < STREAM_LOCALS; slot++) {
      if (mask & (1 << slot)) locals.push(~(this.layout.streamGlobals ? STREAM_GLOBAL_CLEAR + this.layout.streamGlobal + slot : this.scratchLocal(Scratch.streamPage + slot)));
    }
  }

  /**
   * The stream slots the outermost loop opening at `depth` (its body from `from`) takes for its
   * nest: one for each load and store in it, up to the variant's number; none if it calls
   * anything (access-streams.ts LoopScan).
   */
  private takeStreams(depth: number, from: number, end: number): number {
    let free = (1 << this.layout.accessStreams) - 1;
    if (this.streamLive !== 0) throw new Error(`loader bug: loop at ${from} of function ${this.functionIndex} takes streams inside a nest that has them`);
    let wanted = this.loopScan.accesses(from, end);
    let mask = 0;
    while (wanted-- > 0 && free !== 0) {
      const bit = free & -free;
      mask |= bit;
      free &= ~bit;
    }
    this.loopStreams[depth] = this.loopStreamsFree[depth] = mask;
    this.streamLive |= mask;
    return mask;
  }

  /** The depth of the innermost loop open among the `depth` blocks open, or -1. */
  private innermostLoop(depth: number): number {
    return depth === 0 ? -1 : this.innermost[depth - 1]!;
  }

  /** The locals of access stream `slot`, for an access of offset `offset`. */
  private streamLocals(slot: number, offset: number): StreamLocals {
    // One object filled afresh for each access, as spanLocals.
    const locals = this.streamScratch as { anchor: number; address: number; entry: number; tlb: number; page: number; addend: number; globals: boolean; wide: number };
    locals.wide = this.wideLocal(offset);
    locals.anchor = this.scratchLocal(Scratch.anchor);
    locals.address = this.scratchLocal(Scratch.address);
    locals.entry = this.scratchLocal(Scratch.entry);
    locals.tlb = this.layout.tlbLocal ? this.scratchLocal(Scratch.tlb) : -1;
    locals.page = this.layout.streamGlobals ? this.layout.streamGlobal + slot : this.scratchLocal(Scratch.streamPage + slot);
    locals.addend = this.layout.streamGlobals ? this.layout.streamGlobal + this.layout.accessStreams + slot : this.scratchLocal(Scratch.streamAddend + slot);
    locals.globals = this.layout.streamGlobals;
    return locals;
  }

  /** The locals of the hoisted groups in `mask` (bit i: slot i). */
  private hoistClears(mask: number): number[] {
    const locals: number[] = [];
    if (mask === 0) return locals;
    for (let slot = 0; slot < HOIST_LOCALS; slot++) if (mask & (1 << slot)) locals.push(this.scratchLocal(Scratch.hoist + slot));
    return locals;
  }

  /** The locals of the check and the accesses of the hoisted group in `slot`. */
  private hoistLocals(slot: number): GroupLocals {
    return this.spanLocals(Scratch.hoist + slot);
  }

  /**
   * A hoisted group's access of `bytes` (a store if `store`), as startGroup and checkMember do for
   * a run's: its slot is live (checked at the header of a loop this access is in, and zeroed by
   * every call since), and it lies inside the span checked there, with the right checked.
   */
  private checkHoisted(at: number, access: HoistedAccess, bytes: number, store: boolean): void {
    const slot = access.group.slot;
    if (slot < 0 || slot >= HOIST_LOCALS || (this.hoistLive & (1 << slot)) === 0 || access.fastOffset < 0 || access.fastOffset + bytes > this.hoistSpans[slot]! || (store && this.hoistWrites[slot] === 0)) {
      throw new Error(`loader bug: hoisted access at ${at} of function ${this.functionIndex} is outside its loop's check (slot ${slot}, ${bytes} bytes at ${access.fastOffset} of the span)`);
    }
  }

  /** The locals of a constant address's translation: only the TLB's base. */
  private constantLocals(): AccessLocals {
    const locals = this.locals as { address: number; entry: number; tlb: number; wide: number };
    locals.address = locals.entry = locals.wide = -1;
    locals.tlb = this.layout.tlbLocal ? this.scratchLocal(Scratch.tlb) : -1;
    return locals;
  }

  private scratchLocal(kind: number): number {
    let index = this.scratch[kind]!;
    if (index < 0) {
      index = this.localCount++;
      if (index >= MAX_FUNCTION_LOCALS) {
        throw new CodeRefusal(this.functionIndex, this.bodyStart, `so many locals that the loader's own would pass the engine's limit of ${MAX_FUNCTION_LOCALS}`);
      }
      this.scratch[kind] = index;
      this.scratchOrder.push(kind);
    }
    return index;
  }

  private skipValueType(at: number, end: number): number {
    const byte = this.bytes[at];
    if (byte === 0x63 || byte === 0x64) return skipLeb(this.bytes, at + 1, end);
    if (at >= end) throw new DecodeError(at, "unexpected end of a function body");
    return at + 1;
  }
}

/** An instruction that pushes one value and has no other effect, so a store's value may be it: local.get or a constant. */
function simpleValue(op: number): boolean {
  return op === 0x20 || (op >= 0x41 && op <= 0x44);
}

/** The fuel a safe point guarding `bytes` of code spends. */
function fuelFor(bytes: number): number {
  return 1 + Math.floor(bytes / CODE_BYTES_PER_FUEL);
}
