import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { Kernel, describeProcessFault } from "../../kernel/kernel.ts";
import { LoadError } from "../../loader/load-error.ts";
import { Loader } from "../../loader/loader.ts";
import { DEFAULT_MEMORY_SIZE, Machine } from "../../machine/machine.ts";
import { parseMemorySize } from "../../machine/physical-memory.ts";
import { standardImportModules } from "../standard-imports.ts";
import { DiskModuleCache } from "./disk-cache.ts";
import { nodeDevices } from "./node-devices.ts";

const USAGE = `usage: dogma run [options] PROGRAM.wasm [ARGS...]

Runs a WebAssembly program as a sealed Dogma process on a fresh machine, with this terminal's
stdin, stdout and stderr as its console, and exits with its exit code.

options:
  --memory SIZE   physical memory, such as 16M or 1G (default 128M)
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
}

class UsageError extends Error {}

function parseArgs(argv: string[]): RunOptions | "help" {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") return "help";
  if (command !== "run") throw new UsageError(`unknown command "${command}"`);
  const options: RunOptions = { memory: DEFAULT_MEMORY_SIZE, trace: false, cache: true, program: "", args: [] };
  while (rest.length > 0 && rest[0]!.startsWith("--")) {
    const flag = rest.shift()!;
    if (flag === "--help") return "help";
    else if (flag === "--trace") options.trace = true;
    else if (flag === "--no-cache") options.cache = false;
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

async function run(options: RunOptions): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(options.program));
  } catch (error) {
    process.stderr.write(`dogma: cannot read ${options.program}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return 1;
  }
  let machine: Machine;
  try {
    machine = new Machine(nodeDevices(), options.memory);
  } catch (error) {
    process.stderr.write(`dogma: ${(error as Error).message}\n`);
    return 1;
  }
  const imports = standardImportModules();
  const kernel = new Kernel(machine, {
    personalities: imports.filter((spec) => spec.module !== "dogma"),
    trace: options.trace ? (line) => process.stderr.write(`trace: ${line}\n`) : undefined,
  });
  const loader = new Loader({ importModules: imports, cache: options.cache ? new DiskModuleCache() : null });
  const name = basename(options.program);
  try {
    const image = await loader.load(bytes, name);
    const main = kernel.spawn(image, { args: [name, ...options.args], env: [] });
    await kernel.run();
    const outcome = main.outcome!;
    if (outcome.kind === "exited") return outcome.code & 0xff;
    process.stderr.write(`dogma: ${describeProcessFault(main)}\n`);
    return 139;
  } catch (error) {
    if (error instanceof LoadError) {
      process.stderr.write(`dogma: refused ${error.message}\n`);
      return 126;
    }
    if (error instanceof RangeError) {
      process.stderr.write(`dogma: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const options = parseArgs(argv);
    if (options === "help") {
      process.stdout.write(USAGE);
      return 0;
    }
    return await run(options);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`dogma: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
