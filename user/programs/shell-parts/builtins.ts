// The commands the shell runs itself (docs/PROGRAMS.md "Builtins"): those that change the shell
// (cd, export, set, exit, ...), those POSIX scripts expect to be fast and exact (echo, printf,
// test, read), job control (jobs, fg, bg, wait, kill %N), and those that run other commands
// (sh, ., eval, command, env, xargs): only the shell starts programs, so these live here.
import { FS_RIGHTS_ALL, FS_RIGHT_READ, FS_OPEN_DIRECTORY } from "../../lib/fs-client";
import { statusText } from "../../lib";
import { Shell, FLOW_BREAK, FLOW_CONTINUE, FLOW_RETURN, FLOW_EXIT } from "./exec";
import { isName, parseProgram } from "./parse";
import { echo, printf } from "./printf";
import { test } from "./test-command";
import { visible } from "../tool-parts/visible";
import { Job, JOB_STOPPED } from "./jobs";
import { parseInteger } from "./arith";
import { Channel, IO_NULL, IO_CONSOLE } from "./channel";
import { installBuiltin, uninstallBuiltin } from "./install";

class BuiltinInfo {
  constructor(
    readonly name: string,
    readonly synopsis: string,
    readonly about: string,
    /** A POSIX special builtin: NAME=value before it stays set. */
    readonly special: bool = false,
  ) {}
}

const BUILTINS: BuiltinInfo[] = [
  new BuiltinInfo(":", ": [ARG...]", "does nothing, successfully", true),
  new BuiltinInfo(".", ". FILE [ARG...]", "runs FILE's commands in this shell", true),
  new BuiltinInfo("[", "[ EXPRESSION ]", "test EXPRESSION (see help test)"),
  new BuiltinInfo("bg", "bg [%N]", "runs a stopped job in the background"),
  new BuiltinInfo("break", "break [N]", "leaves N enclosing loops (1)", true),
  new BuiltinInfo("cd", "cd [DIR]", "changes the working directory ($HOME without DIR; - is $OLDPWD)"),
  new BuiltinInfo("command", "command [-v] NAME [ARG...]", "runs NAME (not a function); -v says what NAME is"),
  new BuiltinInfo("continue", "continue [N]", "goes on with the next round of the Nth enclosing loop (1)", true),
  new BuiltinInfo("echo", "echo [-n] [ARG...]", "prints its arguments; \\n \\t \\c... are interpreted, -n drops the newline"),
  new BuiltinInfo("env", "env [NAME=VALUE...] [COMMAND [ARG...]]", "prints the environment, or runs COMMAND with these variables added"),
  new BuiltinInfo("eval", "eval [ARG...]", "runs its arguments, joined, as commands", true),
  new BuiltinInfo("exit", "exit [N]", "ends the shell (a script: the script) with status N (the last status)", true),
  new BuiltinInfo("export", "export [NAME[=VALUE]...]", "puts variables in the environment of the programs the shell starts; alone, lists them", true),
  new BuiltinInfo("false", "false", "fails (status 1)"),
  new BuiltinInfo("fg", "fg [%N]", "runs a job in the foreground (the current one: the last stopped, or started)"),
  new BuiltinInfo("help", "help [COMMAND]", "what the shell has, or what COMMAND does"),
  new BuiltinInfo("history", "history", "the lines typed"),
  new BuiltinInfo("install", "install [-n] FILE | install -c", "checks the program at FILE against the system (its manifest, its code) and installs it as /bin/NAME; -n: checks only; -c: checks every installed program"),
  new BuiltinInfo("jobs", "jobs", "the jobs running in the background or stopped"),
  new BuiltinInfo("kill", "kill %N... | PID...", "ends jobs (%N) of this shell, or processes of its session (the kill program)"),
  new BuiltinInfo("local", "local NAME[=VALUE]...", "variables of the function that runs: put back when it returns"),
  new BuiltinInfo("pwd", "pwd", "prints the working directory"),
  new BuiltinInfo("read", "read [-r] [-p PROMPT] NAME...", "reads a line of standard input into NAMEs, split at $IFS (the last takes the rest); status 1 at the end of input"),
  new BuiltinInfo("readonly", "readonly NAME[=VALUE]...", "sets variables (they are not protected here)", true),
  new BuiltinInfo("return", "return [N]", "ends the function (or the script run with .) with status N", true),
  new BuiltinInfo("printf", "printf FORMAT [ARG...]", "prints ARGs as FORMAT says: %s %b %c %d %i %u %o %x %X %%, with flags, width, precision"),
  new BuiltinInfo("set", "set [-ex] [+ex] [--] [ARG...]", "sets the positional parameters; -e: stop at a failure; -x: show commands; alone, lists variables", true),
  new BuiltinInfo("sh", "sh [-c COMMANDS [NAME [ARG...]] | FILE [ARG...]]", "runs a script (or COMMANDS) in a subshell"),
  new BuiltinInfo("shift", "shift [N]", "drops the first N positional parameters (1)", true),
  new BuiltinInfo("source", "source FILE [ARG...]", "as ."),
  new BuiltinInfo("test", "test EXPRESSION", "-e -f -d -s -r -w -x -h FILE; -z -n STRING; S = S, S != S; N -eq -ne -lt -le -gt -ge N; ! ( ) -a -o"),
  new BuiltinInfo("true", "true", "succeeds (status 0)"),
  new BuiltinInfo("uninstall", "uninstall [-f] NAME", "removes an installed program, unless another needs a service only it provides (-f: even then)"),
  new BuiltinInfo("type", "type NAME...", "says what each NAME is: a builtin, a function, or a program and where"),
  new BuiltinInfo("unset", "unset [-fv] NAME...", "removes variables (-f: functions)", true),
  new BuiltinInfo("wait", "wait [%N|PID...]", "waits for background jobs to end"),
  new BuiltinInfo("xargs", "xargs [-n N] [-I STRING] [COMMAND [ARG...]]", "runs COMMAND (echo) with the words of standard input as more arguments"),
];

function info(name: string): BuiltinInfo | null {
  for (let i = 0; i < BUILTINS.length; i++) if (BUILTINS[i].name == name) return BUILTINS[i];
  return null;
}

export function isBuiltin(name: string): bool {
  return info(name) != null;
}

export function isSpecialBuiltin(name: string): bool {
  const found = info(name);
  return found != null && found!.special;
}

/** The builtins' names, for completion and help. */
export function builtinNames(): string[] {
  const names = new Array<string>();
  for (let i = 0; i < BUILTINS.length; i++) names.push(BUILTINS[i].name);
  return names;
}

/** Says `name: message` on the errors stream; answers `status`. */
function fail(sh: Shell, name: string, message: string, status: i32 = 1): i32 {
  sh.fds[2].write(name + ": " + message + "\n");
  return status;
}

function usage(sh: Shell, name: string): i32 {
  const found = info(name)!;
  return fail(sh, name, "usage: " + found.synopsis, 2);
}

/** A count argument (break 2, shift 3, exit 4): the number, or -1 when it is not one. */
function count(text: string): i32 {
  if (text.length == 0 || text.length > 9) return -1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x30 || text.charCodeAt(i) > 0x39) return -1;
  return I32.parseInt(text);
}

export function runBuiltin(sh: Shell, argv: string[]): i32 {
  const name = argv[0];
  if (argv.length == 2 && argv[1] == "--help" && name != "echo" && name != "test" && name != "[" && name != ":") {
    const found = info(name)!;
    sh.out("usage: " + found.synopsis + "\n" + found.about + "\n");
    return 0;
  }
  if (name == ":" || name == "true") return 0;
  if (name == "false") return 1;
  if (name == "echo") return sh.out(echo(argv.slice(1))) ? 0 : 1;
  if (name == "printf") return printfBuiltin(sh, argv);
  if (name == "test" || name == "[") return testBuiltin(sh, argv);
  if (name == "cd") return cd(sh, argv);
  if (name == "install") return installBuiltin(sh, argv);
  if (name == "uninstall") return uninstallBuiltin(sh, argv);
  if (name == "pwd") {
    // On the console a name with control characters is shown quoted, as ls shows it; a pipe or a
    // file ($(pwd)) gets it as it is.
    sh.out((sh.fds[1].kind == IO_CONSOLE ? visible(sh.files.cwdPath) : sh.files.cwdPath) + "\n");
    return 0;
  }
  if (name == "export" || name == "readonly") return exportBuiltin(sh, argv);
  if (name == "local") return localBuiltin(sh, argv);
  if (name == "unset") return unsetBuiltin(sh, argv);
  if (name == "set") return setBuiltin(sh, argv);
  if (name == "shift") return shiftBuiltin(sh, argv);
  if (name == "exit" || name == "return") return leave(sh, argv);
  if (name == "break" || name == "continue") return loopControl(sh, argv);
  if (name == "read") return readBuiltin(sh, argv);
  if (name == "." || name == "source") return sourceBuiltin(sh, argv);
  if (name == "eval") return evalBuiltin(sh, argv.slice(1).join(" "));
  if (name == "sh") return shBuiltin(sh, argv);
  if (name == "help") return helpBuiltin(sh, argv);
  if (name == "history") {
    for (let i = 0; i < sh.history.length; i++) sh.out((i + 1).toString().padStart(4) + "  " + sh.history[i] + "\n");
    return 0;
  }
  if (name == "type" || name == "command") return typeBuiltin(sh, argv);
  if (name == "env") return envBuiltin(sh, argv);
  if (name == "xargs") return xargsBuiltin(sh, argv);
  if (name == "jobs") return jobsBuiltin(sh);
  if (name == "fg" || name == "bg") return fgBuiltin(sh, argv);
  if (name == "wait") return waitBuiltin(sh, argv);
  if (name == "kill") return killBuiltin(sh, argv);
  return fail(sh, name, "not a builtin", 127);
}

function printfBuiltin(sh: Shell, argv: string[]): i32 {
  if (argv.length < 2) return usage(sh, "printf");
  const printed = printf(argv[1], argv.slice(2));
  sh.out(printed.text);
  if (printed.error.length > 0) return fail(sh, "printf", printed.error);
  return 0;
}

function testBuiltin(sh: Shell, argv: string[]): i32 {
  let args = argv.slice(1);
  if (argv[0] == "[") {
    if (args.length == 0 || args[args.length - 1] != "]") return fail(sh, "[", "missing ]", 2);
    args = args.slice(0, args.length - 1);
  }
  const result = test(args, sh.files);
  if (result.status == 2) return fail(sh, argv[0], result.error, 2);
  return result.status;
}

/**
 * cd: the working directory becomes the path, worked out (resolve) and opened from the root, so
 * `..` can climb back; /host... is opened from the host share's root, read-only.
 */
function cd(sh: Shell, argv: string[]): i32 {
  if (argv.length > 2) return usage(sh, "cd");
  let path = argv.length > 1 ? argv[1] : sh.vars.has("HOME") ? sh.vars.get("HOME") : "/";
  if (path == "-") {
    path = sh.vars.get("OLDPWD");
    if (path.length == 0) return fail(sh, "cd", "OLDPWD not set");
  }
  const files = sh.files;
  const target = files.resolve(path);
  const from = files.route(target);
  if (from == 0) return fail(sh, "cd", "no file system on this machine");
  const rights = files.routedToHost ? FS_RIGHT_READ : FS_RIGHTS_ALL;
  const handle = files.client.open(from, files.routed, rights | FS_OPEN_DIRECTORY);
  if (handle < 0) return fail(sh, "cd", visible(path) + ": " + statusText(handle));
  sh.releaseCwd(files.cwd);
  files.cwd = handle;
  sh.vars.set("OLDPWD", files.cwdPath);
  files.cwdPath = target;
  files.cwdRights = rights;
  sh.vars.set("PWD", target);
  if (argv.length > 1 && argv[1] == "-") sh.out(visible(target) + "\n");
  return 0;
}

function exportBuiltin(sh: Shell, argv: string[]): i32 {
  if (argv.length == 1 || (argv.length == 2 && argv[1] == "-p")) {
    const env = sh.vars.environment();
    for (let i = 0; i < env.length; i++) {
      const eq = env[i].indexOf("=");
      sh.out((argv[0] == "readonly" ? "readonly " : "export ") + env[i].slice(0, eq) + "=" + quote(env[i].slice(eq + 1)) + "\n");
    }
    return 0;
  }
  let status = 0;
  for (let i = 1; i < argv.length; i++) {
    const eq = argv[i].indexOf("=");
    const variable = eq < 0 ? argv[i] : argv[i].slice(0, eq);
    if (!isName(variable)) {
      status = fail(sh, argv[0], variable + ": not a variable name");
      continue;
    }
    if (eq >= 0) sh.assign(variable, argv[i].slice(eq + 1));
    if (argv[0] == "export") sh.vars.export(variable);
    else if (!sh.vars.has(variable)) sh.vars.set(variable, "");
  }
  return status;
}

/** `value` as sh would read it back: as it is when it is plain, else in single quotes. */
function quote(value: string): string {
  let plain = value.length > 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2f || c == 0x2e || c == 0x5f || c == 0x2d || c == 0x3a || c == 0x2c || c == 0x2b;
    if (!ok) plain = false;
  }
  if (plain) return value;
  return "'" + value.replaceAll("'", "'\\''") + "'";
}

function localBuiltin(sh: Shell, argv: string[]): i32 {
  if (sh.functionDepth == 0) return fail(sh, "local", "only in a function");
  for (let i = 1; i < argv.length; i++) {
    const eq = argv[i].indexOf("=");
    const variable = eq < 0 ? argv[i] : argv[i].slice(0, eq);
    if (!isName(variable)) return fail(sh, "local", variable + ": not a variable name");
    sh.keepLocal(variable);
    if (eq >= 0) sh.assign(variable, argv[i].slice(eq + 1));
  }
  return 0;
}

function unsetBuiltin(sh: Shell, argv: string[]): i32 {
  let functions = false;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] == "-f") {
      functions = true;
      continue;
    }
    if (argv[i] == "-v") continue;
    if (functions) sh.functions.delete(argv[i]);
    else sh.vars.unset(argv[i]);
  }
  return 0;
}

function setBuiltin(sh: Shell, argv: string[]): i32 {
  if (argv.length == 1) {
    const names = sh.vars.names();
    for (let i = 0; i < names.length; i++) sh.out(names[i] + "=" + quote(sh.vars.get(names[i])) + "\n");
    return 0;
  }
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a == "--") {
      i++;
      sh.positionalArgs = argv.slice(i);
      return 0;
    }
    if (a.length < 2 || (!a.startsWith("-") && !a.startsWith("+"))) break;
    const on = a.startsWith("-");
    for (let k = 1; k < a.length; k++) {
      const flag = a.charAt(k);
      if (flag == "e") sh.errexit = on;
      else if (flag == "x") sh.xtrace = on;
      else return fail(sh, "set", a.charAt(0) + flag + ": not an option here (-e and -x are)", 2);
    }
  }
  if (i < argv.length) sh.positionalArgs = argv.slice(i);
  return 0;
}

function shiftBuiltin(sh: Shell, argv: string[]): i32 {
  const n = argv.length > 1 ? count(argv[1]) : 1;
  if (n < 0) return fail(sh, "shift", argv[1] + ": not a count", 2);
  if (n > sh.positionalArgs.length) return fail(sh, "shift", "can't shift that many");
  sh.positionalArgs = sh.positionalArgs.slice(n);
  return 0;
}

/** exit [N] and return [N]: the status, and the shell's flow says what ends. */
function leave(sh: Shell, argv: string[]): i32 {
  let code = sh.status;
  if (argv.length > 1) {
    const parsed = parseInteger(argv[1]);
    if (parsed.error.length > 0) return fail(sh, argv[0], argv[1] + ": not a status (0 to 255)", 2);
    code = <i32>(parsed.value & 0xff);
  }
  if (argv[0] == "return" && sh.functionDepth == 0 && !sh.sourcing) return fail(sh, "return", "not in a function or a sourced file");
  sh.flow = argv[0] == "exit" ? FLOW_EXIT : FLOW_RETURN;
  return code;
}

function loopControl(sh: Shell, argv: string[]): i32 {
  const n = argv.length > 1 ? count(argv[1]) : 1;
  if (n < 1) return fail(sh, argv[0], (argv.length > 1 ? argv[1] : "") + ": not a loop count", 2);
  if (sh.loops == 0) return 0; // outside a loop: nothing to leave (dash says nothing either)
  sh.flow = argv[0] == "break" ? FLOW_BREAK : FLOW_CONTINUE;
  sh.flowLevels = min(n, sh.loops);
  return 0;
}

/** read [-r] [-p PROMPT] NAME...: one line of input, split at $IFS. */
function readBuiltin(sh: Shell, argv: string[]): i32 {
  let raw = false;
  let i = 1;
  for (; i < argv.length; i++) {
    if (argv[i] == "-r") raw = true;
    else if (argv[i] == "-p" && i + 1 < argv.length) sh.fds[2].write(argv[++i]);
    else if (argv[i].startsWith("-") && argv[i].length > 1) return usage(sh, "read");
    else break;
  }
  const names = argv.slice(i);
  if (names.length == 0) names.push("REPLY");
  for (let k = 0; k < names.length; k++) if (!isName(names[k])) return fail(sh, "read", names[k] + ": not a variable name", 2);
  let line = sh.fds[0].readLine();
  // A last line without its newline is still assigned, but read answers 1, as sh's does, so
  // `while read` does not run for it.
  let ended = line == null || sh.fds[0].unterminated;
  let text = line == null ? "" : line!;
  if (!raw) {
    // A backslash at the end continues the line; elsewhere it keeps the next character as it is.
    while (text.endsWith("\\") && !text.endsWith("\\\\")) {
      const more = sh.fds[0].readLine();
      text = text.slice(0, text.length - 1);
      if (more == null) break;
      text += more!;
      if (sh.fds[0].unterminated) ended = true;
    }
  }
  const ifs = sh.vars.has("IFS") ? sh.vars.get("IFS") : " \t\n";
  const fields = splitRead(text, ifs, names.length, raw);
  for (let k = 0; k < names.length; k++) if (!sh.assign(names[k], k < fields.length ? fields[k] : "")) return 1;
  return ended ? 1 : 0;
}

/** Whether the character `c` separates fields: in $IFS; `blank` asks whether it is a blank of $IFS (runs of which count as one). */
function separates(ifs: string, c: i32, blank: bool): bool {
  if (blank && c != 0x20 && c != 0x09 && c != 0x0a) return false;
  for (let i = 0; i < ifs.length; i++) if (ifs.charCodeAt(i) == c) return true;
  return false;
}

/**
 * `text` split at `ifs` into at most `n` fields (the last takes the rest, trailing blanks off).
 * Fields are cut as slices of `text`, looking at character codes (a line may be a megabyte: a
 * string per character, or one character at a time appended, would copy it over and over); only
 * a backslash joins pieces.
 */
function splitRead(text: string, ifs: string, n: i32, raw: bool): string[] {
  const out = new Array<string>();
  let i = 0;
  while (i < text.length && separates(ifs, text.charCodeAt(i), true)) i++;
  let field = "";
  let piece = i;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (!raw && c == 0x5c && i + 1 < text.length) {
      field += text.substring(piece, i) + text.charAt(i + 1);
      i += 2;
      piece = i;
      continue;
    }
    if (separates(ifs, c, false) && out.length < n - 1) {
      out.push(field + text.substring(piece, i));
      field = "";
      i++;
      while (i < text.length && separates(ifs, text.charCodeAt(i), true)) i++;
      piece = i;
      continue;
    }
    i++;
  }
  field += text.substring(piece, i);
  if (out.length == n - 1) {
    let end = field.length;
    while (end > 0 && separates(ifs, field.charCodeAt(end - 1), true)) end--;
    field = field.slice(0, end);
  }
  if (field.length > 0 || out.length < n) out.push(field);
  return out;
}

function sourceBuiltin(sh: Shell, argv: string[]): i32 {
  if (argv.length < 2) return usage(sh, argv[0]);
  let path = argv[1];
  if (!path.includes("/") && !sh.files.isFile(path)) {
    const found = sh.launcher.binaryPath(path);
    if (found.length > 0) path = found;
  }
  const sourcing = sh.sourcing;
  sh.sourcing = true;
  sh.runScript(path, argv.slice(2), true);
  sh.sourcing = sourcing;
  return sh.status;
}

function evalBuiltin(sh: Shell, text: string): i32 {
  const parsed = parseProgram(text);
  if (parsed.list == null) return fail(sh, "eval", parsed.error, 2);
  if (!sh.enterNesting(2, "eval")) return sh.status;
  sh.status = 0;
  sh.runList(parsed.list!);
  sh.leaveNesting(2);
  return sh.status;
}

/** sh FILE ARGS, sh -c COMMANDS [NAME ARGS], sh < script: in a subshell. */
function shBuiltin(sh: Shell, argv: string[]): i32 {
  if (argv.length >= 2 && argv[1] == "-c") {
    if (argv.length < 3) return usage(sh, "sh");
    const parsed = parseProgram(argv[2]);
    if (parsed.list == null) return fail(sh, "sh", parsed.error, 2);
    if (!sh.enterNesting(2, "sh -c")) return sh.status;
    const context = sh.enterSubshell();
    if (argv.length > 3) sh.name0 = argv[3];
    sh.positionalArgs = argv.length > 4 ? argv.slice(4) : [];
    sh.status = 0;
    sh.runList(parsed.list!);
    const status = sh.status;
    sh.leaveSubshell(context);
    sh.leaveNesting(2);
    return status;
  }
  if (argv.length >= 2 && argv[1].startsWith("-") && argv[1] != "-") return usage(sh, "sh");
  if (argv.length < 2 || argv[1] == "-") {
    // The script is standard input.
    let text = "";
    for (let line = sh.fds[0].readLine(); line != null; line = sh.fds[0].readLine()) text += line! + "\n";
    return evalInSubshell(sh, text);
  }
  sh.runScript(argv[1], argv.slice(2), false);
  return sh.status;
}

function evalInSubshell(sh: Shell, text: string): i32 {
  const parsed = parseProgram(text);
  if (parsed.list == null) return fail(sh, "sh", "line " + parsed.line.toString() + ": " + parsed.error, 2);
  if (!sh.enterNesting(2, "sh")) return sh.status;
  const context = sh.enterSubshell();
  sh.status = 0;
  sh.runList(parsed.list!);
  const status = sh.status;
  sh.leaveSubshell(context);
  sh.leaveNesting(2);
  return status;
}

function helpBuiltin(sh: Shell, argv: string[]): i32 {
  if (argv.length > 1) {
    const topic = argv[1];
    const found = info(topic);
    if (found != null) {
      sh.out("usage: " + found!.synopsis + "\n" + found!.about + "\n");
      return 0;
    }
    if (sh.launcher.exists(topic)) {
      // A program says what it does itself.
      sh.runArgv([topic, "--help"], []);
      return sh.status;
    }
    return fail(sh, "help", topic + ": no such command");
  }
  const programs = sh.programNames();
  sh.out(
    "builtins: " + builtinNames().join(" ") + "\n" +
      "programs: " + programs.join(" ") + "\n" +
      "a | b, a; b, a && b, a || b, a &, ! a, { a; }, ( a ), < > >> 2> 2>&1 <<EOF, NAME=value, $NAME ${NAME:-x} $(cmd) $((1+2)), * ? [a-z]\n" +
      "if/elif/else/fi, while/until/do/done, for NAME in ...; do ...; done, case WORD in PATTERN) ...;; esac, NAME() { ...; }\n" +
      "^C ends the foreground job, ^Z stops it (fg, bg, jobs, %N); ^D or exit ends the session. help COMMAND says more.\n",
  );
  return 0;
}

function typeBuiltin(sh: Shell, argv: string[]): i32 {
  let args = argv.slice(1);
  const verbose = argv[0] == "type";
  if (argv[0] == "command") {
    if (args.length > 0 && (args[0] == "-v" || args[0] == "-V")) {
      args = args.slice(1);
    } else {
      // command NAME ARGS: runs NAME, a builtin or a program, never a function.
      if (args.length == 0) return 0;
      if (isBuiltin(args[0])) return runBuiltin(sh, args);
      const functions = sh.functions;
      sh.functions = new Map();
      sh.runArgv(args, []);
      sh.functions = functions;
      return sh.status;
    }
  }
  let status = 0;
  for (let i = 0; i < args.length; i++) {
    const name = args[i];
    let what = "";
    if (sh.functions.has(name)) what = verbose ? name + " is a function" : name;
    else if (isBuiltin(name)) what = verbose ? name + " is a shell builtin" : name;
    else if (sh.launcher.programs.has(name) && !name.includes("/")) what = verbose ? name + " is a program of the boot image" : name;
    else {
      const path = sh.launcher.binaryPath(name);
      if (path.length > 0) what = verbose ? name + " is " + path : path;
    }
    if (what.length == 0) {
      if (verbose) sh.fds[2].write(name + ": not found\n");
      status = 1;
      continue;
    }
    sh.out(what + "\n");
  }
  return status;
}

function envBuiltin(sh: Shell, argv: string[]): i32 {
  let i = 1;
  const added = new Array<string>();
  for (; i < argv.length; i++) {
    const eq = argv[i].indexOf("=");
    if (eq < 1 || !isName(argv[i].slice(0, eq))) break;
    added.push(argv[i]);
  }
  if (i < argv.length && argv[i].startsWith("-")) return fail(sh, "env", "unknown option '" + argv[i] + "'\nusage: env [NAME=VALUE...] [COMMAND [ARG...]]", 2);
  if (i == argv.length) {
    const env = sh.vars.environment(added);
    for (let k = 0; k < env.length; k++) sh.out(env[k] + "\n");
    return 0;
  }
  sh.runArgv(argv.slice(i), added);
  return sh.status;
}

/** xargs: the words of standard input (blanks and newlines separate them, quotes and \ keep them) as arguments. */
function xargsBuiltin(sh: Shell, argv: string[]): i32 {
  let perCommand = 0;
  let replace = "";
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a == "-n" && i + 1 < argv.length) {
      perCommand = count(argv[++i]);
      if (perCommand < 1) return fail(sh, "xargs", argv[i] + ": not a count", 2);
    } else if (a.startsWith("-n") && a.length > 2) {
      perCommand = count(a.slice(2));
      if (perCommand < 1) return fail(sh, "xargs", a.slice(2) + ": not a count", 2);
    } else if (a == "-I" && i + 1 < argv.length) replace = argv[++i];
    else if (a.startsWith("-I") && a.length > 2) replace = a.slice(2);
    else if (a == "--") {
      i++;
      break;
    } else if (a.startsWith("-") && a.length > 1) return fail(sh, "xargs", "unknown option '" + a + "'\nusage: xargs [-n N] [-I STRING] [COMMAND [ARG...]]", 2);
    else break;
  }
  const command = i < argv.length ? argv.slice(i) : ["echo"];
  const words = new Array<string>();
  const lines = new Array<string>();
  for (let line = sh.fds[0].readLine(); line != null; line = sh.fds[0].readLine()) {
    lines.push(line!);
    splitWords(line!, words);
  }
  let status = 0;
  // What the commands read is not xargs' input (which it has read to its end): nothing, as GNU xargs gives them.
  const input = sh.fds[0];
  sh.fds[0] = new Channel(IO_NULL);
  if (replace.length > 0) {
    for (let k = 0; k < lines.length; k++) {
      const args = new Array<string>();
      for (let a = 0; a < command.length; a++) args.push(command[a].replaceAll(replace, lines[k]));
      sh.runArgv(args, []);
      if (sh.status != 0) status = 123;
    }
    sh.fds[0] = input;
    return status;
  }
  const step = perCommand > 0 ? perCommand : max(words.length, 1);
  for (let start = 0; start < words.length || (start == 0 && words.length == 0); start += step) {
    if (words.length == 0 && command.length > 0 && command[0] != "echo") break;
    const args = command.slice(0);
    for (let k = start; k < min(start + step, words.length); k++) args.push(words[k]);
    sh.runArgv(args, []);
    if (sh.status != 0) status = sh.status == 127 || sh.status == 126 ? sh.status : 123;
    if (words.length == 0) break;
  }
  sh.fds[0] = input;
  return status;
}

/** The words of a line of xargs' input: blanks separate, '...' "..." and \ keep. */
function splitWords(line: string, out: string[]): void {
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line.charAt(i);
    if (c == " " || c == "\t") {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c == "\\" && i + 1 < line.length) {
      word += line.charAt(i + 1);
      i += 2;
    } else if (c == "'" || c == '"') {
      const close = line.indexOf(c, i + 1);
      const end = close < 0 ? line.length : close;
      word += line.slice(i + 1, end);
      i = end + 1;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) out.push(word);
}

function jobsBuiltin(sh: Shell): i32 {
  sh.launcher.poll();
  const jobs = sh.launcher.jobs;
  const current = sh.launcher.current;
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i];
    const mark = job == current ? "+" : " ";
    sh.out("[" + job.id.toString() + "]" + mark + " " + (job.state == JOB_STOPPED ? "Stopped" : "Running").padEnd(8) + " " + job.text + "\n");
  }
  return 0;
}

/** The job an argument names: %N, %% or %+ (the current), a pid; null (said) when there is none. */
function jobOf(sh: Shell, name: string, spec: string): Job | null {
  let job: Job | null = null;
  if (spec.length == 0 || spec == "%" || spec == "%%" || spec == "%+") job = sh.launcher.current;
  else if (spec.startsWith("%")) {
    const n = count(spec.slice(1));
    if (n > 0) job = sh.launcher.job(<u32>n);
  }
  if (job == null) fail(sh, name, (spec.length == 0 ? "current" : spec) + ": no such job");
  return job;
}

function fgBuiltin(sh: Shell, argv: string[]): i32 {
  sh.launcher.poll();
  const job = jobOf(sh, argv[0], argv.length > 1 ? argv[1] : "");
  if (job == null) return 1;
  sh.out(job!.text + "\n");
  return sh.launcher.resume(job!, argv[0] == "fg");
}

function waitBuiltin(sh: Shell, argv: string[]): i32 {
  let status = 0;
  if (argv.length == 1) {
    while (sh.launcher.jobs.length > 0) {
      const job = sh.launcher.jobs[0];
      if (job.state == JOB_STOPPED) break;
      status = sh.launcher.wait(job);
    }
    return status;
  }
  for (let i = 1; i < argv.length; i++) {
    let job: Job | null = null;
    if (argv[i].startsWith("%")) job = jobOf(sh, "wait", argv[i]);
    else {
      const pid = count(argv[i]);
      for (let k = 0; k < sh.launcher.jobs.length; k++) if (<i32>sh.launcher.jobs[k].pid == pid) job = sh.launcher.jobs[k];
      if (job == null) {
        status = 127;
        continue;
      }
    }
    if (job == null) return 127;
    status = sh.launcher.wait(job!);
  }
  return status;
}

/** kill %N ends a job of the shell's; pids go to the kill program. */
function killBuiltin(sh: Shell, argv: string[]): i32 {
  const pids = ["kill"];
  let status = 0;
  for (let i = 1; i < argv.length; i++) {
    if (!argv[i].startsWith("%")) {
      pids.push(argv[i]);
      continue;
    }
    const job = jobOf(sh, "kill", argv[i]);
    if (job == null) {
      status = 1;
      continue;
    }
    sh.launcher.kill(job!);
    if (job!.state == JOB_STOPPED) sh.launcher.resume(job!, false);
  }
  if (pids.length > 1 || argv.length == 1) {
    sh.runArgv(pids, [], true);
    if (sh.status != 0) status = sh.status;
  }
  return status;
}
