/**
 * The machine's thread: a dedicated worker running the same boot as `dogma boot` (process 1, the
 * default config, drivers, file system, shell) on browser devices. The page sends keys, files and
 * view requests; this answers with console output, snapshots and the disk. One machine per worker:
 * the page makes a new worker to boot another disk.
 */
import { modulesOf, startedOnly } from "../../../boot/config-modules.ts";
import type { BootImage, BootModule } from "../../../boot/boot-image.ts";
import { runSystem } from "../../../boot/system.ts";
import { statusName } from "../../../kernel/errors.ts";
import { KernelInspector } from "../../../kernel/inspect.ts";
import type { Kernel } from "../../../kernel/kernel.ts";
import { LoadError } from "../../../loader/load-error.ts";
import { Loader } from "../../../loader/loader.ts";
import { Machine } from "../../../machine/machine.ts";
import { standardImportModules } from "../../standard-imports.ts";
import { checkSuperblock, BLOCK_BYTES } from "../disk-check.ts";
import { hasJspi, NO_JSPI_MESSAGE } from "../jspi.ts";
import type { BootRequest, PageMessage, WorkerMessage } from "../protocol.ts";
import { GivenFilesShare } from "./given-files-share.ts";
import { type BrowserDisk, openDisk } from "./browser-disk.ts";
import { CacheStorageModuleCache } from "./module-cache.ts";
import { takeSnapshot } from "./snapshot.ts";
import { TypedInput, webDevices } from "./web-devices.ts";
import { webPageCipher } from "./web-page-cipher.ts";

/** The build's digest of the rewriting code (src/hosts/web/build.ts defines it; "" where nothing did). */
declare const __DOGMA_LOADER_IDENTITY__: string | undefined;
const LOADER_IDENTITY = typeof __DOGMA_LOADER_IDENTITY__ === "string" ? __DOGMA_LOADER_IDENTITY__ : "";

/** A new disk's size: 64 MiB, as `dogma boot` makes one. */
const DISK_BYTES = 64 << 20;

const scope = self as unknown as { postMessage(message: WorkerMessage, transfer?: Transferable[]): void; onmessage: ((event: MessageEvent<PageMessage>) => void) | null };
const post = (message: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

const input = new TypedInput();
const share = new GivenFilesShare();
let disk: BrowserDisk | null = null;
let loader: Loader | null = null;
let kernel: Kernel | null = null;
let machine: Machine | null = null;
let inspector: KernelInspector | null = null;
let viewsOn = false;

scope.onmessage = (event) => {
  handle(event.data).catch((error: unknown) => post({ kind: "fatal", message: messageOf(error) }));
};
post({ kind: "ready" });

async function handle(message: PageMessage): Promise<void> {
  switch (message.kind) {
    case "boot":
      return boot(message);
    case "input":
      return input.type(message.bytes);
    case "give":
      share.give(message.entries);
      return post({ kind: "status", text: `/host now holds: ${share.names.join(", ")}` });
    case "check-binary":
      return checkBinary(message.name, new Uint8Array(message.bytes));
    case "views":
      viewsOn = message.on;
      inspector?.watch(message.on);
      return;
    case "snapshot":
      return snapshot(message.capsOf, message.timelineAfterNs);
    case "panel":
      return panel(message.id, message.operation, message.pid);
    case "halt":
      if (!machine) throw new Error("the machine has not booted yet");
      return machine.power.requestHalt();
    case "download-disk": {
      if (!disk) throw new Error("there is no disk to download");
      await disk.backend.flush();
      const bytes = disk.readAll();
      return post({ kind: "disk-image", bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
    }
    case "shutdown":
      machine?.powerOff();
      await disk?.backend.flush();
      disk?.close();
      disk = null;
      return post({ kind: "shut-down" });
  }
}

async function boot(request: BootRequest): Promise<void> {
  if (!hasJspi()) return post({ kind: "fatal", message: NO_JSPI_MESSAGE });
  const opened = await openDisk(request.store, DISK_BYTES);
  disk = opened;
  if (request.replaceWith) await opened.replace(new Uint8Array(request.replaceWith));
  if (request.format) await opened.backend.write(0, new Uint8Array(BLOCK_BYTES)).then(() => opened.backend.flush());
  const verdict = checkSuperblock(await opened.backend.read(0, BLOCK_BYTES), opened.backend.size);
  post({ kind: "disk", store: opened.store, bytes: opened.backend.size, fresh: opened.fresh || (verdict.ok && verdict.fresh), note: opened.note });
  // Refused, the disk stays open (and untouched) so that it can be downloaded before a format.
  if (!verdict.ok) return post({ kind: "disk-refused", reason: verdict.reason });
  const fetching = performance.now();
  const image = await bootImage(request.bootBase, request.format === true);
  const fetchMs = performance.now() - fetching;
  const imports = standardImportModules();
  const cache = request.cache ? new CacheStorageModuleCache() : null;
  // The page's V8 runs with its default flags: it validates every body when it compiles.
  loader = new Loader({ importModules: imports, cache: cache?.available ? cache : null, codeIdentity: LOADER_IDENTITY, engineValidatesEagerly: true });
  const started = performance.now();
  const end = await runSystem(
    {
      makeMachine: () => new Machine(webDevices({ terminal: { write: writeOutput }, input, disk: opened.backend, share }), request.memoryBytes),
      loader,
      kernelOptions: {
        personalities: imports.filter((spec) => spec.module !== "dogma"),
        pageCipher: webPageCipher,
        onFault: (_process, line) => writeOutput(2, new TextEncoder().encode(`dogma: ${line}\n`)),
      },
      log: (line) => post({ kind: "status", text: line }),
      progress: { loading: (name, index, count) => post({ kind: "status", text: `loading ${name} (${index + 1}/${count})` }) },
      booted: (booting, booted) => {
        kernel = booting;
        machine = booted;
        inspector = new KernelInspector(booting);
        inspector.watch(viewsOn);
        const stats = loader!.stats;
        post({ kind: "booted", cachedModules: stats.diskHits + stats.memoryHits, rewrittenModules: stats.rewrites, fetchMs, loadMs: performance.now() - started });
      },
    },
    image,
  );
  inspector?.watch(false);
  await opened.backend.flush();
  post({ kind: "ended", reason: end.reason, halted: end.halted, status: end.status });
}

/** Console output to the page's terminal: a copy of the bytes (the machine reuses its buffers), handed over without another. */
function writeOutput(stream: 1 | 2, bytes: Uint8Array): void {
  const copy = bytes.slice();
  post({ kind: "output", stream, bytes: copy }, [copy.buffer as ArrayBuffer]);
}

/** The config and the modules it names, from the built page's boot/ folder. */
/**
 * The boot image from the page's files. `format`: the person asked for a format, so the boot info
 * carries `param format ID` (a fresh ID, as `dogma boot --format` gives), which the file system
 * takes as leave to format whatever the disk holds (docs/FS.md).
 */
async function bootImage(base: string, format: boolean): Promise<BootImage> {
  const config = new TextDecoder().decode(await fetched(new URL("init.conf", base).href, "the config"));
  const named = async (name: string): Promise<BootModule> => ({ name, bytes: await fetched(new URL(`${name}.wasm`, base).href, `boot module ${name}`) });
  // A `start` line's program the page does not carry was added with `install`: init reads it from the disk.
  const installed = startedOnly(config);
  const optional = async (name: string): Promise<BootModule | null> => (installed.has(name) ? named(name).catch(() => null) : named(name));
  const [init, ...found] = await Promise.all(["init", ...modulesOf(config)].map(optional));
  const modules = found.filter((m): m is BootModule => m !== null);
  // Verbose: the page is where a person watches the machine (its live views beside the terminal),
  // so what the services and init say shows on its terminal as it comes (docs/BOOT.md "Quiet boot").
  const params: Record<string, string> = {
    verbose: "1",
    ...(format ? { format: Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("") } : {}),
  };
  return { init: init!, modules, config, params };
}

async function fetched(url: string, what: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${what} (${url}): ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** A binary dropped on the page: does the loader take it? (It is in /host either way.) */
async function checkBinary(name: string, bytes: Uint8Array): Promise<void> {
  if (!loader) return post({ kind: "binary-checked", name, accepted: false, message: "the machine has not booted yet" });
  try {
    const image = await loader.load(bytes, name);
    // Only checked: nothing runs it from here (the shell loads it again from /host, from the cache).
    loader.release(image);
    post({ kind: "binary-checked", name, accepted: true, message: `accepted: ${bytes.length} bytes, ${image.initialPages} pages of memory at start; run it from the shell as /host/${name}` });
  } catch (error) {
    post({ kind: "binary-checked", name, accepted: false, message: error instanceof LoadError ? `refused: ${error.message}` : `refused: ${messageOf(error)}` });
  }
}

function snapshot(capsOf: number | null, timelineAfterNs: number): void {
  if (!inspector || !kernel) return post({ kind: "snapshot", snapshot: null });
  const { snapshot: view, transfer } = takeSnapshot(inspector, kernel, capsOf, timelineAfterNs);
  post({ kind: "snapshot", snapshot: view }, transfer);
}

async function panel(id: number, operation: "kill" | "suspend" | "resume", pid: number): Promise<void> {
  const device = machine?.panel;
  if (!device) return post({ kind: "panel-answer", id, status: null, message: "the machine has no front panel yet" });
  try {
    const status = await device.request(operation, pid);
    const message = status === 0 ? `${operation} ${pid}: done` : `${operation} ${pid}: ${statusName(status)}${status === -10 ? " (process 1 holds no capability to it: only the services it started can be stopped from here)" : ""}`;
    post({ kind: "panel-answer", id, status, message });
  } catch (error) {
    post({ kind: "panel-answer", id, status: null, message: `${operation} ${pid}: ${messageOf(error)}` });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
