import { getCompileCacheDir } from "node:module";
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";
import { isMainThread, Worker } from "node:worker_threads";
import { pageBuffer, pageCopy, releaseBytes } from "../../loader/code-output.ts";
import { eagerValidationOpen, validatingEagerly } from "./engine-flags.ts";
import type { CodeLayout } from "../../loader/output-layout.ts";
import type { BodyChunk, BodyRef, ChunkOutcome, CodeWorkers } from "../../loader/rewrite-code.ts";
import { WORKER_THRESHOLD } from "../../loader/worker-thresholds.ts";
import type { WorkerReply, WorkerRequest } from "./loader-worker.ts";

/** Workers started whose engine is not yet set up (withoutConcurrentJit). */
let starting = 0;

/**
 * Starts a worker whose engine optimizes JavaScript on the worker's own thread rather than on
 * V8's shared background threads. The rewrite is hot JavaScript that each worker optimizes
 * afresh; on the background threads the optimizer's memory (tens of MB per big load, in 32 KB
 * pieces) is taken from those threads' C-allocator arenas, which keep it after the load. On the
 * worker's own thread it comes from the one arena the worker reuses. V8 reads the flag when it
 * sets up an engine, so it is off only until the new worker's engine is running ("online"); the
 * machine's thread keeps optimizing in the background.
 */
function withoutConcurrentJit(start: () => Worker): Worker {
  if (starting++ === 0) setFlagsFromString("--no-concurrent-recompilation");
  let counted = false;
  const online = () => {
    if (counted) return;
    counted = true;
    if (--starting === 0) setFlagsFromString("--concurrent-recompilation");
  };
  try {
    const worker = start();
    worker.once("online", online).once("error", online).once("exit", online);
    return worker;
  } catch (error) {
    online();
    throw error;
  }
}

/** The smallest valid module: what a worker validates to show it is started and loaded. */
const WASM_HEADER = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

/** The size of a buffer for a chunk's input copy, unless the chunk is bigger: most chunks fit. */
const INPUT_BYTES = 1 << 20;

/** How long the pool keeps workers that have nothing to do. */
const IDLE_MS = 2000;

/**
 * The loader's work on big binaries, on worker threads so that the machine's thread keeps
 * running processes meanwhile: validation, and the function bodies cut in chunks, rewritten in
 * parallel. Workers start on a big load and end as soon as its rewrite is done and again once its
 * output is validated (endIfIdle), or two seconds after their last work (a validation of a binary
 * whose rewrite comes next); an idle pool does not keep the host process alive. Each request
 * carries a copy of only the bytes it needs, moved to the worker, which frees it when done.
 *
 * A pool made to `keep` its workers ends them only `idleMs` after their last work: the next load's
 * chunks go to workers whose engines have optimized the rewriter already, and the compile to one
 * of them. Each fresh worker optimizes the rewriter again (V8's compiles of it, the warm-up) and
 * starts Node in a new isolate: a load of the generated 25 MB module right after another took
 * about 35% less CPU on kept workers (bench/RESULTS.md "Loader throughput"). What it costs: their
 * heaps stand beside the output's copies at the load's peak, and stay while they are kept.
 */
export class NodeLoaderWorkers implements CodeWorkers {
  private readonly size: number;
  private readonly idleMs: number;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ request: WorkerRequest; transfer: ArrayBuffer[]; settle: (reply: WorkerReply) => void; fail: (error: Error) => void }> = [];
  private readonly pending = new Map<number, { settle: (reply: WorkerReply) => void; fail: (error: Error) => void; worker: Worker }>();
  private nextId = 1;
  /** Buffers of chunks' code placed in the output (recycle), for the workers' next chunks. */
  private readonly spareCode: ArrayBuffer[] = [];
  /** Buffers of chunks' input the workers sent back, for the next chunks' copies. */
  private readonly spareInput: ArrayBuffer[] = [];
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  readonly minCodeBytes: number;
  /** A compile of a load's output is coming (standBy): the pool keeps a worker started for it. */
  private compileWanted = false;
  /** Workers are kept between loads (see the class). */
  private readonly keep: boolean;
  /** Workers started since the pool was made (for the tests). */
  started = 0;

  /**
   * `idleMs`: how long workers with nothing to do are kept; `minCodeBytes`: the least code a binary
   * must have to be rewritten here (CodeWorkers.minCodeBytes; the Node host's: NODE_WORKERS_MIN_CODE);
   * `keep`: the workers stay between loads until `idleMs` after their last work (see the class).
   */
  constructor(size = Math.max(1, Math.min(4, availableParallelism())), idleMs = IDLE_MS, minCodeBytes = WORKER_THRESHOLD, keep = false) {
    this.size = size;
    this.idleMs = idleMs;
    this.minCodeBytes = minCodeBytes;
    this.keep = keep;
  }

  /**
   * Starts a worker now for the compile that ends this load (compileValidated), unless one runs:
   * its start (Node's and the loader's code in a new isolate) then overlaps the rewrite on the
   * machine's thread, or the output's assembly after a rewrite here, instead of following them.
   */
  standBy(): void {
    this.compileWanted = true;
    this.startIdle();
  }

  private startIdle(): void {
    if (this.workers.length > 0 || eagerValidationOpen()) return;
    const worker = this.start();
    this.idle.push(worker);
    worker.unref();
    this.endWhenIdle();
  }

  /** Worker threads started and not ended. */
  get running(): number {
    return this.workers.length;
  }

  async validate(bytes: Uint8Array): Promise<string | null> {
    // WebAssembly.validate takes no shared memory: the worker gets a private copy, which it frees.
    const copy = pageCopy(bytes);
    const reply = await this.send({ id: 0, kind: "validate", bytes: copy }, [copy.buffer]);
    if (reply.kind !== "validated") throw new Error("loader worker answered a validation with something else");
    return reply.message;
  }

  async compileValidated(bytes: Uint8Array): Promise<{ module: WebAssembly.Module | null; message: string | null; bytes: Uint8Array }> {
    // Only a buffer that is all `bytes` can be moved; any other view is copied once into one.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer) ? bytes : bytes.slice();
    // Only the main thread sets the engine's flags (engine-flags.ts): a pool elsewhere has the
    // worker run WebAssembly.validate first, whatever the flags are.
    const validateFirst = !isMainThread;
    // A worker started and loaded before the engine's flags change (no worker starts while they
    // are changed: dispatch), so that its code is compiled and cached under the usual flags.
    this.compileWanted = false;
    await this.validate(WASM_HEADER);
    const reply = await validatingEagerly(() => this.send({ id: 0, kind: "compile-validated", bytes: own, validateFirst }, [own.buffer as ArrayBuffer]));
    if (reply.kind !== "compiled-validated") throw new Error("loader worker answered a compile with something else");
    // The module lives on in the engine, shared by every thread: the worker's heap need not.
    await this.endIfIdle();
    return { module: reply.module, message: reply.message, bytes: reply.bytes };
  }

  async rewrite(bytes: Uint8Array, layout: CodeLayout, chunks: readonly BodyChunk[], take: (index: number, outcome: ChunkOutcome) => void): Promise<void> {
    // Two chunks in flight per worker (one running, one waiting, so that a worker never waits
    // for this thread): each gets a copy of its chunk's bodies only, made when it is sent and
    // moved to the worker, so that no copy of the whole binary lives for the whole rewrite, and
    // chunks come back nearly in order (the output takes them in order). The copies are made in
    // buffers the workers send back, and each request carries a buffer for the worker's next
    // code (recycle): a load's copies touch the same few buffers, not fresh memory per chunk.
    let next = 0;
    const lane = async () => {
      while (next < chunks.length) {
        const index = next++;
        const chunk = chunks[index]!;
        const base = chunk[0]?.start ?? 0;
        const code = this.inputCopy(bytes.subarray(base, chunk.at(-1)?.end ?? base));
        const rebased = chunk.map((body): BodyRef => {
          const plain = { index: body.index, start: body.start - base, end: body.end - base, params: body.params };
          return body.outline === undefined ? plain : { ...plain, outline: body.outline };
        });
        const spare = this.spareCode.pop() ?? null;
        const reply = await this.send({ id: 0, kind: "rewrite", bytes: code, base, layout, chunk: rebased, spare }, spare ? [code.buffer, spare] : [code.buffer]);
        if (reply.kind !== "rewritten") throw new Error("loader worker answered a rewrite with something else");
        this.spareInput.push(reply.bytes.buffer as ArrayBuffer);
        if (!reply.outcome.ok) {
          next = chunks.length; // the load fails: the rest is not needed, nor a compile
          this.compileWanted = false;
        }
        take(index, reply.outcome);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(2 * this.size, chunks.length) }, lane));
    } finally {
      this.dropSpares(this.spareInput);
    }
    await this.endIfIdle();
    // A fresh worker for the compile, started while this thread assembles the output: smaller than
    // one of those that rewrote (their heaps, the rewriter's optimized code), which would stand
    // beside the compile's copy of the output.
    if (this.compileWanted) this.startIdle();
  }

  /** The code of a chunk's outcome, placed in the output: its buffer goes back to a worker with a later request. */
  recycle(code: Uint8Array): void {
    if (this.spareCode.length < 2 * this.size + 2 && code.buffer instanceof ArrayBuffer && !code.buffer.detached) this.spareCode.push(code.buffer);
    else releaseBytes(code);
  }

  /** A copy of `bytes` in a buffer a worker sent back, or a new one when none is big enough. */
  private inputCopy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
    let buffer = this.spareInput.pop();
    if (buffer !== undefined && buffer.byteLength < bytes.length) {
      if (buffer.resizable && buffer.maxByteLength >= bytes.length) buffer.resize(bytes.length);
      else {
        releaseBytes(new Uint8Array(buffer));
        buffer = undefined;
      }
    }
    const copy = buffer === undefined ? pageBuffer(Math.max(bytes.length, INPUT_BYTES)).subarray(0, bytes.length) : new Uint8Array(buffer, 0, bytes.length);
    copy.set(bytes);
    return copy;
  }

  private dropSpares(spares: ArrayBuffer[]): void {
    for (const buffer of spares.splice(0)) releaseBytes(new Uint8Array(buffer));
  }

  /**
   * Ends the workers now when none has work: after a load's rewrite and after its output's
   * compile, the points where what the workers hold (their engines' heaps, the rewriter's
   * optimized code) would stand beside a whole copy of the output (the validator's, then the
   * compile's): the generated 25 MB module's peak 354-370 -> 340-350 MB, yosys's 179-185 ->
   * 172-174 (bench/cold-load-memory.ts, 3 runs each). The validation then starts a worker
   * afresh, tens of milliseconds against a big load's seconds.
   */
  private async endIfIdle(): Promise<void> {
    if (this.keep) return; // ended by the idle timer (endWhenIdle)
    if (this.pending.size === 0 && this.queue.length === 0) await this.close();
  }

  /** Ends every worker (a host that is done loading may call it; idle workers never hold the process up). */
  async close(): Promise<void> {
    this.dropSpares(this.spareCode);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const all = this.workers.splice(0);
    this.idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  /**
   * Ends the workers once none has had work for IDLE_MS: a worker keeps what its last load grew
   * (its heap, V8's validator's memory, what its allocator holds: about 40 MB each after the
   * generated 25 MB module) and a next big load may be long in coming; starting one again costs
   * tens of milliseconds, against a big load's seconds.
   */
  private endWhenIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.pending.size > 0 || this.queue.length > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.pending.size === 0 && this.queue.length === 0) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private send(request: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    return new Promise((settle, fail) => {
      this.queue.push({ request: { ...request, id: this.nextId++ }, transfer, settle, fail });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      // No worker starts while a compile changes the engine's flags (engine-flags.ts
      // eagerValidationOpen), unless the pool has none.
      const mayStart = this.workers.length < this.size && (this.workers.length === 0 || !eagerValidationOpen());
      const worker = this.idle.pop() ?? (mayStart ? this.start() : null);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.pending.set(job.request.id, { settle: job.settle, fail: job.fail, worker });
      worker.ref();
      worker.postMessage(job.request, job.transfer);
    }
  }

  private start(): Worker {
    this.started++;
    const worker = withoutConcurrentJit(() => new Worker(new URL("./loader-worker-entry.js", import.meta.url), { workerData: { compileCache: getCompileCacheDir() } }));
    this.workers.push(worker);
    worker.on("message", (reply: WorkerReply) => {
      const job = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      this.idle.push(worker);
      worker.unref();
      job?.settle(reply);
      this.dispatch();
      this.endWhenIdle();
    });
    worker.on("error", (error) => this.lose(worker, error));
    worker.on("exit", (code) => this.lose(worker, new Error(`a loader worker exited (code ${code})`)));
    return worker;
  }

  /** A worker that died fails the jobs it held; later jobs get a new one. */
  private lose(worker: Worker, error: Error): void {
    const index = this.workers.indexOf(worker);
    if (index < 0) return;
    this.workers.splice(index, 1);
    const idleAt = this.idle.indexOf(worker);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    for (const [id, job] of this.pending) {
      if (job.worker !== worker) continue;
      this.pending.delete(id);
      job.fail(error);
    }
    this.dispatch();
  }
}
