import { describe, expect, it } from "vitest";
import { bootMachine, testConsole, testTimer } from "../helpers/booted-machine.ts";
import { patience } from "../helpers/patience.ts";

const CONFIG = `service registry registry
driver  console  console             device=console interrupt=console memory=64
service tester   console-test-client memory=64
`;
const MODULES = ["registry", "console", "console-test-client"];

describe("console driver", () => {
  it("edits lines as a terminal does: echo, backspace over UTF-8, ^U, ^W, CR as Enter; the host's end of input; errors to stderr", async () => {
    // Every line ends with a newline: the echo of all of it may come before the first answer, and
    // an unended line would share a screen line with it.
    const input = ["hello\n", "ab\x7fc\n", "xyz\x15ok\n", "one two\x17three\n", "é\x7fe\n", "cr\r", "tab\there\n", "err oops\n", "last\n"].join("");
    const m = await bootMachine(CONFIG, MODULES, { devices: (t) => [testConsole(t), testTimer(t)], input });
    await m.line("eof");
    const got = m.lines().filter((l) => l.startsWith("got "));
    expect(got).toEqual(["got 6: hello", "got 3: ac", "got 3: ok", "got 10: one three", "got 2: e", "got 3: cr", "got 9: tab\there", "got 5: last"]);
    expect(m.stderr()).toContain("oops\n");
    // The echo: what was typed, with each erase rubbed out ("\b \b") and Enter as a newline.
    const out = m.stdout();
    expect(out).toContain("hello\n");
    expect(out).toContain("ab\b \bc\n");
    expect(out).toContain("xyz\b \b\b \b\b \bok\n");
    expect(out).toContain("é\b \be\n");
    expect(out).toContain("cr\n");
    await m.line("init: tester (pid 4) exited with code 0; not restarting");
    await m.halt();
  }, patience(60_000));

  it("answers a line at a time as it is typed; ^C tells the foreground and throws the half line away; raw mode passes every byte", async () => {
    const m = await bootMachine(CONFIG, MODULES, { devices: (t) => [testConsole(t), testTimer(t)], interactive: true });
    await m.line("console-test-client: ready");
    m.type("first\n");
    await m.line("got 6: first");
    m.type("fg\n");
    await m.line("waiting for ^C");
    m.type("half a line\x03");
    await m.line("interrupted");
    expect(m.stdout()).toContain("half a line^C\n");
    m.type("after\n");
    await m.line("got 6: after");
    expect(m.lines().some((l) => l.includes("got") && l.includes("half"))).toBe(false);

    m.type("raw\n");
    await m.line("raw on");
    m.type("\x03\x04");
    m.type("\x7fz");
    await m.line("raw bytes: 03 04 7f 7a");
    m.type("back\n");
    await m.line("got 5: back");

    m.type("info\n");
    await m.line("info: mode 0 ready 0 readers 0 ended 0");
    m.type("abc\x04");
    // ^D ends the record without a newline, so the echo and the answer share a screen line.
    await m.until("abc is answered", () => m.stdout().includes("abcgot 3: abc\n"));
    m.type("\x04");
    await m.line("eof");
    await m.halt();
  }, patience(60_000));

  it("refuses malformed requests with a status and keeps serving", async () => {
    const m = await bootMachine(CONFIG, MODULES, { devices: (t) => [testConsole(t), testTimer(t)], input: "check\nstill here\n" });
    await m.line("got 11: still here");
    expect(m.lines().filter((l) => l.startsWith("check: "))).toEqual([
      "check: read of 0 bytes: E_INVALID_ARGUMENT",
      "check: read of 253 bytes: E_INVALID_ARGUMENT",
      "check: read without words: E_CONTRACT",
      "check: write longer than its words: E_BAD_MESSAGE",
      "check: write with unknown flags: E_BAD_MESSAGE",
      "check: mode 4: E_INVALID_ARGUMENT",
      "check: label 99: E_CONTRACT",
      "check: a Page as the foreground: E_WRONG_TYPE",
      "check: no foreground: OK",
      "check: write of 3 bytes: OK",
      "check: write bringing a capability: E_CONTRACT",
      "check: stream info: OK kind 1",
    ]);
    expect(m.lines()).toContain("OK");
    expect(m.stdout()).not.toContain("QZX"); // the refused WRITE never reached the driver
    await m.halt();
  }, patience(60_000));

  it("comes back when it is killed: init restarts it, a waiting reader carries on, and what was typed meanwhile is kept", async () => {
    const m = await bootMachine(CONFIG, MODULES, { devices: (t) => [testConsole(t), testTimer(t)], interactive: true });
    await m.line("console-test-client: ready");
    m.type("before\n");
    await m.line("got 7: before");
    const first = await m.pidOf("console");
    await m.kill(first);
    m.type("during\n");
    await m.line(`init: console (pid ${first}) was killed (exit code 137); restarting in 100 ms`);
    await m.line(/^init: restarted console \(pid \d+\)$/);
    await m.line("got 7: during");
    m.type("after\n");
    await m.line("got 6: after");
    expect(m.faults).toEqual([]);
    await m.halt();
  }, patience(60_000));
});
