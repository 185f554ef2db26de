/**
 * What the bootloader puts together before the kernel starts (docs/BOOT.md): process 1, the boot
 * modules, the config file and kernel parameters.
 */
export interface BootModule {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface BootImage {
  readonly init: BootModule;
  readonly modules: readonly BootModule[];
  /** The config file (etc/init.conf), passed to process 1 verbatim. */
  readonly config: string;
  readonly params: Readonly<Record<string, string>>;
}

/** A device as the boot info names it. */
export interface BootDevice {
  readonly name: string;
  readonly line: number;
}

/**
 * The boot info text process 1 reads (docs/BOOT.md, "Boot info"), prefixed by its length as a
 * little-endian u32, as it lies in the Region process 1 gets a view of.
 */
export function bootInfo(image: BootImage, devices: readonly BootDevice[]): Uint8Array {
  const lines = [
    "# dogma boot info",
    ...image.modules.map((module, i) => `module ${i} ${module.name}`),
    ...devices.map((device, i) => `device ${i} ${device.name} line ${device.line}`),
    ...Object.entries(image.params).map(([key, value]) => `param ${key} ${value}`),
    "config",
    image.config,
  ];
  const text = new TextEncoder().encode(lines.join("\n"));
  const out = new Uint8Array(4 + text.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 4);
  return out;
}
