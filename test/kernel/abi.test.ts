import { describe, expect, it } from "vitest";
import { Status } from "../../src/kernel/errors.ts";
import { program } from "../helpers/programs.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

describe("the dogma ABI", () => {
  it("answers every call as docs/ABI.md says", async () => {
    const t = testMachine();
    t.kernel.spawn(await t.loader.load(program("syscalls"), "syscalls"));
    await t.kernel.run();
    expect(t.stdout().split("\n")).toEqual([
      "getpid 1",
      "getppid 0",
      "clock monotonic ok",
      "clock wall ok",
      "clock 7 E_INVALID_ARGUMENT",
      "random OK",
      "invoke E_INVALID_CAP",
      "invoke short E_BAD_MESSAGE",
      "invoke page-0 E_BAD_ADDRESS",
      "yield ok",
      "yield_to none E_NO_PROCESS",
      "sleep ok",
      `image high ${program("syscalls").length}`,
      "arg_count 1",
      "",
    ]);
  });

  // Random capability indices, lengths, pointers and message headers: every call must come back
  // with a status from the table, and the kernel must go on running other processes.
  it("survives random invoke arguments", async () => {
    const t = testMachine();
    const image = await t.loader.load(
      wat(`(module
        (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
        (memory 2)
        (func (export "call") (param $cap i32) (param $ptr i32) (param $len i32) (param $label i32) (param $words i32) (param $caps i32) (result i32)
          (i32.store (i32.const 8192) (local.get $label))
          (i32.store (i32.const 8196) (local.get $words))
          (i32.store (i32.const 8200) (local.get $caps))
          (call $invoke (local.get $cap) (local.get $ptr) (local.get $len))))`),
      "invoker",
    );
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return seed;
    };
    const pick = <T>(choices: T[]): T => choices[Math.abs(random()) % choices.length]!;
    const codes = new Set<number>(Object.values(Status));
    const runs = [];
    for (let i = 0; i < 300; i++) {
      const args = [
        pick([0, 1, -1, 0x7fffffff, random()]),
        pick([8192, 0, 4095, 2 * 65536 - 4, 0x8000_0000, random()]),
        pick([0, 12, 16, 284, 288, -4, random()]),
        random(),
        pick([0, 1, 64, 65, random()]),
        pick([0, 4, 5, random()]),
      ];
      const process = t.kernel.spawn(image, { entry: "call", entryArgs: args, mapImage: false });
      runs.push(process);
    }
    await t.kernel.run();
    for (const process of runs) {
      expect(process.outcome).toEqual({ kind: "exited", code: 0 });
      const status = process.returnValue as number;
      expect(codes.has(status), `status ${status}`).toBe(true);
      expect(status).not.toBe(Status.OK);
    }
    t.kernel.spawn(await t.loader.load(program("hello"), "hello"));
    await t.kernel.run();
    expect(t.stdout()).toContain("hello from dogma");
  });

  it("checks the message before the capability", async () => {
    const t = testMachine();
    const image = await t.loader.load(
      wat(`(module
        (import "dogma" "invoke" (func $invoke (param i32 i32 i32) (result i32)))
        (memory 1)
        (func (export "call") (param $len i32) (param $words i32) (result i32)
          (i32.store (i32.const 8196) (local.get $words))
          (call $invoke (i32.const 0) (i32.const 8192) (local.get $len))))`),
      "invoker",
    );
    // [buffer capacity, data words in the header, status]: the header is 5 words, the buffer at
    // most 292 bytes, and the message must fit the buffer.
    const cases: Array<[number, number, number]> = [
      [20, 0, Status.E_INVALID_CAP],
      [24, 1, Status.E_INVALID_CAP],
      [20 + 4 * 64, 64, Status.E_INVALID_CAP],
      [292, 64, Status.E_INVALID_CAP],
      [292, 65, Status.E_BAD_MESSAGE],
      [296, 0, Status.E_BAD_MESSAGE],
      [20, 1, Status.E_BAD_MESSAGE],
      [21, 0, Status.E_BAD_MESSAGE],
      [12, 0, Status.E_BAD_MESSAGE],
    ];
    const processes = cases.map(([len, words]) => t.kernel.spawn(image, { entry: "call", entryArgs: [len, words], mapImage: false }));
    await t.kernel.run();
    processes.forEach((process, i) => expect(process.returnValue, `case ${i}`).toBe(cases[i]![2]));
  });
});
