import { isShimFrame } from "./call-shim.ts";

/**
 * A process's WebAssembly stack as the engine shows it. Under JSPI a kernel import runs on the
 * process's own stack, so a stack trace taken inside it (the safe point's slow path, the fault
 * path's `fault_handle`) lists the process's frames, innermost first, each with its function
 * index in the rewritten module and the byte offset (in that module) of the call it is at; the
 * frames below the first suspension of the stack show as the JavaScript that started it, never
 * as another process's. A trace taken when a fault unwound the stack lists the same frames.
 *
 * Taking one costs about 5 µs whatever its depth (V8's stack capture), which is why the kernel
 * takes one only for a process a debugger watches (debugging.ts).
 */
export interface Frame {
  /** The engine's function index (the rewritten module's; function-table.ts maps it back). */
  readonly function: number;
  /** Byte offset in the rewritten module of the instruction the frame is at. */
  readonly offset: number;
}

/** Frames a trace keeps; a deeper stack is cut (`truncated`), its outermost frames unknown. */
export const MAX_FRAMES = 128;
/** The kernel's own frames above the process's in a trace taken in a kernel import. */
const KERNEL_FRAMES = 16;

const WASM_FRAME = /wasm-function\[(\d+)\]:0x([0-9a-f]+)/;

export interface Trace {
  readonly frames: Frame[];
  readonly truncated: boolean;
}

/** What the kernel reads of V8's structured stack trace (the same in Node and Chromium). */
interface CallSite {
  getFileName(): string | null | undefined;
  getFunctionName(): string | null | undefined;
  toString(): string;
}
type PrepareStackTrace = (error: Error, sites: CallSite[]) => unknown;

/** The WebAssembly frames of the running stack, innermost first. */
export function captureFrames(): Trace {
  const errorClass = Error as unknown as { prepareStackTrace?: PrepareStackTrace };
  const prepare = errorClass.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    errorClass.prepareStackTrace = (_error, sites) => sites;
    Error.stackTraceLimit = MAX_FRAMES + KERNEL_FRAMES;
    Error.captureStackTrace(holder);
    const sites = holder.stack as CallSite[];
    const frames: Frame[] = [];
    for (const site of sites) {
      // The kernel's call shims (call-shim.ts) are WebAssembly frames too, not the program's.
      if (!site.getFileName()?.startsWith("wasm://") || isShimFrame(site.getFunctionName() ?? "")) continue;
      const frame = parseFrame(String(site));
      if (frame) frames.push(frame);
    }
    return { frames, truncated: sites.length >= Error.stackTraceLimit };
  } finally {
    errorClass.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/** The WebAssembly frames of an error's stack trace (a fault's), innermost first. */
export function framesOfError(error: unknown): Frame[] {
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  const frames: Frame[] = [];
  for (const line of stack.split("\n")) {
    if (isShimFrame(line)) continue;
    const frame = parseFrame(line);
    if (frame) frames.push(frame);
  }
  return frames;
}

function parseFrame(text: string): Frame | null {
  const match = WASM_FRAME.exec(text);
  return match ? { function: Number(match[1]), offset: parseInt(match[2]!, 16) } : null;
}
