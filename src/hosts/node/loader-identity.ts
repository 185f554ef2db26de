import { createHash, type Hash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The code that decides what a rewrite produces: the loader, and the kernel whose layout (TLBs, fuel, imports) it writes into programs. */
const REWRITING_CODE = ["../../loader", "../../kernel"];

let identity: string | null = null;

/**
 * A digest of the source of the rewriting code (LoaderOptions.codeIdentity): REWRITE_VERSION says
 * when the rewrite's output changes on purpose; this catches the rest (a rewrite changed without
 * a bump, two checkouts or releases sharing `~/.cache/dogma`). Reading and hashing the ~0.5 MB of
 * source costs a few milliseconds, once per process.
 */
export function loaderIdentity(): string {
  if (identity !== null) return identity;
  const hash = createHash("sha256");
  for (const folder of REWRITING_CODE) addSources(hash, fileURLToPath(new URL(folder, import.meta.url)));
  identity = hash.digest("hex").slice(0, 32);
  return identity;
}

function addSources(hash: Hash, dir: string): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) addSources(hash, path);
    else if (entry.name.endsWith(".ts")) hash.update(`${entry.name}\0`).update(readFileSync(path));
  }
}
