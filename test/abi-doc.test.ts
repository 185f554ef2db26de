import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dogmaAbi } from "../src/kernel/abi.ts";
import { KernelMessage, ObjectKind, Op, Rights } from "../src/kernel/caps/object-abi.ts";
import { Status } from "../src/kernel/errors.ts";
import { FAULT_KINDS } from "../src/kernel/fault.ts";
import { PROCESS_STATES } from "../src/kernel/process-descriptor.ts";
import { wasiSignatures } from "../src/personality/wasi/signatures.ts";

/** docs/ABI.md, libdogma and the kernel must say the same thing; the kernel is the source. */
const root = join(import.meta.dirname, "..");
const doc = readFileSync(join(root, "docs/ABI.md"), "utf8");
const libErrors = readFileSync(join(root, "user/lib/errors.ts"), "utf8");
const libSys = readFileSync(join(root, "user/lib/sys.ts"), "utf8");
const libAbi = readFileSync(join(root, "user/lib/abi.ts"), "utf8");

/** The text of the section under a heading of docs/ABI.md, up to the next heading. */
function section(heading: string): string {
  const start = doc.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`docs/ABI.md has no heading "${heading}"`);
  const rest = doc.slice(start + heading.length + 1);
  const end = rest.search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** libdogma constants with a prefix: name without the prefix → value. */
function libConstants(prefix: string): Record<string, number> {
  const found = [...libAbi.matchAll(new RegExp(`export const ${prefix}(\\w+): [iu]32 = (-?(?:0x[0-9a-fA-F_]+|\\d+));`, "g"))];
  return Object.fromEntries(found.map((m) => [m[1], Number(m[2]!.replaceAll("_", ""))]));
}

const asType: Record<string, string> = { i32: "i32", i64: "i64", f32: "f32", f64: "f64" };

describe("ABI documentation and libdogma", () => {
  it("lists every status code with its number", () => {
    const rows = [...section("## Status codes").matchAll(/^\| (-?\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual(Status);
  });

  it("gives libdogma the same status codes", () => {
    const consts = [...libErrors.matchAll(/export const (\w+): i32 = (-?\d+);/g)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(consts)).toEqual(Status);
  });

  it("documents every dogma call with its signature", () => {
    const rows = new Map([...doc.matchAll(/^\| `(\w+)` \| `\(([^)]*)\) -> ([^`]*)` \|/gm)].map((m) => [m[1]!, [m[2]!, m[3]!]]));
    expect([...rows.keys()].sort()).toEqual(Object.keys(dogmaAbi.functions).sort());
    for (const [name, signature] of Object.entries(dogmaAbi.functions)) {
      const [params, result] = rows.get(name)!;
      const documentedTypes = params.split(",").filter((p) => p.trim()).map((p) => (p.includes(": i64") ? "i64" : "i32"));
      expect(documentedTypes, name).toEqual([...signature.params]);
      const documentedResult = result.trim() === "()" ? [] : [result.includes("i64") ? "i64" : "i32"];
      expect(documentedResult, name).toEqual([...signature.results]);
    }
  });

  it("declares every dogma call in libdogma with the kernel's signature", () => {
    const decls = new Map(
      [...libSys.matchAll(/@external\("dogma", "(\w+)"\)\s*export declare function \w+\(([^)]*)\): (\w+);/g)].map((m) => [m[1]!, [m[2]!, m[3]!]]),
    );
    expect([...decls.keys()].sort()).toEqual(Object.keys(dogmaAbi.functions).sort());
    for (const [name, signature] of Object.entries(dogmaAbi.functions)) {
      const [params, result] = decls.get(name)!;
      const types = params.split(",").filter((p) => p.trim()).map((p) => p.split(":")[1]!.trim());
      expect(types, name).toEqual(signature.params.map((t) => asType[t]));
      expect(result === "void" ? [] : [result], name).toEqual([...signature.results]);
    }
  });

  it("documents every object kind, right, operation and kernel message with its number", () => {
    const kinds = [...section("### Object kinds").matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(kinds)).toEqual(ObjectKind);
    const rights = [...section("### Rights").matchAll(/^\| `(\w+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rights)).toEqual(Rights);
    const ops = [...section("### Operations").matchAll(/^\| `(\w+)` \| `(0x[0-9a-f]+)` \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(ops)).toEqual(Op);
    const messages = [...section("### Kernel messages").matchAll(/^\| `(\w+)` \| `(0x[0-9a-f]+)` \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(messages)).toEqual(KernelMessage);
  });

  it("numbers process states and fault kinds as the kernel does", () => {
    const text = section("### Process states and fault kinds").replaceAll("\n", " ");
    const states = [...text.split("fault kind")[0]!.matchAll(/(\d+) `([\w-]+)`/g)].map((m) => [Number(m[1]), m[2]]);
    expect(states).toEqual(PROCESS_STATES.map((state, i) => [i, state]));
    const faults = [...text.split("fault kind")[1]!.matchAll(/(\d+)\s+`([\w-]+)`/g)].map((m) => [Number(m[1]), m[2]]);
    expect(faults).toEqual(FAULT_KINDS.map((kind, i) => [i, kind]));
  });

  it("gives libdogma the same kinds, rights, operations and kernel messages", () => {
    expect(libConstants("KIND_")).toEqual(ObjectKind);
    expect(libConstants("RIGHT_")).toEqual(Rights);
    expect(libConstants("OP_")).toEqual(Op);
    expect(libConstants("MSG_")).toEqual(KernelMessage);
  });

  it("says what every WASI preview1 function does", () => {
    const rows = [...section("## WASI preview1").matchAll(/^\| (`\w+`(?:, `\w+`)*) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((n) => n[1]!));
    expect(rows.sort()).toEqual(Object.keys(wasiSignatures).sort());
  });
});
