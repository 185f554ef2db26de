// A loader bug that makes invalid output is a LoadError at load time that says what and where,
// never a process that fails later: the engine the Node host runs validates a body only at its
// first call (src/hosts/node/engine-flags.ts), so the loader has its fresh output validated in
// full: by its compile on a worker when the workers can (NodeLoaderWorkers.compileValidated, for an
// output of 1 MB or more), else by its compile on the machine's thread with lazy validation off
// meanwhile (engine-flags.ts compileValidating, the Node host's loader), else by WebAssembly.validate. The "bug" here: a
// rewrite whose first chunk comes back with its first body's closing `end` turned into a `nop`.
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { generatedModule } from "../../bench/generated-module.ts";
import { compileValidating } from "../../src/hosts/node/engine-flags.ts";
import { NodeLoaderWorkers } from "../../src/hosts/node/loader-workers.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import type { ModuleCache } from "../../src/loader/cache.ts";
import { LoadError } from "../../src/loader/load-error.ts";
import { Loader } from "../../src/loader/loader.ts";
import type { ChunkOutcome, CodeWorkers } from "../../src/loader/rewrite-code.ts";

/** `outcome` with its first body's last byte (the body's `end`) made a `nop`. */
function damaged(outcome: ChunkOutcome): ChunkOutcome {
  if (!outcome.ok) return outcome;
  const code = outcome.code.slice();
  let at = 0;
  let size = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = code[at++]!;
    size += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  expect(code[at + size - 1], "a body ends with end").toBe(0x0b);
  code[at + size - 1] = 0x01;
  return { ...outcome, code };
}

/** `pool` with chunk 0 of every rewrite damaged (and without its compile, unless `compiles`). */
function buggy(pool: NodeLoaderWorkers, compiles: boolean): CodeWorkers {
  return {
    validate: (bytes) => pool.validate(bytes),
    rewrite: (bytes, layout, chunks, take) => pool.rewrite(bytes, layout, chunks, (index, outcome) => take(index, index === 0 ? damaged(outcome) : outcome)),
    ...(compiles && { compileValidated: pool.compileValidated.bind(pool) }),
  };
}

const workers = new NodeLoaderWorkers(2);
afterAll(() => workers.close());

describe("a loader bug's invalid output", () => {
  // 2,100 functions: 549 KB of code, just enough to be rewritten on the workers (WORKER_THRESHOLD), 3 MB of output.
  const binary = generatedModule(2100);
  for (const [label, compiles] of [
    ["compiled on a worker, every body validated", true],
    ["validated on the machine's thread", false],
  ] as const) {
    it(`is refused at load time, ${label}, and not cached`, async () => {
      let cached = 0;
      const cache: ModuleCache = {
        get: async () => null,
        put: async () => void cached++,
        putParts: async () => void cached++,
      };
      let compiledOnWorker = false;
      const watched = buggy(workers, compiles);
      if (watched.compileValidated) {
        const compile = watched.compileValidated;
        watched.compileValidated = (bytes) => {
          compiledOnWorker = true;
          return compile(bytes);
        };
      }
      const loader = new Loader({ importModules: standardImportModules(), workers: watched, cache });
      const error = await loader.load(binary, "buggy.wasm").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LoadError);
      // What (the engine's reason) and where (the function and the byte offset in the output).
      expect((error as LoadError).message).toMatch(/buggy\.wasm.*the engine refused the rewritten module \(a loader bug.*function #\d+.*failed: .*@\+\d+/s);
      expect(cached, "nothing cached").toBe(0);
      expect(compiledOnWorker).toBe(compiles);
      if (!compiles) return;
      // The same binary loads when the rewrite is right.
      const image = await new Loader({ importModules: standardImportModules(), workers, cache }).load(binary, "right.wasm");
      expect(image.module).toBeInstanceOf(WebAssembly.Module);
      expect(cached).toBe(1);
    }, 60_000);
  }

  it("is refused at load time when compiled on the machine's thread, every body validated by the compile, and not cached", async () => {
    let cached = 0;
    const cache: ModuleCache = { get: async () => null, put: async () => void cached++, putParts: async () => void cached++ };
    const compile = compileValidating();
    expect(compile, "the Node host's main thread validates by the compile").not.toBeNull();
    let compiled = 0;
    const loader = new Loader({
      importModules: standardImportModules(),
      workers: buggy(workers, false),
      cache,
      compileValidating: (bytes) => {
        compiled++;
        return compile!(bytes);
      },
    });
    const error = await loader.load(binary, "buggy.wasm").catch((e: unknown) => e);
    expect(compiled, "the output went to the validating compile").toBe(1);
    expect(error).toBeInstanceOf(LoadError);
    expect((error as LoadError).message).toMatch(/buggy\.wasm.*the engine refused the rewritten module \(a loader bug.*function #\d+.*failed: .*@\+\d+/s);
    expect(cached, "nothing cached").toBe(0);
    expect(() => new WebAssembly.Module(invalidBody(6)), "lazy after").not.toThrow();
  }, 60_000);

  it("leaves the engine validating lazily once the worker's compile is done", async () => {
    expect(() => new WebAssembly.Module(invalidBody(1)), "lazy before").not.toThrow();
    const answer = await workers.compileValidated(invalidBody(2));
    expect(answer.module).toBeNull();
    expect(answer.message).toMatch(/Compiling function #0 failed: .* @\+26/);
    expect(answer.bytes).toEqual(invalidBody(2));
    expect(() => new WebAssembly.Module(invalidBody(3)), "lazy after").not.toThrow();
  });

  it("is refused by a pool off the main thread too, which leaves the engine's flags to the main thread", async () => {
    const pool = new URL("../../src/hosts/node/loader-workers.ts", import.meta.url).href;
    const code = `(async () => {
      const { NodeLoaderWorkers } = await import(${JSON.stringify(pool)});
      const workers = new NodeLoaderWorkers(1);
      const answer = await workers.compileValidated(new Uint8Array(${JSON.stringify([...invalidBody(4)])}));
      await workers.close();
      require("node:worker_threads").parentPort.postMessage(answer.message);
    })();`;
    const thread = new Worker(code, { eval: true });
    const message = await new Promise((resolve, reject) => thread.once("message", resolve).once("error", reject));
    await thread.terminate();
    expect(message).toMatch(/Compiling function #0 failed: .* @\+26/);
    expect(() => new WebAssembly.Module(invalidBody(5)), "still lazy").not.toThrow();
  });
});

/** (func (result i32) i64.const N): a body the engine refuses when it validates it. */
function invalidBody(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0, 10, 6, 1, 4, 0, 0x42, n, 0x0b]);
}
