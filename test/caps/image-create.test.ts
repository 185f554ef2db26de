/**
 * MEMORY_CREATE_IMAGE and MEMORY_LOAD_ERROR: a process hands the kernel a binary in a Region and
 * gets an Image it can create processes from, or a refusal whose reason it can read; bad
 * binaries (random bytes, truncated modules) never take the kernel down; the Image is charged to
 * the Memory and its frames go back with it.
 */
import { describe, expect, it } from "vitest";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";
import { Status } from "../../src/kernel/errors.ts";
import { imageHostPages } from "../../src/kernel/caps/image-charge.ts";
import { MAX_BUILT_IMAGE_BYTES } from "../../src/kernel/caps/image-create.ts";
import { program } from "../helpers/programs.ts";
import { prng } from "./prng.ts";
import { ALL, Script, State, runAll, scriptMachine } from "./script.ts";

/** A name as the op's words: UTF-8, zero-padded to whole words. */
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

describe("MEMORY_CREATE_IMAGE_BUILDER", () => {
  it("takes a binary a Region at a time, loads it into an Image processes run from, and refuses what does not fit", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const mem = m.kernel.memoryObject(2000);
    const chunk = 4096;
    const pieces = Math.ceil(echo.length / chunk);
    const s = new Script();
    const [builder, image, child] = [s.reg(), s.reg(), s.reg()];
    const created = s.invoke(2, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [echo.length, ...nameWords("echo-built")] });
    s.loadCap(builder);
    const early = s.invoke(builder, Op.IMAGE_BUILDER_LOAD);
    const appends: number[] = [];
    // Each piece sits in its own Region (slots 3 …), as a reader of a file would fill one in turn.
    for (let i = 0; i < pieces; i++) appends.push(s.invoke(builder, Op.IMAGE_BUILDER_APPEND, { words: [Math.min(chunk, echo.length - i * chunk)], caps: [3 + i] }));
    const tooMuch = s.invoke(builder, Op.IMAGE_BUILDER_APPEND, { words: [1], caps: [3] });
    const info = s.invoke(builder, Op.IMAGE_BUILDER_INFO);
    const loaded = s.invoke(builder, Op.IMAGE_BUILDER_LOAD);
    s.loadCap(image);
    const usedUp = s.invoke(builder, Op.IMAGE_BUILDER_INFO);
    s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [image] });
    s.loadCap(child);
    s.invoke(child, Op.PROCESS_START);
    const waited = s.invoke(child, Op.PROCESS_WAIT);
    const huge = s.invoke(2, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [MAX_BUILT_IMAGE_BYTES + 1] });
    const overQuota = s.invoke(3 + pieces, Op.MEMORY_CREATE_IMAGE_BUILDER, { words: [1 << 20] });
    s.end();
    const regions = Array.from({ length: pieces }, (_, i) => m.kernel.capability(m.kernel.regionObject(echo.subarray(i * chunk, (i + 1) * chunk)), Rights.REGION_READ));
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), ...regions, m.kernel.capability(m.kernel.memoryObject(10), ALL)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, created)).toBe(0);
    expect(log.status(p, early)).toBe(Status.E_NOT_READY);
    expect(appends.map((id) => log.answer(p, id).words[0])).toEqual(Array.from({ length: pieces }, (_, i) => Math.min((i + 1) * chunk, echo.length)));
    expect(log.status(p, tooMuch)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.answer(p, info).words).toEqual([echo.length, echo.length]);
    expect(log.status(p, loaded)).toBe(0);
    expect(log.answer(p, loaded).words[0]).toBe(echo.length);
    expect(log.status(p, usedUp)).toBe(Status.E_PEER_DEAD);
    expect(log.answer(p, waited).words).toEqual([State.exited, 0]);
    expect(log.status(p, huge)).toBe(Status.E_INVALID_ARGUMENT);
    expect(log.status(p, overQuota)).toBe(Status.E_QUOTA);
    expect(m.faults).toEqual([]);
    expect(mem.used).toBe(0);
  });
});

describe("MEMORY_CREATE_IMAGE", () => {
  it("loads a binary from a Region into an Image that processes run from, charged to the Memory, and frees its frames with it", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const framesAtStart = m.kernel.frames.freeCount;
    const mem = m.kernel.memoryObject(2000);
    const s = new Script();
    const image = s.reg();
    const child = s.reg();
    const created = s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length, ...nameWords("echo-loaded")], caps: [3] });
    s.loadCap(image);
    const info = s.invoke(image, Op.IMAGE_INFO);
    const kind = s.invoke(image, Op.CAP_INFO);
    const noError = s.invoke(2, Op.MEMORY_LOAD_ERROR);
    const usage = s.invoke(2, Op.MEMORY_INFO);
    s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [image] });
    s.loadCap(child);
    const text = new TextEncoder().encode("echo\0loaded\0at\0run\0time\0");
    const words = [text.length, 5];
    for (let i = 0; i < text.length; i += 4) words.push(new DataView(text.buffer).getUint32(i, true));
    s.invoke(child, Op.PROCESS_SET_ARGS, { words });
    s.invoke(child, Op.PROCESS_START);
    const waited = s.invoke(child, Op.PROCESS_WAIT);
    s.end();
    const region = m.kernel.regionObject(echo);
    const p = m.spawn(s, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(region, Rights.REGION_READ)] });
    await runAll(m);
    const log = m.log();
    expect(log.status(p, created)).toBe(0);
    const [size, address] = log.answer(p, info).words;
    expect(size).toBe(echo.length);
    expect(address! >>> 0).toBeGreaterThanOrEqual(0x8000_0000);
    expect(log.answer(p, created).words).toEqual([echo.length, address]);
    expect(log.answer(p, kind).words).toEqual([9, Rights.IMAGE_SPAWN]);
    expect(log.answer(p, noError).words).toEqual([0]);
    expect(log.answer(p, usage).words[1]).toBe(imageHostPages(await m.loader.load(echo, "echo")));
    expect(log.answer(p, waited).words).toEqual([State.exited, 0]);
    expect(m.stdout()).toContain("loaded at run time\n");
    expect([...m.kernel.processes.values()].map((q) => q.image.name)).toEqual([]);
    expect(mem.used).toBe(0);
    expect(m.kernel.frames.freeCount).toBe(framesAtStart);
    expect(m.faults).toEqual([]);
  });

  it("refuses bad input, missing rights and an exhausted quota; the loader's reason can be read", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const s = new Script();
    const ids = {
      garbage: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [64], caps: [4] }),
      garbageWhy: s.invoke(2, Op.MEMORY_LOAD_ERROR),
      truncated: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length - 100], caps: [3] }),
      truncatedWhy: s.invoke(6, Op.MEMORY_LOAD_ERROR),
      zero: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [0], caps: [3] }),
      pastRegion: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [Math.ceil(echo.length / PAGE_SIZE) * PAGE_SIZE + 1], caps: [3] }),
      longName: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length, ...nameWords("n".repeat(40))], caps: [3] }),
      badName: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length, 0xfffefdfc], caps: [3] }),
      noRegion: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length] }),
      notRegion: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [2] }),
      badCap: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [77] }),
      quota: s.invoke(5, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] }),
      noRight: s.invoke(6, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] }),
      good: s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] }),
      cleared: s.invoke(2, Op.MEMORY_LOAD_ERROR),
    };
    s.end();
    const mem = m.kernel.memoryObject(2000);
    const p = m.spawn(s, {
      caps: [
        m.kernel.capability(mem, ALL),
        m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ),
        m.kernel.capability(m.kernel.regionObject(new Uint8Array(64).fill(7)), Rights.REGION_READ),
        m.kernel.capability(m.kernel.memoryObject(0), ALL),
        m.kernel.capability(mem, Rights.MEMORY_INFO),
      ],
    });
    await runAll(m);
    const log = m.log();
    const I = Status.E_INVALID_ARGUMENT;
    const statuses = Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, log.status(p, id)]));
    expect(statuses).toEqual({
      garbage: I, garbageWhy: 0, truncated: I, truncatedWhy: 0, zero: I, pastRegion: I, longName: I, badName: I,
      noRegion: Status.E_INVALID_CAP, notRegion: Status.E_WRONG_TYPE, badCap: Status.E_INVALID_CAP, quota: Status.E_QUOTA,
      noRight: Status.E_MISSING_RIGHT, good: 0, cleared: 0,
    });
    expect(errorText(log.answer(p, ids.garbageWhy).words)).toMatch(/^image: header: not a WebAssembly binary/);
    expect(errorText(log.answer(p, ids.truncatedWhy).words)).toMatch(/^image: offset \d+: /);
    expect(log.answer(p, ids.cleared).words).toEqual([0]);
    expect(m.faults).toEqual([]);
  });

  it("lets every other process run while the caller waits for the loader", async () => {
    // The loader finishes only once the other process has ended: were the machine stopped while
    // it loads, this would never finish.
    let bystanderEnded: Promise<unknown> = Promise.resolve();
    const m = await scriptMachine({
      kernel: { imageLoader: { load: async (bytes, name) => (await bystanderEnded, m.loader.load(bytes, name)) } },
    });
    const echo = program("echo");
    const loading = new Script();
    const created = loading.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] });
    loading.end();
    const other = new Script();
    for (let i = 0; i < 5; i++) other.yield();
    const ran = other.logValue(42);
    other.end();
    const caller = m.spawn(loading, { caps: [m.kernel.capability(m.kernel.memoryObject(2000), ALL), m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ)] });
    const bystander = m.spawn(other);
    bystanderEnded = bystander.wait();
    await runAll(m);
    expect(m.log().one(bystander, ran)).toEqual([42]);
    expect(m.log().status(caller, created)).toBe(0);
  });

  it("drops the Image of a caller killed while its binary loads, and everyone else runs on", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const framesAtStart = m.kernel.frames.freeCount;
    const mem = m.kernel.memoryObject(2000);
    const loading = new Script();
    loading.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] });
    loading.end();
    const other = new Script();
    const ran = other.logValue(42);
    other.end();
    const load = m.kernel.loadImage.bind(m.kernel);
    m.kernel.loadImage = (bytes, name, settled) => {
      load(bytes, name, settled);
      expect(m.kernel.kill(victim.pid)).toBe(0);
    };
    const victim = m.spawn(loading, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ)] });
    const bystander = m.spawn(other);
    await runAll(m);
    expect(victim.outcome).toEqual({ kind: "exited", code: 137 });
    expect(m.log().one(bystander, ran)).toEqual([42]);
    expect(mem.used).toBe(0);
    expect(m.kernel.frames.freeCount).toBe(framesAtStart);
  });

  it("leaves nothing with the loader when the caller of a load is killed before it ends (redteam6)", async () => {
    // The loader keeps a loaded image (its compiled module: tens of MB for a big binary) until the
    // kernel says nothing holds it, which the image store says once its last Image goes; a load
    // whose caller was gone made no Image, so nothing ever said it, and a parent that killed a child
    // mid-load, a distinct binary each time, had the host keep every one, charged to nobody.
    const m = await scriptMachine();
    const echo = program("echo");
    const mem = m.kernel.memoryObject(2000);
    const loading = new Script();
    loading.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] });
    loading.end();
    const load = m.kernel.loadImage.bind(m.kernel);
    let loadSettled: (hash: string) => void = () => undefined;
    const settledOnce = new Promise<string>((resolve) => (loadSettled = resolve));
    m.kernel.loadImage = (bytes, name, settled) => {
      load(bytes, name, (outcome) => {
        settled(outcome);
        loadSettled(outcome instanceof Error ? "" : outcome.hash);
      });
      m.kernel.kill(victim.pid);
    };
    const victim = m.spawn(loading, { caps: [m.kernel.capability(mem, ALL), m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ)] });
    await runAll(m);
    const hash = await settledOnce;
    expect(victim.outcome).toEqual({ kind: "exited", code: 137 });
    expect(hash).not.toBe("");
    expect(m.loader.holds(hash)).toBe(false);
  });

  it("survives random bytes and truncated modules (fuzz), then still loads a good one", async () => {
    const m = await scriptMachine();
    const echo = program("echo");
    const random = prng(5);
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) inputs.push(Uint8Array.from({ length: 1 + Math.floor(random() * 3000) }, () => Math.floor(random() * 256)));
    for (let i = 0; i < 12; i++) {
      const bytes = Uint8Array.from({ length: 8 + Math.floor(random() * 500) }, () => Math.floor(random() * 256));
      bytes.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
      inputs.push(bytes);
    }
    for (let i = 0; i < 16; i++) inputs.push(echo.slice(0, 1 + Math.floor(random() * (echo.length - 1))));
    const s = new Script();
    const attempts = inputs.map((bytes, i) => [s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [bytes.length], caps: [4 + i] }), s.invoke(2, Op.MEMORY_LOAD_ERROR)] as const);
    const good = s.invoke(2, Op.MEMORY_CREATE_IMAGE, { words: [echo.length], caps: [3] });
    s.end();
    const mem = m.kernel.memoryObject(4000);
    const p = m.spawn(s, {
      caps: [
        m.kernel.capability(mem, ALL),
        m.kernel.capability(m.kernel.regionObject(echo), Rights.REGION_READ),
        ...inputs.map((bytes) => m.kernel.capability(m.kernel.regionObject(bytes), Rights.REGION_READ)),
      ],
    });
    await runAll(m);
    const log = m.log();
    for (const [i, [attempt, why]] of attempts.entries()) {
      expect(log.status(p, attempt), `input ${i}`).toBe(Status.E_INVALID_ARGUMENT);
      expect(errorText(log.answer(p, why).words).length, `input ${i}`).toBeGreaterThan(10);
    }
    expect(log.status(p, good)).toBe(0);
    expect(mem.used).toBe(0);
    expect(m.faults).toEqual([]);
  });
});
