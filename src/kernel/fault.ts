import { printable } from "./printable.ts";

/**
 * Why a process was torn down. Every fault leaves one record; `describeFault` is the one line a
 * person reads.
 */
/** Index = the code PROCESS_STATE reports (docs/ABI.md). */
export const FAULT_KINDS = [
  "null-page",
  "unmapped",
  "out-of-bounds",
  "read-only",
  "out-of-memory",
  "unreachable",
  "divide-by-zero",
  "integer-overflow",
  "invalid-conversion",
  "stack-exhausted",
  "indirect-call",
  "abort",
  "trap",
  "no-access",
  "page-integrity",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  readonly kind: FaultKind;
  /** The virtual address involved, when the fault is about one (may exceed 2^32 for ptr+offset). */
  readonly address: number | null;
  /** Function name from the name section, else `wasm-function[N]`; null when unknown. */
  readonly functionName: string | null;
  readonly message: string;
}

const STACK_FRAMES_KEPT = 32;

/** Thrown from kernel code running on a process's behalf; unwinds the process's stack. */
export class ProcessFault extends Error {
  readonly kind: FaultKind;
  readonly address: number | null;
  constructor(kind: FaultKind, address: number | null, message: string) {
    // The record names the innermost WebAssembly frame, which sits below the kernel's own frames
    // (slow path, translation, wrappers): keep enough of the stack to reach it.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = STACK_FRAMES_KEPT;
    super(message);
    Error.stackTraceLimit = limit;
    this.kind = kind;
    this.address = address;
  }

  /** The same fault with another message (and kind), keeping where it happened (the stack). */
  retold(message: string, kind: FaultKind = this.kind): ProcessFault {
    const fault = new ProcessFault(kind, this.address, message);
    fault.stack = `${message}\n${(this.stack ?? "").split("\n").slice(1).join("\n")}`;
    return fault;
  }
}

export function hex(address: number): string {
  return "0x" + (address >= 0 ? address : address >>> 0).toString(16).padStart(8, "0");
}

const trapKinds: ReadonlyArray<[RegExp, FaultKind]> = [
  [/unreachable/i, "unreachable"],
  [/divide by zero|remainder by zero/i, "divide-by-zero"],
  [/integer overflow|divide result unrepresentable/i, "integer-overflow"],
  [/float unrepresentable|invalid conversion/i, "invalid-conversion"],
  [/call stack size|stack overflow/i, "stack-exhausted"],
  [/indirect call|table index|null function|function signature/i, "indirect-call"],
];

/**
 * Turns whatever ended a process's stack abnormally into a record: a kernel-raised fault keeps
 * its kind and address; a WebAssembly trap is classified by V8's message. The function is the
 * innermost WebAssembly frame of the stack trace.
 */
export function faultFromError(error: unknown): FaultRecord {
  // The function's name (its name section) and an abort's message are the program's words: every
  // reader of the record (the host's fault line, a debugger, the shell) gets them printable.
  const named = innermostWasmFunction(error);
  const functionName = named === null ? null : printable(named);
  if (error instanceof ProcessFault) {
    return { kind: error.kind, address: error.address, functionName, message: printable(error.message) };
  }
  const message = error instanceof Error ? error.message : String(error);
  const kind = trapKinds.find(([pattern]) => pattern.test(message))?.[1] ?? "trap";
  return { kind, address: null, functionName, message: printable(message) };
}

function innermostWasmFunction(error: unknown): string | null {
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  for (const line of stack.split("\n")) {
    const match = /at (?:(\S+) )?\(?wasm:\/\/wasm\/[^:]*:wasm-function\[(\d+)\]/.exec(line);
    // The loader's own functions (slow-path wrappers) are not where the program faulted.
    if (match?.[1]?.startsWith("dogma$")) continue;
    if (match) return match[1] && !match[1].startsWith("wasm:") ? match[1] : `wasm-function[${match[2]}]`;
  }
  return null;
}
