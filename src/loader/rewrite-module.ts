import type { CacheRecord } from "./cache.ts";
import { LoadError } from "./load-error.ts";
import { readNames, type Names } from "./name-section.ts";
import { codeLayout, type CodeLayout, type RewriteVariant } from "./output-layout.ts";
import { NO_OUTLINING, OUTLINE_MAX_CODE, outlineChoice, planLoops, type OutlinedLoop, type OutlinePlan } from "./outline-plan.ts";
import { checkPolicy, type LoaderPolicy } from "./policy.ts";
import { chunkBodies, rewriteChunk, type BodyChunk, type ChunkOutcome, type CodeWorkers } from "./rewrite-code.ts";
import { helperFunctions } from "./rewrite-helpers.ts";
import { checkHeader, codeSectionBytes, engineValidation, largestBodyBytes, validationError } from "./validate.ts";
import { DecodeError } from "./wasm/byte-reader.ts";
import { readModule, type ModuleInfo } from "./wasm/module-info.ts";
import { RewrittenChunks } from "./rewritten-chunks.ts";
import { writeModule } from "./write-module.ts";
import { WORKER_BODY_BYTES, WORKER_THRESHOLD } from "./worker-thresholds.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";

/**
 * One cold load's work on a binary: validate → read → policy → rewrite every function body →
 * assemble the output. Work is linear in the binary's size. Bodies are rewritten in chunks: by
 * `workers` when given and the binary is big enough to pay for them, else on this thread, which
 * it gives back to the event loop between chunks so that the machine keeps running.
 */

export { WORKER_BODY_BYTES, WORKER_THRESHOLD } from "./worker-thresholds.ts";
/** Input bytes per chunk handed to a worker. */
const WORKER_CHUNK_BYTES = 256 << 10;
/** Input bytes per chunk on this thread (about a millisecond of work). */
const SLICE_CHUNK_BYTES = 64 << 10;
/** The first chunk's input bytes on this thread; each next one twice that, up to SLICE_CHUNK_BYTES. */
const FIRST_SLICE_CHUNK_BYTES = 4 << 10;
/** The longest this thread works before letting the event loop run. */
const SLICE_MS = 4;

/**
 * `validated`: the engine has validated `bytes` already (Loader.defer does, for every boot
 * module): not again here.
 */
export async function rewriteModule(name: string, bytes: Uint8Array, policy: LoaderPolicy, workers: CodeWorkers | null, variant: RewriteVariant = {}, validated = false): Promise<CacheRecord> {
  checkHeader(name, bytes, policy.maxBinaryBytes);
  const codeBytes = codeSectionBytes(bytes);
  // A body is one piece of the rewrite wherever it runs: one too large for a slice goes to the
  // workers whatever the binary's size, or it would hold the machine's thread (a 650 KB body: 0.2 s
  // on a busy machine, every process stopped).
  const onWorkers = workers !== null && (codeBytes >= (workers.minCodeBytes ?? WORKER_THRESHOLD) || largestBodyBytes(bytes) >= WORKER_BODY_BYTES);
  const runner: CodeWorkers = onWorkers ? workers : inThread;
  // On workers, the binary is validated there while this thread reads it and checks the policy
  // (the reader refuses a malformed binary with a DecodeError, whatever it is: test/loader/
  // hostile.test.ts) and the other workers rewrite its chunks; the validation's refusal comes
  // first, as when it ran first.
  const validation = validated ? Promise.resolve(null) : runner.validate(bytes);
  const validOrRefused = async (): Promise<void> => {
    const invalid = await validation;
    if (invalid !== null) throw validationError(name, invalid);
  };
  if (runner === inThread) await validOrRefused();
  else validation.catch(() => {}); // awaited below, on every path
  // A big binary's passes over it on this thread take tens of milliseconds each: the machine
  // runs its processes between them.
  const turn = runner === inThread ? () => undefined : giveTurn;
  try {
    const info = readModule(bytes);
    await turn();
    const names = readNames(bytes, info.nameSection);
    await turn();
    const facts = checkPolicy(name, info, names, policy);
    const layout = codeLayout(info.functionImports, info.functions.length, info.globals.length, variant, facts.maximumPages, codeBytes);
    await turn();
    // On this thread the first chunks are small: the rewriter runs in the engine's interpreter
    // until it is optimized, several times slower, and a slice ends only between chunks.
    const chunks = runner === inThread ? chunkBodies(info, SLICE_CHUNK_BYTES, undefined, FIRST_SLICE_CHUNK_BYTES) : chunkBodies(info, WORKER_CHUNK_BYTES);
    const rewritten = new RewrittenChunks(codeBytes, info.functionImports, info.functions.length, runner.transientCode === true ? null : runner.recycle ? (code) => runner.recycle!(code) : undefined);
    const mode = codeBytes >= (variant.outlineMaxCode ?? OUTLINE_MAX_CODE) ? "none" : (variant.outline ?? "once-run");
    // On workers the chunks start while a worker still validates the binary (the rewrite reads
    // bodies only within the bounds the reader checked, and refuses what it cannot read as a
    // value): its refusal comes first, and nothing of the rewrite is used before it is known.
    await runner.rewrite(bytes, layout, chunks, (index, outcome) => rewritten.take(index, outcome));
    await validOrRefused();
    if (rewritten.refusal) throw codeError(name, rewritten.refusal, names);
    if (rewritten.placed !== chunks.length) throw new Error(`${chunks.length - rewritten.placed} of ${chunks.length} chunks never came back from the rewrite`);
    // Loop outlining (outline-plan.ts): which functions run once is known from the call sites the
    // chunks recorded; those with loops to move are rewritten again, each alone, with them, on
    // this thread in slices. Usually a few small functions (clang: 48, 120 KB; yosys: 5, 72 KB);
    // on the workers, whose rewriter the engine has optimized for the chunks, their new paths cost
    // yosys's load about 300 ms of CPU (the optimized code thrown away and made again in each
    // worker), against about 45 here, where the rewriter runs unoptimized.
    const chosen = outlineChoice(info, mode, () => rewritten.calls.onceRun(info), variant.outlineLeaves === true);
    const plan = await planSliced(info, chosen.candidates, layout.firstOutlined - layout.addedImports, variant.outlineDepth, chosen.leaves, chosen.most, turn);
    const again = [...plan.byFunction].map(([index, outline]): BodyChunk => {
      const body = info.bodies[index - info.functionImports]!;
      const type = info.types[info.functions[index - info.functionImports]!];
      return [{ index, start: body.start, end: body.end, params: type ? type.params.length : 0, outline }];
    });
    // A body too big for a slice goes back to the workers that rewrote it first (redteam16: here,
    // in one piece, it held the machine's thread as the body rule keeps its first rewrite from doing).
    const big = (chunk: BodyChunk): boolean => runner !== inThread && chunk[0]!.end - chunk[0]!.start >= WORKER_BODY_BYTES;
    const againHere = again.filter((chunk) => !big(chunk));
    const againThere = again.filter(big);
    const takeAgain = (chunks: readonly BodyChunk[], transient: boolean) => (index: number, outcome: ChunkOutcome) => rewritten.takeAgain(chunks[index]![0]!.index, outcome, transient);
    await Promise.all([inThread.rewrite(bytes, layout, againHere, takeAgain(againHere, true)), againThere.length > 0 ? runner.rewrite(bytes, layout, againThere, takeAgain(againThere, runner.transientCode === true)) : undefined]);
    if (rewritten.refusal) throw codeError(name, rewritten.refusal, names);
    const outlined = rewritten.outlining(chunks, layout.addedImports);
    const { accessHelpers, bulkHelpers, writesTables } = rewritten;
    const code = { bodies: rewritten.bodies, replaced: outlined.replaced, hints: { pieces: rewritten.hintPieces, functions: rewritten.hintedFunctions }, outlined: plan.loops, outlinedBodies: outlined.loops };
    const module = writeModule(info, layout, facts, code, helperFunctions(layout, accessHelpers, bulkHelpers, plan.loops.length === 0));
    return {
      rewritten: module,
      initialPages: facts.initialPages,
      maximumPages: facts.maximumPages,
      segments: facts.segments,
      importModules: facts.importModules,
      instanceBytes: facts.instanceBytes,
      hasInit: info.start !== null,
      cloneable: globalsCopyable(info) && !writesTables,
    };
  } catch (error) {
    await validOrRefused();
    throw asLoadError(name, error);
  }
}

/** planLoops over `candidates` in pieces of about SLICE_CHUNK_BYTES of their bodies, with a `turn` between them: at most `most` loops in all. */
async function planSliced(info: ModuleInfo, candidates: readonly number[], first: number, maxDepth: number | undefined, leaves: boolean, most: number, turn: () => Promise<void> | undefined): Promise<OutlinePlan> {
  const loops: OutlinedLoop[] = [];
  const byFunction = new Map<number, readonly OutlinedLoop[]>();
  for (let from = 0; from < candidates.length; ) {
    let to = from;
    for (let size = 0; to < candidates.length && size < SLICE_CHUNK_BYTES; to++) size += info.bodies[candidates[to]!]!.end - info.bodies[candidates[to]!]!.start;
    const part = planLoops(info, candidates.slice(from, to), first + loops.length, maxDepth, leaves, most - loops.length);
    loops.push(...part.loops);
    for (const [f, list] of part.byFunction) byFunction.set(f, list);
    from = to;
    if (loops.length >= most) break;
    if (from < candidates.length) await turn();
  }
  return loops.length === 0 ? NO_OUTLINING : { loops, byFunction };
}

/**
 * The loader's work on this thread, in slices of at most SLICE_MS with a turn of the event loop
 * between them, so that the machine keeps running (any host; the only way for small binaries).
 */
export class SlicedRewriter implements CodeWorkers {
  async validate(bytes: Uint8Array): Promise<string | null> {
    return engineValidation(bytes);
  }

  /**
   * Every chunk of one call is written into one writer (its code a view of it, placed or copied
   * by `take` before the next chunk: `transientCode`), not a fresh buffer of 4.5 times the chunk's
   * input per chunk, grown by doubling and copied once more to its exact size: memory touched for
   * the first time costs a page fault per 4 KiB.
   */
  readonly transientCode = true;

  async rewrite(bytes: Uint8Array, layout: CodeLayout, chunks: readonly BodyChunk[], take: (index: number, outcome: ChunkOutcome) => void): Promise<void> {
    let sliceStart = performance.now();
    const writer = new ByteWriter(Math.min(SLICE_CHUNK_BYTES * 5, chunks.reduce((n, chunk) => n + chunk.reduce((m, b) => m + (b.end - b.start), 0), 0) * 5) + 1024);
    const room = writer.buffer.length;
    for (const [index, chunk] of chunks.entries()) {
      // A `take` that freed the code anyway (a wrapper that did not say transientCode) took the buffer.
      if (writer.buffer.length === 0) writer.buffer = new Uint8Array(room);
      const outcome = rewriteChunk(bytes, layout, chunk, writer);
      take(index, outcome);
      if (!outcome.ok) return;
      if (performance.now() - sliceStart > SLICE_MS) {
        await giveTurn();
        sliceStart = performance.now();
      }
    }
  }
}

const inThread = new SlicedRewriter();

/** The host's `setImmediate` where it has one (Node's). */
const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

/**
 * One turn of the event loop: timers, I/O and the machine's scheduler run. Through setImmediate
 * where the host has it: a `setTimeout(0)` waits at least a millisecond on Node, which left the
 * thread idle for a millisecond after every 4 ms slice of a cold load (a fifth of its time).
 */
const giveTurn = (): Promise<void> => new Promise((resolve) => void (immediate ? immediate(resolve) : setTimeout(resolve, 0)));

/**
 * Whether a process's state is all in its memory and the globals the output exports: a mutable
 * vector or reference global (or a table the program writes) would have to be copied too, and a
 * reference names its own instance.
 */
function globalsCopyable(info: ModuleInfo): boolean {
  return info.globals.every((g) => !g.mutable || (g.typeBytes.length === 1 && g.type !== "v128" && g.type !== "ref"));
}

function codeError(name: string, outcome: Extract<ChunkOutcome, { ok: false }>, names: Names): LoadError {
  const label = names.functions.get(outcome.functionIndex);
  const where = `code section, function ${outcome.functionIndex}${label !== undefined ? ` "${label}"` : ""}`;
  if (outcome.refusal !== null) return new LoadError(name, where, `uses ${outcome.refusal}`);
  return new LoadError(name, `${where}, offset ${outcome.offset}`, outcome.message);
}

/** Every failure is a LoadError: a malformed part the engine let through, or a loader bug. */
function asLoadError(name: string, error: unknown): LoadError {
  if (error instanceof LoadError) return error;
  if (error instanceof DecodeError) return new LoadError(name, `offset ${error.offset}`, error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new LoadError(name, "loader", `internal error (a loader bug; please report it with the binary): ${message}`);
}
