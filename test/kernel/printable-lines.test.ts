// The lines the kernel and the loader make of what a binary chose (an import's name, an image's
// name, an abort's message) are printed on a person's terminal by the host (`dogma: …`), the
// shell and the debugger: a control character in them is written as \xNN, so that a binary
// refused before it ran, or a process that holds no console, cannot drive that terminal (clear
// it, set its title, write its clipboard). Before (redteam8), they went out as the binary wrote them.
import { describe, expect, it } from "vitest";
import { LoadError } from "../../src/loader/load-error.ts";
import { describeProcessFault } from "../../src/kernel/kernel.ts";
import { imageName } from "../../src/kernel/caps/image-create.ts";
import { testMachine } from "../helpers/test-host.ts";
import { watToBinary } from "../loader/wat.ts";

const t = testMachine();
/** Any control character a terminal acts on (C0 but tab, DEL, C1). */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

describe("lines made of a binary's words", () => {
  it("a refusal quotes an import's name with its control characters written out", async () => {
    const bytes = watToBinary(`(module (import "\\1b]0;owned\\07\\1b[2J" "f" (func)) (memory 1 1) (func (export "_start")))`);
    const error = await t.loader.load(bytes, "evil\u001b[31m.wasm").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadError);
    const message = (error as LoadError).message;
    expect(message).not.toMatch(CONTROL);
    expect(message).toContain("\\x1b]0;owned\\x07\\x1b[2J");
    expect(message.startsWith("evil\\x1b[31m.wasm: ")).toBe(true);
  });

  it("a fault's line and record write out the control characters of the image's name and of an abort's message", async () => {
    // AssemblyScript's abort(message, file, line, column): a string is UTF-16 after its byte length.
    const evil = "\u001b]52;c;c3RvbGVu\u0007\u001b[2J\r\n";
    const utf16 = [...evil].map((c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}\\00`).join("");
    const bytes = watToBinary(`(module (import "env" "abort" (func $abort (param i32 i32 i32 i32))) (memory 1 1)
      (data (i32.const 4096) "\\${(evil.length * 2).toString(16).padStart(2, "0")}\\00\\00\\00${utf16}")
      (func (export "_start") (call $abort (i32.const 4100) (i32.const 0) (i32.const 1) (i32.const 2))))`);
    const process = t.kernel.spawn(await t.loader.load(bytes, "title\u001b]0;x\u0007.wasm"));
    await t.kernel.run();
    expect(process.outcome?.kind).toBe("faulted");
    expect(process.fault!.message).toContain("\\x1b]52;c;c3RvbGVu\\x07");
    expect(process.fault!.message).not.toMatch(CONTROL);
    const line = describeProcessFault(process);
    expect(line).toContain("title\\x1b]0;x\\x07.wasm");
    expect(line).not.toMatch(CONTROL);
    expect(t.faults.join("\n")).not.toMatch(CONTROL);
    expect(t.faults).toHaveLength(1);
  });
});

describe("an image's name as MEMORY_CREATE_IMAGE takes it", () => {
  it("keeps its control characters written out, so that ps and every line naming it print it as words", () => {
    const bytes = new Uint8Array(32);
    bytes.set(new TextEncoder().encode("\u001b]0;owned\u0007sh"));
    expect(imageName(new Uint32Array(bytes.buffer))).toBe("\\x1b]0;owned\\x07sh");
    bytes.fill(0).set(new TextEncoder().encode("hello"));
    expect(imageName(new Uint32Array(bytes.buffer))).toBe("hello");
  });
});
