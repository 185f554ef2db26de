// The build's manifest step (docs/MANIFESTS.md): a program with a manifest beside its source
// (user/services/fs.manifest beside fs.ts) gets it as its binary's `dogma.manifest` custom section.
// A manifest that does not parse, or names another program, fails the build with its file and
// line. Called by build-user.mjs once a program is compiled; a program without one is left alone.
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseManifest, withManifestSection } from "../src/boot/manifest.ts";

/** The manifest file of user/<folder>/<name>.ts. */
export function manifestPath(userDir, { folder, name }) {
  return path.join(userDir, folder, `${name}.manifest`);
}

/** Its modification time, or -Infinity without one (a program is rebuilt when its manifest changes). */
export async function manifestMtime(userDir, program) {
  try {
    return (await stat(manifestPath(userDir, program))).mtimeMs;
  } catch {
    return -Infinity;
  }
}

/** Puts the program's manifest into the binary at `output`; throws with the file and line when it is bad. */
export async function embedManifest(userDir, program, output) {
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
  } catch (error) {
    await rm(output, { force: true }); // built again once the manifest is mended
    throw new Error(`${where}: ${error.message}`);
  }
  await writeFile(output, withManifestSection(await readFile(output), text));
}
