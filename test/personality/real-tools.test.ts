import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dogmaRun, scratchFolder } from "./wasi-programs.ts";

/**
 * Real tools nobody here built, as their authors ship them on npm (devDependencies), run with
 * `dogma run` as a person would: YoWASP's clang 22 (a 75 MB WASI binary) compiles and links a C
 * program that then runs on Dogma, yosys (31 MB) proves one circuit right and finds the planted
 * bug in another, and esbuild (20 MB, a Go program) bundles a script. Big C++ programs: huge
 * functions, deep recursion, thousands of files; Go's runtime: its own stack in linear memory,
 * every function a resumable loop, goroutines.
 */
const require = createRequire(import.meta.url);
// The packages export only their JavaScript bundle (gen/bundle.js); the binaries sit beside it.
const clangDir = dirname(require.resolve("@yowasp/clang"));
const yosys = join(dirname(require.resolve("@yowasp/yosys")), "yosys.core.wasm");
const esbuild = join(dirname(require.resolve("@esbuild/wasi-preview1/package.json")), "esbuild.wasm");

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent("real tools from npm under dogma run", () => {
  it("clang compiles and wasm-ld links a C program, which then runs on Dogma", async () => {
    const work = scratchFolder("clang");
    made.push(work);
    // The headers, libc and compiler-rt clang's package ships, as a sysroot folder given read-only.
    const sysroot = join(work, "sysroot");
    execFileSync("mkdir", ["-p", sysroot]);
    execFileSync("tar", ["-xf", join(clangDir, "llvm-resources.tar"), "-C", sysroot]);
    writeFileSync(join(work, "hello.c"), '#include <stdio.h>\nint main(int argc, char **argv) { printf("built by clang on dogma: %s, %d args\\n", argv[1], argc); return 3; }\n');
    const tool = (args: string[]) => dogmaRun(["--memory", "1G", "--dir", `${work}::.`, "--dir", `${sysroot}::/sysroot:ro`, join(clangDir, "llvm.core.wasm"), ...args]);
    const compiled = await tool(["clang", "--target=wasm32-wasip1", "--sysroot=/sysroot", "-resource-dir=/sysroot", "-O2", "-c", "hello.c", "-o", "hello.o"]);
    expect(compiled).toEqual({ code: 0, stdout: "", stderr: "" });
    const linked = await tool(["wasm-ld", "-o", "hello.wasm", "/sysroot/lib/wasm32-wasip1/crt1-command.o", "hello.o", "-L/sysroot/lib/wasm32-wasip1", "-lc", "/sysroot/lib/wasm32-unknown-wasip1/libclang_rt.builtins.a"]);
    expect(linked).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(join(work, "hello.wasm")).subarray(0, 4)).toEqual(Buffer.from("\0asm"));
    const run = await dogmaRun([join(work, "hello.wasm"), "yes", "two"]);
    expect(run).toEqual({ code: 3, stdout: "built by clang on dogma: yes, 3 args\n", stderr: "" });
    // What clang says of a program with an error reaches the terminal, with the file and line.
    writeFileSync(join(work, "broken.c"), "int main(void) { return nothing; }\n");
    const refused = await tool(["clang", "--target=wasm32-wasip1", "--sysroot=/sysroot", "-resource-dir=/sysroot", "-c", "broken.c", "-o", "broken.o"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("broken.c:1:25: error: use of undeclared identifier 'nothing'");
  });

  it("yosys proves a multiplier commutes, and finds the one input where a planted bug shows", async () => {
    const work = scratchFolder("yosys");
    made.push(work);
    writeFileSync(join(work, "mul.v"), "module mul(input [7:0] a, input [7:0] b, output [15:0] x, output [15:0] y);\n  assign x = a * b;\n  assign y = b * a;\nendmodule\n");
    writeFileSync(join(work, "bad.v"), "module bad(input [5:0] a, input [5:0] b, output [11:0] x, output [11:0] y);\n  assign x = a * b;\n  assign y = a * b + (a == 6'd37 && b == 6'd11);\nendmodule\n");
    const prove = (file: string) => dogmaRun(["--memory", "512M", "--dir", `${work}::.`, yosys, "-p", `read_verilog ${file}; proc; opt; sat -prove x y -show a,b`]);
    const [good, bad] = await Promise.all([prove("mul.v"), prove("bad.v")]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("SAT proof finished - no model found: SUCCESS!");
    expect(bad.code).toBe(0);
    expect(bad.stdout).toContain("SAT proof finished - model found: FAIL!");
    expect(bad.stdout).toMatch(/\\a\s+37\s+25\s+100101\n\s+\\b\s+11\s+b\s+001011/);
  });

  it("esbuild, a Go program, bundles and minifies a script of two files, which then runs", async () => {
    const work = scratchFolder("esbuild");
    made.push(work);
    writeFileSync(join(work, "main.js"), 'import { greet } from "./lib.js";\nconsole.log(greet("dogma"));\n');
    writeFileSync(join(work, "lib.js"), 'export function greet(name) {\n  const message = "bundled by esbuild on " + name;\n  return message;\n}\n');
    // Go's wasip1 port resolves every path from "/" (its working directory is $PWD): the folder is given as the root.
    const bundler = (args: string[]) => dogmaRun(["--memory", "512M", "--dir", `${work}::/`, "--env", "PWD=/", esbuild, "/main.js", "--bundle", "--outfile=/out.js", ...args]);
    const built = await bundler(["--minify", "--log-level=warning"]);
    expect(built).toEqual({ code: 0, stdout: "", stderr: "" });
    const bundle = readFileSync(join(work, "out.js"), "utf8");
    expect(bundle).not.toContain("import");
    expect(execFileSync(process.execPath, [join(work, "out.js")], { encoding: "utf8" })).toBe("bundled by esbuild on dogma\n");
    // A syntax error is reported with its file, line and column.
    writeFileSync(join(work, "lib.js"), "export function greet(name) { return name +; }\n");
    const refused = await bundler(["--log-level=error"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Unexpected ";"');
    expect(refused.stderr).toContain("lib.js:1:43:");
  });
});
