import { describe, expect, it } from "vitest";
import { scratchFolders } from "./scratch-folders.ts";
import { cProgram, dogmaRun } from "./wasi-programs.ts";

/**
 * Reading ahead of small sequential reads on a host folder (docs/HOSTFS.md "Reading ahead",
 * src/personality/wasi/read-ahead.ts): what a program's fd read ahead is never read around a
 * change made through the host folder server — here through the program's other fd, which the
 * server sees as it sees another process's handle: writes (inline and attached), a cut, an open
 * with O_TRUNC, each seen by the next read (user/wasi/c/read-ahead.c).
 */
const folder = scratchFolders();

describe("reading ahead on a host folder", () => {
  it("sees every change made through the server between two reads of what it read ahead", async () => {
    const run = await dogmaRun(["--dir", `${folder("read-ahead")}::.`, cProgram("read-ahead")]);
    expect(run.stdout).toBe("read-ahead: ok\n");
    expect(run.code).toBe(0);
  });
});
