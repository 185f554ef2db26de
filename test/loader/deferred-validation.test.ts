/**
 * A boot module is validated by the engine once, when the loader defers it (docs/BOOT.md
 * "Loading"): its load later rewrites it without validating it again (a boot's 61 modules, 2 MB,
 * were each validated twice on the machine's thread, the second time as each one loaded).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import { Loader } from "../../src/loader/loader.ts";
import { program } from "../helpers/programs.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a deferred binary", () => {
  it("is validated by the engine when deferred, and not again when it loads", async () => {
    const bytes = program("echo");
    const validate = vi.spyOn(WebAssembly, "validate");
    const ofBinary = () => validate.mock.calls.filter(([b]) => b === bytes).length;
    const loader = new Loader({ importModules: standardImportModules() });
    const deferred = await loader.defer(bytes, "echo");
    expect(ofBinary()).toBe(1);
    if (!("load" in deferred)) throw new Error("the loader held the binary already");
    const image = await deferred.load();
    expect(image.module).toBeInstanceOf(WebAssembly.Module);
    expect(loader.stats.rewrites).toBe(1);
    expect(ofBinary()).toBe(1);
  });

  it("is still refused by its validation when invalid", async () => {
    // A body that pops from an empty stack: well encoded, so only the engine refuses it.
    const invalid = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 5, 1, 3, 0, 0x1a, 0x0b]);
    const loader = new Loader({ importModules: standardImportModules() });
    await expect(loader.defer(invalid, "bad")).rejects.toThrow(/bad/);
    // An ordinary load of it validates it.
    await expect(loader.load(invalid, "bad")).rejects.toThrow(/bad/);
  });
});
