import type { Hash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./package-root.ts";

/** The code that decides what a rewrite produces: the loader, and the kernel whose layout (TLBs, fuel, imports) it writes into programs. */
const REWRITING_CODE = ["src/loader", "src/kernel"];

/**
 * The identity of the sources the bundled command line was built from, written into the bundle
 * by scripts/build-cli.mjs (which runs it only while those sources are unchanged: cli-bundle.js);
 * undefined when the sources run.
 */
declare const __DOGMA_LOADER_IDENTITY__: string | undefined;

let identity: string | null = typeof __DOGMA_LOADER_IDENTITY__ === "string" ? __DOGMA_LOADER_IDENTITY__ : null;

/**
 * A digest of the source of the rewriting code (LoaderOptions.codeIdentity): REWRITE_VERSION says
 * when the rewrite's output changes on purpose; this catches the rest (a rewrite changed without
 * a bump, two checkouts or releases sharing `~/.cache/dogma`). Reading and hashing the ~0.5 MB of
 * source costs a few milliseconds (15 on the slow bench machine), once per process; the bundled
 * command line has it from its build.
 */
export function loaderIdentity(): string {
  if (identity !== null) return identity;
  identity = sourceIdentity();
  return identity;
}

/** loaderIdentity computed from the sources as they are now. */
export function sourceIdentity(): string {
  // node:crypto loaded here, not by every start's import of this module (node-loader.ts nodeSha256).
  const hash = process.getBuiltinModule("node:crypto").createHash("sha256");
  for (const folder of REWRITING_CODE) addSources(hash, join(packageRoot, folder));
  return hash.digest("hex").slice(0, 32);
}

function addSources(hash: Hash, dir: string): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) addSources(hash, path);
    else if (entry.name.endsWith(".ts")) hash.update(`${entry.name}\0`).update(readFileSync(path));
  }
}
