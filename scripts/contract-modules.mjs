// The build's contract step (called by build-user.mjs): compiles every contracts/<name>.contract
// and writes its AssemblyScript module, user/lib/contracts/<name>.ts, only when its text changed
// (so that programs are not rebuilt for nothing). A contract that does not compile stops the
// build with its file, line and column.
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";

export async function writeContractModules(root) {
  const { generateAssemblyScript } = await import("../src/contracts/generate-assemblyscript.ts");
  const sourceDir = path.join(root, "contracts");
  const outDir = path.join(root, "user", "lib", "contracts");
  const files = (await readdir(sourceDir).catch(() => [])).filter((f) => f.endsWith(".contract")).sort();
  await mkdir(outDir, { recursive: true });
  for (const file of files) {
    const source = `contracts/${file}`;
    const text = await readFile(path.join(sourceDir, file), "utf8");
    const module = generateAssemblyScript(text, source);
    const output = path.join(outDir, `${file.slice(0, -".contract".length)}.ts`);
    const old = await readFile(output, "utf8").catch(() => null);
    if (old !== module) await writeFile(output, module);
  }
}
