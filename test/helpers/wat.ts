import binaryen from "binaryen";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";

/** Assembles WebAssembly text into a binary, keeping function names. */
export function wat(text: string): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    // Not Features.All: binaryen then emits proposals (compact imports) that engines reject.
    const F = binaryen.Features;
    module.setFeatures(F.MutableGlobals | F.SignExt | F.NontrappingFPToInt | F.BulkMemory | F.Multivalue | F.ReferenceTypes | F.SIMD128 | F.Atomics | F.ExceptionHandling | F.Memory64 | F.MultiMemory);
    binaryen.setDebugInfo(true);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/**
 * A WAT function `$op (cap, label, n, c) -> status` that invokes `cap` with the message whose
 * header it writes at `buffer` (label, n words, c capabilities; the caller stores the rest after
 * it); the module must import dogma.invoke as `$invoke`.
 */
export function invokeOp(buffer: number): string {
  return `(func $op (param $cap i32) (param $label i32) (param $n i32) (param $c i32) (result i32)
    (i32.store (i32.const ${buffer}) (local.get $label))
    (i32.store (i32.const ${buffer + 4}) (local.get $n))
    (i32.store (i32.const ${buffer + 8}) (local.get $c))
    (i32.store (i32.const ${buffer + 12}) (i32.const 0))
    (call $invoke (local.get $cap) (i32.const ${buffer}) (i32.const 292)))`;
}

/**
 * WAT statements (with `invokeOp(buffer)`'s `$op`) that make a Receiver from the Memory in slot 2
 * into local `$receiver` and mint a send capability of it, badge 7, into local `$send`.
 */
export function receiverWithSend(buffer: number): string {
  return `(i32.store (i32.const ${buffer + 20}) (i32.const 0))
    (drop (call $op (i32.const 2) (i32.const ${Op.MEMORY_CREATE_RECEIVER}) (i32.const 1) (i32.const 0)))
    (local.set $receiver (i32.load (i32.const ${buffer + 20})))
    (i32.store (i32.const ${buffer + 20}) (i32.const 7))
    (i32.store (i32.const ${buffer + 24}) (i32.const ${Rights.RECEIVER_SEND}))
    (drop (call $op (local.get $receiver) (i32.const ${Op.RECEIVER_MINT}) (i32.const 2) (i32.const 0)))
    (local.set $send (i32.load (i32.const ${buffer + 20})))`;
}
