// The browser benchmarks' machine (bench/web.ts): in a dedicated worker of headless Chromium, the
// same kernel and loader as the Dogma page, timing (1) call/reply round trips between two
// processes (bench/ipc.ts's programs), with the live views' inspector watching and snapshots taken
// twice a second as the page takes them, or not; (2) the bench-* kernels rewritten vs run natively
// by the same V8; (3) sealing a page with the kernel's AES-GCM in JavaScript beside WebCrypto's.
import { Receiver } from "../src/kernel/caps/receiver.ts";
import { Rights } from "../src/kernel/caps/object-abi.ts";
import { KernelInspector } from "../src/kernel/inspect.ts";
import { Kernel } from "../src/kernel/kernel.ts";
import { PageSealer, portablePageCipher } from "../src/kernel/page-sealer.ts";
import { Loader } from "../src/loader/loader.ts";
import { Machine } from "../src/machine/machine.ts";
import { standardImportModules } from "../src/hosts/standard-imports.ts";
import { takeSnapshot } from "../src/hosts/web/worker/snapshot.ts";
import { TypedInput, webDevices } from "../src/hosts/web/worker/web-devices.ts";

export type BenchAsk =
  | { kind: "ipc"; trips: number; words: number; views: boolean }
  | { kind: "kernels"; names: string[]; runs: number }
  | { kind: "seal"; pages: number };
export type BenchRequest = BenchAsk & { id: number };

export type BenchAnswer =
  | { id: number; kind: "ipc"; nsPerRoundTrip: number; snapshots: number }
  | { id: number; kind: "kernels"; rows: Array<{ name: string; nativeMs: number; dogmaMs: number }> }
  | { id: number; kind: "seal"; portableMicros: number; webCryptoMicros: number }
  | { id: number; kind: "error"; message: string };

const scope = self as unknown as { postMessage(message: unknown, transfer?: Transferable[]): void; onmessage: ((event: MessageEvent<BenchRequest>) => void) | null };
const SNAPSHOT_MS = 500;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function program(name: string): Promise<Uint8Array> {
  const response = await fetch(new URL(`programs/${name}.wasm`, self.location.href.replace(/assets\/[^/]*$/, "")));
  if (!response.ok) throw new Error(`cannot fetch ${name}.wasm: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

function machine(memoryMiB: number): { kernel: Kernel; loader: Loader } {
  const imports = standardImportModules();
  const loader = new Loader({ importModules: imports, engineValidatesEagerly: true });
  const host = new Machine(webDevices({ terminal: { write() {} }, input: new TypedInput() }), memoryMiB << 20);
  const kernel = new Kernel(host, { imageLoader: loader, personalities: imports.filter((spec) => spec.module !== "dogma") });
  return { kernel, loader };
}

/** ns per call/reply round trip with `words` words each way; with `views`, inspected as the live views do. */
async function ipc(trips: number, words: number, views: boolean): Promise<{ nsPerRoundTrip: number; snapshots: number }> {
  const { kernel, loader } = machine(64);
  const server = await loader.load(await program("ipc-server"), "ipc-server");
  const client = await loader.load(await program("ipc-client"), "ipc-client");
  const receiver = new Receiver(16);
  if (!kernel.rootMemory.adopt(receiver, 1)) throw new Error("bench bug: no room for a Receiver");
  const inspector = new KernelInspector(kernel);
  inspector.watch(views);
  let snapshots = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  if (views) {
    timer = setInterval(() => {
      const { snapshot, transfer } = takeSnapshot(inspector, kernel, 1, 0);
      scope.postMessage({ id: 0, kind: "snapshot", snapshot }, transfer);
      snapshots++;
    }, SNAPSHOT_MS);
  }
  const start = performance.now();
  const s = kernel.spawn(server, { entry: "serve", entryArgs: [2, trips], caps: [kernel.capability(receiver, Rights.RECEIVER_RECEIVE)] });
  const c = kernel.spawn(client, { entry: "run", entryArgs: [2, trips, words], caps: [kernel.capability(receiver, Rights.RECEIVER_CALL, 1)] });
  await kernel.run();
  const ms = performance.now() - start;
  if (timer !== null) clearInterval(timer);
  inspector.watch(false);
  for (const p of [s, c]) {
    if (p.returnValue !== trips) throw new Error(`ipc: pid ${p.pid} returned ${String(p.returnValue)}, ${JSON.stringify(p.outcome)}`);
  }
  return { nsPerRoundTrip: (ms * 1e6) / trips, snapshots };
}

/** Each bench-* kernel's run(1): natively (a fresh instance) and as a Dogma process (spawn + run), medians after a warm-up. */
async function kernels(names: string[], runs: number): Promise<Array<{ name: string; nativeMs: number; dogmaMs: number }>> {
  const { kernel, loader } = machine(256);
  const rows = [];
  for (const name of names) {
    const bytes = await program(name);
    const native = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const image = await loader.load(bytes, name);
    const nativeTimes: number[] = [];
    const dogmaTimes: number[] = [];
    for (let run = 0; run <= runs; run++) {
      let start = performance.now();
      const expected = (new WebAssembly.Instance(native, {}).exports.run as (n: number) => number)(1);
      const nativeMs = performance.now() - start;
      start = performance.now();
      const process = kernel.spawn(image, { entry: "run", entryArgs: [1] });
      await kernel.run();
      const dogmaMs = performance.now() - start;
      const value = process.returnValue;
      if (value !== expected) throw new Error(`MISMATCH in ${name}: Dogma returned ${String(value)}, native ${String(expected)}`);
      if (run === 0) continue;
      nativeTimes.push(nativeMs);
      dogmaTimes.push(dogmaMs);
    }
    rows.push({ name, nativeMs: median(nativeTimes), dogmaMs: median(dogmaTimes) });
  }
  return rows;
}

/** µs to seal one 4 KiB page: the kernel's AES-256-GCM in JavaScript, and WebCrypto's (which only answers with a Promise). */
async function seal(pages: number): Promise<{ portableMicros: number; webCryptoMicros: number }> {
  const sealer = new PageSealer({ fill: (bytes) => void crypto.getRandomValues(bytes) }, portablePageCipher);
  const page = new Uint8Array(4096);
  let start = performance.now();
  for (let i = 0; i < pages; i++) sealer.seal(page, { space: 1, page: i, version: 1 });
  const portableMicros = ((performance.now() - start) * 1000) / pages;
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  const iv = new Uint8Array(12);
  start = performance.now();
  for (let i = 0; i < pages; i++) {
    new DataView(iv.buffer).setUint32(0, i, true);
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: iv }, key, page);
  }
  return { portableMicros, webCryptoMicros: ((performance.now() - start) * 1000) / pages };
}

scope.onmessage = async (event) => {
  const request = event.data;
  try {
    if (request.kind === "ipc") scope.postMessage({ id: request.id, kind: "ipc", ...(await ipc(request.trips, request.words, request.views)) });
    else if (request.kind === "kernels") scope.postMessage({ id: request.id, kind: "kernels", rows: await kernels(request.names, request.runs) });
    else scope.postMessage({ id: request.id, kind: "seal", ...(await seal(request.pages)) });
  } catch (error) {
    scope.postMessage({ id: request.id, kind: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
scope.postMessage("ready");
