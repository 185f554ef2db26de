// The machine keeps running processes while the loader rewrites a big module: on worker threads
// (the Node host's way) and on the machine's own thread in slices (any host). A ticker process
// prints a dot every millisecond; while a 6 MB module's bodies are rewritten it must go on
// printing, and the module must then run. On workers, the output's compile is theirs too, and the
// ticker goes on printing while it runs.
import { afterAll, describe, expect, it } from "vitest";
import { NodeLoaderWorkers } from "../../src/hosts/node/loader-workers.ts";
import type { CodeWorkers } from "../../src/loader/rewrite-code.ts";
import { SlicedRewriter } from "../../src/loader/rewrite-module.ts";
import { testMachine } from "../helpers/test-host.ts";
import { generatedModule } from "../../bench/generated-module.ts";
import { watToBinary } from "./wat.ts";

const ticker = watToBinary(`(module
  (import "dogma" "console_write" (func $write (param i32 i32 i32) (result i32)))
  (import "dogma" "sleep" (func $sleep (param i64)))
  (memory 1)
  (data (i32.const 4096) ".")
  (func (export "_start")
    (loop $tick
      (drop (call $write (i32.const 1) (i32.const 4096) (i32.const 1)))
      (call $sleep (i64.const 1000000))
      (br $tick))))`);

const big = generatedModule(24_000);
const workers = new NodeLoaderWorkers(2);
afterAll(() => workers.close());

describe("loading a big module while a process runs", () => {
  for (const [label, pool] of [["on worker threads", workers], ["in slices on the machine's thread", new SlicedRewriter()]] as const) {
    it(label, async () => {
      // Counts the dots printed between the start and the end of the bodies' rewrite.
      let during = -1;
      let duringCompile = -1;
      let outputValidatedByPool = false;
      const owned = pool instanceof NodeLoaderWorkers ? pool : null;
      const watched: CodeWorkers = {
        validate: (bytes) => pool.validate(bytes),
        ...(owned && {
          compileValidated: async (bytes: Uint8Array) => {
            outputValidatedByPool = true;
            const before = t.stdout().length;
            const compiled = await owned.compileValidated(bytes);
            duringCompile = t.stdout().length - before;
            return compiled;
          },
        }),
        rewrite: async (bytes, layout, chunks, take) => {
          const before = t.stdout().length;
          await pool.rewrite(bytes, layout, chunks, take);
          during = t.stdout().length - before;
        },
      };
      const t = testMachine({ loader: { workers: watched } });
      const tick = t.kernel.spawn(await t.loader.load(ticker, "ticker"), {});
      const running = t.kernel.run();
      // Wait for the ticker to be going.
      while (t.stdout().length < 3) await new Promise((resolve) => setTimeout(resolve, 1));
      const image = await t.loader.load(big, "big.wasm");
      t.kernel.kill(tick.pid);
      await running;
      expect(big.length).toBeGreaterThan(6 << 20);
      expect(during, "dots printed while the bodies were rewritten").toBeGreaterThanOrEqual(5);
      // The fresh output (~30 MB) is validated and compiled on a worker too, when there are
      // workers, the machine's thread free meanwhile (a compile of it here held the thread for
      // 130 ms at the generated 25 MB module's size: the engine copies and hashes it).
      if (owned) expect(duringCompile, "dots printed while the output was compiled").toBeGreaterThanOrEqual(1);
      else expect(duringCompile).toBe(-1);
      const process = t.kernel.spawn(image, { entry: "f23999", entryArgs: [8192, 3], mapImage: false });
      await t.kernel.run();
      expect(process.outcome).toEqual({ kind: "exited", code: 0 });
    }, 60_000);
  }
});

describe("NodeLoaderWorkers.compileValidated", () => {
  it("moves the bytes to a worker and back with the compiled module, or the engine's refusal, the same bytes", async () => {
    const valid = watToBinary(`(module (func (export "f") (result i32) (i32.const 7)))`);
    const invalid = watToBinary(`(module (func (export "f") (result i32) (i32.const 1)))`);
    invalid[invalid.length - 3] = 0x1a; // `i32.const 1` becomes `drop nop`: nothing to drop
    const pool = new NodeLoaderWorkers(1);
    const moved = valid.slice();
    const compiled = await pool.compileValidated(moved);
    expect(moved.byteLength, "moved away").toBe(0);
    expect(compiled.bytes).toEqual(valid);
    // The module outlives the worker that compiled it.
    await pool.close();
    if (!(compiled.module instanceof WebAssembly.Module)) throw new Error(`refused: ${compiled.message}`);
    expect((new WebAssembly.Instance(compiled.module).exports.f as () => number)()).toBe(7);
    // A body the engine, validating lazily, would have compiled and failed at its first call.
    const refused = await workers.compileValidated(invalid.slice());
    expect(refused).toEqual({ module: null, message: expect.stringMatching(/Compiling function #0 failed/), bytes: invalid });
  });
});

describe("NodeLoaderWorkers when idle", () => {
  it("ends its workers once they have had nothing to do for a while, and starts new ones for the next load", async () => {
    const pool = new NodeLoaderWorkers(2, 20);
    const tiny = watToBinary(`(module (func (export "f") (result i32) (i32.const 1)))`);
    for (let round = 0; round < 2; round++) {
      expect(await Promise.all([pool.validate(tiny), pool.validate(tiny)])).toEqual([null, null]);
      expect(pool.running).toBe(2);
      while (pool.running > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await pool.close();
  });
});
