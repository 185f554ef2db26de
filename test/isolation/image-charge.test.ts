/**
 * An Image is charged to its Memory for the host memory the loaded image keeps (its binary, its
 * data segments, its compiled code: LoadedImage.hostBytes), not a page per 16 KiB of binary. Before,
 * a 2.73 MB generated module kept 28-50 MB of host memory and was charged 0.68 MB, so a program of
 * a 128 MiB quota could hold about 6 GB of host memory in distinct binaries; and a 256 MiB Image
 * builder was charged 64 MiB (redteam, High).
 */
import { describe, expect, it } from "vitest";
import { hostPages, imageHostPages, loadChargePages } from "../../src/kernel/caps/image-charge.ts";
import { ObjectKind, Op } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { Rights } from "../../src/kernel/caps/object-abi.ts";
import { program } from "../helpers/programs.ts";
import { ALL, Script, runAll, scriptMachine } from "../caps/script.ts";

/** `binary` with a custom section of its own at the end: another binary to the loader, of the same code. */
function variant(binary: Uint8Array, tag: string): Uint8Array {
  const payload = new TextEncoder().encode(tag);
  return new Uint8Array([...binary, 0, payload.length + 1, payload.length, ...payload]);
}

function nameWords(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return [...new Uint32Array(padded.buffer)];
}

/** The text of a MEMORY_LOAD_ERROR answer. */
function errorText(words: number[]): string {
  const bytes = new Uint8Array(new Uint32Array(words.slice(1)).buffer).subarray(0, words[0]);
  return new TextDecoder().decode(bytes);
}

const REFUSAL = /^(\S+): its Memory cannot pay for .*: the host keeps ([\d.]+) MiB for it and the Memory has ([\d.]+) MiB left$/;

describe("an Image's charge", () => {
  it("is what the host keeps of it: distinct binaries loaded in a loop are refused once the quota is spent, by name and amount", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const kept = imageHostPages(await m.loader.load(echo, "echo"));
    // The binary, the engine's module (3 MiB fixed) and its code: far more than a page per 16 KiB of binary.
    expect(kept * 4096).toBeGreaterThan(2 * echo.length + (3 << 20));
    const binaries = Array.from({ length: 8 }, (_, i) => variant(echo, `distinct ${i}`));
    const s = new Script();
    const asked = binaries.map((b, i) => s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [b.length, ...nameWords(`echo-${i}`)], caps: [3 + i] }));
    const why = s.invoke(2, Op.MEMORY_LOAD_ERROR);
    const info = s.invoke(2, Op.MEMORY_INFO);
    s.end();
    // Room for five and a half such Images.
    const mem = m.kernel.memoryObject(Math.floor(5.5 * kept));
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), ...binaries.map((b) => m.kernel.capability(m.kernel.regionObject(b), Rights.REGION_READ))] });
    await runAll(m);
    const log = m.log();
    expect(asked.map((id) => log.status(p, id))).toEqual([0, 0, 0, 0, 0, Status.E_QUOTA, Status.E_QUOTA, Status.E_QUOTA]);
    // Each of the five held Images pays for what the host keeps of it (the last refusal left nothing charged).
    const [, used] = log.answer(p, info).words;
    expect(used).toBe(5 * kept);
    const text = errorText(log.answer(p, why).words);
    const [, name, costs, left] = REFUSAL.exec(text) ?? [];
    expect(text).toMatch(REFUSAL);
    expect(name).toBe("echo-7");
    expect(Number(costs)).toBeGreaterThan(Number(left));
    expect(checkInvariants(m.kernel)).toEqual([]);
    expect(mem.used).toBe(0);
    expect(m.faults).toEqual([]);
  });

  it("is settled after the load: a Memory that pays for the load but not for the loaded image gets E_QUOTA and why", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const kept = imageHostPages(await m.loader.load(echo, "echo"));
    expect(kept).toBeGreaterThan(loadChargePages(echo.length));
    const s = new Script();
    const asked = s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length, ...nameWords("echo")], caps: [3] });
    const why = s.invoke(2, Op.MEMORY_LOAD_ERROR);
    s.end();
    const mem = m.kernel.memoryObject(kept - 1);
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, asked)).toBe(Status.E_QUOTA);
    const text = errorText(log.answer(p, why).words);
    expect(text).toMatch(REFUSAL);
    expect(text).toContain("the loaded image");
    expect(Number(REFUSAL.exec(text)![2])).toBeCloseTo((kept * 4096) / (1 << 20), 1);
    expect(mem.used).toBe(0);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });
});

describe("an Image builder's charge", () => {
  it("is its bytes while it gathers them, a load's when it loads, and a 256 MiB builder no longer fits a 64 MiB Memory", async () => {
    const m = await scriptMachine({ memory: 128 << 20 });
    const echo = program("echo");
    const s = new Script();
    const builder = s.reg();
    const huge = s.invoke(4, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [256 << 20] });
    const big = s.invoke(4, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [(64 << 20) - (4 << 10)] });
    const created = s.invoke(2, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [echo.length, ...nameWords("built")] });
    s.loadCap(builder);
    s.invoke(builder, Op.IMAGE_BUILDER_APPEND, { words: [echo.length], caps: [3] });
    const gathering = s.invoke(2, Op.MEMORY_INFO);
    const loaded = s.invoke(builder, Op.IMAGE_BUILDER_LOAD);
    const why = s.invoke(2, Op.MEMORY_LOAD_ERROR);
    s.end();
    // Room for the builder's bytes but not for a load of them; and 64 MiB.
    const small = m.kernel.memoryObject(loadChargePages(echo.length) - 1);
    const mib64 = m.kernel.memoryObject(16384);
    const p = m.spawn(s, { caps: [m.kernel.capability(small, ALL), m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ), m.kernel.capability(mib64, ALL)] });
    await runAll(m);
    const log = m.log();
    // Before: a 256 MiB builder was charged 64 MiB, and fit.
    expect(log.status(p, huge)).toBe(Status.E_QUOTA);
    expect(log.status(p, big)).toBe(0);
    expect(log.status(p, created)).toBe(0);
    expect(log.answer(p, gathering).words[1]).toBe(hostPages(echo.length));
    expect(log.status(p, loaded)).toBe(Status.E_QUOTA);
    const text = errorText(log.answer(p, why).words);
    expect(text).toMatch(REFUSAL);
    expect(REFUSAL.exec(text)![1]).toBe("built");
    expect(small.used).toBe(0);
    expect(mib64.used).toBe(0);
    expect(checkInvariants(m.kernel)).toEqual([]);
    expect(m.faults).toEqual([]);
  });
});

describe("Images of the same bytes", () => {
  it("share one charge in one Memory, which lasts while any of them lives; another Memory pays in full", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const kept = imageHostPages(await m.loader.load(echo, "echo"));
    const s = new Script();
    const first = s.reg();
    const asked = [s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] })];
    s.loadCap(first);
    asked.push(s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] }), s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] }));
    const three = s.invoke(2, Op.MEMORY_INFO);
    const elsewhere = s.invoke(4, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] });
    const other = s.invoke(4, Op.MEMORY_INFO);
    // The first Image's capability goes: the two left still hold the host's copy, still paid for.
    const dropped = s.invoke(first, Op.IMAGE_UNMAP);
    const two = s.invoke(2, Op.MEMORY_INFO);
    s.end();
    const mem = m.kernel.memoryObject(2 * kept);
    const second = m.kernel.memoryObject(2 * kept);
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ), m.kernel.capability(second, ALL)] });
    await runAll(m);
    const log = m.log();
    expect(asked.map((id) => log.status(p, id))).toEqual([0, 0, 0]);
    // Before: three times what the host keeps, for one copy.
    expect(log.answer(p, three).words[1]).toBe(kept);
    expect(log.status(p, elsewhere)).toBe(0);
    expect(log.answer(p, other).words[1]).toBe(kept);
    expect(log.status(p, dropped)).toBe(0);
    expect(log.answer(p, two).words[1]).toBe(kept);
    expect(mem.used).toBe(0);
    expect(second.used).toBe(0);
    expect(checkInvariants(m.kernel)).toEqual([]);
    expect(m.faults).toEqual([]);
  });
  it("is paid for each compiled copy the host keeps: a load whose caller was killed while another of the same bytes ran cannot leave two copies under one charge (redteam6)", async () => {
    // The loader lets go of a load nobody took (its caller killed), so that a compiled module is
    // not kept for good; a load of the same bytes that was running beside it still makes its Image,
    // whose compiled module the loader no longer knows, and the next load of those bytes compiles
    // another. Each copy the host keeps is charged: Images of one Memory share a charge only when
    // they share the compiled module itself.
    const m = await scriptMachine();
    const bytes = variant(program("echo"), "redteam6-race");
    const kept = imageHostPages(await m.loader.load(program("echo"), "echo"));
    const mem = m.kernel.memoryObject(8 * kept);
    const region = m.kernel.regionObject(bytes);
    const a = new Script();
    a.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [bytes.length], caps: [3] });
    a.end();
    const b = new Script();
    const [first, second] = [b.reg(), b.reg()];
    const loads = [b.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [bytes.length], caps: [3] })];
    b.loadCap(first);
    loads.push(b.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [bytes.length], caps: [3] }));
    b.loadCap(second);
    const used = b.invoke(2, Op.MEMORY_INFO);
    b.futexWait(0x2000 + 200, 0); // stays, holding both Images
    b.end();
    const load = m.kernel.loadImage.bind(m.kernel);
    let calls = 0;
    m.kernel.loadImage = (binary, name, settled) => {
      load(binary, name, settled);
      if (calls++ === 0) m.kernel.kill(ap.pid);
    };
    const ap = m.spawn(a, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(region, Rights.REGION_READ)] });
    const bp = m.spawn(b, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(region, Rights.REGION_READ)] });
    await m.kernel.run();
    const log = m.log();
    expect(loads.map((id) => log.status(bp, id))).toEqual([0, 0]);
    const modules = new Set<WebAssembly.Module>();
    for (const [, cap] of bp.caps.entries()) {
      const object = cap.object as { image?: { module: WebAssembly.Module } | null };
      if (cap.object.kind === ObjectKind.IMAGE && object.image) modules.add(object.image.module);
    }
    expect(log.answer(bp, used).words[1]).toBe(modules.size * kept);
    m.kernel.kill(bp.pid);
    expect(mem.used).toBe(0);
    expect(checkInvariants(m.kernel)).toEqual([]);
  });
});
