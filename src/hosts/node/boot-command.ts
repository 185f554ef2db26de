import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BootImage, BootModule } from "../../boot/boot-image.ts";
import { runSystem } from "../../boot/system.ts";
import { Loader } from "../../loader/loader.ts";
import { Machine } from "../../machine/machine.ts";
import { standardImportModules } from "../standard-imports.ts";
import { DiskModuleCache } from "./disk-cache.ts";
import { nodeDevices } from "./node-devices.ts";
import { DiskImage } from "./disk-image.ts";
import { FolderShare } from "./folder-share.ts";
import { ProgressLine } from "./progress-line.ts";
import { nodePageCipher } from "./node-page-cipher.ts";

/** A new disk image's size: 64 MiB. */
const DISK_SIZE = 64 << 20;

export interface BootOptions {
  readonly memory: number;
  /** The disk image (created with DISK_SIZE when missing), and a host folder to share read-only. */
  readonly disk: string | null;
  readonly share: string | null;
  readonly cache: boolean;
  /** The folder the boot modules are read from (build/user). */
  readonly modulesDir: string;
  readonly configFile: string;
  /**
   * Format the disk whatever it holds (`--format`): the boot info says `param format ID`, a new ID
   * each boot, which the file system keeps in the superblock it makes (docs/FS.md "Mounting").
   */
  readonly format?: boolean;
}

/**
 * The modules a config names, each once, in order: the third field of each service line, and the
 * second of each `module NAME` line (a module to boot with that nothing starts: programs the
 * process manager spawns by name).
 */
export function modulesOf(config: string): string[] {
  const names: string[] = [];
  for (const raw of config.split("\n")) {
    const fields = raw.replace(/#.*/, "").trim().split(/\s+/);
    const name = fields[0] === "module" ? fields[1] : (fields[0] === "service" || fields[0] === "driver") && fields.length >= 3 ? fields[2] : undefined;
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

async function module(dir: string, name: string): Promise<BootModule> {
  const file = join(dir, `${name}.wasm`);
  try {
    return { name, bytes: new Uint8Array(await readFile(file)) };
  } catch (error) {
    throw new Error(`cannot read boot module ${name} (${file}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Assembles the boot image from the config and the built modules. */
export async function bootImage(options: BootOptions): Promise<BootImage> {
  let config: string;
  try {
    config = await readFile(options.configFile, "utf8");
  } catch (error) {
    throw new Error(`cannot read the config ${options.configFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const modules = await Promise.all(modulesOf(config).map((name) => module(options.modulesDir, name)));
  const params: Record<string, string> = options.format ? { format: randomBytes(8).toString("hex") } : {};
  return { init: await module(options.modulesDir, "init"), modules, config, params };
}

/** `dogma boot`: boots the system on this terminal and keeps it up until it halts. */
export async function boot(options: BootOptions): Promise<number> {
  const image = await bootImage(options);
  if (options.disk) await mkdir(dirname(options.disk), { recursive: true });
  const disk = options.disk ? await DiskImage.open(options.disk, DISK_SIZE) : undefined;
  const share = options.share ? await FolderShare.open(options.share) : undefined;
  const imports = standardImportModules();
  const progress = new ProgressLine(process.stderr, "boot: loading");
  const end = await runSystem(
    {
      makeMachine: () => new Machine(nodeDevices(process.stdin, process.stdout, process.stderr, { disk, share }), options.memory),
      loader: new Loader({ importModules: imports, cache: options.cache ? new DiskModuleCache() : null }),
      kernelOptions: {
        personalities: imports.filter((spec) => spec.module !== "dogma"),
        pageCipher: nodePageCipher,
        onFault: (_process, line) => process.stderr.write(`dogma: ${line}\n`),
      },
      log: (line) => {
        progress.done();
        process.stderr.write(`${line}\n`);
      },
      progress: { loading: (name, index, count) => progress.update(name, index, count) },
      // A machine waiting for a device (a driver with an armed interrupt) is idle, not finished:
      // Node must not exit because nothing of its own is pending.
      keepAlive: () => {
        const handle = setInterval(() => {}, 1 << 30);
        return () => clearInterval(handle);
      },
    },
    image,
  );
  progress.done();
  await disk?.close();
  process.stderr.write(`dogma: ${end.reason}\n`);
  return end.halted ? 0 : 1;
}
