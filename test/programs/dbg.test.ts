/**
 * dbg, driven through the console of a booted machine as a user would (docs/DEBUGGING.md): it starts
 * a program stopped, breaks on a function by name, reads and changes globals and memory, shows the
 * stack, watches a page, and lets the program finish with what it changed; it attaches to a job the
 * shell runs in the background, steps it, and detaches leaving it running; and it says clearly what
 * it cannot do.
 */
import { describe, expect, it } from "vitest";
import { bootMachine, testConsole, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const PROGRAMS = ["dbg", "dbg-demo", "spin", "kill", "ps"];
const CONFIG = `service registry registry
driver  console  console  device=console interrupt=console memory=64
service pipe     pipe     memory=64
service proc     procman  memory=128 kernel images bootinfo control
service shell    shell    memory=8192 bootinfo session
${PROGRAMS.map((p) => `module ${p}`).join("\n")}
`;
const MODULES = ["registry", "console", "pipe", "procman", "shell", ...PROGRAMS];
const SHELL_PROMPT = /dogma:\/( \[-?\d+\])?\$ $/;
const DBG_PROMPT = /\(dbg\) $/;

async function session() {
  const m = await bootMachine(CONFIG, MODULES, { devices: (t) => [testConsole(t), testTimer(t)], interactive: true });
  await m.until("the prompt", () => m.stdout().includes("dogma:/$ "));
  /** Types `line` and Enter, and waits until `prompt` follows what it printed. */
  const type = async (line: string, prompt: RegExp = DBG_PROMPT) => {
    const before = m.stdout().length;
    m.type(line + "\r");
    await m.until(`the prompt after ${JSON.stringify(line)}`, () => prompt.test(m.stdout().slice(before + line.length)));
    return m.stdout().slice(before + line.length).replace(/\r?\n/g, "\n");
  };
  return { m, type };
}

describe("dbg", () => {
  it("starts a program stopped, breaks by name, inspects and changes it, watches a page, and lets it finish", async () => {
    const { m, type } = await session();
    expect(await type("dbg dbg-demo 3")).toMatch(/dbg: dbg-demo is pid \d+, stopped before it starts/);
    expect(await type("break leaf")).toBe("\n(dbg) ");
    expect(m.stderr()).toContain("dbg: leaf: no such function (try funcs)\n");
    expect(await type("break addSquare")).toMatch(/^\nbreakpoint 1: programs\/dbg-demo\/addSquare \(#\d+\)\n/);
    const hit = await type("continue");
    const cells = Number(/dbg-demo: cells at (0x[0-9a-f]+)/.exec(hit)![1]);
    expect(hit).toMatch(/breakpoint 1 in programs\/dbg-demo\/addSquare \(#\d+\) @0x[0-9a-f]+\n/);
    // Stopped before addSquare(1) ran: calls and total are 0.
    const globals = await type("globals");
    expect(globals).toMatch(/global \d+ programs\/dbg-demo\/calls i32 = 0 \(0x0\)\n/);
    const backtrace = await type("bt");
    expect(backtrace).toMatch(/#0 programs\/dbg-demo\/addSquare/);
    expect(backtrace).toMatch(/#1 start:programs\/dbg-demo/);
    expect(await type(`x/4 0x${cells.toString(16)}`)).toContain(`0x${cells.toString(16)}: 00000000 00000000 00000000 00000000\n`);
    // A watch on the table's page stops at addSquare's store into cell 1 (before it is made).
    expect(await type("delete 1")).toBe("\n(dbg) ");
    expect(await type(`watch 0x${cells.toString(16)}`)).toMatch(/watchpoint 2: 0x[0-9a-f]+-0x[0-9a-f]+ \(writes\)/);
    expect(await type("c")).toMatch(new RegExp(`watchpoint 2: write at 0x${(cells + 4).toString(16)} in programs/dbg-demo/addSquare`));
    expect(await type(`x/2 0x${cells.toString(16)}`)).toContain("00000000 00000000");
    // Cell 0 becomes 40, which the program never writes: memory changed under it.
    expect(await type(`set 0x${cells.toString(16)} 40`)).toContain(`0x${cells.toString(16)} = 00000028`);
    expect(await type("delete 2")).toBe("\n(dbg) ");
    const end = await type("continue", SHELL_PROMPT);
    // 1 + 4 + 9: the program's own result, and it ran to its end.
    expect(end).toContain("dbg-demo: total 14 in 3 calls\n");
    expect(end).toMatch(/dbg: pid \d+ exited with code 14\n/);
    expect(m.faults).toEqual([]);
    m.type("exit\r");
    await m.line(/^init: the session is over; stopped \d+ services; halting$/);
    await m.halt();
  }, patience(90_000));

  it("changes what a program computes through a global", async () => {
    const { m, type } = await session();
    await type("dbg dbg-demo 3");
    await type("break addSquare");
    await type("c");
    expect(await type("globals")).toMatch(/global \d+ programs\/dbg-demo\/total i32 = 0 \(0x0\)\n/);
    expect(await type("setg total 100")).toBe("\n(dbg) ");
    await type("delete 1");
    const end = await type("c", SHELL_PROMPT);
    expect(end).toContain("dbg-demo: total 114 in 3 calls\n");
    m.type("exit\r");
    await m.line(/^init: the session is over; stopped \d+ services; halting$/);
    await m.halt();
  }, patience(90_000));

  it("attaches to a job of the shell, steps it, and detaches leaving it running; refuses what it cannot do", async () => {
    const { m, type } = await session();
    const pid = /\[1\] (\d+)\n/.exec(await type("spin &", SHELL_PROMPT))![1];
    const attached = await type(`dbg -p ${pid}`);
    expect(attached).toMatch(/stopped \(between two slices or in a kernel call: step to see where\)/);
    expect(await type("bt")).toContain("no stack: it stopped outside a safe point");
    expect(await type("step")).toMatch(/stepped in .* \(#\d+\) @0x[0-9a-f]+\n/);
    expect(await type("bt")).toMatch(/#0 /);
    expect(await type("x 0x10")).toBe("\n(dbg) ");
    expect(m.stderr()).toMatch(/dbg: x: E_BAD_ADDRESS: 0x10 is out of the program's reach/);
    expect(await type("info")).toMatch(new RegExp(`pid ${pid}: suspended, \\d+ pages, \\d+ ms of CPU, \\d+ capabilities`));
    await type("detach", SHELL_PROMPT);
    // It runs on: ps shows it running or ready, not suspended.
    const ps = await type("ps", SHELL_PROMPT);
    expect(ps).toMatch(new RegExp(`\\b${pid}\\b.*\\b(running|ready)\\b.*spin`));
    // The process manager gives the right only for the session's own jobs: not the shell itself.
    const shellPid = ps.split("\n").find((line) => line.trim().endsWith(" shell"))!.trim().split(/\s+/)[0];
    await type(`dbg -p ${shellPid}`, SHELL_PROMPT);
    expect(m.stderr()).toMatch(new RegExp(`dbg: cannot debug pid ${shellPid}: E_(NO_PROCESS|MISSING_RIGHT)`));
    // Attached again, `kill` ends it (through the session: the debug capability cannot kill).
    await type(`dbg -p ${pid}`);
    await type("kill", SHELL_PROMPT);
    await type("echo", SHELL_PROMPT); // the report comes before a prompt once the notice is in
    expect(m.stdout()).toContain("[1] done (137)  spin &\n");
    m.type("exit\r");
    await m.line(/^init: the session is over; stopped \d+ services; halting$/);
    await m.halt();
  }, patience(90_000));
});
