/**
 * PROCESS_SET_ARGS: a created process gets its arguments and environment from the words of the
 * message or from a Region, before it starts; malformed blocks, a started process and a missing
 * right are refused and leave it as it was.
 */
import { describe, expect, it } from "vitest";
import { Op, Rights } from "../../src/kernel/caps/object-abi.ts";
import { PAGE_SIZE } from "../../src/kernel/constants.ts";
import { Status } from "../../src/kernel/errors.ts";
import type { Process } from "../../src/kernel/process.ts";
import { ALL, Script, type ScriptMachine, runAll, scriptMachine } from "./script.ts";

/** The words of a block: length, argc, then the bytes four to a word, little-endian. */
function block(strings: string[], argc = strings.length, bytes?: Uint8Array): number[] {
  const data = bytes ?? new TextEncoder().encode(strings.map((s) => s + "\0").join(""));
  const words = [data.length, argc];
  for (let i = 0; i < data.length; i += 4) words.push(data[i]! | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24) >>> 0);
  return words;
}

/** Runs the machine and answers the processes MEMORY_CREATE_PROCESS made (they are gone by then). */
async function runKeepingChildren(m: ScriptMachine): Promise<Process[]> {
  const children: Process[] = [];
  const create = m.kernel.createProcess.bind(m.kernel);
  m.kernel.createProcess = (...a) => {
    const made = create(...a);
    if (typeof made !== "number") children.push(made);
    return made;
  };
  await runAll(m);
  return children;
}

async function setup() {
  const m = await scriptMachine();
  const image = m.kernel.imageObject(await m.childImage(new Script().end(0)));
  const mem = m.kernel.memoryObject(400);
  return { m, caps: [m.kernel.capability(mem, ALL), m.kernel.capability(image, Rights.IMAGE_SPAWN)] };
}

describe("PROCESS_SET_ARGS", () => {
  it("gives a created process the arguments and environment packed in the message, or in a Region", async () => {
    const { m, caps } = await setup();
    const region = m.kernel.regionObject(new TextEncoder().encode("tool\0--long\0x".padEnd(PAGE_SIZE + 10, "y") + "\0HOME=/\0"));
    const s = new Script();
    const a = s.reg();
    const b = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
    s.loadCap(a);
    s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
    s.loadCap(b);
    const inWords = s.invoke(a, Op.PROCESS_SET_ARGS, { words: block(["echo", "hello", "wörld", "", "TERM=dumb"], 4) });
    const fromRegion = s.invoke(b, Op.PROCESS_SET_ARGS, { words: [PAGE_SIZE + 18, 3], caps: [4] });
    s.end();
    const p = m.spawn(s, { caps: [...caps, m.kernel.capability(region, Rights.REGION_READ)] });
    const [first, second] = await runKeepingChildren(m);
    expect(m.log().status(p, inWords)).toBe(0);
    expect(m.log().status(p, fromRegion)).toBe(0);
    expect(first!.args).toEqual(["echo", "hello", "wörld", ""]);
    expect(first!.env).toEqual(["TERM=dumb"]);
    expect(second!.args).toEqual(["tool", "--long", "x".padEnd(PAGE_SIZE + 10 - 12, "y")]);
    expect(second!.env).toEqual(["HOME=/"]);
  });

  it("refuses malformed blocks, a started process and a capability without PROCESS_CONTROL, changing nothing", async () => {
    const { m, caps } = await setup();
    const small = m.kernel.regionObject(new Uint8Array(16).fill(65));
    const s = new Script();
    const c = s.reg();
    const ro = s.reg();
    s.invoke(2, Op.MEMORY_CREATE_PROCESS, { caps: [3] });
    s.loadCap(c);
    s.invoke(c, Op.CAP_COPY, { words: [Rights.PROCESS_INFO] });
    s.loadCap(ro);
    const ids = {
      noWords: s.invoke(c, Op.PROCESS_SET_ARGS),
      zeroLength: s.invoke(c, Op.PROCESS_SET_ARGS, { words: [0, 1] }),
      zeroArgc: s.invoke(c, Op.PROCESS_SET_ARGS, { words: block(["a"], 0) }),
      tooManyArgc: s.invoke(c, Op.PROCESS_SET_ARGS, { words: block(["a", "b"], 3) }),
      pastWords: s.invoke(c, Op.PROCESS_SET_ARGS, { words: [40, 1, 0x41] }),
      noNul: s.invoke(c, Op.PROCESS_SET_ARGS, { words: block([], 1, new Uint8Array([0x61, 0x62])) }),
      badUtf8: s.invoke(c, Op.PROCESS_SET_ARGS, { words: block([], 1, new Uint8Array([0xff, 0xfe, 0])) }),
      huge: s.invoke(c, Op.PROCESS_SET_ARGS, { words: [65537, 1], caps: [4] }),
      pastRegion: s.invoke(c, Op.PROCESS_SET_ARGS, { words: [PAGE_SIZE + 1, 1], caps: [4] }),
      regionNoNul: s.invoke(c, Op.PROCESS_SET_ARGS, { words: [16, 1], caps: [4] }),
      notRegion: s.invoke(c, Op.PROCESS_SET_ARGS, { words: [4, 1], caps: [2] }),
      badCap: s.invoke(c, Op.PROCESS_SET_ARGS, { words: [4, 1], caps: [99] }),
      noRight: s.invoke(ro, Op.PROCESS_SET_ARGS, { words: block(["x"]) }),
      start: s.invoke(c, Op.PROCESS_START),
      started: s.invoke(c, Op.PROCESS_SET_ARGS, { words: block(["late"]) }),
      onSelf: s.invoke(1, Op.PROCESS_SET_ARGS, { words: block(["me"]) }),
    };
    s.end();
    const p = m.spawn(s, { caps: [...caps, m.kernel.capability(small, Rights.REGION_READ)] });
    const [child] = await runKeepingChildren(m);
    expect(child!.args).toEqual(["child"]);
    expect(child!.env).toEqual([]);
    const log = m.log();
    const I = Status.E_INVALID_ARGUMENT;
    expect(Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, log.status(p, id)]))).toEqual({
      noWords: I, zeroLength: I, zeroArgc: I, tooManyArgc: I, pastWords: I, noNul: I, badUtf8: I, huge: I, pastRegion: I, regionNoNul: I,
      notRegion: Status.E_WRONG_TYPE, badCap: Status.E_INVALID_CAP, noRight: Status.E_MISSING_RIGHT, start: 0, started: Status.E_NOT_READY,
      onSelf: Status.E_MISSING_RIGHT,
    });
  });
});
