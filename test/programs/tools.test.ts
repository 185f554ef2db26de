// The everyday tools beside their GNU counterparts (coreutils, grep, findutils): each command runs
// in Dogma on files of a host folder shared as /host, and on the host with LC_ALL=C and TZ=UTC in
// that folder, and prints the same. Then every tool's messages in words: a missing file, an unknown
// option (with the usage, status 2), a directory where a file is wanted. One machine for all.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FolderShare } from "../../src/hosts/node/folder-share.ts";
import { type BootedMachine, bootShell } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const TOOLS = [
  "cat", "grep", "wc", "head", "tail", "sort", "uniq", "tee", "touch", "find", "true", "false", "sleep", "date", "basename",
  "dirname", "du", "df", "stat", "ls", "cp", "mv", "rm", "mkdir", "ln", "echo",
];
const CONFIG = `service registry registry
driver  console  console  device=console interrupt=console memory=64
driver  block    block    device=block interrupt=block memory=512
service fs       fs       memory=2048 publish=fs
driver  host     hostfs   device=share interrupt=share memory=1024 publish=host
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=8192 bootinfo use=fs use=host session
${TOOLS.map((p) => `module ${p}`).join("\n")}
`;
const MODULES = ["registry", "console", "block", "fs", "hostfs", "pipe", "procman", "shell", ...TOOLS];

const folder = mkdtempSync(join(tmpdir(), "dogma-tools-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function files(): void {
  writeFileSync(join(folder, "words.txt"), "the quick brown fox\njumps over\nthe lazy dog\nThe End\n\nfox jumps\nquack and quick\n");
  writeFileSync(join(folder, "numbers.txt"), `${[10, 2, 33, 4, 5, 100, 7, 8, 9, 11, 1, -3, 42].join("\n")}\n`);
  writeFileSync(join(folder, "dups.txt"), "b\na\nb\nA\na\nc\nb\n");
  writeFileSync(join(folder, "runs.txt"), "a\na\nA\nb\nc\nc\nc\nd\n");
  writeFileSync(join(folder, "fields.txt"), "carol:30:paris\nalice:25:berlin\nbob:35:amsterdam\ndave:25:zurich\n");
  writeFileSync(join(folder, "table.txt"), "x 3 one\ny 1 two\nz 20 three\nw 1 four\n");
  writeFileSync(join(folder, "special.txt"), "a.b\naxb\n[a]\nstar*s\n");
  writeFileSync(join(folder, "utf8.txt"), "héllo wörld\n日本語\n");
  writeFileSync(join(folder, "noeol.txt"), "first\nlast without newline");
  writeFileSync(join(folder, "empty.txt"), "");
  mkdirSync(join(folder, "sub", "deeper"), { recursive: true });
  writeFileSync(join(folder, "sub", "a.txt"), "in sub\n");
  writeFileSync(join(folder, "sub", "deeper", "b.txt"), "deeper\n");
  writeFileSync(join(folder, ".hidden"), "hidden\n");
}

/** The same command on the host, in the folder, as GNU's tools run it. */
function host(command: string): string {
  const result = spawnSync("sh", ["-c", command], { cwd: folder, encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC" } });
  return result.stdout;
}

let m: BootedMachine;
/** Types `line`; what it printed to the console's output (up to the prompt), and its errors. */
async function run(line: string): Promise<{ out: string; err: string }> {
  const before = m.stdout().length;
  const errors = m.stderr().length;
  m.type(line + "\r");
  // (The prompt may follow output that does not end a line: head -c.)
  await m.until(`the prompt after ${JSON.stringify(line)}`, () => /dogma:\/[^\n]*\$ $/.test(m.stdout().slice(before + line.length + 1)));
  const out = m.stdout().slice(before + line.length + 1);
  return { out: out.slice(0, out.lastIndexOf("dogma:")), err: m.stderr().slice(errors) };
}

beforeAll(async () => {
  files();
  const share = await FolderShare.open(folder);
  m = await bootShell(CONFIG, share, { modules: MODULES });
  await run("cd /host");
}, patience(60_000));

afterAll(async () => {
  await m?.halt();
});

const SAME = [
  // grep: basic and extended expressions, and its output options
  "grep fox words.txt", "grep -i 'the' words.txt", "grep -v o words.txt", "grep -c qu words.txt", "grep -n 'o.' words.txt",
  "grep -E 'qu(i|a)ck|lazy' words.txt", "grep -o '[a-z]*o[a-z]*' words.txt", "grep -w the words.txt", "grep -x 'fox jumps' words.txt",
  "grep -l the words.txt numbers.txt dups.txt", "grep -L the words.txt numbers.txt", "grep -h e words.txt fields.txt", "grep '\\(o\\).*\\1' words.txt",
  "grep -F 'a.b' special.txt", "grep 'a.b' special.txt", "grep '^[0-9]\\{2\\}$' numbers.txt", "grep -E '^-?[0-9]+$' numbers.txt", "grep -e fox -e dog words.txt",
  "grep '[[:upper:]]' words.txt", "grep -c '' words.txt", "grep -iw 'THE' words.txt", "grep -E 'o{2}|x$' words.txt", "grep -ion 'QU[a-z]*' words.txt",
  "grep '\\<q' words.txt", "grep -r deeper sub", "grep -q fox words.txt; echo $?", "grep -q nothing words.txt; echo $?", "cat words.txt | grep -n the",
  // wc
  "wc words.txt", "wc -l words.txt numbers.txt", "wc -w words.txt", "wc -c noeol.txt", "LC_ALL=C.UTF-8 wc -m utf8.txt", "wc -lc utf8.txt empty.txt", "cat words.txt | wc",
  "cat words.txt | wc -l",
  // head and tail
  "head -n 3 numbers.txt", "head -3 numbers.txt", "head -c 10 words.txt", "head numbers.txt words.txt", "head -n 1 noeol.txt", "head -n 5 noeol.txt",
  "tail -n 3 numbers.txt", "tail -n +12 numbers.txt", "tail -c 8 words.txt", "tail numbers.txt words.txt", "tail -n 1 noeol.txt", "tail -2 numbers.txt",
  // sort and uniq
  "sort words.txt", "sort -r words.txt", "sort -n numbers.txt", "sort -rn numbers.txt", "sort -u dups.txt", "sort -t: -k2 -n fields.txt", "sort -t: -k3 fields.txt",
  "sort -k2n table.txt", "sort -f dups.txt", "sort numbers.txt dups.txt", "uniq runs.txt", "uniq -c runs.txt", "uniq -d runs.txt", "uniq -u runs.txt",
  "uniq -i runs.txt", "sort dups.txt | uniq -c",
  // cat, basename, dirname, date
  "cat -n words.txt", "cat noeol.txt numbers.txt", "basename /usr/lib/libc.so", "basename /usr/lib/libc.so .so", "basename dir/", "basename /",
  "basename -a a/b c/d", "basename -s .txt x.txt y.txt", "dirname /usr/lib/libc.so", "dirname libc.so", "dirname /", "dirname a//b//", "dirname a b/c",
  "date -d @1700000000", "date -u -d @86399 '+%Y-%m-%d %H:%M:%S %j %a %A %b %B %e %y %C %u %w %s'", "date -d @951782400 +%F-%T-%D-%R",
  // ls, find, du, stat
  "ls", "ls -a", "ls -A", "ls -p", "ls -r", "ls sub", "ls -d sub", "ls words.txt numbers.txt", "ls sub words.txt", "ls -R sub", "ls -1 sub/deeper",
  "find . -name '*.txt' | sort", "find . -type d | sort", "find sub -type f | sort", "find . -maxdepth 1 -name 'n*'", "find . -empty | sort",
  "find sub -name '*.txt' -o -type d | sort", "find . ! -name '*.txt' -type f | sort", "find . -mindepth 2 | sort",
  "du -b words.txt numbers.txt", "stat -c '%n %s %F' words.txt empty.txt",
  // true, false, sleep, tee, xargs (the shell's), echo
  "true; echo $?", "false; echo $?", "sleep 0.01; echo $?", "echo hi | tee", "printf 'a b\\nc\\n' | xargs echo", "printf '1\\n2\\n3\\n' | xargs -n 2 echo",
  "printf 'x\\ny\\n' | xargs -I{} echo [{}]", "echo -n no newline; echo", "printf '%s-%03d\\n' a 7 b 42",
];

describe("the tools", () => {
  it("print what GNU's tools print for the same command on the same files", async () => {
    const differ: string[] = [];
    for (const command of SAME) {
      const got = (await run(command)).out;
      const want = host(command);
      if (got !== want) differ.push(`${command}\n  dogma: ${JSON.stringify(got)}\n  GNU:   ${JSON.stringify(want)}`);
    }
    expect(differ.join("\n")).toBe("");
  }, patience(120_000));

  it("say in words what is wrong: a missing file, an unknown option (with the usage, status 2), a directory where a file is wanted", async () => {
    const missing: Array<[string, number]> = [
      ["cat nosuch", 1], ["grep x nosuch", 2], ["wc nosuch", 1], ["head nosuch", 1], ["tail nosuch", 1], ["sort nosuch", 2], ["uniq nosuch", 1],
      ["ls nosuch", 2], ["du nosuch", 1], ["stat nosuch", 1], ["rm nosuch", 1], ["cp nosuch x", 1], ["mv nosuch x", 1], ["find nosuch", 1],
      ["touch -c nosuch", 0],
    ];
    for (const [command, status] of missing) {
      const { err } = await run(`${command}; echo "status $?"`);
      const out = (await run("echo $?")).out;
      void out;
      const tool = command.split(" ")[0]!;
      if (status !== 0) expect(err, command).toContain(`${tool}: nosuch: no such file or directory\n`);
      const again = await run(`${command} 2>/dev/null; echo "status $?"`);
      expect(again.out, command).toBe(`status ${status}\n`);
    }
    for (const tool of TOOLS.filter((t) => !["true", "false", "echo"].includes(t))) {
      const { out, err } = await run(`${tool} -Z x; echo "status $?"`);
      expect(err, tool).toMatch(new RegExp(`^${tool}: unknown (option|predicate) '-Z'\\n(usage: ${tool}|usage: find)`, "m"));
      expect(out, tool).toBe("status 2\n");
      const help = await run(`${tool} --help; echo "status $?"`);
      expect(help.out, tool).toMatch(new RegExp(`^usage: ${tool}[^]*status 0\\n$`));
    }
    for (const command of ["cat sub", "grep x sub", "wc sub", "head sub", "tail sub", "sort sub", "uniq sub"]) {
      const { err } = await run(command);
      expect(err, command).toContain(`${command.split(" ")[0]}: sub: is a directory\n`);
    }
    expect((await run("cp sub /x")).err).toContain("cp: sub: is a directory (cp -r copies it)\n");
    expect((await run("rm sub")).err).toContain("rm: sub: is a directory\n");
    // The tools that write: on the disk's file system.
    await run("mkdir /t; cd /t");
    const writes: Array<[string, string]> = [
      ["printf 'b\\na\\nb\\n' > in; sort -o out in; cat out", "a\nb\nb\n"],
      ["uniq out u; cat u", "a\nb\n"],
      ["echo x | tee t1 t2 > /dev/null; cat t1 t2", "x\nx\n"],
      ["echo y | tee -a t1; cat t1", "y\nx\ny\n"],
      ["touch new; stat -c '%n %s' new", "new 0\n"],
      ["mkdir -p d/e/f; cp -r d d2; find d2 | sort", "d2\nd2/e\nd2/e/f\n"],
      ["cp in out t1 d; ls d", "e\nin\nout\nt1\n"],
      ["mv d2 d3; mv t2 new d3; ls d3", "e\nnew\nt2\n"],
      ["rm -r d d3; ls", "in\nout\nt1\nu\n"],
      ["ln -s in link; cat link; ls -l link | grep -c 'link -> in'", "b\na\nb\n1\n"],
      ["rm -v link", "removed link\n"],
      ["touch new; du -b in new", "6\tin\n0\tnew\n"],
    ];
    for (const [command, want] of writes) expect((await run(command)).out, command).toBe(want);
    // df -c: the disk's file system's caches in pages (it has just written: something is cached);
    // the host share answers none (dashes).
    const caches = (await run("df -c")).out;
    expect(caches).toMatch(/^Filesystem +Cached +Most +Dirty +Hits +Misses +Metadata +Returned +Mounted on\n/);
    const disk = /^dogma-fs +(\d+) +(\d+) +\d+ +\d+ +\d+ +(\d+) +\d+ \/$/m.exec(caches);
    expect(disk, caches).not.toBe(null);
    expect(Number(disk![1]) + Number(disk![3]), caches).toBeGreaterThan(0);
    expect(caches).toMatch(/^host-share +- +- +- +- +- +- +- \/host$/m);
    await run("cd /host");
    // /host is read-only: writing there says so.
    expect((await run("touch new.txt")).err).toContain("touch: new.txt: permission denied\n");
    expect(m.faults).toEqual([]);
  }, patience(120_000));
});
