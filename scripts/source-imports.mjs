// The import closure of an AssemblyScript source: which files a program is compiled from. The
// build rebuilds a program when one of them changed, and names the contracts the program speaks.
import { readFile } from "node:fs/promises";
import path from "node:path";

// `import … from "./x"`, `export … from "./x"` and the bare `import "./x"`; package imports
// (no leading dot) are the compiler's own library.
const importPattern = /(?:(?:import|export)\s[^;]*?from\s+|import\s+)["'](\.[^"']+)["']/g;

/** The .ts file a relative import names (a folder's index.ts, or the file with .ts added). */
async function resolveImport(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts"), base]) {
    if (await readFile(candidate, "utf8").then(() => true, () => false)) return candidate;
  }
  return null;
}

/**
 * Every source file `entry` imports, itself included, following relative imports; `texts` keeps
 * each file's text (shared between calls, so a library read once serves every program).
 */
export async function sourcesOf(entry, texts) {
  const seen = new Set();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    let text = texts.get(file);
    if (text === undefined) {
      text = await readFile(file, "utf8");
      texts.set(file, text);
    }
    for (const match of text.matchAll(importPattern)) {
      const target = await resolveImport(file, match[1]);
      if (target) pending.push(target);
    }
  }
  return seen;
}
