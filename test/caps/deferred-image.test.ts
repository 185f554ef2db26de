/**
 * An Image of a binary the loader has not loaded yet (boot modules: docs/BOOT.md "Loading"): it
 * answers IMAGE_INFO and IMAGE_MAP at once, and the first MEMORY_CREATE_PROCESS waits for the
 * load, which every later one shares; a binary the loader refuses then is refused to the caller
 * with the loader's reason, and the kernel keeps running.
 */
import { describe, expect, it } from "vitest";
import { startInit } from "../../src/boot/bootloader.ts";
import { Op } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import type { DeferredImage, LoadedImage } from "../../src/kernel/image.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";
import { ALL, Script, State, runAll, scriptMachine } from "./script.ts";

function deferred(image: DeferredImage | LoadedImage): DeferredImage {
  if (!("load" in image)) throw new Error("the loader held the binary already");
  return image;
}

/** The text of a MEMORY_LOAD_ERROR answer. */
function errorText(words: number[]): string {
  return new TextDecoder().decode(new Uint8Array(new Uint32Array(words.slice(1)).buffer).subarray(0, words[0]));
}

describe("an Image whose binary is still to be loaded", () => {
  it("answers IMAGE_INFO at once; the first process made from it waits for one load, which the second shares", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const rewrites = m.loader.stats.rewrites;
    const image = m.kernel.imageObject(deferred(await m.loader.defer(echo, "echo-deferred")));
    expect(image.image).toBeNull();
    expect(m.loader.stats.rewrites).toBe(rewrites);
    const s = new Script();
    const [first, second] = [s.reg(), s.reg()];
    const info = s.invoke(3, Op.IMAGE_INFO);
    const made = s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
    s.loadCap(first);
    const again = s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
    s.loadCap(second);
    s.invoke(first, Op.PROCESS_START);
    s.invoke(second, Op.PROCESS_START);
    const waits = [s.invoke(first, Op.PROCESS_WAIT), s.invoke(second, Op.PROCESS_WAIT)];
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(m.kernel.memoryObject(4000), ALL), m.kernel.capability(image, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.answer(p, info).words).toEqual([echo.length, image.globalAddress]);
    expect(log.status(p, made)).toBe(Status.OK);
    expect(log.status(p, again)).toBe(Status.OK);
    expect(waits.map((id) => log.answer(p, id).words)).toEqual([
      [State.exited, 0],
      [State.exited, 0],
    ]);
    expect(image.image?.name).toBe("echo-deferred");
    expect(m.loader.stats.rewrites).toBe(rewrites + 1);
    expect(m.faults).toEqual([]);
  });

  it("refused by the loader when first used: MEMORY_CREATE_PROCESS answers E_INVALID_ARGUMENT and MEMORY_LOAD_ERROR says why", async () => {
    const m = await scriptMachine();
    // Valid WebAssembly, which the policy refuses: an import the machine does not offer.
    const stranger = wat(`(module (import "elsewhere" "thing" (func)) (memory 1) (func (export "_start")))`);
    const image = m.kernel.imageObject(deferred(await m.loader.defer(stranger, "stranger")));
    const s = new Script();
    const made = s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
    const why = s.invoke(2, Op.MEMORY_LOAD_ERROR);
    const still = s.invoke(3, Op.IMAGE_INFO);
    s.end(0);
    const p = m.spawn(s, { caps: [m.kernel.capability(m.kernel.memoryObject(4000), ALL), m.kernel.capability(image, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, made)).toBe(Status.E_INVALID_ARGUMENT);
    expect(errorText(log.answer(p, why).words)).toMatch(/^stranger: .*elsewhere/);
    expect(log.answer(p, still).words[0]).toBe(stranger.length);
    expect(p.outcome).toEqual({ kind: "exited", code: 0 });
  });

  it("at boot: init and the modules the config starts are loaded; a module nothing starts is not, until a process is made from it", async () => {
    const t = testMachine();
    const image = {
      init: { name: "init", bytes: program("init") },
      modules: [{ name: "registry", bytes: program("registry") }, { name: "echo", bytes: program("echo") }],
      config: "start registry\nmodule echo\n",
      params: {},
    };
    await startInit(t.kernel, t.loader, image, []);
    // Until nothing can run any more: init started the registry and waits.
    await t.kernel.run();
    expect(t.stdout()).toContain("init: started registry");
    expect(t.loader.stats.rewrites).toBe(2);
    expect(t.loader.heldImages).toBe(2);
  });

  it("at boot: a started module whose manifest asks for a device the machine lacks is not loaded (init skips it)", async () => {
    const t = testMachine();
    const image = {
      init: { name: "init", bytes: program("init") },
      // hostfs's manifest asks for the share device and its interrupt: this machine has no devices.
      modules: [{ name: "registry", bytes: program("registry") }, { name: "hostfs", bytes: program("hostfs") }],
      config: "start registry\nstart hostfs\n",
      params: {},
    };
    await startInit(t.kernel, t.loader, image, []);
    await t.kernel.run();
    expect(t.stdout()).toContain("init: started registry");
    expect(t.loader.stats.rewrites, "init and the registry").toBe(2);
    expect(t.loader.heldImages).toBe(2);
  });
});
