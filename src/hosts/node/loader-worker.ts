// A loader worker thread (loader-workers.ts): validates binaries and rewrites chunks of function
// bodies with the loader's own code, and sends the results back. A rewrite request carries a copy
// of its chunk's bodies only, which start at `base` in the binary, in a buffer the reply moves
// back with the code for the pool to use again (loader-workers.ts, buffers used again).
import { parentPort } from "node:worker_threads";
import type { CodeLayout } from "../../loader/output-layout.ts";
import { rewriteChunk, type BodyChunk, type ChunkOutcome } from "../../loader/rewrite-code.ts";
import { pageBuffer, releaseBytes, rewriterBuffer } from "../../loader/code-output.ts";
import { engineValidation } from "../../loader/validate.ts";
import { ByteWriter } from "../../loader/wasm/byte-writer.ts";
import { warmUpBodies } from "../../loader/warm-up.ts";
import { applyEngineFlags } from "./engine-flags.ts";

applyEngineFlags();

/**
 * What this worker's rewriter reads and writes, kept from chunk to chunk for the worker's life:
 * each chunk's input copied into `input`, its code written into `writer`, both plain buffers
 * (code-output.ts rewriterBuffer: over the pool's page-mapped ones the rewriter's optimized code
 * reached each byte about four times slower, and was optimized again for them after its warm-up).
 * The bytes cross to and from the machine's thread in page-mapped buffers (pageBuffer) that the
 * pool uses again for the whole load: the code is copied out into one of those (`spares`, sent
 * back with later requests), so that the memory the code is moved in is the same few buffers,
 * and none of them is the C allocator's, whose arenas keep what they held (a worker's writer
 * buffers, moved out and freed on the machine's thread, kept 10-50 MB more at a load's peak).
 */
let input = new Uint8Array(0);
let writer: ByteWriter | null = null;
/** The writer's buffer, and the least of a buffer the code crosses in: most chunks' code fits. */
const WRITER_BYTES = 4 << 20;
/** The least of the input's buffer: a chunk of 256 KiB of bodies and then some. */
const INPUT_BYTES = 1 << 20;
/** Buffers the pool gave back, for the next chunks' code to cross in. */
const spares: ArrayBuffer[] = [];
/** Whether this worker has rewritten warm-up.ts's bodies. */
let warmedUp = false;

/** `bytes` copied into this worker's plain input buffer (grown when too small). */
function plainInput(bytes: Uint8Array): Uint8Array {
  if (input.length < bytes.length) input = new Uint8Array(rewriterBuffer(Math.max(bytes.length, INPUT_BYTES)));
  input.set(bytes);
  return input.subarray(0, bytes.length);
}

/** `code` copied into a page-mapped buffer of its own: a spare the pool sent back when one is big enough. */
function crossing(code: Uint8Array): Uint8Array<ArrayBuffer> {
  let buffer = spares.pop();
  if (buffer !== undefined && buffer.byteLength < code.length) {
    releaseBytes(new Uint8Array(buffer));
    buffer = undefined;
  }
  const out = new Uint8Array(buffer ?? pageBuffer(Math.max(code.length, WRITER_BYTES)).buffer, 0, code.length);
  out.set(code);
  return out;
}

/**
 * `chunk`'s bodies as objects of one shape, their numbers small integers to the engine (`| 0`: the
 * bodies' bounds are under 2^30). A number the machine's thread computed as a floating-point one
 * crosses as a heap number, and the rewriter's optimized code, which had seen small integers in
 * its warm-up, met it at the first chunk and was thrown away: in each fresh worker, V8 optimized
 * `rewriteOnce` twice with TurboFan (~0.3 s each on the bench machine) and the writers' fields
 * became floating point for the rest of the worker's life.
 */
function smallIntegers(chunk: BodyChunk): BodyChunk {
  return chunk.map((body) => {
    const plain = { index: body.index | 0, start: body.start | 0, end: body.end | 0, params: body.params | 0 };
    return body.outline === undefined ? plain : { ...plain, outline: body.outline };
  });
}

/**
 * One rewrite request's reply, and the buffers it moves: the chunk's input copy back to the pool,
 * and the code's (on the machine's thread, in a worker's messages: exported for the tests).
 */
export function rewriteRequest(request: Extract<WorkerRequest, { kind: "rewrite" }>): { readonly reply: WorkerReply; readonly transfer: ArrayBuffer[] } {
  if (request.spare !== null) spares.push(request.spare);
  // Grown by doubling (ByteWriter.reserve) when a chunk's code passes it, plain as it is.
  writer ??= new ByteWriter(WRITER_BYTES);
  if (!warmedUp) {
    // Once, before this worker's first chunk: the rewriter's rarer paths, so that V8 optimizes it
    // knowing them (warm-up.ts; what it wrote is thrown away).
    warmedUp = true;
    const warm = warmUpBodies();
    rewriteChunk(warm.bytes, request.layout, smallIntegers(warm.chunk), writer);
  }
  const rewritten = rewriteChunk(plainInput(request.bytes), request.layout, smallIntegers(request.chunk), writer);
  // Offsets in a refusal are the binary's, not the chunk's copy's.
  const outcome = rewritten.ok ? { ...rewritten, code: crossing(rewritten.code) } : { ...rewritten, offset: rewritten.offset + request.base };
  // The chunk's copy goes back too, for the pool's next copies.
  const reply: WorkerReply = { id: request.id, kind: "rewritten", outcome, bytes: request.bytes };
  return { reply, transfer: outcome.ok ? [request.bytes.buffer as ArrayBuffer, outcome.code.buffer as ArrayBuffer] : [request.bytes.buffer as ArrayBuffer] };
}

export type WorkerRequest =
  | { readonly id: number; readonly kind: "validate"; readonly bytes: Uint8Array }
  | { readonly id: number; readonly kind: "compile-validated"; readonly bytes: Uint8Array; readonly validateFirst: boolean }
  | { readonly id: number; readonly kind: "rewrite"; readonly bytes: Uint8Array; readonly base: number; readonly layout: CodeLayout; readonly chunk: BodyChunk; readonly spare: ArrayBuffer | null };

export type WorkerReply =
  | { readonly id: number; readonly kind: "validated"; readonly message: string | null }
  | { readonly id: number; readonly kind: "compiled-validated"; readonly module: WebAssembly.Module | null; readonly message: string | null; readonly bytes: Uint8Array }
  | { readonly id: number; readonly kind: "rewritten"; readonly outcome: ChunkOutcome; readonly bytes: Uint8Array };

parentPort?.on("message", async (request: WorkerRequest) => {
  if (request.kind === "validate") {
    // A copy moved here for this validation: freed at once, not at the next collection.
    const reply: WorkerReply = { id: request.id, kind: "validated", message: await engineValidation(request.bytes) };
    releaseBytes(request.bytes);
    parentPort!.postMessage(reply);
    return;
  }
  if (request.kind === "compile-validated") {
    // Moved here and compiled at once, while the pool has the engine validate every body
    // (engine-flags.ts validatingEagerly; a pool off the main thread asks for WebAssembly.validate
    // first): synchronously, so that the validation is done when the reply goes. The bytes go
    // back for the cache; the module crosses as a handle on the same compiled code.
    let module: WebAssembly.Module | null = null;
    let message = request.validateFirst ? await engineValidation(request.bytes) : null;
    try {
      if (message === null) module = new WebAssembly.Module(request.bytes as Uint8Array<ArrayBuffer>);
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    const reply: WorkerReply = { id: request.id, kind: "compiled-validated", module, message, bytes: request.bytes };
    parentPort!.postMessage(reply, [request.bytes.buffer as ArrayBuffer]);
    return;
  }
  const { reply, transfer } = rewriteRequest(request);
  parentPort!.postMessage(reply, transfer);
});
