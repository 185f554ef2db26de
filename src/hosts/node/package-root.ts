import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Dogma's package folder (the one holding its package.json, build/ and user/): the nearest above
 * this module's own file. That file is src/hosts/node/package-root.ts when the sources run, and a
 * chunk in build/node/ when the bundled command line runs (cli-bundle.js): a path written relative
 * to one would be wrong in the other.
 */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
