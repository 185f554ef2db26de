// The build's contract step (called by build-user.mjs): compiles every contracts/<name>.contract
// and writes its AssemblyScript module, user/lib/contracts/<name>.ts, only when its text changed
// (so that programs are not rebuilt for nothing). A contract that does not compile stops the
// build with its file, line and column.
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { sourcesOf } from "./source-imports.mjs";
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

// ---- The contracts a binary speaks: its custom section ------------------------------------------

/** The custom section every built program carries: one line per contract it speaks, `Name@digest client|server`. */
export const CONTRACTS_SECTION = "dogma.contracts";

/**
 * Appends to the built binary `output` the custom section naming the contracts its sources speak:
 * a contract whose generated module (user/lib/contracts/NAME.ts) it imports, directly or not; as
 * its server when one of its own sources (outside user/lib) calls the contract's attach function.
 */
export async function embedContractSection(output, source, root) {
  const { tableDigest } = await import("../src/contracts/digest.ts");
  const { compileContract } = await import("../src/contracts/compile.ts");
  const texts = new Map();
  const files = await sourcesOf(source, texts);
  const generatedDir = path.join(root, "user", "lib", "contracts") + path.sep;
  const libDir = path.join(root, "user", "lib") + path.sep;
  const lines = [];
  for (const file of [...files].sort()) {
    if (!file.startsWith(generatedDir)) continue;
    const name = path.basename(file, ".ts");
    const text = await readFile(path.join(root, "contracts", `${name}.contract`), "utf8");
    const compiled = compileContract(text);
    const attach = `${compiled.name[0].toLowerCase()}${compiled.name.slice(1)}Attach(`;
    const serves = [...files].some((f) => !f.startsWith(libDir) && texts.get(f).includes(attach));
    lines.push(`${compiled.name}@${tableDigest(compiled.table)} ${serves ? "server" : "client"}`);
  }
  if (lines.length === 0) return;
  const payload = new TextEncoder().encode(lines.join("\n") + "\n");
  const name = new TextEncoder().encode(CONTRACTS_SECTION);
  const body = [...leb128(name.length), ...name, ...payload];
  const section = Uint8Array.from([0, ...leb128(body.length), ...body]);
  const wasm = await readFile(output);
  await writeFile(output, Buffer.concat([wasm, section]));
}

function leb128(value) {
  const bytes = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}
