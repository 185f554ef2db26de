/**
 * `dogma run`: a WebAssembly program as a sealed process on a fresh machine, with this terminal
 * as its console (and host folders as its preopens with --dir); the host exits with its code.
 */
import { basename, join } from "node:path";
import { ALL_RIGHTS, Rights } from "../../kernel/caps/object-abi.ts";
import { Kernel, describeProcessFault } from "../../kernel/kernel.ts";
import type { Process } from "../../kernel/process.ts";
import { LoadError } from "../../loader/load-error.ts";
import { codeSectionBytes } from "../../loader/validate.ts";
import { DEFAULT_MEMORY_SIZE, Machine } from "../../machine/machine.ts";
import { parseMemorySize } from "../../machine/physical-memory.ts";
import { configureWasiProcess } from "../../personality/wasi/preopens.ts";
import { standardImportModules } from "../standard-imports.ts";
import { HostFileError, readBoundedFile } from "./bounded-read.ts";
import { RUN } from "./cli-commands.ts";
import { type ParsedCommand, UsageError } from "./cli-options.ts";
import { shareHoldingCache } from "./cache-exposure.ts";
import { defaultCacheDir } from "./disk-cache.ts";
import { tuneEngineFor } from "./engine-flags.ts";
import { FileDigests, statExactly } from "./file-digests.ts";
import { nodeLoader } from "./node-loader.ts";
import { nodeDevices } from "./node-devices.ts";
import { nodePageCipher } from "./node-page-cipher.ts";
import { packageRoot } from "./package-root.ts";
import { MAX_PROGRAM_BYTES } from "./program-limits.ts";
import { type FolderSpec, RunFolders, parseFolderSpec } from "./run-folders.ts";
import type { StdioTerminal } from "./stdio-terminal.ts";

export interface RunOptions {
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

/** The program's and each --module's file: their bytes and, when known, their SHA-256 (file-digests.ts). */
async function readPrograms(files: readonly string[], known: FileDigests | null): Promise<{ binaries: Uint8Array[]; digests: Array<string | undefined> }> {
  const binaries: Uint8Array[] = [];
  const digests: Array<string | undefined> = [];
  for (const file of files) {
    const before = known && (await statExactly(file));
    const bytes = await readBoundedFile(file, MAX_PROGRAM_BYTES);
    const after = before && (await statExactly(file));
    binaries.push(bytes);
    digests.push(known && before && after ? await known.digest(bytes, before, after) : undefined);
  }
  return { binaries, digests };
}

export async function run(options: RunOptions, terminal: StdioTerminal): Promise<number> {
  const files = [options.program, ...options.modules];
  // Read on libuv's threads while this one builds the machine and the kernel (20-30 ms of a
  // start; clang's 75 MB take about 40 ms to read).
  const reading = readPrograms(files, options.cache ? new FileDigests(defaultCacheDir()) : null).then(
    (read) => read,
    (error: unknown) => error as Error,
  );
  let machine: Machine | null = null;
  let folders: RunFolders | null = null;
  let server: Uint8Array | null = null;
  let setupError: Error | null = null;
  try {
    if (options.dirs.length > 0) {
      // A share the program may write must not hold the module cache, cached or not this run: a
      // record it planted would run unchecked at the next run (cache-exposure.ts).
      const exposed = await shareHoldingCache(options.dirs, defaultCacheDir());
      if (exposed) {
        throw new Error(
          `--dir ${exposed.host} would let the program write Dogma's module cache (${defaultCacheDir()}), whose records run unchecked at the next run: share a folder that does not hold it, add :ro, or set DOGMA_CACHE_DIR elsewhere`,
        );
      }
      // The folders' devices exist before the machine: their interrupts go to it once it does.
      folders = await RunFolders.open(options.dirs, { raise: (interrupt) => machine?.interrupts.raise(interrupt) });
      server = await readBoundedFile(join(packageRoot, "build/user/folderfs.wasm"), MAX_PROGRAM_BYTES);
    }
    // This process's only machine, kept to its end: its memory need not be counted (PhysicalMemory).
    machine = new Machine(nodeDevices(terminal), options.memory, { extraDevices: folders?.devices ?? [], unaccountedMemory: true });
  } catch (error) {
    setupError = error as Error;
  }
  /** The files read, or the exit code once what is wrong is said: the program's own file first, what the person asked about. */
  const programs = async () => {
    const read = await reading;
    if (read instanceof Error) {
      process.stderr.write(`dogma: ${read.message}\n`);
      return read instanceof HostFileError && read.tooLarge ? 126 : 1;
    }
    if (setupError) {
      process.stderr.write(`dogma: ${setupError.message}\n`);
      return 1;
    }
    return read;
  };
  if (setupError || !machine) {
    const read = await programs();
    return typeof read === "number" ? read : 1;
  }
  const imports = standardImportModules();
  let main: Process | null = null;
  const loader = nodeLoader(imports, { cache: options.cache });
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
  const read = await programs();
  if (typeof read === "number") return read;
  const { binaries, digests } = read;
  tuneEngineFor(codeSectionBytes(binaries[0]!));
  try {
    // The files were read for this run alone: the images keep them as they are (no copy). Loaded
    // together: the folder server's small record is read and compiled while the program's is.
    const serving = server ? loader.adopt(server, "folderfs") : null;
    serving?.catch(() => undefined); // the program's refusal, if any, is the one said
    const [image, ...modules] = await Promise.all(files.map((file, i) => loader.adopt(binaries[i]!, basename(file), digests[i])));
    const name = basename(options.program);
    if (folders && serving) folders.startServers(kernel, await serving);
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
    configureWasiProcess(main, { memorySlot: 2, streams: null, preopens: roots.map((_, i) => ({ slot: firstRoot + i, name: folders!.guestNames[i]! })) });
    machine.interrupts.poke();
    if (folders) void main.wait().then(() => folders!.stop(kernel));
    await (running ?? kernel.run());
    // That first run may have ended before the program was spawned (every server waiting for
    // calls and no device with work in flight: the host folder device answers at once, so no
    // server waits on its interrupt line): it runs again for the program (at once back when
    // nothing can wake it).
    if (running && main.alive) await kernel.run();
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

/** RunOptions from what the parser found (cli-options.ts); a UsageError for a value it cannot take. */
export function runOptions(parsed: ParsedCommand): RunOptions {
  const { values, operands } = parsed;
  const [program, ...args] = operands;
  if (program === undefined) throw new UsageError("no program given", RUN);
  const env = (values.env as string[] | undefined) ?? [];
  for (const pair of env) if (pair.indexOf("=") < 1) throw new UsageError(`--env ${pair}: not NAME=VALUE`, RUN);
  const dirs: FolderSpec[] = [];
  for (const spec of (values.dir as string[] | undefined) ?? []) {
    try {
      dirs.push(parseFolderSpec(spec));
    } catch (error) {
      throw new UsageError((error as Error).message, RUN);
    }
  }
  return {
    memory: memoryOption(values.memory as string | undefined, RUN),
    trace: values.trace === true,
    cache: values["no-cache"] !== true,
    program,
    args,
    modules: (values.module as string[] | undefined) ?? [],
    dirs,
    env,
    inheritEnv: values["inherit-env"] === true,
  };
}

/** --memory's value in bytes (the default when absent). */
export function memoryOption(value: string | undefined, command: typeof RUN): number {
  if (value === undefined) return DEFAULT_MEMORY_SIZE;
  try {
    return parseMemorySize(value);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}
