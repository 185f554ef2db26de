import { FUEL_PER_CHECK } from "../../kernel/constants.ts";
import { binaryen, type BinaryenModule, type ExpressionRef } from "./binaryen.ts";
import { mmuFunction } from "./rewrite-memory.ts";

export const FUEL_GLOBAL = "dogma$fuel";

/**
 * A safe point: spend one unit of fuel; when it runs out, call the kernel, which preempts the
 * process if its slice is over and returns fresh fuel. Placed at every function entry and loop
 * header, so no process can run long without passing one.
 */
export function safePoint(m: BinaryenModule): ExpressionRef {
  const fuel = () => m.global.get(FUEL_GLOBAL, binaryen.i32);
  return m.block(null, [
    m.global.set(FUEL_GLOBAL, m.i32.sub(fuel(), m.i32.const(1))),
    m.if(m.i32.lt_s(fuel(), m.i32.const(0)), m.global.set(FUEL_GLOBAL, m.call(mmuFunction("safe_point"), [], binaryen.i32))),
  ]);
}

export const INITIAL_FUEL = FUEL_PER_CHECK;
