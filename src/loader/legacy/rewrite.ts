import { ACCESS_KINDS, FUEL_EXPORT, GLOBAL_EXPORT_PREFIX, INIT_EXPORT, MMU_CALLS, MMU_MODULE, MMU_TLB_GLOBAL, RETRIED_CALLS, type MmuCallName, type ValueType } from "../../kernel/mmu-abi.ts";
import { binaryen, clearStart, dataSegmentNames, nodes, type BinaryenModule, type ExpressionRef, type FunctionRef } from "./binaryen.ts";
import { childrenById, refusalFor, refusedKinds } from "./expression-children.ts";
import { LoadError } from "../load-error.ts";
import { MemoryRewriter, PHYSICAL_MEMORY, ScratchLocals, TLB_GLOBAL, mmuFunction, typeOf } from "./rewrite-memory.ts";
import { COPY_HELPER, FILL_HELPER, addBulkHelpers } from "./rewrite-bulk.ts";
import { addFaultFlag, addRetryingSlowPath } from "./rewrite-retry.ts";
import { FUEL_GLOBAL, INITIAL_FUEL, safePoint } from "./safe-points.ts";

/** The largest memory a 32-bit module may declare, in 64 KiB pages: the physical memory fits under it. */
const MAX_PAGES = 65536;

/**
 * Rewrites a module in place so that it can run as a Dogma process: its memory becomes the
 * machine's physical memory, reached only through the software TLB; every function entry and
 * loop header gets a safe point; the start function becomes an export the kernel calls; every
 * mutable global of a number type is exported, so that the kernel can copy a process's state.
 * Returns whether there was a start function, and whether a running process of it can be cloned
 * (`cloneable`: all its state is memory and those globals; see exportGlobals).
 */
export function rewriteModule(name: string, module: BinaryenModule): { hasInit: boolean; cloneable: boolean } {
  const segmentIndex = new Map(dataSegmentNames(module).map((name, index) => [name, index]));
  // Chosen before the loader adds its own functions, and by index, never by name: names come
  // from the program's name section, so a name cannot be trusted to mark a loader helper.
  const defined: Array<[index: number, func: FunctionRef]> = [];
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const func = module.getFunctionByIndex(i);
    if (!binaryen.getFunctionInfo(func).module) defined.push([i, func]);
  }
  replaceMemory(module);
  const globalsCopyable = exportGlobals(module);
  addKernelInterface(module);
  addBulkHelpers(module);
  const hasInit = exportStart(module);
  const memory = new MemoryRewriter(module);
  let tablesWritten = false;
  for (const [index, func] of defined) {
    const rewriter = new FunctionRewriter(name, index, func, module, memory, segmentIndex);
    const body = rewriter.visit(nodes.Function.getBody(func)).expr;
    nodes.Function.setBody(func, module.block(null, [safePoint(module), body], nodes.Function.getResults(func)));
    tablesWritten ||= rewriter.writesTables;
  }
  return { hasInit, cloneable: globalsCopyable && !tablesWritten };
}

/**
 * Exports the program's mutable globals of number types as GLOBAL_EXPORT_PREFIX + index. Whether
 * that is all of them: a mutable v128 global cannot be read from the host, and a reference in a
 * global (or a table the program writes, see FunctionRewriter) would name the source's own
 * instance if copied; a process holding either cannot be cloned once it has run.
 */
function exportGlobals(module: BinaryenModule): boolean {
  const numbers = new Set<number>([binaryen.i32, binaryen.i64, binaryen.f32, binaryen.f64]);
  let all = true;
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    if (info.module || !info.mutable) continue;
    if (numbers.has(info.type)) module.addGlobalExport(info.name, `${GLOBAL_EXPORT_PREFIX}${i}`);
    else all = false;
  }
  return all;
}

function replaceMemory(module: BinaryenModule): void {
  for (let i = module.getNumExports() - 1; i >= 0; i--) {
    const info = binaryen.getExportInfo(module.getExportByIndex(i));
    if (info.kind === binaryen.ExternalMemory) module.removeExport(info.name);
  }
  module.setMemory(0, MAX_PAGES, null, [], false, false, PHYSICAL_MEMORY);
  module.addMemoryImport(PHYSICAL_MEMORY, MMU_MODULE, "memory");
}

function addKernelInterface(module: BinaryenModule): void {
  module.addGlobalImport(TLB_GLOBAL, MMU_MODULE, MMU_TLB_GLOBAL, binaryen.i32, false);
  module.addGlobal(FUEL_GLOBAL, binaryen.i32, true, module.i32.const(INITIAL_FUEL));
  module.addGlobalExport(FUEL_GLOBAL, FUEL_EXPORT);
  addFaultFlag(module);
  // Every slow path that can fault is retried after a fault handler repairs the fault.
  for (const kind of ACCESS_KINDS) {
    const value = typeOf[kind.type];
    const params = kind.store ? [binaryen.i32, binaryen.i32, value] : [binaryen.i32, binaryen.i32];
    addRetryingSlowPath(module, kind.name, params, kind.store ? binaryen.none : value);
  }
  for (const [call, [params, results]] of Object.entries(MMU_CALLS)) {
    const types = (list: readonly ValueType[]) => binaryen.createType(list.map((t) => typeOf[t]));
    if (RETRIED_CALLS.includes(call as MmuCallName)) addRetryingSlowPath(module, call, params.map((t) => typeOf[t]), types(results));
    else module.addFunctionImport(mmuFunction(call), MMU_MODULE, call, types(params), types(results));
  }
}

/** A start function runs at instantiation, where a process cannot block; the kernel calls it instead. */
function exportStart(module: BinaryenModule): boolean {
  const start = module.getStart();
  if (!start) return false;
  module.addFunctionExport(nodes.Function.getName(start), INIT_EXPORT);
  clearStart(module);
  return true;
}

interface Visited {
  readonly expr: ExpressionRef;
  /** Highest scratch slot the expression uses, -1 for none. */
  readonly level: number;
}

class FunctionRewriter {
  private readonly locals: ScratchLocals;
  private readonly name: string;
  private readonly index: number;
  private readonly func: FunctionRef;
  private readonly m: BinaryenModule;
  private readonly memory: MemoryRewriter;
  private readonly segmentIndex: ReadonlyMap<string, number>;
  /** It has a table.set or table.grow: the table's contents are state a clone could not copy. */
  writesTables = false;

  constructor(name: string, index: number, func: FunctionRef, module: BinaryenModule, memory: MemoryRewriter, segmentIndex: ReadonlyMap<string, number>) {
    this.name = name;
    this.index = index;
    this.func = func;
    this.m = module;
    this.memory = memory;
    this.segmentIndex = segmentIndex;
    this.locals = new ScratchLocals(func);
  }

  visit(expr: ExpressionRef): Visited {
    const id = binaryen.getExpressionId(expr);
    switch (id) {
      case binaryen.LoadId:
        return this.load(expr);
      case binaryen.StoreId:
        return this.store(expr);
      case binaryen.LoopId: {
        const body = this.visit(nodes.Loop.getBody(expr));
        nodes.Loop.setBody(expr, this.m.block(null, [safePoint(this.m), body.expr], binaryen.getExpressionType(body.expr)));
        return { expr, level: body.level };
      }
      case binaryen.MemorySizeId:
        return { expr: this.call("memory_size", [], binaryen.i32), level: -1 };
      case binaryen.MemoryGrowId:
        return this.callWith("memory_grow", [nodes.MemoryGrow.getDelta(expr)], binaryen.i32);
      case binaryen.MemoryCopyId:
        return this.callWith(COPY_HELPER, [nodes.MemoryCopy.getDest(expr), nodes.MemoryCopy.getSource(expr), nodes.MemoryCopy.getSize(expr)], binaryen.none);
      case binaryen.MemoryFillId:
        return this.callWith(FILL_HELPER, [nodes.MemoryFill.getDest(expr), nodes.MemoryFill.getValue(expr), nodes.MemoryFill.getSize(expr)], binaryen.none);
      case binaryen.MemoryInitId: {
        const segment = this.m.i32.const(this.segment(nodes.MemoryInit.getSegment(expr)));
        const rest = [nodes.MemoryInit.getDest(expr), nodes.MemoryInit.getOffset(expr), nodes.MemoryInit.getSize(expr)].map((e) => this.visit(e));
        return { expr: this.call("memory_init", [segment, ...rest.map((r) => r.expr)], binaryen.none), level: Math.max(-1, ...rest.map((r) => r.level)) };
      }
      case binaryen.DataDropId:
        return { expr: this.call("data_drop", [this.m.i32.const(this.segment(nodes.DataDrop.getSegment(expr)))], binaryen.none), level: -1 };
      case binaryen.TableSetId:
      case binaryen.TableGrowId:
        this.writesTables = true;
        break;
    }
    const children = childrenById.get(id);
    if (!children) this.refuse(refusalFor(id, expr));
    let level = -1;
    for (const slot of children!(expr)) {
      const child = slot.get(expr);
      if (!child) continue;
      const visited = this.visit(child);
      if (visited.expr !== child) slot.set(expr, visited.expr);
      level = Math.max(level, visited.level);
    }
    return { expr, level };
  }

  private load(expr: ExpressionRef): Visited {
    if (nodes.Load.isAtomic(expr)) this.refuse(refusedKinds.get(binaryen.AtomicRMWId)!);
    const ptr = this.visit(nodes.Load.getPtr(expr));
    if (binaryen.getExpressionType(ptr.expr) === binaryen.unreachable) return ptr;
    const type = binaryen.getExpressionType(expr);
    const kind = this.memory.accessKind(false, type, nodes.Load.getBytes(expr), nodes.Load.isSigned(expr));
    if (!kind) this.refuse("a SIMD memory access (v128 loads are not supported yet)");
    return { expr: this.memory.load(kind!, ptr.expr, nodes.Load.getOffset(expr), this.locals), level: ptr.level };
  }

  private store(expr: ExpressionRef): Visited {
    if (nodes.Store.isAtomic(expr)) this.refuse(refusedKinds.get(binaryen.AtomicRMWId)!);
    const ptr = this.visit(nodes.Store.getPtr(expr));
    const value = this.visit(nodes.Store.getValue(expr));
    const level = Math.max(ptr.level, value.level + 1);
    if (binaryen.getExpressionType(ptr.expr) === binaryen.unreachable) return ptr;
    if (binaryen.getExpressionType(value.expr) === binaryen.unreachable) {
      return { expr: this.m.block(null, [this.m.drop(ptr.expr), value.expr], binaryen.unreachable), level };
    }
    const kind = this.memory.accessKind(true, nodes.Store.getValueType(expr), nodes.Store.getBytes(expr), false);
    if (!kind) this.refuse("a SIMD memory access (v128 stores are not supported yet)");
    return { expr: this.memory.store(kind!, ptr.expr, value.expr, nodes.Store.getOffset(expr), value.level + 1, this.locals), level };
  }

  /** A call to `target` (a helper, or a `dogma:mmu` call by its short name) with rewritten operands. */
  private callWith(target: string, operands: ExpressionRef[], result: number): Visited {
    const visited = operands.map((operand) => this.visit(operand));
    const args = visited.map((v) => v.expr);
    const expr = target.startsWith("dogma$") ? this.m.call(target, args, result) : this.call(target, args, result);
    return { expr, level: Math.max(-1, ...visited.map((v) => v.level)) };
  }

  private call(name: string, operands: ExpressionRef[], result: number): ExpressionRef {
    return this.m.call(mmuFunction(name), operands, result);
  }

  private segment(name: string): number {
    const index = this.segmentIndex.get(name);
    if (index === undefined) this.refuse(`a reference to data segment "${name}", which does not exist`);
    return index!;
  }

  private refuse(what: string): never {
    const fname = nodes.Function.getName(this.func);
    const label = /^\d+$/.test(fname) ? "" : ` "${fname}"`;
    throw new LoadError(this.name, `code section, function ${this.index}${label}`, `uses ${what}`);
  }
}

