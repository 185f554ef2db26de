import { Cappage } from "../kernel/caps/cappage.ts";
import { ALL_RIGHTS, Rights } from "../kernel/caps/object-abi.ts";
import { type Kernel, interruptLine } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";
import { LoadError } from "../loader/load-error.ts";
import type { Loader } from "../loader/loader.ts";
import type { MmioDevice } from "../machine/mmio.ts";
import { type BootImage, bootInfo } from "./boot-image.ts";

export interface BootProgress {
  /** Called before each module is loaded (rewriting a module the cache lacks takes seconds). */
  loading?(name: string, index: number, count: number): void;
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
 * Loads every module of the boot image and starts process 1 with the capabilities of
 * docs/BOOT.md: all memory, the boot info, and Cappages of Images, Devices and Interrupts. The
 * kernel only schedules from then on. Throws BootModulesRefused (a LoadError) when modules are
 * refused: every one is loaded first, so that it names them all.
 */
export async function startInit(kernel: Kernel, loader: Loader, image: BootImage, devices: readonly MmioDevice[], progress: BootProgress = {}): Promise<Process> {
  const all = [image.init, ...image.modules];
  const loaded = [];
  const refusals: LoadError[] = [];
  for (const [i, module] of all.entries()) {
    progress.loading?.(module.name, i, all.length);
    try {
      loaded.push(await loader.load(module.bytes, module.name));
    } catch (error) {
      if (!(error instanceof LoadError)) throw error;
      refusals.push(error);
    }
  }
  if (refusals.length > 0) throw new BootModulesRefused(refusals);
  const [init, ...modules] = loaded;
  const images = new Cappage();
  modules.forEach((module, i) => images.put(i, kernel.capability(kernel.imageObject(module), Rights.IMAGE_SPAWN)));
  const deviceObjects = new Cappage();
  const interrupts = new Cappage();
  devices.forEach((device, i) => {
    deviceObjects.put(i, kernel.capability(kernel.deviceObject(device), ALL_RIGHTS));
    interrupts.put(i, kernel.capability(kernel.interruptObject(interruptLine({ line: "irq", number: device.line })), Rights.INTERRUPT_BIND));
  });
  const info = kernel.regionObject(bootInfo(image, devices));
  const memory = kernel.memoryObject();
  return kernel.spawn(init!, {
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
