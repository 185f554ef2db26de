import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scratchFolders } from "./scratch-folders.ts";
import { cProgram, dogmaRun } from "./wasi-programs.ts";

/**
 * The host folder server's attached handles (docs/FS.md "Attached handles", docs/HOSTFS.md "Host
 * folders"): what `dogma run --dir` gives a WASI program's file reads and writes, so that a call
 * moves no Region. The protocol from a client's side (user/services/folderfs-check.ts), and a
 * WASI program with more files open than the server attaches, whose bytes all come back.
 */
const folder = scratchFolders();

describe.concurrent("the host folder server's attached handles", () => {
  it("attaches, reads and writes through the buffers, outlives the plain handle, bounds what it keeps", async () => {
    const run = await dogmaRun(["--dir", `${folder("folder-attach")}::.`, join(import.meta.dirname, "../../build/user/folderfs-check.wasm")]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("folderfs-check: all passed");
    expect(run.code).toBe(0);
  });

  it("gives every byte back to a WASI program with 20 files open, attached or not (16 are), in 4 KiB and 300,000-byte calls", async () => {
    const dir = folder("folder-many");
    const small = await dogmaRun(["--dir", `${dir}::.`, cProgram("many-files"), "20", "4096", "65536"]);
    expect(small.stdout).toBe("many-files: ok 20\n");
    expect(small.code).toBe(0);
    expect(readFileSync(join(dir, "f19")).length).toBe(65536);
    const large = await dogmaRun(["--dir", `${dir}::.`, cProgram("many-files"), "3", "300000", "1200000"]);
    expect(large.stdout).toBe("many-files: ok 3\n");
    expect(large.code).toBe(0);
  });
});
