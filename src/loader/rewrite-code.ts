import { CallSites } from "./call-sites.ts";
import { releaseBytes } from "./code-output.ts";
import type { CodeLayout } from "./output-layout.ts";
import { outlineBodies } from "./outline-bodies.ts";
import type { OutlinePlan, OutlinedLoop } from "./outline-plan.ts";
import { BodyRewriter, CodeRefusal } from "./rewrite-body.ts";
import { DecodeError } from "./wasm/byte-reader.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";
import type { ModuleInfo } from "./wasm/module-info.ts";

/**
 * The code section's bodies, cut into chunks that can be rewritten independently (in this thread
 * between two turns of the event loop, or in worker threads: see CodeWorkers), and the rewrite
 * of one chunk. Everything here is plain data, so that a chunk can cross to a worker.
 */

export interface BodyRef {
  /** The function's index in the original module (imports counted). */
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly params: number;
  /** Its loops moved into functions of their own (outline-plan.ts), if any. */
  readonly outline?: readonly OutlinedLoop[];
}

export type BodyChunk = readonly BodyRef[];

export type ChunkOutcome =
  | {
      readonly ok: true;
      readonly code: Uint8Array;
      readonly writesTables: boolean;
      /** Indices (in accessHelper's order) of the access helpers the code calls, and ACCESS_HELPER_COUNT + the index in ACCESS_KINDS of each slow-path wrapper it may call. */
      readonly accessHelpers: readonly number[];
      /** Whether the code uses memory.copy and memory.fill: [copy, fill]. */
      readonly bulkHelpers: readonly [boolean, boolean];
      /** The chunk's entries of the branch-hint section, and how many functions they cover. */
      readonly hints: Uint8Array;
      readonly hintedFunctions: number;
      /** The chunk's outlined loops' bodies, each with its size, in index order, and their branch-hint entries (they follow every program function). */
      readonly outlined: Uint8Array;
      readonly outlinedHints: Uint8Array;
      readonly outlinedHinted: number;
      /** The direct references to functions its bodies make (call-sites.ts CallSites.take). */
      readonly calls: Int32Array;
    }
  | { readonly ok: false; readonly functionIndex: number; readonly offset: number; readonly refusal: string | null; readonly message: string };

/** V8 compiles no function body larger than this (kV8MaxWasmFunctionSize). */
export const MAX_FUNCTION_BYTES = 7_654_321;

/**
 * The bodies of `info`, in chunks of about `chunkBytes` of input each; with `firstBytes`, the first
 * chunk of about that many, each next one twice the one before, up to `chunkBytes`.
 */
export function chunkBodies(info: ModuleInfo, chunkBytes: number, plan?: OutlinePlan, firstBytes = chunkBytes): BodyChunk[] {
  const chunks: BodyRef[][] = [];
  let current: BodyRef[] = [];
  let size = 0;
  let limit = Math.min(firstBytes, chunkBytes);
  info.bodies.forEach((body, i) => {
    const index = info.functionImports + i;
    const type = info.types[info.functions[i]!];
    const outline = plan?.byFunction.get(index);
    // Two literals rather than a spread of an empty object: an object and a generic copy per body (90,000 for the generated 25 MB module).
    const params = type ? type.params.length : 0;
    current.push(outline ? { index, start: body.start, end: body.end, params, outline } : { index, start: body.start, end: body.end, params });
    size += body.end - body.start;
    if (size >= limit) {
      chunks.push(current);
      current = [];
      size = 0;
      limit = Math.min(2 * limit, chunkBytes);
    }
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The call sites of the chunk being rewritten, one recorder per thread (rewriteChunk is not reentrant; `take` empties it). */
const chunkCalls = new CallSites();

/**
 * Rewrites one chunk's bodies; a refusal or a decoding error comes back as a value. `writer`, one
 * the caller keeps from chunk to chunk (a worker: its memory is then taken once, not per chunk):
 * the code written is then a view of it, which the caller must copy before the next chunk.
 */
export function rewriteChunk(bytes: Uint8Array, layout: CodeLayout, chunk: BodyChunk, writer?: ByteWriter): ChunkOutcome {
  const inputBytes = chunk.reduce((n, b) => n + (b.end - b.start), 0);
  const out = writer ?? new ByteWriter(Math.ceil(inputBytes * 4.5) + 1024);
  out.length = 0;
  const rewriter = new BodyRewriter(bytes, layout);
  chunkCalls.take(); // anything a chunk that threw left
  rewriter.calls = chunkCalls;
  let writesTables = false;
  let current = chunk[0]?.index ?? 0;
  // Outlined loops' bodies are written apart: they come after every function of the program.
  let outlined: ByteWriter | null = null;
  let outlinedHints: ByteWriter | null = null;
  let outlinedHinted = 0;
  const limit = (body: BodyRef, size: number) => {
    if (size > MAX_FUNCTION_BYTES) throw new CodeRefusal(body.index, body.start, `so much code that rewritten it passes the engine's limit of ${MAX_FUNCTION_BYTES} bytes per function`);
  };
  try {
    for (const body of chunk) {
      current = body.index;
      const before = out.length;
      if (body.outline === undefined) {
        writesTables = rewriter.rewrite(body.index, body.start, body.end, body.params, out).writesTables || writesTables;
        limit(body, out.length - before);
        continue;
      }
      // The function and its outlined loops, still in the original's terms, each rewritten as any function is.
      const bodies = outlineBodies(bytes, body.start, body.end, body.params, body.outline, layout.outlineIterations);
      const caller = new BodyRewriter(bodies.caller, layout);
      writesTables = caller.rewrite(body.index, 0, bodies.caller.length, body.params, out, bodies.callerLoops).writesTables || writesTables;
      limit(body, out.length - before);
      rewriter.absorb(caller);
      outlined ??= new ByteWriter(4096);
      const loops = new BodyRewriter(new Uint8Array(0), layout);
      for (const { loop, body: code, loops: outlining } of bodies.loops) {
        const one = new BodyRewriter(code, layout);
        const at = outlined.length;
        writesTables = one.rewrite(loop.index, 0, code.length, loop.params.length, outlined, outlining).writesTables || writesTables;
        limit(body, outlined.length - at);
        loops.absorb(one);
      }
      rewriter.absorb(loops, false);
      outlinedHints ??= new ByteWriter(256);
      outlinedHints.bytes(loops.hints.view());
      outlinedHinted += loops.hintedFunctions;
    }
  } catch (error) {
    if (error instanceof CodeRefusal) return { ok: false, functionIndex: error.functionIndex, offset: error.offset, refusal: error.what, message: error.message };
    if (error instanceof DecodeError) return { ok: false, functionIndex: current, offset: error.offset, refusal: null, message: error.message };
    throw error;
  }
  // A view when the buffer is nearly full; else a copy of exactly the output, so that no slack stays
  // alive (and crosses from a worker) until the module is assembled.
  const whole = writer !== undefined || out.length >= out.buffer.length * 0.75;
  const code = whole ? out.view() : out.take();
  if (!whole) releaseBytes(out.buffer);
  const accessHelpers = [...rewriter.usedAccessHelpers.keys()].filter((i) => rewriter.usedAccessHelpers[i] === 1);
  const bulkHelpers: [boolean, boolean] = [rewriter.usedBulkHelpers[0] === 1, rewriter.usedBulkHelpers[1] === 1];
  return {
    ok: true, code, writesTables, accessHelpers, bulkHelpers, hints: rewriter.hints.take(), hintedFunctions: rewriter.hintedFunctions,
    outlined: outlined?.take() ?? new Uint8Array(0), outlinedHints: outlinedHints?.take() ?? new Uint8Array(0), outlinedHinted,
    calls: rewriter.calls.take(),
  };
}

/**
 * Runs chunks somewhere else than the machine's thread (worker threads on Node). The loader works
 * without one, in slices on its own thread.
 */
export interface CodeWorkers {
  /**
   * The least code (bytes of the code section) for which a binary is rewritten here rather than on
   * the loader's thread; WORKER_THRESHOLD (worker-thresholds.ts) when unset. Workers cost a start, and
   * each optimizes the rewriter afresh: below some size one thread does the whole load sooner.
   */
  readonly minCodeBytes?: number;
  /**
   * An outcome's code is a view of a buffer used again for the next chunk: `take` must place or
   * copy it before it returns (rewritten-chunks.ts), and nothing frees it.
   */
  readonly transientCode?: boolean;
  /**
   * Called as a load starts whose output will be compiled here (compileValidated): a worker may
   * start now, so that its start overlaps the work before the compile.
   */
  standBy?(): void;
  /**
   * Rewrites every chunk of `bytes`, handing each outcome to `take` as soon as it is done (in any
   * order; `index` is the chunk's), so that no chunk's code is held longer than it takes to
   * place it in the output; settles once every chunk is taken. It may stop after a refusal.
   */
  rewrite(bytes: Uint8Array, layout: CodeLayout, chunks: readonly BodyChunk[], take: (index: number, outcome: ChunkOutcome) => void): Promise<void>;
  /**
   * An outcome's code, placed in the output and no longer needed: its memory may be used for
   * later chunks' code (a worker's buffers, used again, cost no page faults). Without, it is freed.
   */
  recycle?(code: Uint8Array): void;
  /** The engine's validation of `bytes`: null if valid, else the engine's message. */
  validate(bytes: Uint8Array): Promise<string | null>;
  /**
   * The engine's compile of the loader's fresh output, every function body validated by it (the
   * Node host's engine otherwise validates a body at its first call), on a module the caller
   * hands over while it runs: compiled there, so that the engine's synchronous part of a compile
   * (a copy, a hash and the validation of the whole output: about 0.4 s for the generated 25 MB
   * module's 136 MB) does not hold the machine's thread. The bytes come back with the module, or
   * with the engine's message (which names the function and the offset), moved there and back
   * rather than copied; the caller must not touch `bytes` meanwhile.
   */
  compileValidated?(bytes: Uint8Array): Promise<{ readonly module: WebAssembly.Module | null; readonly message: string | null; readonly bytes: Uint8Array }>;
}
