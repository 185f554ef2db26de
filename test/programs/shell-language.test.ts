import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { bootShell } from "../helpers/booted-machine.ts";
import { cProgram, scratchFolder } from "../personality/wasi-programs.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const PROGRAMS = ["echo", "cat", "exitcode", "mkdir", "cp", "wc", "ls", "head"];
const CONFIG = `service registry registry
driver  console  console  device=console interrupt=console memory=64
driver  block    block    device=block interrupt=block memory=512
service fs       fs       memory=2048 publish=fs
driver  host     hostfs   device=share interrupt=share memory=1024 publish=host
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=32768 bootinfo use=fs use=host session
${PROGRAMS.map((p) => `module ${p}`).join("\n")}
`;
const MODULES = ["registry", "console", "block", "fs", "hostfs", "pipe", "procman", "shell", ...PROGRAMS];

/** `wasm` with a custom section of `bytes` zeros at its end: a valid binary of any size whose program is small. */
function padded(wasm: Uint8Array, bytes: number): Uint8Array {
  const name = new TextEncoder().encode("pad");
  const size = 1 + name.length + bytes;
  const leb: number[] = [];
  for (let v = size; ; ) {
    const byte = v & 0x7f;
    v >>>= 7;
    if (v === 0) {
      leb.push(byte);
      break;
    }
    leb.push(byte | 0x80);
  }
  const out = new Uint8Array(wasm.length + 1 + leb.length + size);
  out.set(wasm);
  let at = wasm.length;
  out[at++] = 0; // a custom section
  out.set(leb, at);
  at += leb.length;
  out[at++] = name.length;
  out.set(name, at);
  return out;
}

/** The host folder the sessions share, made once: they only read it (49 MB written, and a 257 MiB sparse file). */
let shared: string | null = null;
function hostFolder(): string {
  if (shared) return shared;
  const share = scratchFolder("shell-language");
  made.push(share);
  copyFileSync(cProgram("show-env"), join(share, "show-env"));
  copyFileSync(cProgram("big"), join(share, "big.wasm"));
  writeFileSync(join(share, "huge.wasm"), new Uint8Array(17 << 20));
  writeFileSync(join(share, "padded.wasm"), padded(readFileSync(cProgram("hello")), 20 << 20));
  writeFileSync(join(share, "mid.wasm"), padded(readFileSync(cProgram("hello")), 12 << 20));
  writeFileSync(join(share, "too-big.wasm"), "");
  mkdirSync(join(share, "\x1b[2Jclear")); // a name that would drive the terminal
  truncateSync(join(share, "too-big.wasm"), 257 << 20);
  return (shared = share);
}

async function session(memory = 128 << 20) {
  const folder = await FolderShare.open(hostFolder());
  // As `dogma boot`'s default: a 20 MiB binary's load is charged 43 MiB (docs/MEMORY.md "What a process costs").
  const m = await bootShell(CONFIG, folder, { modules: MODULES, memory });
  /** Types `line` and Enter; what the console showed after it up to the next prompt, and what went to errors. */
  const run = async (line: string) => {
    const before = m.stdout().length;
    const errors = m.stderr().length;
    m.type(line + "\r");
    await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:[^\n]*\$ $/.test(m.stdout().slice(before + line.length)));
    return { out: m.stdout().slice(before + line.length + 1), err: m.stderr().slice(errors) };
  };
  return { m, run };
}

describe("the shell's language", () => {
  it("sets, exports, expands and unsets variables; gives programs their environment and working directory", async () => {
    const { m, run } = await session();
    expect((await run(`A=1; echo $A \${A}x "$A and $A" '$A' \\$A $NOPE.`)).out).toMatch(/^1 1x 1 and 1 \$A \$A \.\n/);
    expect((await run("env")).out).toMatch(/^HOME=\/\nPATH=\/bin\nPWD=\/\nSHELL=shell\ndogma/);
    expect((await run("export B=two; export A; env")).out).toMatch(/^A=1\nB=two\nHOME=\/\n/);
    expect((await run("export")).out).toContain("export B=two\n");
    // A program gets the exported variables and its own NAME=value words, not the others.
    const own = (await run("LOCAL=mine NOT_EXPORTED=x /host/show-env one")).out;
    expect(own).toContain("arg one\n");
    expect(own).toContain("env A=1\nenv B=two\nenv HOME=/\nenv LOCAL=mine\nenv NOT_EXPORTED=x\nenv PATH=/bin\nenv PWD=/\n");
    await run("HIDDEN=1");
    expect((await run("/host/show-env")).out).not.toContain("HIDDEN");
    expect((await run("unset B A; env")).out).not.toMatch(/^(A|B)=/m);
    // The working directory is the program's "." (wasi-libc's relative paths), and PWD says where it is.
    await run("mkdir /work; cd /work; echo in work > data.txt");
    const { out } = await run("/host/show-env data.txt");
    expect(out).toContain("env PWD=/work\n");
    expect(out).toContain("data.txt: in work\n");
    expect((await run("echo $PWD $OLDPWD")).out).toMatch(/^\/work \/\n/);
    expect((await run("cd; pwd")).out).toMatch(/^\/\n/);
    expect((await run("HOME=/work; cd; pwd")).out).toMatch(/^\/work\n/);
    expect((await run("export 1x=2")).err).toContain("export: 1x: not a variable name\n");
    // A working directory whose name holds an escape sequence is shown quoted in the prompt, by
    // pwd at the console and in cd's errors; $(pwd) gets it as it is.
    const escaped = await run("cd /host/*clear; pwd; pwd | wc -c");
    expect(escaped.out).toMatch(/^\$'\/host\/\\e\[2Jclear'\n16\n/);
    expect(m.stdout()).toContain("dogma:$'/host/\\e[2Jclear'$ ");
    expect((await run('cd "$(pwd)/nope"')).err).toContain("cd: $'/host/\\e[2Jclear/nope': no such file or directory\n");
    expect(m.stdout()).not.toContain("\x1b[2J");
    await run("cd /");
    expect(m.faults).toEqual([]);
    await m.halt();
  }, 120_000);

  it("runs lists with ; && ||, redirects errors, globs, and finds programs on PATH", async () => {
    const { m, run } = await session();
    expect((await run("echo a && echo b || echo c")).out).toMatch(/^a\nb\n/);
    expect((await run("exitcode 1 && echo not || echo instead")).out).toMatch(/^instead\n/);
    expect((await run("exitcode 1 || exitcode 2 && echo never; echo $?")).out).toMatch(/^2\n/);
    expect((await run("exitcode 3; echo $?")).out).toMatch(/^3\n/);
    // 2> sends errors to a file; 2>> appends; 2>&1 sends them where output goes at that point.
    let r = await run("cat nosuch 2> err.txt; cat err.txt");
    expect(r.out).toMatch(/^cat: nosuch: no such file or directory\n/);
    expect(r.err).toBe("");
    await run("cat other 2>> err.txt");
    expect((await run("cat err.txt")).out).toMatch(/^cat: nosuch: no such file or directory\ncat: other: no such file or directory\n/);
    r = await run("cat nosuch 2>&1 | cat");
    expect(r.out).toMatch(/^cat: nosuch: no such file or directory\n/);
    expect(r.err).toBe("");
    await run("cat nosuch > both.txt 2>&1");
    expect((await run("cat both.txt")).out).toMatch(/^cat: nosuch: no such file or directory\n/);
    r = await run("cat nosuch 2>&1 > out.txt");
    expect(r.err).toBe("cat: nosuch: no such file or directory\n");
    // * and ?, quoted ones literal, no match left as written, dot files only for a dot pattern.
    await run("mkdir /g; cd /g; echo 1 > a1.txt; echo 2 > a2.txt; echo 3 > b.txt; echo h > .hidden; mkdir sub; echo s > sub/x.txt");
    expect((await run("echo *.txt")).out).toMatch(/^a1\.txt a2\.txt b\.txt\n/);
    expect((await run("echo a?.txt '*.txt' \"a*\" *.none")).out).toMatch(/^a1\.txt a2\.txt \*\.txt a\* \*\.none\n/);
    expect((await run("echo .h* s*/*.txt /g/b*")).out).toMatch(/^\.hidden sub\/x\.txt \/g\/b\.txt\n/);
    expect((await run("cat a?.txt")).out).toMatch(/^1\n2\n/);
    // Tab completes paths (a directory with its /), and programs on PATH (below).
    // (What the console echoes is the completed line, longer than what was typed.)
    expect((await run("cat a1\t")).out).toContain(" \n1\n");
    expect(m.stdout()).toContain("cat a1.txt \n1\n");
    await run("ls s\tx\t");
    expect(m.stdout()).toContain("ls sub/x.txt \nsub/x.txt\n");
    // PATH: a program found in /tools once PATH names it, after the boot modules.
    await run("mkdir /tools; cp /host/show-env /tools/say");
    expect((await run("say hi")).err).toContain("shell: say: command not found\n");
    expect((await run("PATH=/tools:$PATH; say hi")).out).toMatch(/^arg hi\n/);
    await run("sa\t from completion");
    expect(m.stdout()).toContain("say  from completion\narg from\narg completion\n");
    expect((await run("PATH=/host; show-env from-path")).out).toContain("arg from-path\n");
    // Binaries past the old 4 MiB limit run: 5 MiB through one Region, 20 MiB a piece at a time
    // through an image builder; what the loader refuses says why; past what the kernel loads, a refusal.
    expect((await run("/host/big.wasm")).out).toMatch(/^big: 5242880 bytes of data, sum 8\n/);
    expect((await run("/host/padded.wasm")).out).toMatch(/^hello, world\n/);
    expect((await run("/host/huge.wasm")).err).toContain("shell: /host/huge.wasm: not a program the loader takes: huge.wasm: header: not a WebAssembly binary");
    expect((await run("/host/too-big.wasm")).err).toContain("shell: /host/too-big.wasm: larger than 256 MiB, the most the kernel loads\n");
    expect((await run("echo a | | cat")).err).toContain("shell: | with no command before it\n");
    expect((await run("&& echo x")).err).toContain("shell: && with no command before it\n");
    // A line that ends with | or && asks for more, as sh does (PS2 "> ").
    m.type("echo x &&\r");
    await m.until("the continuation prompt", () => m.stdout().endsWith("\n> "));
    expect((await run("echo y")).out).toMatch(/^x\ny\n/);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, 120_000);

  it("says what a binary's Image would cost when its job cannot pay for it, and the shell goes on", async () => {
    // 32 MiB of physical memory: a 20 MiB binary is charged twice its size and 3 MiB while it loads.
    const { run } = await session(32 << 20);
    const refused = await run("/host/padded.wasm; echo status $?");
    expect(refused.out).toContain("status 126");
    expect(refused.err).toMatch(/^shell: \/host\/padded\.wasm: cannot load it: padded\.wasm: its Memory cannot pay for loading it: the host keeps 43\.\d MiB for it and the Memory has [\d.]+ MiB left\n/);
    // Under 16 MiB the process manager loads it, and passes the reason on.
    const small = await run("/host/mid.wasm; echo status $?");
    expect(small.out).toContain("status 126");
    expect(small.err).toMatch(/^shell: \/host\/mid\.wasm: cannot load it: mid\.wasm: its Memory cannot pay for loading it: the host keeps 27\.\d MiB for it and the Memory has [\d.]+ MiB left\n/);
    expect((await run("echo still here")).out).toMatch(/^still here\n/);
  });

  it("stops runaway recursion (functions, $(...), eval, sourced files, pipelines of itself) with a message, and the shell goes on", async () => {
    const { m, run } = await session();
    const tooDeep = /nested too deep, stopped \(functions, scripts, \$\(\.\.\.\), eval and compound commands may nest 150 units deep\)\n/;
    // Without the limit each of these used up the engine's stack and init restarted the shell.
    const plain = await run("n=0; f() { n=$((n+1)); f; }; f");
    expect(plain.err).toMatch(tooDeep);
    expect(plain.out).toMatch(/^dogma:\/ \[2\]\$ $/);
    expect((await run("echo $n")).out).toMatch(/^(4\d|5\d)\n/);
    expect((await run("n=0; f() { n=$((n+1)); if true; then while true; do f; break; done; fi; }; f")).err).toMatch(tooDeep);
    expect((await run("g() { x=$(g); }; g")).err).toMatch(tooDeep);
    expect((await run("e() { eval e; }; e")).err).toMatch(tooDeep);
    await run("echo '. /r.sh' > /r.sh");
    expect((await run(". /r.sh")).err).toMatch(tooDeep);
    // Each level starts two: the first to hit the limit stops them all, not 2^150 of them.
    expect((await run("k() { k | k; }; k")).err).toMatch(tooDeep);
    // A recursion that ends is not stopped, and the shell is the same process throughout.
    expect((await run("d() { if [ $1 -gt 0 ]; then d $(($1 - 1)); else echo bottom; fi; }; d 30")).out).toMatch(/^bottom\n/);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, 120_000);

  it("refuses text nested deeper than it can read (compound commands, functions, quotes, ${...}, $((...))) with a message, and the shell goes on", async () => {
    const { m, run } = await session();
    // Redteam3: the parser, the expander and the arithmetic evaluator descend recursively, and
    // each of these lines used up the engine's stack: the shell faulted and init restarted it
    // (the session lost); the fifth within a minute and init gave up on the shell.
    const lines = [
      "(".repeat(1500) + "echo deep" + ")".repeat(1500),
      "{ ".repeat(1500) + "echo deep; " + "}; ".repeat(1499) + "}",
      "f() ".repeat(1500) + "{ :; }",
      "echo " + '"${x:-'.repeat(800) + "y" + '}"'.repeat(800),
      "echo " + "${x:-".repeat(1000) + "y" + "}".repeat(1000),
      "echo $((" + "(".repeat(1500) + "1" + ")".repeat(1500) + "))",
      "echo $((" + "-".repeat(10000) + "1))",
      "echo $((" + "a=".repeat(3000) + "1))",
    ];
    for (const line of lines) expect((await run(line)).err).toMatch(/nested too deep/);
    // Patterns: a * recursed (5000 of them used up the stack) and *a*a*a... against a run of a's
    // took exponential time; matching is now iterative, O(pattern × text).
    expect((await run("case x in " + "*a".repeat(5000) + ") echo matched;; *) echo no;; esac")).out).toMatch(/^no\n/);
    expect((await run("case " + "a".repeat(60) + " in " + "*a".repeat(20) + "*b) echo matched;; *a) echo last;; esac")).out).toMatch(/^last\n/);
    expect((await run("case abcab in a*[b-c]?b) echo yes;; esac; case 'a*b' in a\\*b) echo star;; esac")).out).toMatch(/^yes\nstar\n/);
    // What nests a little still works.
    expect((await run("( ( { echo $(( ((1)) + -(-2) )) ${x:-${y:-z}}; } ) )")).out).toMatch(/^3 z\n/);
    expect(m.faults).toEqual([]);
    expect(m.lines().filter((l) => l.startsWith("init: shell"))).toEqual([]);
    await m.halt();
  }, 120_000);

  it("bounds what a word expands to, what the variables hold and what printf makes, with a message, and the shell goes on", async () => {
    const { m, run } = await session();
    // Redteam3: each of these grew the shell's memory to its quota (it faulted out of memory and
    // init restarted it) or made it build a string of a billion characters, deaf to ^C.
    const doubling = await run("x=a; i=0; while [ $i -lt 30 ]; do x=$x$x; i=$((i+1)); done; echo ${#x}");
    expect(doubling.err).toMatch(/a word expands to more than 1048576 characters/);
    expect(doubling.out).toMatch(/^1048576\n/);
    expect((await run('y="$x $x"; echo ${#y}')).err).toMatch(/a word expands to more than/);
    const many = await run("a=$x; b=$x; c=$x; echo ${#c}");
    expect(many.err).toMatch(/c: not set: the variables would hold more than 2097152 characters/);
    expect(many.out).toMatch(/^0\n/);
    expect((await run("printf '%999999999d' 1")).err).toMatch(/printf: a field wider than 1048576 characters/);
    // ${X%pattern} tries each place: quadratic in the value, bounded when the pattern has wildcards.
    expect((await run("w=$(printf '%020000d' 0); echo ${w%%*1}")).err).toMatch(/a value of more than 16384 characters to match a pattern against/);
    expect((await run("w=$(printf '%020000d' 0); x=${w%0}; echo ${#x}")).out).toMatch(/^19999\n/);
    expect((await run("v=abc.tar.gz; echo ${v%%.*} ${v#*.} ${v%.*} ${v##*.}")).out).toMatch(/^abc tar.gz abc.tar gz\n/);
    expect((await run("unset a b x; echo ok")).out).toMatch(/^ok\n/);
    expect(m.faults).toEqual([]);
    expect(m.lines().filter((l) => l.startsWith("init: shell"))).toEqual([]);
    await m.halt();
  }, 120_000);

  it("streams its own commands into programs and programs into them; bounds what it holds between its own commands and for $(...); the shell goes on", async () => {
    const { m, run } = await session();
    const line = "y".repeat(100);
    // A loop into programs: they start first and read as the loop writes, so it ends when head does
    // (it used to be held in the shell's memory until the shell ran out and init restarted it).
    const loop = await run(`while true; do echo ${line}; done | head -1`);
    expect(loop.out).toMatch(new RegExp(`^${line}\\n`));
    expect(loop.err).toBe("");
    expect((await run("while true; do cat /etc/init.conf 2>/dev/null || echo x; done | head -2 | wc -l")).out).toMatch(/^2\n/);
    expect((await run("echo hi | nosuch")).err).toContain("shell: nosuch: command not found\n");
    // Between two of its own commands the shell holds what passes in memory: bounded.
    const held = await run(`while true; do echo ${line}; done | while read l; do echo first $l; break; done`);
    expect(held.err).toContain("shell: more output than the shell holds for its next command (2 MiB, in memory: the shell runs its own commands one after another); stopped\n");
    expect(held.out).toMatch(new RegExp(`^first ${line}\\n`));
    // A program's output into the shell's next command streams too: 17 MiB without a newline come
    // as lines of 1 MiB at most (the shell used to hold it all, and ran out of memory).
    const fromProgram = await run("cat /host/huge.wasm | { n=0; while read -r l; do n=$((n+1)); done; echo $n; }");
    expect(fromProgram.out).toMatch(/^17\n/);
    expect(fromProgram.err).toBe("");
    expect((await run("seq() { i=0; while [ $i -lt $1 ]; do echo $i; i=$((i+1)); done; }; seq 3000 | cat | { s=0; while read n; do s=$((s+n)); done; echo $s; }")).out).toMatch(/^4498500\n/);
    const captured = await run(`x=$(while true; do echo ${line}; done); echo \${#x}`);
    expect(captured.err).toContain("shell: more output than the shell holds for $(...) (1 MiB, in memory: the shell runs its own commands one after another); stopped\n");
    expect(captured.out).toMatch(/^10\d{5}\n/);
    expect((await run("x=$(cat /host/huge.wasm); echo done")).out).toMatch(/^done\n/);
    // What stays under the bound is whole, and the commands after the pipeline still run.
    expect((await run("i=0; while [ $i -lt 500 ]; do echo $i; i=$((i+1)); done | wc -l; echo after")).out).toMatch(/^500\nafter\n/);
    expect(m.faults).toEqual([]);
    await m.halt();
  }, 120_000);
});
