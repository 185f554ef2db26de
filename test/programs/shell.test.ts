import { describe, expect, it } from "vitest";
import { bootMachine, testConsole, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const PROGRAMS = ["echo", "cat", "exitcode", "fault-null", "sleeper", "spin", "ps", "kill", "uptime", "wasi-cat", "dmesg", "logger", "grep"];
const CONFIG = `service registry registry
service log      log      memory=256
driver  console  console  device=console interrupt=console memory=64
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=8192 bootinfo session
${PROGRAMS.map((p) => `module ${p}`).join("\n")}
`;
const MODULES = ["registry", "log", "console", "pipe", "procman", "shell", ...PROGRAMS];

async function session() {
  const m = await bootMachine(CONFIG, MODULES, { devices: (t) => [testConsole(t), testTimer(t)], interactive: true });
  await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
  /** Types `line` and Enter, and waits until the shell prompts again after it. */
  const run = async (line: string, prompt = /dogma:\/( \[-?\d+\])?\$ $/) => {
    const before = m.stdout().length;
    m.type(line + "\r");
    await m.until(`the prompt after ${JSON.stringify(line)}`, () => prompt.test(m.stdout().slice(before + line.length)));
    return m.stdout().slice(before).replace(/\r?\n/g, "\n");
  };
  return { m, run };
}

describe("the shell", () => {
  it("runs programs with arguments, pipes them, reports statuses and faults, and keeps going", async () => {
    const { m, run } = await session();
    expect(await run("echo hello   'big world'")).toContain("\nhello big world\n");
    expect(await run("exitcode 3")).toMatch(/dogma:\/ \[3\]\$ $/);
    expect(await run("echo one; echo 'two; three' ; exitcode 4")).toMatch(/\none\ntwo; three\ndogma:\/ \[4\]\$ $/);
    expect(await run("echo one two three | cat | cat")).toContain("\none two three\n");
    // A WASI program's fds 0-2 are its standard streams: here two pipes and the console's errors.
    expect(await run("echo through wasi | wasi-cat | cat")).toContain("\nthrough wasi\n");
    expect(m.stderr()).toContain("wasi-cat: copying\n");
    const fault = await run("fault-null 16");
    expect(m.stderr()).toMatch(/shell: fault-null \(pid \d+\) faulted: null-page at 0x10\n/);
    expect(fault).toMatch(/\[-1\]\$ $/);
    expect(await run("nosuch thing")).toMatch(/\[127\]\$ $/);
    expect(m.stderr()).toContain("shell: nosuch: command not found\n");
    // An open quote asks for the rest of the word on the next line, as sh does.
    m.type("echo 'open\r");
    await m.until("the continuation prompt", () => m.stdout().endsWith("\n> "));
    expect(await run("quote'")).toContain("\nopen\nquote\n");
    expect(await run("echo a | | cat")).toMatch(/\[2\]\$ $/);
    expect(m.stderr()).toContain("shell: | with no command before it\n");
    const help = await run("help");
    expect(help).toContain("programs: cat dmesg echo exitcode fault-null grep kill logger ps sleeper spin uptime wasi-cat\n");
    expect(help).toMatch(/builtins: .*\bcd\b.*\bexport\b.*\bfg\b/);
    const ps = await run("ps");
    expect(ps, ps).toMatch(/\bshell\b/);
    expect(ps).toMatch(/\bps\b/);
    expect(await run("uptime")).toMatch(/up \d+:\d\d:\d\d\.\d{3}\n/);
    // kill, spawned through the shell's session, may end the shell's other jobs.
    const pid = /\[1\] (\d+)\n/.exec(await run("sleeper 600000 &"))![1];
    expect(await run(`kill ${pid}`)).toContain(`kill: ${pid} killed`);
    await run("echo x"); // the report comes before a prompt once the notice is in
    expect(m.stdout()).toContain("[1] done (137)  sleeper 600000 &\n");
    // What the services said went to the log (this boot is quiet): dmesg has it; dmesg -f follows.
    expect(await run("dmesg | grep -c 'serving \"console\"'")).toContain("\n1\n");
    expect(m.stdout()).not.toContain('console: serving "console"\n');
    await run("logger first words");
    // A program's line says so (user/services/log.ts keeps them apart from the system's).
    expect(await run("dmesg | grep 'first words'")).toMatch(/\n\[ *\d+\.\d{6}\] user: first words\n/);
    // (In the background its lines come after the prompt: typed and waited for, not run().)
    m.type("dmesg -f &\r");
    await m.until("dmesg -f has printed the log", () => m.stdout().split("] user: first words\n").length === 3);
    m.type("logger followed line\r");
    await m.until("dmesg -f prints the new line", () => /\] user: followed line\n/.test(m.stdout()));
    m.type("kill %1\r");
    await m.until("dmesg -f ends", () => !m.alive().includes("dmesg"));
    expect(await run("help grep")).toContain("\nusage: grep [OPTION]... PATTERN [FILE]...\n");
    expect(await run("help cd")).toContain("\nusage: cd [DIR]\n");
    expect(m.faults.filter((f) => !f.includes("fault-null"))).toEqual([]);
    m.type("exit\r");
    await m.line(/^init: the session is over; stopped \d+ services; halting$/);
    await m.halt();
  }, patience(90_000));

  it("edits the line and recalls history; ^C ends a foreground job; & runs one in the background", async () => {
    const { m, run } = await session();
    // Typed "echo helo", left twice, insert "l": the line the shell runs is "echo hello".
    expect(await run("echo helo\x1b[D\x1b[Dl")).toContain("\nhello\n");
    // Tab completes a command: "ech" is echo; "s" is a builtin or a program, so they are listed.
    expect(await run("ech\tcompleted")).toContain("\ncompleted\n");
    m.type("s\t");
    await m.until("the candidates", () => m.stdout().includes("\nset  sh  shift  sleeper  source  spin\n"));
    m.type("\x15");
    // Up recalls it; backspace and a new word change it.
    expect(await run("\x1b[A\x1b[A\x7f\x7f\x7f\x7f\x7fworld")).toContain("\nworld\n");
    m.type("spin\r");
    await m.until("spin runs", () => m.alive().includes("spin"));
    m.type("\x03");
    await m.until("the prompt after ^C", () => /\[130\]\$ $/.test(m.stdout()));
    // ^C stops the shell's own loops too, and the rest of the line (it used to be lost in them for good).
    m.type("i=0; while true; do i=$((i+1)); if [ $i = 50 ]; then echo looping; fi; done; echo not-run\r");
    await m.until("the loop runs", () => m.stdout().includes("\nlooping\n"));
    m.type("\x03");
    await m.until("the prompt after ^C of a loop", () => /looping\n(\^C)?\n?dogma:\/ \[130\]\$ $/.test(m.stdout()));
    // A ^C typed in the same burst as the Enter (before the shell left raw mode) stops it too.
    m.type("while true; do :; done\r\x03");
    await m.until("the prompt after a ^C typed with the Enter", () => /while true; do :; done\n(\^C)?\n?dogma:\/ \[130\]\$ $/.test(m.stdout()));
    // ... and a loop that feeds a program, with the program.
    m.type("while true; do echo y; done | grep x\r");
    await m.until("grep runs", () => m.alive().includes("grep"));
    m.type("\x03");
    await m.until("the prompt after ^C of a fed program", () => /grep x\n(\^C)?\n?dogma:\/ \[130\]\$ $/.test(m.stdout()));
    expect(m.stdout()).not.toMatch(/^not-run$/m);
    expect(await run("sleeper 10 &")).toMatch(/\[1\] \d+\n/);
    await m.until("the sleeper", () => m.stdout().includes("slept\n"));
    expect(await run("echo after")).toContain("[1] done (0)  sleeper 10 &");
    // ^Z stops the foreground job; jobs lists it; bg runs it on; kill %1 ends it.
    m.type("sleeper 600000\r");
    await m.until("sleeper runs", () => m.alive().includes("sleeper"));
    m.type("\x1a");
    await m.until("the stop", () => /\[1\]\+ Stopped  sleeper 600000\ndogma:\/ \[148\]\$ $/.test(m.stdout()));
    expect(await run("jobs")).toContain("\n[1]+ Stopped  sleeper 600000\n");
    expect(await run("bg %1")).toContain("\nsleeper 600000\n");
    expect(await run("jobs")).toContain("\n[1]+ Running  sleeper 600000\n");
    await run("kill %1");
    await m.until("the end of the job", () => !m.alive().includes("sleeper"));
    await run("echo after kill"); // the report comes before a prompt once the notice is in
    expect(m.stdout()).toContain("[1] done (137)  sleeper 600000\n");
    // A stopped cat does not take what is typed at the prompt: the console let its read go.
    m.type("cat\r");
    await m.until("cat runs", () => m.alive().includes("cat"));
    m.type("\x1a");
    await m.until("cat stops", () => /Stopped  cat\ndogma:\/ \[148\]\$ $/.test(m.stdout()));
    expect(await run("echo still mine")).toContain("\nstill mine\n");
    m.type("fg\r");
    await m.until("cat again", () => m.stdout().endsWith("fg\ncat\n"));
    m.type("to cat\r");
    await m.until("cat's copy", () => m.stdout().endsWith("to cat\nto cat\n"));
    m.type("\x03");
    await m.until("the prompt after ^C", () => /\[130\]\$ $/.test(m.stdout()));
    const history = await run("history");
    expect(history).toContain("   1  echo hello\n");
    expect(history).toContain("   3  echo world\n");
    expect(history).toContain("  bg %1\n");
    m.type("\x04");
    await m.line(/^init: the session is over; stopped \d+ services; halting$/);
    await m.halt();
  }, patience(90_000));

  it("starts more jobs on the terminal than the console's queue holds: their calls wait for room, none is refused (contract Console is of calls only)", async () => {
    const { m, run } = await session();
    // Each job holds three copies of the console (its standard streams), 150 in all, in a queue of
    // 32: a kernel that kept a slot for each would refuse a copy from the 11th job on.
    for (let i = 1; i <= 50; i++) expect(await run("sleeper 600000 &")).toMatch(new RegExp(`\\[${i}\\] \\d+\\n`));
    expect(m.stderr()).not.toContain("E_QUEUE_FULL");
    // With fifty jobs holding the console, the shell and a pipeline still work.
    expect(await run("echo one | cat; echo still here")).toContain("\none\nstill here\n");
    await m.halt();
  }, patience(90_000));
});
