import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cxxProgram, dogmaRun, nodeWasiRun, scratchFolder } from "./wasi-programs.ts";

/**
 * A C++ program built from source the way its users build one (Debian's clang++ and WASI libc++,
 * -O2): iostreams with their locale, hash maps, sorting with lambdas, virtual calls,
 * std::function, <random>, file streams and a global constructor run before main. Under
 * `dogma run` it prints what it prints under node:wasi, writes the same file, and says the same
 * when its input is missing.
 */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function folder(prefix: string): string {
  const dir = scratchFolder(prefix);
  made.push(dir);
  return dir;
}

describe("a C++ program (libc++) under dogma run", () => {
  it("prints and writes what it does under node:wasi, on its own text and on a file", async () => {
    const wasm = cxxProgram("words");
    const [ours, theirs] = [folder("cxx-dogma"), folder("cxx-node")];
    const input = "the cat and the hat and the bat\nsat on the mat\n";
    for (const dir of [ours, theirs]) writeFileSync(join(dir, "input.txt"), input);
    for (const args of [[], ["input.txt"]]) {
      const reference = await nodeWasiRun(wasm, theirs, args, {});
      expect(reference.code, reference.stderr).toBe(0);
      const run = await dogmaRun(["--dir", `${ours}::.`, wasm, ...args]);
      expect(run).toEqual(reference);
      expect(run.stdout).toMatch(/^constructed before main\n/);
      expect(readFileSync(join(ours, "words-out.txt"), "utf8")).toBe(readFileSync(join(theirs, "words-out.txt"), "utf8"));
    }
    expect((await dogmaRun(["--dir", `${ours}::.`, wasm, "input.txt"])).stdout).toContain("the 4\nand 2\n");
  });

  it("says what node:wasi says when its file is missing", async () => {
    const wasm = cxxProgram("words");
    const [ours, theirs] = [folder("cxx-dogma"), folder("cxx-node")];
    const reference = await nodeWasiRun(wasm, theirs, ["nosuch.txt"], {});
    expect(reference).toMatchObject({ code: 2, stderr: "words: cannot open nosuch.txt\n" });
    expect(await dogmaRun(["--dir", `${ours}::.`, wasm, "nosuch.txt"])).toEqual(reference);
  });
});
