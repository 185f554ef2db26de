import { PAGE_SIZE, TLB_AWAY_BIT, TLB_ENTRY_BYTES, TLB_INDEX_SHIFT, TLB_WRITE_OFFSET } from "../kernel/constants.ts";
import { ACCESS_KINDS, RETRIED_CALLS, SAFE_POINT_HELPER, SAFE_POINT_WAIT, type AccessKind } from "../kernel/mmu-abi.ts";
import { ACCESS_HELPER_COUNT, HELPERS, OPTIONAL_HELPERS, accessHelperName, optionalHelperName, type OptionalHelper, MEMORY_OPS, MMU_FUNCTION_IMPORTS, VALUE_TYPE_BYTE, accessSignature, type CodeLayout, type ImportedCall } from "./output-layout.ts";
import { copyHelper, fillHelper, initHelper } from "./bulk-helpers.ts";
import { Assembler, Op } from "./helper-assembler.ts";
import { EMPTY_BLOCK, I32 } from "./wasm/value-types.ts";

/**
 * The functions the loader adds to every module (output-layout.ts HELPERS), as signatures and
 * encoded bodies:
 *
 * - `dogma$NAME` around each slow path that can fault: calls the kernel's slow path and, when
 *   that set the fault flag instead of completing, calls `fault_handle` (a suspending import that
 *   runs the process's fault handler on a stack of its own and returns when the handler resumes)
 *   and calls itself again with the same operands. The retry happens inside the faulting
 *   instruction, so it completes as if the fault had never been. It recurses rather than loops:
 *   a loop would need a safe point, and the depth is bounded, since a retry that faults the same
 *   way ends the process (src/kernel/fault-handler.ts).
 *
 *     [an access kind's: the second tier, the TLB entry's away tag and addend: awayTier]
 *     v = dogma:mmu.NAME(args…)
 *     page_s = -8192 for each access stream s (streams in globals: mmu-sequences.ts)
 *     if fault_pending then (call dogma:mmu.fault_handle) (return dogma$NAME(args…))
 *     v
 *
 * - `dogma$copy`, `dogma$fill`: memory.copy and memory.fill whose ranges each lie within one
 *   page the TLB maps run as one native instruction on the frames; anything else goes to the
 *   kernel, which checks the whole range before writing (WebAssembly forbids partial writes).
 *   Most copies a compiler emits are small, so most never leave the module.
 * - `dogma$init(dest, src, n, segment)`: memory.init with the segment index last, where the
 *   rewritten code can push it.
 * - `dogma$safe_point_or_wait` (SAFE_POINT_HELPER), every safe point's slow path: the plain
 *   `safe_point` import reads the clock and gives the fuel to go on with, or SAFE_POINT_WAIT when
 *   the process must stop there; only then is `safe_point_wait`, the suspending import, called.
 *   A suspending import costs about 0.5 µs a call and allocates on the host's heap even when it
 *   returns at once (JSPI's wrapper), a plain one some 20 ns: esbuild made 232,000 such calls.
 *
 *     f = dogma:mmu.safe_point()
 *     if f == SAFE_POINT_WAIT then dogma:mmu.safe_point_wait() else f
 */
export interface HelperFunction {
  readonly name: string;
  readonly params: readonly number[];
  readonly results: readonly number[];
  /** The encoded body (local declarations and code), without its size. */
  readonly body: Uint8Array;
}

/**
 * `kind`: for an access kind's wrapper, its index in ACCESS_KINDS, which the shared import takes last.
 * With access streams in globals, the wrapper also makes every stream's page invalid after the
 * kernel's call (-8192: mmu-sequences.ts putStreamInvalid), so that the slow paths need not.
 */
function retrying(layout: CodeLayout, call: ImportedCall, raw: number, self: number, kind: number | null = null): Uint8Array {
  const result = call.results[0];
  const valueLocal = call.params.length;
  const { i32, i64 } = VALUE_TYPE_BYTE;
  // [value,] then an access kind's: awayTier's entry and key, victimTier's two i64s.
  const a = new Assembler([...(result === undefined ? [] : [result]), ...(kind === null ? [] : [i32, i32, i64, i64])]);
  const args = () => call.params.forEach((_, i) => a.get(i));
  if (kind !== null) awayTier(a, layout, ACCESS_KINDS[kind]!, valueLocal + (result === undefined ? 0 : 1));
  args();
  if (kind !== null) a.const(kind);
  a.index(Op.call, raw);
  if (result !== undefined) a.index(Op.localSet, valueLocal);
  // The kernel may have changed any TLB entry: every access stream's page made invalid
  // (mmu-sequences.ts emitStreamAccess), here rather than after each slow path's call.
  for (let slot = 0; layout.streamGlobals && slot < layout.accessStreams; slot++) a.op(0x42, 0x80, 0x40).index(0x24, layout.streamGlobal + slot);
  a.index(Op.globalGet, layout.faultGlobal).op(Op.if, EMPTY_BLOCK).index(Op.call, layout.faultHandle);
  args();
  a.index(Op.call, self);
  if (result !== undefined) a.op(Op.return);
  a.op(Op.end);
  if (result !== undefined) a.get(valueLocal);
  return a.done();
}

/** The integer opcode of each access kind (a slow path's wrapper serves integer kinds only). */
function integerOpcode(kind: AccessKind): number {
  const opcode = MEMORY_OPS.findIndex((op) => op !== undefined && op.kind.name === kind.name);
  if (opcode < 0) throw new Error(`loader bug: no opcode for ${kind.name}`);
  return opcode;
}

/**
 * The second tier of a TLB hit, first in a slow path's wrapper, `(address, offset[, value])`:
 * an entry whose frame is not the page's home frame has its tag with TLB_AWAY_BIT (src/kernel/tlb.ts),
 * which the inline fast path's compare fails; here, the same compare with the bit set, and on a
 * match the access at `address + addend` and a return, without the kernel:
 *
 *     e = tlb + ((address >>> 8) & mask)
 *     key = page(address + size - 1) | (address <u offset)
 *     if tag[e] == key | AWAY then return T.op(address + addend[e])
 *     [victimTier]
 *
 * `address <u offset` is the inline compare's wrap term (`address` is ptr + K wrapped): a wrapped
 * access matches no tag. A constant access passes offset 0 (it never wraps: constantAccess).
 * `locals`: the entry's address, the key, and two i64s for victimTier.
 */
function awayTier(a: Assembler, layout: CodeLayout, kind: AccessKind, locals: number): void {
  const [address, offset] = [0, 1];
  const [entry, key] = [locals, locals + 1];
  const half = kind.store ? TLB_WRITE_OFFSET : 0;
  a.entry(layout, address).tee(entry).load(half).get(address);
  if (kind.bytes > 1) a.const(kind.bytes - 1).op(Op.i32Add);
  a.const(-PAGE_SIZE).op(Op.i32And).get(address).get(offset).op(Op.i32LtU, 0x72).tee(key).const(TLB_AWAY_BIT).op(0x72, 0x46);
  a.op(Op.if, EMPTY_BLOCK);
  accessAtEntry(a, kind, entry);
  a.op(Op.end);
  if (layout.tlbVictims > 0) victimTier(a, layout, kind, locals);
}

/** `return T.op(address + addend[entry])`, the access of a wrapper's `(address, offset[, value])` through the TLB entry at `entry`. */
function accessAtEntry(a: Assembler, kind: AccessKind, entry: number): void {
  const [address, value] = [0, 2];
  a.get(address).get(entry).load((kind.store ? TLB_WRITE_OFFSET : 0) + 4).op(Op.i32Add);
  if (kind.store) a.get(value);
  a.op(integerOpcode(kind));
  a.w.u32(kind.bytes === 8 ? 3 : kind.bytes === 4 ? 2 : kind.bytes === 2 ? 1 : 0);
  a.w.u32(0);
  a.op(Op.return);
}

/**
 * The third tier, after awayTier in a slow path's wrapper of a module whose TLBs have victim
 * entries (src/kernel/tlb.ts: the entries fills displaced, after the table): an access inside one
 * page whose page a victim entry's half holds, home or away, has that victim entry swapped with
 * its own entry `e` (both halves: the kernel moved them there together from that very entry, so
 * both are pages of e's index), then is made through `e` and returns, without the kernel:
 *
 *     if page(address) == key                        ;; inside one page, not wrapped
 *       for each victim entry v (unrolled):
 *         if tag[v] & ~AWAY == key then swap(e, v); return T.op(address + addend[e])
 *
 * `page(address) == key` matters: the key is the page of the access's last byte, and a victim
 * entry may hold any index's page, so an access that crosses into the next page would otherwise
 * match a victim holding that page and be made from the first page's bytes in its frame. Nothing
 * here changes a mapping (the entries are the kernel's, moved), so neither the groups nor the
 * access streams of the caller need to end (and they end after the call anyway).
 */
function victimTier(a: Assembler, layout: CodeLayout, kind: AccessKind, locals: number): void {
  const address = 0;
  const [entry, key, low, high] = [locals, locals + 1, locals + 2, locals + 3];
  const half = kind.store ? TLB_WRITE_OFFSET : 0;
  const victims = layout.tlbIndexMask + TLB_ENTRY_BYTES;
  a.op(Op.block, EMPTY_BLOCK).get(address).const(-PAGE_SIZE).op(Op.i32And).get(key).op(Op.i32Ne, Op.brIf, 0);
  for (let v = 0; v < layout.tlbVictims; v++) {
    const at = victims + v * TLB_ENTRY_BYTES;
    a.index(Op.globalGet, layout.tlbGlobal).load(at + half).const(~TLB_AWAY_BIT).op(Op.i32And).get(key).op(0x46, Op.if, EMPTY_BLOCK);
    // swap(e, v), eight bytes at a time.
    a.get(entry).op(I64_LOAD, 3, 0).set(low).get(entry).op(I64_LOAD, 3, 8).set(high);
    a.get(entry).index(Op.globalGet, layout.tlbGlobal).op(I64_LOAD, 3).w.u32(at);
    a.op(I64_STORE, 3, 0).get(entry).index(Op.globalGet, layout.tlbGlobal).op(I64_LOAD, 3).w.u32(at + 8);
    a.op(I64_STORE, 3, 8).index(Op.globalGet, layout.tlbGlobal).get(low).op(I64_STORE, 3).w.u32(at);
    a.index(Op.globalGet, layout.tlbGlobal).get(high).op(I64_STORE, 3).w.u32(at + 8);
    accessAtEntry(a, kind, entry);
    a.op(Op.end);
  }
  a.op(Op.end);
}

const I64_LOAD = 0x29;
const I64_STORE = 0x37;

/**
 * A whole load or store as a function: (ptr, [value,] [tlb,] [K]) -> [value]. The same translation
 * as the inline one (mmu-sequences.ts), with the TLB's address passed in, or read from its global
 * (layout.helperTlbArgument).
 */
function accessHelperFunction(layout: CodeLayout, opcode: number, withOffset: boolean): HelperFunction {
  const op = MEMORY_OPS[opcode]!;
  const i32 = VALUE_TYPE_BYTE.i32;
  const store = op.kind.store;
  const tlbArgument = layout.helperTlbArgument;
  const params = [i32, ...(store ? [op.valueType] : []), ...(tlbArgument ? [i32] : []), ...(withOffset ? [i32] : [])];
  const ptr = 0;
  const value = store ? 1 : -1;
  const tlb = tlbArgument ? (store ? 2 : 1) : -1;
  const offset = withOffset ? params.length - 1 : -1;
  const address = params.length;
  // With wide keys (CodeLayout.wideKeys, mmu-sequences.ts translateWide), an i64 local: zext(ptr) + zext(K).
  const wide = withOffset && layout.wideKeys ? address + 1 : -1;
  const a = new Assembler(wide >= 0 ? [i32, VALUE_TYPE_BYTE.i64] : [i32]);
  const w = a.w;
  a.get(ptr);
  if (wide >= 0) a.op(0xad).get(offset).op(0xad, 0x7c).tee(wide).op(0xa7);
  else if (withOffset) a.get(offset).op(0x6a);
  a.index(0x22, address).const(TLB_INDEX_SHIFT).op(Op.i32ShrU).const(layout.tlbIndexMask).op(Op.i32And);
  if (tlbArgument) a.get(tlb);
  else a.index(Op.globalGet, layout.tlbGlobal);
  a.op(Op.i32Add);
  if (wide >= 0) {
    // zext(tag) == (a64 + size - 1) & ~4095: a key past 4 GiB matches no tag.
    a.op(0x35, 2);
    w.u32(store ? TLB_WRITE_OFFSET : 0);
    a.get(wide);
    if (op.kind.bytes > 1) a.op(0x42, op.kind.bytes - 1, 0x7c);
    a.op(0x42, 0x80, 0x60, 0x83, 0x51);
  } else {
    a.load(store ? TLB_WRITE_OFFSET : 0).get(address);
    if (op.kind.bytes > 1) a.const(op.kind.bytes - 1).op(Op.i32Add);
    a.const(-PAGE_SIZE).op(Op.i32And);
    if (withOffset) a.get(address).get(offset).op(0x49, 0x72);
    a.op(0x46);
  }
  // The compare is with the plain tag, which the kernel writes only for the page's home frame
  // (src/kernel/tlb.ts): the hit is at `a + home`, with no load of the entry's addend on its path
  // (mmu-sequences.ts homeAddress); an away page misses here and the slow path's wrapper serves it.
  a.op(Op.if, store ? EMPTY_BLOCK : op.valueType);
  a.get(address).index(Op.globalGet, layout.homeGlobal).op(Op.i32Add);
  if (store) a.get(value);
  a.op(opcode);
  w.u32(op.kind.bytes === 8 ? 3 : op.kind.bytes === 4 ? 2 : op.kind.bytes === 2 ? 1 : 0);
  a.op(0, 0x05).get(address);
  if (withOffset) a.get(offset);
  else a.const(0);
  if (store) {
    a.get(value);
    if (op.reinterpret !== null) a.op(op.reinterpret);
  }
  a.index(Op.call, layout.slowPaths[op.slowPath]!);
  if (!store && op.reinterpret !== null) a.op(op.reinterpret);
  a.op(Op.end);
  return { name: accessHelperName(opcode, withOffset), params, results: store ? [] : [op.valueType], body: a.done() };
}

/**
 * A group's check (mmu-sequences.ts emitCalledGroupHead), (A, lo, span - 1, tlb) -> physical: the
 * physical address of A + lo when the TLB's entry (its write half for `write`) maps the page of
 * [A + lo, A + lo + span) whole, without a 32-bit wrap, else 0. The same compare as an inline
 * head's; it never calls the kernel, so nothing can change a mapping between it and its members.
 */
function groupCheckFunction(layout: CodeLayout, write: boolean): HelperFunction {
  const i32 = VALUE_TYPE_BYTE.i32;
  const [anchor, lo, last, tlb, address] = [0, 1, 2, 3, 4];
  const half = write ? TLB_WRITE_OFFSET : 0;
  const a = new Assembler([i32]);
  a.get(anchor).get(lo).op(0x6a).index(0x22, address).const(TLB_INDEX_SHIFT).op(Op.i32ShrU).const(layout.tlbIndexMask).op(Op.i32And).get(tlb).op(Op.i32Add);
  a.load(half).get(address).get(last).op(0x6a).const(-PAGE_SIZE).op(Op.i32And);
  // A + lo past 4 GiB (lo > 0) wraps below lo: bit 0 set, no tag matches. A negative lo needs no
  // term (docs/LOADER.md "Why the seal holds", 3).
  a.get(address).get(lo).op(0x49).get(lo).const(0).op(0x4a, 0x71, 0x72);
  // A plain tag: the page is in its home frame, the span's physical address `A + lo + home`.
  a.op(0x46, Op.if, i32).get(address).index(Op.globalGet, layout.homeGlobal).op(0x6a, 0x05).const(0).op(Op.end);
  return { name: `dogma$group_check_${write ? "write" : "read"}`, params: [i32, i32, i32, i32], results: [i32], body: a.done() };
}

const importNamed = (name: string): ImportedCall => MMU_FUNCTION_IMPORTS.find((i) => i.name === name)!;

/** A helper no code calls keeps its index, with a body of one `unreachable` and no name. */
const UNUSED_BODY = new Uint8Array([0, 0x00, 0x0b]);

/**
 * Every helper, in HELPERS order, for a module laid out as `layout`; the access helpers whose
 * indices (accessHelper's order) are not in `usedAccess`, and the copy and fill helpers the code
 * does not call (`usedBulk`: [copy, fill]), get an empty body. With `trimTail` (a module with no
 * outlined loops, whose indices follow the helpers), the unused ones after the last used are left
 * out: no index of another function moves, and each instance costs V8 less (HELPERS).
 */
export function helperFunctions(layout: CodeLayout, usedAccess: ReadonlySet<number>, usedBulk: readonly [boolean, boolean] = [true, true], trimTail = false): HelperFunction[] {
  const helpers: HelperFunction[] = [];
  for (const name of RETRIED_CALLS) {
    const call = importNamed(name);
    helpers.push({ name: `dogma$${name}`, params: call.params, results: call.results, body: retrying(layout, call, layout.rawCalls[name]!, layout.retriedCalls[name]!) });
  }
  const i32 = VALUE_TYPE_BYTE.i32;
  helpers.push({ name: "dogma$init", params: [i32, i32, i32, i32], results: [], body: initHelper(layout) });
  helpers.push({ name: SAFE_POINT_HELPER, params: [], results: [i32], body: safePointHelper(layout) });
  // A slow path's wrapper is used where an access of its kind is, or where an access helper kept calls it.
  const used = (helper: OptionalHelper): boolean =>
    "access" in helper
      ? usedAccess.has(helper.access)
      : !trimTail || usedAccess.has(ACCESS_HELPER_COUNT + helper.slowPath) || [...usedAccess].some((slot) => slot < ACCESS_HELPER_COUNT && MEMORY_OPS[0x28 + (slot >> 1)]!.slowPath === helper.slowPath);
  for (const helper of OPTIONAL_HELPERS) {
    if ("slowPath" in helper) {
      const i = helper.slowPath;
      const call = accessSignature(ACCESS_KINDS[i]!);
      helpers.push(used(helper) ? { name: optionalHelperName(helper), params: call.params, results: call.results, body: retrying(layout, call, layout.rawSlowPaths[i]!, layout.slowPaths[i]!, i) } : { name: "", params: call.params, results: call.results, body: UNUSED_BODY });
    } else {
      const access = accessHelperFunction(layout, 0x28 + (helper.access >> 1), (helper.access & 1) === 1);
      helpers.push(used(helper) ? access : { ...access, name: "", body: UNUSED_BODY });
    }
  }
  helpers.push(usedBulk[0] ? { name: "dogma$copy", params: [i32, i32, i32], results: [], body: copyHelper(layout) } : { name: "", params: [i32, i32, i32], results: [], body: UNUSED_BODY });
  helpers.push(usedBulk[1] ? { name: "dogma$fill", params: [i32, i32, i32], results: [], body: fillHelper(layout) } : { name: "", params: [i32, i32, i32], results: [], body: UNUSED_BODY });
  for (const write of [false, true]) {
    const helper = groupCheckFunction(layout, write);
    helpers.push(layout.hugeFunctionGroups !== false ? helper : { ...helper, name: "", body: UNUSED_BODY });
  }
  if (helpers.length !== HELPERS.length || helpers.some((h, i) => h.name !== "" && h.name !== HELPERS[i]!.name)) throw new Error("loader bug: helpers out of order");
  if (trimTail) while (helpers.at(-1)!.body === UNUSED_BODY) helpers.pop();
  return helpers;
}

/** SAFE_POINT_HELPER's body (see the top of this file). */
function safePointHelper(layout: CodeLayout): Uint8Array {
  const a = new Assembler([VALUE_TYPE_BYTE.i32]);
  a.index(Op.call, layout.safePointCheck).tee(0).const(SAFE_POINT_WAIT).op(0x46, Op.if, VALUE_TYPE_BYTE.i32);
  a.index(Op.call, layout.safePointWait).op(Op.else).get(0).op(Op.end);
  return a.done();
}
