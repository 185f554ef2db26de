import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dogmaAbi } from "../src/kernel/abi.ts";
import { Status } from "../src/kernel/errors.ts";

/** docs/ABI.md, libdogma and the kernel must say the same thing; the kernel is the source. */
const root = join(import.meta.dirname, "..");
const doc = readFileSync(join(root, "docs/ABI.md"), "utf8");
const libErrors = readFileSync(join(root, "user/lib/errors.ts"), "utf8");
const libSys = readFileSync(join(root, "user/lib/sys.ts"), "utf8");

const asType: Record<string, string> = { i32: "i32", i64: "i64", f32: "f32", f64: "f64" };

describe("ABI documentation and libdogma", () => {
  it("lists every status code with its number", () => {
    const rows = [...doc.matchAll(/^\| (-?\d+) \| `(\w+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
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
});
