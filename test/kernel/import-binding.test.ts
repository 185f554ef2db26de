// The kernel's import modules are bound when a program first imports one (src/kernel/imports.ts):
// a run whose programs import the kernel's ABI alone never builds WASI's imports and their shim.
import { describe, expect, it } from "vitest";
import { MMU_FUNCTIONS, MMU_MODULE } from "../../src/kernel/mmu-abi.ts";
import type { ImportModuleSpec } from "../../src/kernel/personality.ts";
import type { KernelServices } from "../../src/kernel/services.ts";
import { assemblyScriptEnv } from "../../src/personality/assemblyscript-env.ts";
import { wasiPreview1 } from "../../src/personality/wasi/preview1.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const KERNEL_ONLY = wat(`(module
  (import "dogma" "getpid" (func $getpid (result i32)))
  (memory 1)
  (func (export "_start") (drop (call $getpid))))`);

const WASI = wat(`(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory 1)
  (func (export "_start") (drop (call $yield))))`);

describe("the kernel's import modules", () => {
  it("binds a module when a program first imports it, and once", async () => {
    let binds = 0;
    const counted: ImportModuleSpec<KernelServices> = { ...wasiPreview1, bind: (kernel) => (binds++, wasiPreview1.bind(kernel)) };
    const t = testMachine({ kernel: { personalities: [counted, assemblyScriptEnv] } });
    t.kernel.spawn(await t.loader.load(KERNEL_ONLY, "kernel-only"));
    await t.kernel.run();
    expect(binds).toBe(0);
    const wasi = await t.loader.load(WASI, "wasi");
    const first = t.kernel.spawn(wasi);
    const second = t.kernel.spawn(wasi);
    await t.kernel.run();
    expect(binds).toBe(1);
    expect([first.outcome, second.outcome]).toEqual([
      { kind: "exited", code: 0 },
      { kind: "exited", code: 0 },
    ]);
  });

  it("gives processes the dogma:mmu functions as WebAssembly functions (the relay: half a JavaScript import's linking cost)", () => {
    const t = testMachine();
    const mmu = t.kernel.imports.forProcess(4096, 0)[MMU_MODULE]!;
    for (const { name } of MMU_FUNCTIONS) {
      // An exported WebAssembly function prints as native code named by its index.
      expect(Function.prototype.toString.call(mmu[name]), name).toMatch(/^function \d+\(\) \{ \[native code\] \}$/);
    }
  });

  it("gives programs the ABI's calls as WebAssembly functions too, the shim's and the relay's", () => {
    const t = testMachine();
    const dogma = t.kernel.imports.forProcess(4096, 0)["dogma"]!;
    // getpid is a plain call (the relay), random a blocking one (the shim), invoke one that usually waits (a Suspending, relayed).
    for (const name of ["getpid", "random", "invoke"]) {
      expect(Function.prototype.toString.call(dogma[name]), name).toMatch(/^function \d+\(\) \{ \[native code\] \}$/);
    }
  });
});
