/**
 * The `dogma` command's options: one table per command, read by `node:util.parseArgs`, from
 * which each command's help is written (so every option the parser takes is described, and
 * nothing described is missing from the parser). `--flag=value` and `--flag value` both work;
 * an unknown option, a missing value or a value given to a switch is a `UsageError` naming the
 * command, whose help follows the message.
 */
import { parseArgs } from "node:util";

export interface OptionSpec {
  readonly name: string;
  /** A switch, or an option with a value (shown in the help as `value`). */
  readonly value?: string;
  readonly short?: string;
  /** May be given more than once (the values are kept in order). */
  readonly multiple?: boolean;
  readonly description: string;
}

export interface CommandSpec {
  readonly name: string;
  /** What follows the options in the synopsis: "PROGRAM.wasm [ARGS...]", "[clear]". */
  readonly operands: string;
  /** One line for `dogma --help`. */
  readonly summary: string;
  /** Paragraphs shown by `dogma COMMAND --help`, above the options. */
  readonly details: string;
  readonly options: readonly OptionSpec[];
  /**
   * The first operand ends the options: what follows it is the program's own (`dogma run
   * prog.wasm --its-flag`). Otherwise options and operands may mix.
   */
  readonly operandsEndOptions?: boolean;
}

export class UsageError extends Error {
  readonly command: CommandSpec | null;
  constructor(message: string, command: CommandSpec | null) {
    super(message);
    this.command = command;
  }
}

const HELP: OptionSpec = { name: "help", short: "h", description: "show this help and exit" };

/** What parseCommand found: the options by name (strings, lists of strings, or true) and the operands. */
export interface ParsedCommand {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly operands: string[];
  readonly help: boolean;
}

/** Where the options of `argv` end when the first operand ends them: the index of that operand (or of `--`). */
function optionsEnd(argv: readonly string[], spec: CommandSpec): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--" || !arg.startsWith("-") || arg === "-") return i;
    if (arg.startsWith("--") && arg.includes("=")) continue;
    const option = arg.startsWith("--") ? spec.options.find((o) => o.name === arg.slice(2)) : spec.options.find((o) => o.short === arg.slice(1));
    if (option?.value !== undefined) i++; // its value, even one that starts with "-"
  }
  return argv.length;
}

/** Parses `argv` (what follows the command's name) against `spec`. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  const options = [...spec.options, HELP];
  let head = [...argv];
  let tail: string[] = [];
  if (spec.operandsEndOptions) {
    const end = optionsEnd(argv, spec);
    head = argv.slice(0, end);
    tail = argv.slice(argv[end] === "--" ? end + 1 : end);
  }
  const config = Object.fromEntries(
    options.map((o) => [o.name, { type: o.value === undefined ? ("boolean" as const) : ("string" as const), multiple: o.multiple ?? false, ...(o.short ? { short: o.short } : {}) }]),
  );
  // Not strict: every token is checked here, so that the message names the command and the option.
  const { tokens } = parseArgs({ args: head, options: config, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | string[] | undefined> = {};
  const operands: string[] = [];
  let help = false;
  for (const token of tokens) {
    if (token.kind === "positional") {
      operands.push(token.value);
      continue;
    }
    if (token.kind === "option-terminator") continue;
    const option = options.find((o) => o.name === token.name);
    if (!option) throw new UsageError(`unknown option "${token.rawName}"`, spec);
    if (option === HELP) {
      help = true;
      continue;
    }
    if (option.value === undefined) {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value (given "${token.value}")`, spec);
      values[option.name] = true;
      continue;
    }
    if (token.value === undefined) throw new UsageError(`${token.rawName} needs a value: ${token.rawName} ${option.value}`, spec);
    if (option.multiple) values[option.name] = [...((values[option.name] as string[] | undefined) ?? []), token.value];
    else values[option.name] = token.value;
  }
  return { values, operands: [...operands, ...tail], help };
}

/** The options' column of a help: `  --memory SIZE   physical memory ...`, descriptions wrapped under each other. */
function optionLines(options: readonly OptionSpec[]): string {
  const width = 22;
  return options
    .map((o) => {
      const name = `${o.short ? `-${o.short}, ` : ""}--${o.name}${o.value ? ` ${o.value}` : ""}`;
      const text = o.description + (o.multiple ? " (repeatable)" : "");
      const lines = wrap(text, 98 - width);
      const first = name.length + 2 < width ? `  ${name.padEnd(width - 2)}${lines[0]}` : `  ${name}\n${" ".repeat(width)}${lines[0]}`;
      return [first, ...lines.slice(1).map((line) => " ".repeat(width) + line)].join("\n");
    })
    .join("\n");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/** `dogma COMMAND --help`. */
export function commandHelp(spec: CommandSpec): string {
  return `usage: dogma ${spec.name} [options]${spec.operands ? ` ${spec.operands}` : ""}

${spec.details.trim()}

options:
${optionLines([...spec.options, HELP])}
`;
}

/** `dogma --help`: the commands, one line each. */
export function overallHelp(commands: readonly CommandSpec[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return `usage: dogma COMMAND [options] ...   (dogma ${version})

${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

  dogma COMMAND --help     that command's options
  dogma --version          the version of dogma and of Node.js
`;
}
