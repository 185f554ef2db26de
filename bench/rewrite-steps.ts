// A stage-by-stage copy of a cold load (src/loader/loader.ts and rewrite-module.ts), so that
// benchmarks can time each stage or load a variant of the rewrite (safe points off). Everything
// runs on this thread, in one piece. loader-phases.ts checks that it emits exactly the bytes the
// real Loader emits, so the copy cannot drift silently.
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import type { LoadedImage } from "../src/kernel/image.ts";
import { readNames } from "../src/loader/name-section.ts";
import { OUTLINE_MAX_CODE, planLoops } from "../src/loader/outline-plan.ts";
import { codeLayout, type RewriteVariant } from "../src/loader/output-layout.ts";
import { checkPolicy, type LoaderPolicy } from "../src/loader/policy.ts";
import { chunkBodies, rewriteChunk } from "../src/loader/rewrite-code.ts";
import { helperFunctions } from "../src/loader/rewrite-helpers.ts";
import { checkHeader, codeSectionBytes, engineValidation } from "../src/loader/validate.ts";
import { readModule } from "../src/loader/wasm/module-info.ts";
import { RewrittenChunks } from "../src/loader/rewritten-chunks.ts";
import { writeModule } from "../src/loader/write-module.ts";
import { now } from "./harness.ts";

export const PHASES = ["sha256", "validate", "read and policy", "rewrite bodies", "assemble", "compile"] as const;
export type Phase = (typeof PHASES)[number];

export interface Steps {
  image: LoadedImage;
  rewritten: Uint8Array;
  ms: Record<Phase, number>;
}

export const benchPolicy: LoaderPolicy = {
  maxBinaryBytes: 64 << 20,
  maxMemoryPages: 16384,
  importModules: new Map(standardImportModules().map((spec) => [spec.module, spec.functions])),
};

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function rewriteSteps(bytes: Uint8Array, name: string, variant: RewriteVariant = {}): Promise<Steps> {
  const ms = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let t = now();
  const lap = (phase: Phase) => {
    const t2 = now();
    ms[phase] += t2 - t;
    t = t2;
  };
  const original = bytes.slice();
  const hash = await sha256(original);
  await sha256(new TextEncoder().encode(`fingerprint${hash}`));
  lap("sha256");
  checkHeader(name, original, benchPolicy.maxBinaryBytes);
  if ((await engineValidation(original)) !== null) throw new Error(`bench bug: ${name} does not validate`);
  lap("validate");
  const info = readModule(original);
  const facts = checkPolicy(name, info, readNames(original, info.nameSection), benchPolicy);
  const layout = codeLayout(info.functionImports, info.functions.length, info.globals.length, variant, facts.maximumPages, codeSectionBytes(original));
  lap("read and policy");
  const chunks = chunkBodies(info, 1 << 20);
  const rewrittenChunks = new RewrittenChunks(info.bodies.reduce((n, b) => n + (b.end - b.start), 0), info.functionImports, info.functions.length);
  for (const [index, chunk] of chunks.entries()) {
    const outcome = rewriteChunk(original, layout, chunk);
    if (!outcome.ok) throw new Error(`bench bug: ${name}: ${outcome.message}`);
    rewrittenChunks.take(index, outcome);
  }
  // Loop outlining, as rewrite-module.ts does it: the functions that run once, rewritten again with their loops moved.
  const mode = codeSectionBytes(original) >= (variant.outlineMaxCode ?? OUTLINE_MAX_CODE) ? "none" : (variant.outline ?? "once-run");
  const candidates = mode === "none" ? [] : mode === "all" ? info.bodies.map((_, i) => i) : rewrittenChunks.calls.onceRun(info);
  const plan = planLoops(info, candidates, layout.firstOutlined - layout.addedImports, variant.outlineDepth, variant.outlineLeaves || mode === "all");
  for (const [index, outline] of plan.byFunction) {
    const body = info.bodies[index - info.functionImports]!;
    const type = info.types[info.functions[index - info.functionImports]!];
    const outcome = rewriteChunk(original, layout, [{ index, start: body.start, end: body.end, params: type ? type.params.length : 0, outline }]);
    if (!outcome.ok) throw new Error(`bench bug: ${name}: ${outcome.message}`);
    rewrittenChunks.takeAgain(index, outcome);
  }
  const outlined = rewrittenChunks.outlining(chunks, layout.addedImports);
  const { accessHelpers, bulkHelpers, writesTables } = rewrittenChunks;
  lap("rewrite bodies");
  const rewritten = writeModule(info, layout, facts, { bodies: rewrittenChunks.bodies, replaced: outlined.replaced, hints: { pieces: rewrittenChunks.hintPieces, functions: rewrittenChunks.hintedFunctions }, outlined: plan.loops, outlinedBodies: outlined.loops }, helperFunctions(layout, accessHelpers, bulkHelpers, plan.loops.length === 0));
  lap("assemble");
  const module = await WebAssembly.compile(rewritten as Uint8Array<ArrayBuffer>);
  lap("compile");
  const image: LoadedImage = {
    hash, name, bytes: original, module, initialPages: facts.initialPages, maximumPages: facts.maximumPages, segments: facts.segments,
    hasInit: info.start !== null, cloneable: !writesTables, importModules: facts.importModules, instanceBytes: facts.instanceBytes,
  };
  return { image, rewritten, ms };
}
