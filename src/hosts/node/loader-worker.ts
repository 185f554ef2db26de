// A loader worker thread (loader-workers.ts): validates binaries and rewrites chunks of function
// bodies with the loader's own code, and sends the results back. A rewrite request carries a copy
// of its chunk's bodies only, which start at `base` in the binary, in a buffer the reply moves
// back with the code for the pool to use again (loader-workers.ts, buffers used again).
import { parentPort } from "node:worker_threads";
import type { CodeLayout } from "../../loader/output-layout.ts";
import { rewriteChunk, type BodyChunk, type ChunkOutcome } from "../../loader/rewrite-code.ts";
import { pageBuffer, releaseBytes } from "../../loader/code-output.ts";
import { engineValidation } from "../../loader/validate.ts";
import { ByteWriter } from "../../loader/wasm/byte-writer.ts";
import { warmUpBodies } from "../../loader/warm-up.ts";
import { applyEngineFlags } from "./engine-flags.ts";

applyEngineFlags();

/**
 * The writer every chunk this worker rewrites is written into. Its buffer goes to the machine's
 * thread with the code (moved, not copied) and the pool sends buffers it is done with back with
 * later requests (`spare`), so that the memory the code is written into is the same few buffers
 * for the whole load: a fresh buffer per chunk cost a page fault per 4 KiB of output (in a VM,
 * about as much CPU as the rewrite itself took for some of the output).
 */
let writer: ByteWriter | null = null;
/** The writer's buffer when the pool has sent none back yet: most chunks' code fits. */
const WRITER_BYTES = 4 << 20;
/** Buffers the pool gave back, for the writer's next chunks. */
const spares: ArrayBuffer[] = [];
/** Whether this worker has rewritten warm-up.ts's bodies. */
let warmedUp = false;

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
  if (request.spare !== null) spares.push(request.spare);
  writer ??= new ByteWriter(16);
  // A detached buffer (moved out with the last chunk's code) has length 0.
  if (writer.buffer.length === 0) writer.buffer = new Uint8Array(spares.pop() ?? pageBuffer(WRITER_BYTES).buffer);
  if (!warmedUp) {
    // Once, before this worker's first chunk: the rewriter's rarer paths, so that V8 optimizes it
    // knowing them (warm-up.ts; what it wrote is thrown away).
    warmedUp = true;
    const warm = warmUpBodies();
    rewriteChunk(warm.bytes, request.layout, warm.chunk, writer);
  }
  const rewritten = rewriteChunk(request.bytes, request.layout, request.chunk, writer);
  // Offsets in a refusal are the binary's, not the chunk's copy's.
  const outcome = rewritten.ok ? rewritten : { ...rewritten, offset: rewritten.offset + request.base };
  // The code is a view of the writer's buffer, moved out with it; the chunk's copy goes back too.
  const reply: WorkerReply = { id: request.id, kind: "rewritten", outcome, bytes: request.bytes };
  parentPort!.postMessage(reply, outcome.ok ? [request.bytes.buffer as ArrayBuffer, outcome.code.buffer as ArrayBuffer] : [request.bytes.buffer as ArrayBuffer]);
});
