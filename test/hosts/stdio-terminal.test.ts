// The host's standard streams as a machine's console (stdio-terminal.ts): the input stream is
// made only when a program reads, since Node builds process.stdin (its stream and the modules
// behind it) at its first reading.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { StdioTerminal } from "../../src/hosts/node/stdio-terminal.ts";

describe("StdioTerminal's input", () => {
  it("is not asked for by writes, raw mode off and close; a request for input makes it and reads it", async () => {
    let made = 0;
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const terminal = new StdioTerminal(() => (made++, stdin), stdout, new PassThrough());
    const raised: Array<Uint8Array | null> = [];
    const console = terminal.console({ raise: (interrupt) => raised.push((interrupt as { data: Uint8Array | null }).data) });
    expect(console.write(1, new TextEncoder().encode("hi\n"))).toBe(true);
    expect(stdout.read()?.toString()).toBe("hi\n");
    console.setRawInput?.(false);
    console.close?.();
    terminal.close();
    expect(made).toBe(0);
    // A second machine's console, which reads.
    const reader = terminal.console({ raise: (interrupt) => raised.push((interrupt as { data: Uint8Array | null }).data) });
    reader.requestInput();
    expect(made).toBe(1);
    stdin.write("typed\n");
    await new Promise((resolve) => setImmediate(resolve));
    expect(raised.map((data) => (data ? new TextDecoder().decode(data) : data))).toEqual(["typed\n"]);
    terminal.close();
    expect(made).toBe(1);
  });
});
