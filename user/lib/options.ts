// A tool's command line, as POSIX utilities and GNU's getopt_long read one: short options that
// may be grouped (`-rf`), a short option's value joined or apart (`-n5`, `-n 5`), long options
// with `=` or apart (`--lines=5`, `--lines 5`), `--` ends the options, a lone `-` is an operand.
// `--help` prints the tool's usage and what each option does, and exits 0; an unknown option or
// a missing value says so, prints the usage, and exits 2 (POSIX's status for a usage error).
//
//   const o = new Options("head", "[-n LINES] [FILE]...", "Prints the first 10 lines of each FILE.");
//   o.value("n", "lines", "LINES", "print the first LINES lines");
//   o.parse(args());
//   const n = o.given("n") ? o.number("n", 10) : 10;
import { print, eprint } from "./io";
import { exit } from "./process";

class OptionSpec {
  constructor(
    readonly short: string,
    readonly long: string,
    /** The value's name in the help ("" for a switch). */
    readonly value: string,
    readonly description: string,
  ) {}
}

export class Options {
  private readonly specs: OptionSpec[] = [];
  private readonly seen: Map<string, string> = new Map<string, string>();
  /** Values of an option given more than once, in order. */
  private readonly all: Map<string, string[]> = new Map<string, string[]>();
  /** The operands, in order. */
  operands: string[] = [];
  /** Options may follow operands (GNU style) unless this is set (xargs, env, sh: what follows is a command's). */
  stopAtOperand: bool = false;

  constructor(readonly tool: string, readonly synopsis: string, readonly about: string) {}

  /** A switch: `-s` or `--long`. */
  flag(short: string, long: string, description: string): Options {
    this.specs.push(new OptionSpec(short, long, "", description));
    return this;
  }

  /** An option with a value: `-s VALUE`, `-sVALUE`, `--long=VALUE`, `--long VALUE`. */
  value(short: string, long: string, name: string, description: string): Options {
    this.specs.push(new OptionSpec(short, long, name, description));
    return this;
  }

  /** Whether the option (by its short name, or its long one when it has none) was given. */
  given(key: string): bool {
    return this.seen.has(key);
  }

  /** The option's value (the last given), or `otherwise`. */
  get(key: string, otherwise: string = ""): string {
    return this.seen.has(key) ? this.seen.get(key) : otherwise;
  }

  /** Every value the option was given, in order. */
  values(key: string): string[] {
    return this.all.has(key) ? this.all.get(key) : [];
  }

  /** The option's value as a whole number ≥ 0, or `otherwise` when not given; a usage error when it is not one. */
  number(key: string, otherwise: i64): i64 {
    if (!this.seen.has(key)) return otherwise;
    const text = this.seen.get(key);
    const n = parseCount(text);
    if (n < 0) this.usageError("invalid number: '" + text + "'");
    return n;
  }

  /** Says what is wrong, then the usage, and exits 2. */
  usageError(why: string): void {
    eprint(this.tool + ": " + why);
    eprint("usage: " + this.tool + " " + this.synopsis);
    eprint("Try '" + this.tool + " --help' for more information.");
    exit(2);
  }

  /** The whole help: usage, what the tool does, and each option. */
  help(): string {
    let text = "usage: " + this.tool + " " + this.synopsis + "\n" + this.about + "\n";
    if (this.specs.length > 0) text += "\noptions:\n";
    for (let i = 0; i < this.specs.length; i++) {
      const s = this.specs[i];
      let name = s.short.length > 0 ? "-" + s.short : "  ";
      if (s.long.length > 0) name += (s.short.length > 0 ? ", " : "  ") + "--" + s.long;
      if (s.value.length > 0) name += s.long.length > 0 ? "=" + s.value : " " + s.value;
      text += "  " + (name.length < 24 ? name.padEnd(24) : name + "\n" + " ".repeat(26)) + s.description + "\n";
    }
    text += "      --help".padEnd(26) + "show this help and exit\n";
    return text;
  }

  private find(short: string, long: string): OptionSpec | null {
    for (let i = 0; i < this.specs.length; i++) {
      const s = this.specs[i];
      if (short.length > 0 && s.short == short) return s;
      if (long.length > 0 && s.long == long) return s;
    }
    return null;
  }

  private record(spec: OptionSpec, value: string): void {
    const key = spec.short.length > 0 ? spec.short : spec.long;
    this.seen.set(key, value);
    if (!this.all.has(key)) this.all.set(key, []);
    this.all.get(key).push(value);
  }

  /** Reads `argv` (argument 0 is the tool's name). Exits for --help and for usage errors. */
  parse(argv: string[]): Options {
    let i = 1;
    for (; i < argv.length; i++) {
      const a = argv[i];
      if (a == "--") {
        i++;
        break;
      }
      if (a == "--help") {
        print(this.help().trimEnd());
        exit(0);
      }
      if (a.length < 2 || !a.startsWith("-")) {
        if (this.stopAtOperand) break;
        this.operands.push(a);
        continue;
      }
      if (a.startsWith("--")) {
        const eq = a.indexOf("=");
        const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
        const spec = this.find("", name);
        if (spec == null) this.usageError("unknown option '--" + name + "'");
        const s = spec!;
        if (s.value.length == 0) {
          if (eq >= 0) this.usageError("option '--" + name + "' takes no value");
          this.record(s, "");
        } else if (eq >= 0) this.record(s, a.slice(eq + 1));
        else {
          if (i + 1 >= argv.length) this.usageError("option '--" + name + "' needs a value (" + s.value + ")");
          this.record(s, argv[++i]);
        }
        continue;
      }
      // -abc: switches, the last (or any) of which may take the rest, or the next argument, as its value.
      for (let k = 1; k < a.length; k++) {
        const c = a.charAt(k);
        const spec = this.find(c, "");
        if (spec == null) this.usageError("unknown option '-" + c + "'");
        const s = spec!;
        if (s.value.length == 0) {
          this.record(s, "");
          continue;
        }
        if (k + 1 < a.length) this.record(s, a.slice(k + 1));
        else {
          if (i + 1 >= argv.length) this.usageError("option '-" + c + "' needs a value (" + s.value + ")");
          this.record(s, argv[++i]);
        }
        break;
      }
    }
    for (; i < argv.length; i++) this.operands.push(argv[i]);
    return this;
  }
}

/** A decimal count (up to 18 digits), or -1 when `s` is anything else. */
export function parseCount(s: string): i64 {
  if (s.length == 0 || s.length > 18) return -1;
  let n: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + <i64>(c - 0x30);
  }
  return n;
}
