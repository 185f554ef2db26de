/**
 * The `dogma` command: `dogma run`, `dogma boot`, `dogma cache`, `dogma web`, each with its own
 * options (cli-commands.ts), parsed by node:util.parseArgs (cli-options.ts); `--help` on any of
 * them, `dogma --help`, `dogma help COMMAND` and `dogma --version`. A usage error prints one line
 * and that command's help on stderr and exits 2.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LoadError } from "../../loader/load-error.ts";
import { BOOT, CACHE, COMMANDS, RUN, WEB } from "./cli-commands.ts";
import { type CommandSpec, UsageError, commandHelp, overallHelp, parseCommand } from "./cli-options.ts";
import { defaultDisk } from "./data-dir.ts";
import { packageRoot } from "./package-root.ts";
import { memoryOption, run, runOptions } from "./run-command.ts";
import { StdioTerminal } from "./stdio-terminal.ts";

// For the bundle's runner (cli-bundle.js runBundle), which makes V8's code cache at a run's end.
export { restoreEngineFlags } from "./engine-flags.ts";

function version(): string {
  const { version } = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };
  return version;
}

const out = (text: string) => void process.stdout.write(text);

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V") {
    out(`dogma ${version()} (Node.js ${process.versions.node})\n`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h") {
    out(overallHelp(COMMANDS, version()));
    return 0;
  }
  if (name === "help") return help(rest[0]);
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) return usageError(new UsageError(`unknown command "${name}"`, null));
  try {
    const parsed = parseCommand(spec, rest);
    if (parsed.help) {
      out(commandHelp(spec));
      return 0;
    }
    if (spec === WEB) return await web(parsed.values, parsed.operands);
    if (spec === CACHE) {
      const [what, ...more] = parsed.operands;
      if ((what !== undefined && what !== "clear") || more.length > 0) throw new UsageError(`unknown operand "${what !== "clear" ? what : more[0]}"`, CACHE);
      return await (await import("./cache-command.ts")).cacheCommand(parsed.operands, out);
    }
    // Every machine of this run shares the host's terminal; closed at the end, whatever the end, so
    // that no read of stdin is left pending to keep the host up until a key is pressed.
    const terminal = new StdioTerminal(() => process.stdin, process.stdout, process.stderr);
    try {
      if (spec === RUN) return await run(runOptions(parsed), terminal);
      return await bootCommand(parsed.values, parsed.operands, terminal);
    } finally {
      terminal.close();
    }
  } catch (error) {
    if (error instanceof UsageError) return usageError(error);
    throw error;
  }
}

/** `dogma help [COMMAND]`. */
function help(name: string | undefined): number {
  if (name === undefined) {
    out(overallHelp(COMMANDS, version()));
    return 0;
  }
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) return usageError(new UsageError(`unknown command "${name}"`, null));
  out(commandHelp(spec));
  return 0;
}

function usageError(error: UsageError): number {
  const command: CommandSpec | null = error.command;
  const where = command ? `dogma ${command.name}` : "dogma";
  process.stderr.write(`${where}: ${error.message}\n\n${command ? commandHelp(command) : overallHelp(COMMANDS, version())}`);
  return 2;
}

async function bootCommand(values: Record<string, unknown>, operands: string[], terminal: StdioTerminal): Promise<number> {
  if (operands.length > 0) throw new UsageError(`takes no operands (given "${operands[0]}")`, BOOT);
  const options = {
    memory: memoryOption(values.memory as string | undefined, BOOT),
    cache: values["no-cache"] !== true,
    disk: (values.disk as string | undefined) ?? defaultDisk(),
    readOnly: values["read-only"] === true,
    format: values.format === true,
    verbose: values.verbose === true,
    share: (values.share as string | undefined) ?? null,
    modulesDir: join(packageRoot, "build/user"),
    configFile: (values.config as string | undefined) ?? join(packageRoot, "user/boot/init.conf"),
  };
  // Loaded for this command only: `dogma run` does not load the bootloader, the disk image and
  // what they bring (13 of 194 modules).
  const { BootModulesRefused } = await import("../../boot/bootloader.ts");
  try {
    return await (await import("./boot-command.ts")).boot(options, terminal);
  } catch (error) {
    if (error instanceof BootModulesRefused) for (const refusal of error.refusals) process.stderr.write(`dogma: refused boot module ${refusal.message}\n`);
    else if (error instanceof LoadError) process.stderr.write(`dogma: refused boot module ${error.message}\n`);
    else process.stderr.write(`dogma: ${(error as Error).message}\n`);
    return 1;
  }
}

/** `dogma web`: its server (src/hosts/web) is loaded only for this command, since it brings vite. */
async function web(values: Record<string, unknown>, operands: string[]): Promise<number> {
  if (operands.length > 0) throw new UsageError(`takes no operands (given "${operands[0]}")`, WEB);
  const argv: string[] = [];
  if (typeof values.port === "string") argv.push("--port", values.port);
  if (typeof values.host === "string") argv.push("--host", values.host);
  if (values["no-build"] === true) argv.push("--no-build");
  return (await import("../web/web-command.ts")).webCommand(argv);
}
