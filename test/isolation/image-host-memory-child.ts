// Run by image-host-memory.test.ts in a Node process of its own (`node --expose-gc`): loads
// `count` distinct binaries of the same generated code with the loader as the Node host sets it
// up, holds them, and prints as JSON what the host's resident set grew by and what their Images
// would be charged (LoadedImage.hostBytes), so the test can compare the two without the noise of
// its own process.
import { generatedModule } from "../../bench/generated-module.ts";
import { applyEngineFlags } from "../../src/hosts/node/engine-flags.ts";
import { nodeSha256 } from "../../src/hosts/node/node-loader.ts";
import { standardImportModules } from "../../src/hosts/standard-imports.ts";
import type { LoadedImage } from "../../src/kernel/image.ts";
import { Loader } from "../../src/loader/loader.ts";

const [functions, count] = process.argv.slice(2).map(Number) as [number, number];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
/** `binary` with a custom section of its own at the end: another binary to the loader, of the same code. */
function variant(binary: Uint8Array, i: number): Uint8Array {
  const payload = new TextEncoder().encode(`variant ${i}`);
  return new Uint8Array([...binary, 0, payload.length + 1, payload.length, ...payload]);
}

applyEngineFlags();
const loader = new Loader({ importModules: standardImportModules(), workers: null, sha256: nodeSha256 });
const binary = generatedModule(functions);
// The first loads (not counted) bring in the loader's code and the host's one-time allocations
// (the compiler threads' heaps: 40-50 MB measured, whatever the number of images after).
const warm = [await loader.load(variant(binary, -1), "warm"), await loader.load(variant(binary, -2), "warm"), await loader.load(variant(binary, -3), "warm")];
await settle();
const before = process.memoryUsage().rss;
const held: LoadedImage[] = [];
for (let i = 0; i < count; i++) held.push(await loader.load(variant(binary, i), `v${i}`));
await settle();
const grown = process.memoryUsage().rss - before;
console.log(JSON.stringify({ binaryBytes: binary.length, grown, charged: held.map((image) => image.hostBytes ?? 0), warm: warm.length }));
