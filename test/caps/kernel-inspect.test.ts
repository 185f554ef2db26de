/**
 * The KERNEL_INSPECT operations behind ps, caps, mem and uptime: each answers a bounded page of a
 * kernel table, only through a Kernel capability with that right.
 */
import { describe, expect, it } from "vitest";
import { ObjectKind, Op, Rights, SELF_RIGHTS } from "../../src/kernel/caps/object-abi.ts";
import { Status } from "../../src/kernel/errors.ts";
import { ALL, Script, State, runAll, scriptMachine } from "./script.ts";

/** The name in a KERNEL_PROCESS answer. */
function nameOf(words: number[]): string {
  return new TextDecoder().decode(new Uint8Array(new Uint32Array(words.slice(9)).buffer).subarray(0, words[8]));
}

describe("KERNEL_INSPECT", () => {
  it("lists processes, a process's capabilities, frames, Memories and the uptime", async () => {
    const m = await scriptMachine();
    const policy = m.kernel.policyObject();
    const mem = m.kernel.memoryObject(300);
    const s = new Script();
    const child = s.reg();
    const ids = {
      first: s.invoke(2, Op.KERNEL_PROCESS, { words: [0] }),
      none: s.invoke(2, Op.KERNEL_PROCESS, { words: [1000] }),
      caps: s.invoke(2, Op.KERNEL_CAPS, { words: [1, 0] }),
      capsFrom3: s.invoke(2, Op.KERNEL_CAPS, { words: [1, 3] }),
      capsNone: s.invoke(2, Op.KERNEL_CAPS, { words: [99, 0] }),
      frames: s.invoke(2, Op.KERNEL_FRAMES),
      root: s.invoke(2, Op.KERNEL_MEMORY, { words: [0] }),
      next: s.invoke(2, Op.KERNEL_MEMORY, { words: [2] }),
      past: s.invoke(2, Op.KERNEL_MEMORY, { words: [1000] }),
      uptime: s.invoke(2, Op.KERNEL_UPTIME),
      info: s.invoke(4, Op.KERNEL_INFO),
      noRight: s.invoke(4, Op.KERNEL_PROCESS, { words: [0] }),
      noRightFrames: s.invoke(4, Op.KERNEL_FRAMES),
    };
    // Enough capabilities that KERNEL_CAPS answers in two pages.
    for (let i = 0; i < 16; i++) s.invoke(3, Op.CAP_COPY, { words: [Rights.MEMORY_INFO] });
    const paged = s.invoke(2, Op.KERNEL_CAPS, { words: [1, 0] });
    s.end();
    const p = m.spawn(s, { caps: [m.kernel.capability(policy, Rights.KERNEL_INSPECT), m.kernel.capability(mem, ALL, 7), m.kernel.capability(policy, 0)], name: "inspector" });
    void child;
    await runAll(m);
    const log = m.log();
    const first = log.answer(p, ids.first).words;
    expect(first.slice(0, 8)).toEqual([p.pid, 0, State.running, 4, first[4], first[5], 1, 0]);
    expect(nameOf(first)).toBe("vm");
    expect(log.status(p, ids.none)).toBe(Status.E_NO_PROCESS);
    expect(log.answer(p, ids.caps).words).toEqual([0, 1, ObjectKind.PROCESS, SELF_RIGHTS, 0, 2, ObjectKind.KERNEL, Rights.KERNEL_INSPECT, 0, 3, ObjectKind.MEMORY, ALL, 7, 4, ObjectKind.KERNEL, 0, 0]);
    expect(log.answer(p, ids.capsFrom3).words).toEqual([0, 3, ObjectKind.MEMORY, ALL, 7, 4, ObjectKind.KERNEL, 0, 0]);
    expect(log.status(p, ids.capsNone)).toBe(Status.E_NO_PROCESS);
    const [frames, free, kernel, objects, processes] = log.answer(p, ids.frames).words;
    expect(frames).toBe(m.kernel.frames.frameCount);
    expect(kernel! + objects! + processes! + free!).toBe(frames);
    expect(kernel).toBeGreaterThan(0);
    expect(processes).toBeGreaterThan(0);
    expect(log.answer(p, ids.root).words).toEqual([1, 0, m.kernel.rootMemory.quota, log.answer(p, ids.root).words[3], 1]);
    expect(log.answer(p, ids.next).words).toEqual([mem.id, 1, 300, 0, 0]);
    expect(log.answer(p, ids.past).words).toEqual([]);
    const [low, high] = log.answer(p, ids.uptime).words;
    expect(high! * 2 ** 32 + low!).toBeGreaterThan(0);
    expect(log.status(p, ids.info)).toBe(0);
    expect(log.status(p, ids.noRight)).toBe(Status.E_MISSING_RIGHT);
    expect(log.status(p, ids.noRightFrames)).toBe(Status.E_MISSING_RIGHT);
    const page = log.answer(p, paged).words;
    expect(page.length).toBe(1 + 15 * 4);
    expect(page[0]).toBe(page[page.length - 4]! + 1);
  });
});
