import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contractDigest } from "../../src/contracts/digest.ts";

/** The build gives every program the contracts it speaks (scripts/contract-modules.mjs): its `dogma.contracts` section's lines. */
const root = join(import.meta.dirname, "../..");
function spoken(program: string): string[] {
  const module = new WebAssembly.Module(readFileSync(join(root, "build/user", `${program}.wasm`)));
  const sections = WebAssembly.Module.customSections(module, "dogma.contracts");
  expect(sections.length, program).toBeLessThanOrEqual(1);
  if (sections.length === 0) return [];
  return new TextDecoder().decode(sections[0]).split("\n").filter((line) => line.length > 0);
}
const identity = (name: string) => contractDigest(readFileSync(join(root, "contracts", `${name}.contract`), "utf8"));

describe("the contracts built into binaries", () => {
  it("names each contract a program speaks, with the identity of the text it was built from, and its side", () => {
    const log = identity("log");
    const timer = identity("timer");
    const registry = identity("registry");
    const console = identity("console");
    const fs = identity("fs");
    expect(spoken("log")).toEqual([`${log} server`, `${registry} client`]);
    expect(spoken("timer")).toEqual([`${log} client`, `${registry} client`, `${timer} server`]);
    expect(spoken("timer-test-client")).toEqual([`${log} client`, `${registry} client`, `${timer} client`]);
    // Every libdogma program prints through the log service and may look services up: a client of Log and Registry.
    expect(spoken("hello")).toEqual([`${log} client`, `${registry} client`]);
    // init gives the registry's Receiver its contract, and the registry serves it.
    expect(spoken("init")).toContain(`${registry} server`);
    expect(spoken("registry")).toContain(`${registry} server`);
    expect(spoken("console")).toContain(`${console} server`);
    expect(spoken("fs")).toContain(`${fs} server`);
    expect(spoken("hostfs")).toContain(`${fs} server`);
  });

  it("gives a program that speaks no contract no section", () => {
    expect(spoken("bench-hash")).toEqual([]);
  });
});

describe("docs/CONTRACTS.md", () => {
  it("shows each of the system's contracts as the text the build compiles (the same identity)", () => {
    const doc = readFileSync(join(root, "docs/CONTRACTS.md"), "utf8");
    const blocks = [...doc.matchAll(/```\n(contract (\w+) \{[\s\S]*?\n\})\n```/g)];
    const shown = new Map(blocks.map((m) => [m[2]!, contractDigest(m[1]!)]));
    const names = readdirSync(join(root, "contracts")).filter((f) => f.endsWith(".contract")).map((f) => f.slice(0, -".contract".length));
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const name of names) {
      const id = identity(name);
      expect(shown.get(id.split("@")[0]!), name).toBe(id);
    }
  });
});

describe("the protocols' docs", () => {
  it("show a contract's text, where they show it, as the text the build compiles (docs/BOOT.md, DRIVERS.md, FS.md ...)", () => {
    const byName = new Map(
      readdirSync(join(root, "contracts")).filter((f) => f.endsWith(".contract")).map((f) => {
        const id = identity(f.slice(0, -".contract".length));
        return [id.split("@")[0]!, id] as const;
      }),
    );
    let shown = 0;
    for (const doc of readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md") && f !== "CONTRACTS.md")) {
      const text = readFileSync(join(root, "docs", doc), "utf8");
      for (const m of text.matchAll(/```\n(contract (\w+) \{[\s\S]*?\n\})\n```/g)) {
        expect(contractDigest(m[1]!), `${doc}: contract ${m[2]}`).toBe(byName.get(m[2]!));
        shown++;
      }
    }
    expect(shown).toBeGreaterThanOrEqual(3);
  });
});

describe("manifests against the code", () => {
  it("a program whose manifest provides or needs a contract speaks it, on that side, with the same identity", () => {
    const contracts = new Set(readdirSync(join(root, "contracts")).filter((f) => f.endsWith(".contract")).map((f) => identity(f.slice(0, -".contract".length)).split("@")[0]!));
    let checked = 0;
    for (const file of readdirSync(join(root, "build/user")).filter((f) => f.endsWith(".wasm"))) {
      const program = file.slice(0, -".wasm".length);
      const module = new WebAssembly.Module(readFileSync(join(root, "build/user", file)));
      const manifest = WebAssembly.Module.customSections(module, "dogma.manifest")[0];
      if (!manifest) continue;
      const speaks = spoken(program);
      for (const line of new TextDecoder().decode(manifest).split("\n")) {
        const match = /^\s*(provides|needs)\s+\S+\s+(\w+)(@[0-9a-f]+)?/.exec(line.replace(/#.*/, ""));
        if (!match || !contracts.has(match[2]!)) continue;
        const side = match[1] === "provides" ? "server" : "client";
        expect(speaks, `${program}: ${line.trim()}`).toContain(`${match[2]}${match[3] ?? ""} ${side}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(6);
  });
});
