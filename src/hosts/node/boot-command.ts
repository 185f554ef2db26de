import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { BootImage, BootModule } from "../../boot/boot-image.ts";
import { modulesOf, startedOnly } from "../../boot/config-modules.ts";
import { runSystem } from "../../boot/system.ts";
import { Machine } from "../../machine/machine.ts";
import { standardImportModules } from "../standard-imports.ts";
import { nodeLoader } from "./node-loader.ts";
import { nodeDevices } from "./node-devices.ts";
import { DiskImage } from "./disk-image.ts";
import { FolderShare } from "./folder-share.ts";
import { ProgressLine } from "./progress-line.ts";
import { nodePageCipher } from "./node-page-cipher.ts";
import { readBoundedFile } from "./bounded-read.ts";
import { HostShutdown, INTERRUPTED_STATUS, OUTPUT_CLOSED_STATUS } from "./host-shutdown.ts";
import { MAX_PROGRAM_BYTES } from "./program-limits.ts";
import type { StdioTerminal } from "./stdio-terminal.ts";

export { modulesOf };

/** A new disk image's size: 64 MiB. */
const DISK_SIZE = 64 << 20;
/** The largest config file read (a config is a few hundred lines). */
const MAX_CONFIG_BYTES = 1 << 20;
/** How long a halt asked for from outside (SIGTERM, a closed terminal) may take before the host ends anyway. */
const HALT_GRACE_MS = 10_000;

export interface BootOptions {
  readonly memory: number;
  /** The disk image (created with DISK_SIZE when missing), and a host folder to share read-only. */
  readonly disk: string | null;
  /** Use the disk without writing to it: the block device refuses writes (docs/DEVICES.md "Block"). */
  readonly readOnly: boolean;
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
  /**
   * Show the boot's and the services' messages on the console as they come (`--verbose`): the
   * boot info says `param verbose 1`, and the log service copies every line it is given to the
   * console. Otherwise the console shows the session and what goes wrong (docs/BOOT.md "Quiet boot").
   */
  readonly verbose?: boolean;
}

async function module(dir: string, name: string): Promise<BootModule> {
  const file = join(dir, `${name}.wasm`);
  return { name, bytes: await readBoundedFile(file, MAX_PROGRAM_BYTES, `boot module ${name} (${file})`) };
}

/** Assembles the boot image from the config and the built modules. */
export async function bootImage(options: BootOptions): Promise<BootImage> {
  const config = new TextDecoder().decode(await readBoundedFile(options.configFile, MAX_CONFIG_BYTES, `the config ${options.configFile}`));
  // A `start` line's program that was not built is one added with `install`: init reads it from the disk.
  const installed = startedOnly(config);
  const names = modulesOf(config).filter((name) => !installed.has(name) || existsSync(join(options.modulesDir, `${name}.wasm`)));
  const modules = await Promise.all(names.map((name) => module(options.modulesDir, name)));
  const params: Record<string, string> = {
    ...(options.format ? { format: randomBytes(8).toString("hex") } : {}),
    ...(options.verbose ? { verbose: "1" } : {}),
  };
  return { init: await module(options.modulesDir, "init"), modules, config, params };
}

/**
 * `dogma boot`: boots the system on this terminal and keeps it up until it halts. Returns the
 * host's exit status: the one process 1 left when it halted (a session's `exit N`), 128 + the
 * signal that asked for the halt, or 1 when the system could not stay up.
 */
export async function boot(options: BootOptions, terminal: StdioTerminal): Promise<number> {
  const say = (line: string) => void terminal.write(2, `${line}\n`);
  // A quiet boot shows the session; the boot's own lines and the kernel's fault reports (init
  // and the shell say what failed, in the log and on the console) only with --verbose.
  const tell = (line: string, important = false) => {
    if (options.verbose || important) say(line);
  };
  const image = await bootImage(options);
  if (options.disk && !options.readOnly) await mkdir(dirname(options.disk), { recursive: true });
  const disk = options.disk ? await DiskImage.open(options.disk, DISK_SIZE, { readOnly: options.readOnly, onFailure: (line) => say(`dogma: ${line}`) }) : undefined;
  const shutdown = new HostShutdown(HALT_GRACE_MS, say, (status) => {
    terminal.close();
    void (disk?.close() ?? Promise.resolve()).finally(() => process.exit(status));
  });
  try {
    const share = options.share ? await FolderShare.open(options.share) : undefined;
    terminal.onOutputClosed = () => shutdown.outputClosed(process.stdout.isTTY === true);
    // What is typed while the system boots waits for the console driver, unechoed; ^C stops the boot.
    terminal.holdInput(() => shutdown.request(INTERRUPTED_STATUS, "^C"));
    const imports = standardImportModules();
    const progress = new ProgressLine(process.stderr, "boot: loading");
    const end = await runSystem(
      {
        makeMachine: () => {
          const machine = new Machine(nodeDevices(terminal, { disk, share }), options.memory);
          shutdown.running(machine);
          return machine;
        },
        loader: nodeLoader(imports, { cache: options.cache }),
        kernelOptions: {
          personalities: imports.filter((spec) => spec.module !== "dogma"),
          pageCipher: nodePageCipher,
          onFault: (_process, line) => tell(`dogma: ${line}`),
        },
        log: (line, important) => {
          progress.done();
          tell(line, important);
        },
        // The loading bar is for a person at a terminal (or one who asked for everything): a pipe gets none.
        progress: { loading: (name, index, count) => (process.stderr.isTTY || options.verbose ? progress.update(name, index, count) : undefined) },
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
    tell(`dogma: ${end.reason}`, !end.halted);
    return shutdown.status ?? (end.halted ? end.status : 1);
  } finally {
    shutdown.dispose();
    terminal.onOutputClosed = null;
    await disk?.close();
  }
}
