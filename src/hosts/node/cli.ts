import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ALL_RIGHTS, Rights } from "../../kernel/caps/object-abi.ts";
import { Kernel, describeProcessFault } from "../../kernel/kernel.ts";
import type { Process } from "../../kernel/process.ts";
import { LoadError } from "../../loader/load-error.ts";
import { Loader } from "../../loader/loader.ts";
import { DEFAULT_MEMORY_SIZE, Machine } from "../../machine/machine.ts";
import { parseMemorySize } from "../../machine/physical-memory.ts";
import { standardImportModules } from "../standard-imports.ts";
import { type BootOptions, boot } from "./boot-command.ts";
import { defaultDisk } from "./data-dir.ts";
import { cacheCommand } from "./cache-command.ts";
import { DiskModuleCache } from "./disk-cache.ts";
import { NodeLoaderWorkers } from "./loader-workers.ts";
import { nodeDevices } from "./node-devices.ts";
import { nodePageCipher } from "./node-page-cipher.ts";
import { HostFileError, readBoundedFile } from "./bounded-read.ts";
import { MAX_PROGRAM_BYTES } from "./program-limits.ts";
import { StdioTerminal } from "./stdio-terminal.ts";
import { type FolderSpec, RunFolders, parseFolderSpec } from "./run-folders.ts";
import { configureWasiProcess } from "../../personality/wasi/preopens.ts";

const USAGE = `usage: dogma run [options] PROGRAM.wasm [ARGS...]
       dogma boot [--disk FILE] [--read-only] [--format] [--share DIR] [--memory SIZE] [--config FILE] [--no-cache]
       dogma cache [clear]
       dogma web [--port N] [--host ADDRESS] [--no-build]   (the same system in a browser tab)

boot: boots the system: process 1 (init) reads FILE (default user/boot/init.conf) and starts the
services it names from build/user; when process 1 ends the machine resets and boots again.
--disk FILE is the block device (a 64 MiB image is created when missing; default
$DOGMA_DATA_DIR/disk.img, else $XDG_DATA_HOME/dogma/disk.img, else ~/.local/share/dogma/disk.img),
locked while the machine runs (a second boot of it is refused); --read-only uses it without
writing; --format erases it and makes a new file system on it (without it, only a blank disk is
formatted: one the file system cannot read is left alone); --share DIR shows a host folder
read-only. exit N in the shell ends with status N; SIGTERM or a closed terminal halts the machine
cleanly first.

run: 
Runs a WebAssembly program as a sealed Dogma process on a fresh machine, with this terminal's
stdin, stdout and stderr as its console, and exits with its exit code.

The program starts with capabilities (docs/ABI.md, "Capabilities"): slot 1 itself, slot 2 a
Memory holding all free memory, slots 3, 4, ... an Image for each --module, in order, from
which it can create processes, then a directory for each --dir: a WASI program's preopens,
fd 3 and on, served by a host folder server (docs/HOSTFS.md "Host folders").

options:
  --memory SIZE   physical memory, such as 16M or 1G (default 128M)
  --module FILE   load FILE too and give the program an Image capability to it (repeatable)
  --dir HOST[::GUEST][:ro]
                  give the program the host folder HOST, read-write (read-only with :ro), as
                  the directory GUEST (default: HOST as written; --dir . for relative paths)
                  (repeatable)
  --env NAME=VALUE
                  put NAME=VALUE in the program's environment (repeatable; wins over --inherit-env)
  --inherit-env   give the program this shell's environment
  --trace         print one line per kernel call to stderr
  --no-cache      rewrite the program even if a cached rewrite exists
  --help          show this help
`;

interface RunOptions {
  memory: number;
  trace: boolean;
  cache: boolean;
  program: string;
  args: string[];
  modules: string[];
  dirs: FolderSpec[];
  env: string[];
  inheritEnv: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): RunOptions | "help" {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") return "help";
  if (command !== "run") throw new UsageError(`unknown command "${command}"`);
  const options: RunOptions = { memory: DEFAULT_MEMORY_SIZE, trace: false, cache: true, program: "", args: [], modules: [], dirs: [], env: [], inheritEnv: false };
  while (rest.length > 0 && rest[0]!.startsWith("--")) {
    const flag = rest.shift()!;
    if (flag === "--help") return "help";
    else if (flag === "--trace") options.trace = true;
    else if (flag === "--no-cache") options.cache = false;
    else if (flag === "--inherit-env") options.inheritEnv = true;
    else if (flag === "--dir" || flag === "--env") parseRunValue(flag, rest.shift(), options);
    else if (flag === "--module") {
      const value = rest.shift();
      if (value === undefined) throw new UsageError("--module needs a file, such as build/user/echo-server.wasm");
      options.modules.push(value);
    }
    else if (flag === "--memory") {
      const value = rest.shift();
      if (value === undefined) throw new UsageError("--memory needs a size, such as 64M");
      try {
        options.memory = parseMemorySize(value);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    } else throw new UsageError(`unknown option "${flag}"`);
  }
  const program = rest.shift();
  if (program === undefined) throw new UsageError("no program given");
  options.program = program;
  options.args = rest;
  return options;
}

/** `--dir` and `--env`'s values. */
function parseRunValue(flag: "--dir" | "--env", value: string | undefined, options: RunOptions): void {
  if (value === undefined) throw new UsageError(flag === "--dir" ? "--dir needs a folder, such as . or data::/data" : "--env needs NAME=VALUE");
  if (flag === "--env") {
    if (value.indexOf("=") < 1) throw new UsageError(`--env ${value}: not NAME=VALUE`);
    options.env.push(value);
    return;
  }
  try {
    options.dirs.push(parseFolderSpec(value));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The program's environment: the host's with --inherit-env, then each --env (replacing a name already there). */
function environmentOf(options: RunOptions): string[] {
  const env = options.inheritEnv ? Object.entries(process.env).map(([name, value]) => `${name}=${value ?? ""}`) : [];
  for (const pair of options.env) {
    const name = pair.slice(0, pair.indexOf("=") + 1);
    const at = env.findIndex((entry) => entry.startsWith(name));
    if (at >= 0) env.splice(at, 1);
    env.push(pair);
  }
  return env;
}

async function run(options: RunOptions, terminal: StdioTerminal): Promise<number> {
  const files = [options.program, ...options.modules];
  const binaries: Uint8Array[] = [];
  for (const file of files) {
    try {
      binaries.push(await readBoundedFile(file, MAX_PROGRAM_BYTES));
    } catch (error) {
      process.stderr.write(`dogma: ${(error as Error).message}\n`);
      return error instanceof HostFileError && error.tooLarge ? 126 : 1;
    }
  }
  let machine: Machine | null = null;
  let folders: RunFolders | null = null;
  let server: Uint8Array | null = null;
  try {
    if (options.dirs.length > 0) {
      // The folders' devices exist before the machine: their interrupts go to it once it does.
      folders = await RunFolders.open(options.dirs, { raise: (interrupt) => machine?.interrupts.raise(interrupt) });
      server = await readBoundedFile(join(packageRoot, "build/user/folderfs.wasm"), MAX_PROGRAM_BYTES);
    }
    machine = new Machine(nodeDevices(terminal), options.memory, { extraDevices: folders?.devices ?? [] });
  } catch (error) {
    process.stderr.write(`dogma: ${(error as Error).message}\n`);
    return 1;
  }
  const imports = standardImportModules();
  let main: Process | null = null;
  const loader = new Loader({ importModules: imports, maxBinaryBytes: MAX_PROGRAM_BYTES, cache: options.cache ? new DiskModuleCache() : null, workers: new NodeLoaderWorkers() });
  const kernel = new Kernel(machine, {
    imageLoader: loader,
    pageCipher: nodePageCipher,
    personalities: imports.filter((spec) => spec.module !== "dogma"),
    trace: options.trace ? (line) => process.stderr.write(`trace: ${line}\n`) : undefined,
    // The program's own fault is reported once it has ended; its children's as they happen.
    onFault: (faulted, line) => {
      if (faulted !== main) process.stderr.write(`dogma: ${line}\n`);
    },
  });
  try {
    const images = [];
    for (const [i, file] of files.entries()) images.push(await loader.load(binaries[i]!, basename(file)));
    const [image, ...modules] = images;
    const name = basename(options.program);
    if (folders && server) folders.startServers(kernel, await loader.load(server, "folderfs"));
    // With folders the kernel runs first, until each folder's server has published its root.
    const running = folders ? kernel.run() : null;
    const roots = folders ? await folders.roots().catch(async (error: unknown) => {
      await folders!.stop(kernel);
      await running;
      throw error;
    }) : [];
    const memory = kernel.memoryObject();
    const caps = [
      kernel.capability(memory, ALL_RIGHTS),
      ...modules.map((module) => kernel.capability(kernel.imageObject(module), Rights.IMAGE_SPAWN)),
      ...roots,
    ];
    main = kernel.spawn(image!, { args: [name, ...options.args], env: environmentOf(options), caps, memory });
    const firstRoot = 2 + caps.length - roots.length;
    configureWasiProcess(main, { memorySlot: 2, preopens: roots.map((_, i) => ({ slot: firstRoot + i, name: folders!.guestNames[i]! })) });
    machine.interrupts.poke();
    if (folders) void main.wait().then(() => folders!.stop(kernel));
    await (running ?? kernel.run());
    // Timers a device armed (a server's wait with a timeout) must not keep the host alive.
    machine.powerOff();
    const stuck = kernel.stuck();
    if (stuck.length > 0) {
      const names = stuck.map((p) => `${p.image.name} (pid ${p.pid})`).join(", ");
      process.stderr.write(`dogma: blocked for ever, with nothing left to wake them: ${names}\n`);
    }
    const outcome = main.outcome;
    if (!outcome) return 1;
    if (outcome.kind === "exited") return outcome.code & 0xff;
    process.stderr.write(`dogma: ${describeProcessFault(main)}\n`);
    return 139;
  } catch (error) {
    if (error instanceof LoadError) {
      process.stderr.write(`dogma: refused ${error.message}\n`);
      return 126;
    }
    if (error instanceof RangeError || (folders && error instanceof Error)) {
      process.stderr.write(`dogma: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

const packageRoot = fileURLToPath(new URL("../../..", import.meta.url));

function parseBoot(rest: string[]): BootOptions | "help" {
  const options: { -readonly [K in keyof BootOptions]: BootOptions[K] } = {
    memory: DEFAULT_MEMORY_SIZE,
    cache: true,
    disk: defaultDisk(),
    readOnly: false,
    share: null,
    modulesDir: join(packageRoot, "build/user"),
    configFile: join(packageRoot, "user/boot/init.conf"),
  };
  while (rest.length > 0) {
    const flag = rest.shift()!;
    if (flag === "--help") return "help";
    else if (flag === "--no-cache") options.cache = false;
    else if (flag === "--read-only") options.readOnly = true;
    else if (flag === "--format") options.format = true;
    else if (flag === "--config" || flag === "--memory" || flag === "--disk" || flag === "--share") {
      const value = rest.shift();
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      if (flag === "--config") options.configFile = value;
      else if (flag === "--disk") options.disk = value;
      else if (flag === "--share") options.share = value;
      else {
        try {
          options.memory = parseMemorySize(value);
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      }
    } else throw new UsageError(`unknown option "${flag}"`);
  }
  return options;
}

export async function main(argv: string[]): Promise<number> {
  // The browser host's server (src/hosts/web): loaded only for this command, it brings vite.
  if (argv[0] === "web") return (await import("../web/web-command.ts")).webCommand(argv.slice(1));
  // Every machine of this run shares the host's terminal; closed at the end, whatever the end, so
  // that no read of stdin is left pending to keep the host up until a key is pressed.
  const terminal = new StdioTerminal(process.stdin, process.stdout, process.stderr);
  try {
    return await command(argv, terminal);
  } finally {
    terminal.close();
  }
}

async function command(argv: string[], terminal: StdioTerminal): Promise<number> {
  try {
    if (argv[0] === "cache") return await cacheCommand(argv.slice(1), (text) => process.stdout.write(text));
    if (argv[0] === "boot") {
      const options = parseBoot(argv.slice(1));
      if (options === "help") {
        process.stdout.write(USAGE);
        return 0;
      }
      try {
        return await boot(options, terminal);
      } catch (error) {
        if (error instanceof LoadError) process.stderr.write(`dogma: refused boot module ${error.message}\n`);
        else process.stderr.write(`dogma: ${(error as Error).message}\n`);
        return 1;
      }
    }
    const options = parseArgs(argv);
    if (options === "help") {
      process.stdout.write(USAGE);
      return 0;
    }
    return await run(options, terminal);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`dogma: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
