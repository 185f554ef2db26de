import { describe, expect, it } from "vitest";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

describe("physical memory exhaustion", () => {
  it("faults the process that runs out, frees its frames, and keeps the machine running", async () => {
    const t = testMachine({ memory: 4 << 20 });
    // Touches one word in every page of 8 MiB: twice the machine's memory.
    const hog = await t.loader.load(
      wat(`(module (memory 1 256)
        (func (export "_start") (local $a i32)
          (drop (memory.grow (i32.const 128)))
          (local.set $a (i32.const 65536))
          (loop $touch
            (i32.store (local.get $a) (local.get $a))
            (local.set $a (i32.add (local.get $a) (i32.const 4096)))
            (br_if $touch (i32.lt_u (local.get $a) (i32.const 0x800000))))))`),
      "hog",
    );
    const free = t.kernel.frames.freeCount;
    const process = t.kernel.spawn(hog);
    await t.kernel.run();
    expect(process.outcome?.kind).toBe("faulted");
    expect(process.fault).toMatchObject({ kind: "out-of-memory" });
    expect(t.kernel.frames.freeCount).toBeGreaterThanOrEqual(free - 2);
    t.kernel.spawn(await t.loader.load(program("hello"), "hello"));
    await t.kernel.run();
    expect(t.stdout()).toContain("hello from dogma");
  });
});
