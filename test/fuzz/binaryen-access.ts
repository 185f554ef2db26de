/**
 * binaryen.js for the fuzzer and tests (the loader does not use it), and the few entry points its
 * type definitions lack (see the blueprint's pitfalls).
 */
import binaryen from "binaryen";

export { binaryen };
export type BinaryenModule = binaryen.Module;
export type ExpressionRef = binaryen.ExpressionRef;
export type FunctionRef = binaryen.FunctionRef;

interface Raw {
  _BinaryenFunctionAddVar(func: FunctionRef, type: binaryen.Type): number;
  _BinaryenSetStart(module: number, func: number): void;
}

const raw = binaryen as unknown as Raw;

/** Adds a local to `func`; returns its index. */
export function addLocal(func: FunctionRef, type: binaryen.Type): number {
  return raw._BinaryenFunctionAddVar(func, type);
}

export function clearStart(module: BinaryenModule): void {
  raw._BinaryenSetStart((module as unknown as { ptr: number }).ptr, 0);
}

export type DataSegmentInfo = { name: string; offset: number | null; data: ArrayBuffer; passive: boolean };

interface DataSegmentAccess {
  getNumDataSegments(): number;
  getDataSegmentByIndex(i: number): number;
  getDataSegmentInfo(segment: number): DataSegmentInfo;
}

/** binaryen.js's view of the data segments; it throws on an extended-const offset. */
export function dataSegments(module: BinaryenModule): DataSegmentInfo[] {
  const m = module as unknown as DataSegmentAccess;
  const result: DataSegmentInfo[] = [];
  for (let i = 0; i < m.getNumDataSegments(); i++) result.push(m.getDataSegmentInfo(m.getDataSegmentByIndex(i)));
  return result;
}

type Getter = (expr: ExpressionRef) => number;

/** The per-class expression accessors the rewriter uses (missing from binaryen.js's types). */
interface ExpressionClasses {
  Function: {
    getName(func: FunctionRef): string;
    getBody(func: FunctionRef): ExpressionRef;
    setBody(func: FunctionRef, body: ExpressionRef): void;
    getResults(func: FunctionRef): binaryen.Type;
  };
  Loop: { getBody: Getter; setBody(expr: ExpressionRef, body: ExpressionRef): void };
  Load: { getPtr: Getter; getOffset: Getter; getBytes: Getter; isSigned(expr: ExpressionRef): boolean; isAtomic(expr: ExpressionRef): boolean };
  Store: { getPtr: Getter; getValue: Getter; getOffset: Getter; getBytes: Getter; getValueType: Getter; isAtomic(expr: ExpressionRef): boolean };
  MemoryGrow: { getDelta: Getter };
  MemoryCopy: { getDest: Getter; getSource: Getter; getSize: Getter };
  MemoryFill: { getDest: Getter; getValue: Getter; getSize: Getter };
  MemoryInit: { getSegment(expr: ExpressionRef): string; getDest: Getter; getOffset: Getter; getSize: Getter };
  DataDrop: { getSegment(expr: ExpressionRef): string };
}

export const nodes = binaryen as unknown as ExpressionClasses;
