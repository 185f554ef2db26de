import { describe, expect, it } from "vitest";
import { bootMachine } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

describe("the pipe service", () => {
  it("moves bytes in order, ends input when the writer closes, breaks when the reader closes, refuses what is malformed and frees what is closed", async () => {
    const m = await bootMachine(
      `service registry registry
service pipe     pipe       memory=64
service check    pipe-check memory=64
`,
      ["registry", "pipe", "pipe-check"],
    );
    await m.line("pipe-check: done");
    expect(m.lines().filter((l) => l.startsWith("pipe-check: "))).toEqual([
      "pipe-check: write 10 bytes: 10",
      "pipe-check: read at most 4: 4",
      "pipe-check: read the rest: 6",
      "pipe-check: the bytes came out in order: yes",
      "pipe-check: close the write end: 0",
      "pipe-check: read after the write end closed: 0",
      "pipe-check: write after closing it: E_INVALID_CAP",
      "pipe-check: close the read end: 0",
      "pipe-check: read from a freed pipe: E_INVALID_CAP",
      "pipe-check: info on a freed pipe: E_INVALID_CAP",
      "pipe-check: close a freed pipe: E_INVALID_CAP",
      "pipe-check: create on a freed pipe's end: E_INVALID_CAP",
      "pipe-check: close the read end first: 0",
      "pipe-check: write to a broken pipe: E_PEER_DEAD",
      "pipe-check: read of 0 bytes: E_INVALID_ARGUMENT",
      "pipe-check: read of 253 bytes: E_INVALID_ARGUMENT",
      "pipe-check: write longer than its words: E_BAD_MESSAGE",
      "pipe-check: read on the write end: E_INVALID_ARGUMENT",
      "pipe-check: write on the read end: E_INVALID_ARGUMENT",
      "pipe-check: create on a pipe end: E_INVALID_ARGUMENT",
      "pipe-check: info on the write end: 0",
      "pipe-check: label 9 on the service: E_CONTRACT",
      "pipe-check: made 62 more pipes, then: E_QUOTA",
      "pipe-check: a pipe after they were freed: 0",
      "pipe-check: done",
    ]);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(60_000));
});
