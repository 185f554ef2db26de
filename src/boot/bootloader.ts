import { Cappage } from "../kernel/caps/cappage.ts";
import { ALL_RIGHTS, Rights } from "../kernel/caps/object-abi.ts";
import { type Kernel, interruptLine } from "../kernel/kernel.ts";
import type { DeferredImage, LoadedImage } from "../kernel/image.ts";
import type { Process } from "../kernel/process.ts";
import { LoadError } from "../loader/load-error.ts";
import type { Loader } from "../loader/loader.ts";
import type { MmioDevice } from "../machine/mmio.ts";
import { type BootImage, bootInfo } from "./boot-image.ts";
import { startedModulesOf } from "./config-modules.ts";
import { manifestTextOf, parseManifest } from "./manifest.ts";

export interface BootProgress {
  /** Called before each module loaded before process 1 starts (rewriting one the cache lacks takes a while). */
  loading?(name: string, index: number, count: number): void;
  /** A boot module the loader refused after process 1 started (a process made from it gets E_INVALID_ARGUMENT). */
  refused?(error: LoadError): void;
}

/**
 * The boot modules the loader refused, every one with why (a refusal lists every reason): the
 * machine does not start with any of them refused. A LoadError itself, the first refusal's, for
 * whoever handles one; `refusals` holds them all.
 */
export class BootModulesRefused extends LoadError {
  readonly refusals: readonly LoadError[];
  constructor(refusals: readonly LoadError[]) {
    super(refusals[0]!.binaryName, refusals[0]!.where, refusals[0]!.reason);
    this.refusals = refusals;
  }
}

/**
 * Loads process 1 and starts it with the capabilities of docs/BOOT.md: all memory, the boot
 * info, and Cappages of Images, Devices and Interrupts. The kernel only schedules from then on.
 * The other modules are loaded while the machine runs (docs/BOOT.md "Loading"): those the config
 * starts one after another in its order, the rest when a process is first made from them; a
 * process made from one still loading waits for it. Every module is validated first: throws
 * BootModulesRefused (a LoadError), naming each, when one is malformed or process 1 is refused;
 * `progress.refused` hears of a module the policy or the rewrite refuses later.
 */
export async function startInit(kernel: Kernel, loader: Loader, image: BootImage, devices: readonly MmioDevice[], progress: BootProgress = {}): Promise<Process> {
  progress.loading?.(image.init.name, 0, 1);
  const refusals: LoadError[] = [];
  const orNull = <T>(work: Promise<T>): Promise<T | null> =>
    work.catch((error: unknown) => {
      if (!(error instanceof LoadError)) throw error;
      refusals.push(error);
      return null;
    });
  const [init, modules] = await Promise.all([
    orNull(loader.load(image.init.bytes, image.init.name)),
    Promise.all(image.modules.map((module) => orNull(loader.defer(module.bytes.slice(), module.name)))),
  ]);
  if (!init || refusals.length > 0) {
    const order = [image.init, ...image.modules].map((module) => module.name);
    throw new BootModulesRefused(refusals.sort((a, b) => order.indexOf(a.binaryName) - order.indexOf(b.binaryName)));
  }
  const deferred = modules.filter((module) => module !== null);
  const present = new Set(devices.map((device) => device.name));
  void preload(deferred, startedModulesOf(image.config).filter((name) => canStart(image, name, present)), progress);
  const images = new Cappage();
  deferred.forEach((module, i) => images.put(i, kernel.capability(kernel.imageObject(module), Rights.IMAGE_SPAWN)));
  const deviceObjects = new Cappage();
  const interrupts = new Cappage();
  devices.forEach((device, i) => {
    deviceObjects.put(i, kernel.capability(kernel.deviceObject(device), ALL_RIGHTS));
    interrupts.put(i, kernel.capability(kernel.interruptObject(interruptLine({ line: "irq", number: device.line })), Rights.INTERRUPT_BIND));
  });
  const info = kernel.regionObject(bootInfo(image, devices));
  const memory = kernel.memoryObject();
  return kernel.spawn(init, {
    args: ["init"],
    memory,
    // First of all: process 1 runs whenever it has something to do (it mostly waits).
    priority: 0,
    caps: [
      kernel.capability(memory, ALL_RIGHTS),
      kernel.capability(info, Rights.REGION_READ),
      kernel.capability(images, ALL_RIGHTS),
      kernel.capability(deviceObjects, ALL_RIGHTS),
      kernel.capability(interrupts, ALL_RIGHTS),
      kernel.capability(kernel.policyObject(), Rights.KERNEL_POLICY | Rights.KERNEL_INSPECT),
    ],
  });
}

/**
 * Whether boot module `name` can run on a machine with the devices `present`: false when its
 * manifest asks for a device or an interrupt line the machine lacks (a Node machine's front panel,
 * the host share of a boot without --share), which init then skips ("no device named ...").
 * Loading such a module at boot would only delay the prompt (hostfs and panel: 41 KB of the 600
 * the config starts); it is still loaded if a process is ever made from it. A module without a
 * manifest, or one that does not parse (init says why), is loaded as before.
 */
function canStart(image: BootImage, name: string, present: ReadonlySet<string>): boolean {
  const module = image.modules.find((m) => m.name === name);
  if (!module) return true;
  try {
    const text = manifestTextOf(module.bytes);
    if (text === null) return true;
    const manifest = parseManifest(text);
    return [...manifest.devices, ...manifest.interrupts].every((device) => present.has(device));
  } catch {
    return true; // two manifest sections, or one that does not parse: init says why
  }
}

/**
 * Starts loading the modules named in `started`, all at once, in that order: process 1 starts
 * them in the config's order, so the first it needs is the first rewritten, and a load waiting
 * for the engine (a hash, a compile) or the cache leaves the thread to the next one's rewrite.
 */
async function preload(modules: readonly (DeferredImage | LoadedImage)[], started: readonly string[], progress: BootProgress): Promise<void> {
  const loads = started.map(async (name) => {
    const module = modules.find((m) => m.name === name);
    if (!module || !("load" in module)) return;
    try {
      await module.load();
    } catch (error) {
      if (!(error instanceof LoadError)) throw error;
      progress.refused?.(error);
    }
  });
  await Promise.all(loads);
}
