// The build's manifest step (docs/MANIFESTS.md): a program with a manifest beside its source
// (user/services/fs.manifest beside fs.ts) gets it as its binary's `dogma.manifest` custom section.
// A manifest that does not parse, or names another program, fails the build with its file and
// line. Called by build-user.mjs once a program is compiled; a program without one is left alone.
import { existsSync } from "node:fs";
import { readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseManifest, withContractDigests, withManifestSection } from "../src/boot/manifest.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Each contract of contracts/*.contract by name: `Name@digest` (src/contracts/digest.ts, the
 * contract channels' identity); empty while the tree has no contract compiler. Read once a build.
 */
let digests = null;
export async function contractDigests(dir = path.join(root, "contracts")) {
  if (digests) return digests;
  digests = new Map();
  const compiler = path.join(root, "src", "contracts", "digest.ts");
  if (!existsSync(compiler) || !existsSync(dir)) return digests;
  const { contractDigest } = await import(compiler);
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".contract")).sort()) {
    const identity = contractDigest(await readFile(path.join(dir, file), "utf8"));
    digests.set(identity.split("@")[0], identity);
  }
  return digests;
}

/** The manifest file of user/<folder>/<name>.ts. */
export function manifestPath(userDir, { folder, name }) {
  return path.join(userDir, folder, `${name}.manifest`);
}

/**
 * When its manifest or a contract last changed, or -Infinity without a manifest: a program is
 * rebuilt when either does (its manifest carries the contracts' digests).
 */
export async function manifestMtime(userDir, program) {
  let newest;
  try {
    newest = (await stat(manifestPath(userDir, program))).mtimeMs;
  } catch {
    return -Infinity;
  }
  const dir = path.join(root, "contracts");
  for (const file of await readdir(dir).catch(() => [])) {
    if (file.endsWith(".contract")) newest = Math.max(newest, (await stat(path.join(dir, file))).mtimeMs);
  }
  return newest;
}

/**
 * Puts the program's manifest into the binary at `output`, each contract it names with its digest
 * (contractDigests); throws with the file and line when it is bad.
 */
export async function embedManifest(userDir, program, output, contracts = undefined) {
  const file = manifestPath(userDir, program);
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return;
  }
  const where = path.relative(path.dirname(userDir), file);
  let manifest;
  try {
    manifest = parseManifest(text);
    if (manifest.name !== program.name) throw new Error(`names the program "${manifest.name}"; it is beside ${program.name}.ts`);
    text = withContractDigests(text, contracts ?? (await contractDigests()));
  } catch (error) {
    await rm(output, { force: true }); // built again once the manifest is mended
    throw new Error(`${where}: ${error.message}`);
  }
  await writeFile(output, withManifestSection(await readFile(output), text));
}
