import { binaryen, type ExpressionRef } from "./binaryen-access.ts";

/**
 * How to reach and replace the children of each kind of binaryen expression the fuzzer's modules
 * hold, in evaluation order (ttf.ts walks them to move every address out of page 0).
 */
export interface ChildSlot {
  get(expr: ExpressionRef): ExpressionRef;
  set(expr: ExpressionRef, child: ExpressionRef): void;
}

type Accessors = Record<string, (...args: number[]) => number | void>;

function fields(className: string, ...names: string[]): (expr: ExpressionRef) => ChildSlot[] {
  const cls = (binaryen as unknown as Record<string, Accessors>)[className]!;
  const slots = names.map((field): ChildSlot => {
    const get = cls[`get${field}`];
    const set = cls[`set${field}`];
    if (!get || !set) throw new Error(`binaryen.js lacks ${className}.get/set${field}`);
    return { get: (e) => get(e) as number, set: (e, c) => void set(e, c) };
  });
  return () => slots;
}

function list(className: string, item: string, plural: string): (expr: ExpressionRef) => ChildSlot[] {
  const cls = (binaryen as unknown as Record<string, Accessors>)[className]!;
  const count = cls[`getNum${plural}`];
  const getAt = cls[`get${item}At`];
  const setAt = cls[`set${item}At`];
  if (!count || !getAt || !setAt) throw new Error(`binaryen.js lacks ${className}.getNum${plural}/get${item}At/set${item}At`);
  return (expr) => {
    const slots: ChildSlot[] = [];
    const n = count(expr) as number;
    for (let i = 0; i < n; i++) slots.push({ get: (e) => getAt(e, i) as number, set: (e, c) => void setAt(e, i, c) });
    return slots;
  };
}

const none = (): ChildSlot[] => [];

/** Expression id → its children. Loads, stores and bulk memory are handled by ttf.ts itself. */
export const childrenById = new Map<number, (expr: ExpressionRef) => ChildSlot[]>([
  [binaryen.BlockId, list("Block", "Child", "Children")],
  [binaryen.IfId, fields("If", "Condition", "IfTrue", "IfFalse")],
  [binaryen.LoopId, fields("Loop", "Body")],
  [binaryen.BreakId, fields("Break", "Value", "Condition")],
  [binaryen.SwitchId, fields("Switch", "Value", "Condition")],
  [binaryen.CallId, list("Call", "Operand", "Operands")],
  // call_indirect evaluates its operands, then the table index.
  [binaryen.CallIndirectId, (e) => [...list("CallIndirect", "Operand", "Operands")(e), ...fields("CallIndirect", "Target")(e)]],
  [binaryen.LocalGetId, none],
  [binaryen.LocalSetId, fields("LocalSet", "Value")],
  [binaryen.GlobalGetId, none],
  [binaryen.GlobalSetId, fields("GlobalSet", "Value")],
  [binaryen.ConstId, none],
  [binaryen.UnaryId, fields("Unary", "Value")],
  [binaryen.BinaryId, fields("Binary", "Left", "Right")],
  [binaryen.SelectId, fields("Select", "IfTrue", "IfFalse", "Condition")],
  [binaryen.DropId, fields("Drop", "Value")],
  [binaryen.ReturnId, fields("Return", "Value")],
  [binaryen.NopId, none],
  [binaryen.UnreachableId, none],
  [binaryen.RefNullId, none],
  [binaryen.RefIsNullId, fields("RefIsNull", "Value")],
  [binaryen.RefFuncId, none],
  [binaryen.RefEqId, fields("RefEq", "Left", "Right")],
  [binaryen.RefAsId, fields("RefAs", "Value")],
  [binaryen.TableGetId, fields("TableGet", "Index")],
  [binaryen.TableSetId, fields("TableSet", "Index", "Value")],
  [binaryen.TableSizeId, none],
  [binaryen.TableGrowId, fields("TableGrow", "Value", "Delta")],
  [binaryen.SIMDExtractId, fields("SIMDExtract", "Vec")],
  [binaryen.SIMDReplaceId, fields("SIMDReplace", "Vec", "Value")],
  [binaryen.SIMDShuffleId, fields("SIMDShuffle", "Left", "Right")],
  [binaryen.SIMDTernaryId, fields("SIMDTernary", "A", "B", "C")],
  [binaryen.SIMDShiftId, fields("SIMDShift", "Vec", "Shift")],
  [binaryen.TupleMakeId, list("TupleMake", "Operand", "Operands")],
  [binaryen.TupleExtractId, fields("TupleExtract", "Tuple")],
]);
