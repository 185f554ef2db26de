import { MMU_FAULT_GLOBAL, MMU_MODULE } from "../../kernel/mmu-abi.ts";
import { binaryen, type BinaryenModule } from "./binaryen.ts";
import { mmuFunction } from "./rewrite-memory.ts";

/** The per-process flag a slow path sets when the fault handler is to run (see mmu-abi.ts). */
export const FAULT_GLOBAL = "dogma$fault_pending";
const rawFunction = (name: string): string => `dogma$raw$${name}`;

/** Imports the fault flag; call once, before any `addRetryingSlowPath`. */
export function addFaultFlag(m: BinaryenModule): void {
  m.addGlobalImport(FAULT_GLOBAL, MMU_MODULE, MMU_FAULT_GLOBAL, binaryen.i32, true);
}

/**
 * Imports the slow path `name` and defines `dogma$name`, which rewritten code calls in its place:
 * it calls the kernel's slow path and, when that set the fault flag instead of completing, calls
 * `fault_handle` (a suspending import that runs the process's fault handler on a stack of its
 * own and returns when the handler resumes) and calls itself again. The retry happens here,
 * inside the faulting instruction, with the operands it was given, so the instruction completes
 * as if the fault had never been. It recurses rather than loops: a loop would need a safe point,
 * and the depth is bounded, since a retry that faults the same way ends the process
 * (src/kernel/fault-handler.ts).
 *
 *   v = dogma:mmu.name(args…)
 *   if fault_pending then (call dogma:mmu.fault_handle) (return dogma$name(args…))
 *   v
 */
export function addRetryingSlowPath(m: BinaryenModule, name: string, params: readonly number[], result: number): void {
  const i32 = binaryen.i32;
  m.addFunctionImport(rawFunction(name), MMU_MODULE, name, binaryen.createType([...params]), result);
  const args = () => params.map((type, i) => m.local.get(i, type));
  const call = m.call(rawFunction(name), args(), result);
  const retry = m.call(mmuFunction(name), args(), result);
  const handleAndRetry = m.if(
    m.global.get(FAULT_GLOBAL, i32),
    m.block(null, [m.call(mmuFunction("fault_handle"), [], binaryen.none), result === binaryen.none ? m.block(null, [retry, m.return()]) : m.return(retry)]),
  );
  const value = params.length;
  const body =
    result === binaryen.none
      ? m.block(null, [call, handleAndRetry])
      : m.block(null, [m.local.set(value, call), handleAndRetry, m.local.get(value, result)], result);
  m.addFunction(mmuFunction(name), binaryen.createType([...params]), result, result === binaryen.none ? [] : [result], body);
}
