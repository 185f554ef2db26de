import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layers of the blueprint, lowest first. A file may import from its own layer and lower
 * ones; only hosts may touch Node or the DOM.
 */
const layers = ["machine", "kernel", "contracts", "personality", "loader", "boot", "hosts"] as const;
const rank: Record<string, number> = { machine: 0, kernel: 1, contracts: 2, personality: 2, loader: 2, boot: 3, hosts: 4 };
const src = join(import.meta.dirname, "../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function layerOf(file: string): string {
  return relative(src, file).split("/")[0]!;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

const hostApis = /^(node:|fs$|path$|os$|child_process$|worker_threads$|crypto$|process$)/;
// A host global is used through a property (`document.foo`). `window` is left out: DMA windows
// are everywhere below the hosts, and DOM code cannot get far without `document` or `navigator`.
const domGlobals = /(?<![\w$.])(?:(?:document|navigator|localStorage|globalThis\.window)\s*[.[]|XMLHttpRequest\b|Buffer\b|process\.(?:env|argv|stdout|stdin|exit)\b)/;

describe("layering", () => {
  const all = files(src).filter((file) => layerOf(file) !== "types");

  it("knows every folder under src", () => {
    for (const file of all) expect(layers, file).toContain(layerOf(file));
  });

  it("imports only downward", () => {
    for (const file of all) {
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) continue;
        const target = layerOf(join(file, "..", spec));
        const from = layerOf(file);
        const allowed = target === from || rank[target]! < rank[from]!;
        expect(allowed, `${relative(src, file)} imports ${spec} (${from} → ${target})`).toBe(true);
      }
    }
  });

  it("keeps Node and the DOM out of everything below the hosts", () => {
    for (const file of all.filter((f) => layerOf(f) !== "hosts")) {
      for (const spec of importsOf(file)) expect(hostApis.test(spec), `${relative(src, file)} imports ${spec}`).toBe(false);
      const code = readFileSync(file, "utf8")
        .replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "")
        .replace(/"[^"\n]*"|'[^'\n]*'/g, '""');
      expect(code.match(domGlobals)?.[0], `${relative(src, file)} uses a host global`).toBeUndefined();
    }
  });

  it("would catch a violation", () => {
    expect(hostApis.test("node:fs")).toBe(true);
    expect(domGlobals.test("const x = process.env.HOME")).toBe(true);
    expect(domGlobals.test("document.addEventListener(x)")).toBe(true);
    expect(domGlobals.test("window.readWord(8)")).toBe(false);
    expect(domGlobals.test("const b = Buffer.from(x)")).toBe(true);
    expect(domGlobals.test("attachDma(window: DmaWindow | null): void")).toBe(false);
    expect(rank["hosts"]! < rank["kernel"]!).toBe(false);
  });
});
