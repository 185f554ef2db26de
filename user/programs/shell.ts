// dogma:runtime incremental
// The shell (docs/PROGRAMS.md "The shell"): reads command lines from the console with line
// editing and history, and runs programs — boot modules the config names with `module` lines,
// and binaries found on PATH — with their arguments and environment, in pipelines, lists (;, &&,
// ||), in the foreground (^C ends the job) or in the background with `&`. Builtins: help, exit,
// jobs, history, pwd, cd, export, unset, env; NAME=value sets a variable.
// Config: service shell shell memory=8192 bootinfo use=fs use=host session
// Slots: 2 the registry, 3 a Memory (programs' jobs are made in it), 4 the boot info (names the
// modules), 5 the Cappage the file system publishes its root in (docs/FS.md), 6 (optional) the
// one the host share's server publishes its root in (docs/HOSTFS.md): /host. Programs are
// spawned by the process manager ("proc"), through a session of the shell's; each gets its own
// handle on the working directory.
//
// It uses the garbage-collected runtime: it allocates per line, for ever.
import { Region, Receiver, Memory, eprint, errorName, exit, sleep, capKind, E_INVALID_CAP, KIND_CAPPAGE } from "../lib";
import { procLookup, procSession } from "../lib/proc-client";
import { FsClient, fsRoot, fsErrorName, FS_RIGHTS_ALL, FS_RIGHT_READ, FS_OPEN_DIRECTORY } from "../lib/fs-client";
import { ConsoleClient, CONSOLE_MODE_RAW } from "../lib/console-client";
import { LineEditor } from "./shell-parts/editor";
import { Launcher } from "./shell-parts/jobs";
import { parseCommandLine, isName, AndOr, PipelineSyntax, JOIN_AND, JOIN_OR } from "./shell-parts/parse";
import { Variables } from "./shell-parts/variables";
import { Expander } from "./shell-parts/expand";
import { expandPipeline } from "./shell-parts/commands";
import { LauncherLister } from "./shell-parts/jobs";

const MEMORY: i32 = 3;
const BOOT_INFO: i32 = 4;
const FS_ROOTS: i32 = 5;
const HOST_ROOTS: i32 = 6;

/**
 * A start-up failure ends the shell with a fault, not an exit: init restarts a session that
 * faults, while any exit of the session (`exit N`, ^D) ends it and halts the machine with N.
 */
function fail(what: string, status: i32): void {
  eprint("shell: " + what + ": " + errorName(status));
  unreachable();
}

/** Whether the boot info names a host share device ("device I share line L"): only then is a /host root to wait for. */
let hasShare = false;

/** The programs: boot modules ("module I NAME") that the config names in `module NAME` lines. */
function programs(): Map<string, i32> {
  const modules = new Map<string, i32>();
  const found = new Map<string, i32>();
  const info = new Region(BOOT_INFO).info();
  if (info.status < 0) fail("read the boot info", info.status);
  const length = load<u32>(<usize>info.address);
  const text = String.UTF8.decodeUnsafe(<usize>info.address + 4, <usize>min(length, info.pages * 4096 - 4));
  const lines = text.split("\n");
  let inConfig = false;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] == "config") inConfig = true;
    const f = lines[i].trim().split(" ").filter((field: string) => field.length > 0);
    if (!inConfig && f.length == 3 && f[0] == "module") modules.set(f[2], I32.parseInt(f[1]));
    if (!inConfig && f.length >= 3 && f[0] == "device" && f[2] == "share") hasShare = true;
    if (inConfig && f.length == 2 && f[0] == "module" && modules.has(f[1])) found.set(f[1], modules.get(f[1]));
  }
  return found;
}

const console = new ConsoleClient();
const connected = console.connect();
if (connected < 0) fail("connect to the console", connected);
const notices = new Receiver(new Memory(MEMORY).createReceiver(64));
if (notices.cap < 0) fail("create a Receiver", notices.cap);
const known = programs();

/** A session of the process manager's, once it has registered (it starts after the shell may). */
function session(): i32 {
  let proc = procLookup();
  for (let i = 0; i < 500 && proc == E_INVALID_CAP; i++) {
    sleep(10_000_000);
    proc = procLookup();
  }
  if (proc < 0) fail("find the process manager (proc)", proc);
  const mine = procSession(proc);
  if (mine < 0) fail("open a session with the process manager", mine);
  return mine;
}

// The file system's root, if this machine has one (a machine without a disk has none: the file
// system ends, and the shell runs without files).
const files = new FsClient(MEMORY, 1);
const root = fsRoot(FS_ROOTS, 0, 300);
const launcher = new Launcher(MEMORY, session(), known, console, notices, files, root > 0 ? root : 0, hasShare && capKind(HOST_ROOTS) == <i32>KIND_CAPPAGE ? HOST_ROOTS : 0);
const editor = new LineEditor(console);
editor.commands = known.keys().concat(["cd", "env", "exit", "export", "help", "history", "jobs", "pwd", "unset"]);
let status = 0;
// The variables every session starts with, exported: PWD follows cd, PATH is where programs are looked for.
const variables = new Variables();
variables.set("HOME", "/");
variables.set("PATH", "/bin");
variables.set("PWD", "/");
variables.set("SHELL", "shell");
variables.export("HOME");
variables.export("PATH");
variables.export("PWD");
variables.export("SHELL");
const expander = new Expander(variables);
const lister = new LauncherLister(launcher);
if (root <= 0) say("shell: no file system on this machine (" + errorName(root) + "); cd and the file tools will not work");

/**
 * cd: the working directory becomes `path`, worked out (launcher.resolve) and opened from the
 * root, so `..` can climb back; /host... is opened from the host share's root, read-only.
 */
function changeDirectory(path: string): void {
  const target = launcher.resolve(path);
  const from = launcher.route(target);
  const host = launcher.routedToHost;
  if (from == 0) {
    console.writeString("cd: no file system on this machine\n", true);
    status = 1;
    return;
  }
  const rights = host ? FS_RIGHT_READ : FS_RIGHTS_ALL;
  const handle = files.open(from, launcher.routed, rights | FS_OPEN_DIRECTORY);
  if (handle < 0) {
    console.writeString("cd: " + path + ": " + fsErrorName(handle) + "\n", true);
    status = 1;
    return;
  }
  if (launcher.cwd != launcher.root && launcher.cwd != launcher.hostRoot(false)) files.close(launcher.cwd);
  launcher.cwd = handle;
  variables.set("OLDPWD", launcher.cwdPath);
  launcher.cwdPath = target;
  launcher.cwdRights = rights;
  variables.set("PWD", target);
  status = 0;
}

function say(s: string): void {
  console.writeString(s + "\n");
}

function help(): void {
  say("builtins: cd [DIR], pwd, jobs, history, help, exit [CODE], export [NAME[=VALUE]...], unset NAME..., env");
  const names = known.keys().sort();
  say("programs: " + names.join(" "));
  say("a | b (pipe), a; b, a && b, a || b, a & (background), < > >> 2> 2>&1, NAME=value, $NAME, * ?");
  say("^C ends the foreground job, ^D or exit ends the session");
}

/** export [NAME[=VALUE]...]: marks variables for the environment; alone, lists what is exported. */
function exportVariables(argv: string[]): void {
  if (argv.length == 1) {
    const env = variables.environment();
    for (let i = 0; i < env.length; i++) say("export " + env[i]);
    return;
  }
  for (let i = 1; i < argv.length; i++) {
    const eq = argv[i].indexOf("=");
    const name = eq < 0 ? argv[i] : argv[i].slice(0, eq);
    if (!isName(name)) {
      console.writeString("export: " + name + ": not a variable name\n", true);
      status = 1;
      return;
    }
    if (eq >= 0) variables.set(name, argv[i].slice(eq + 1));
    variables.export(name);
  }
}

/** Runs a builtin if `argv` names one: true when it did. */
function builtin(argv: string[]): bool {
  const name = argv[0];
  if (name == "help") help();
  else if (name == "exit") {
    const code = argv.length > 1 ? exitCode(argv[1]) : status;
    if (code < 0) {
      console.writeString("exit: " + argv[1] + ": not a status (0 to 255)\n", true);
      status = 2;
      return true;
    }
    endSession(code);
  } else if (name == "pwd") say(launcher.cwdPath);
  else if (name == "cd") {
    changeDirectory(argv.length > 1 ? argv[1] : variables.has("HOME") ? variables.get("HOME") : "/");
    return true;
  } else if (name == "history") {
    for (let i = 0; i < editor.history.length; i++) say((i + 1).toString().padStart(4) + "  " + editor.history[i]);
  } else if (name == "export") {
    exportVariables(argv);
    return true;
  } else if (name == "unset") {
    for (let i = 1; i < argv.length; i++) variables.unset(argv[i]);
  } else if (name == "env") {
    const env = variables.environment();
    for (let i = 0; i < env.length; i++) say(env[i]);
  } else if (name == "jobs") {
    for (let i = 0; i < launcher.jobs.length; i++) {
      const job = launcher.jobs[i];
      say("[" + job.id.toString() + "] running  " + job.text);
    }
  } else return false;
  status = 0;
  return true;
}

/** `text` as an exit status, 0 to 255, or -1 when it is not one. */
function exitCode(text: string): i32 {
  if (text.length == 0 || text.length > 3) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  const code = I32.parseInt(text);
  return code <= 255 ? code : -1;
}

/**
 * Ends the session: what was written is made durable first (the shell is init's session, so its
 * clean exit halts the machine, and init stops the file system without asking it to sync).
 */
function endSession(code: i32): void {
  if (launcher.root != 0) files.sync(launcher.root);
  console.setMode(0);
  exit(code);
}

/**
 * Runs one pipeline of a line: NAME=value words alone set variables; a builtin runs in the shell;
 * anything else starts, waited for unless it runs in the background. Sets `status`.
 */
function runPipeline(syntax: PipelineSyntax, background: bool, text: string): void {
  expander.status = status;
  const first = syntax.commands[0];
  if (syntax.commands.length == 1 && first.words.length == 0) {
    for (let i = 0; i < first.assignments.length; i++) variables.set(first.assignments[i].name, expander.text(first.assignments[i].value));
    status = 0;
    return;
  }
  launcher.searchPath = variables.get("PATH");
  const p = expandPipeline(syntax, expander, lister, background, text);
  if (p.commands.length == 1 && !background && p.commands[0].argv.length > 0 && builtin(p.commands[0].argv)) return;
  for (let i = 0; i < p.commands.length; i++) {
    if (p.commands[i].argv.length == 0) {
      console.writeString("shell: a command expands to nothing\n", true);
      status = 2;
      return;
    }
  }
  const why = launcher.start(p);
  if (why.length > 0) {
    console.writeString("shell: " + why + "\n", true);
    status = 127;
    return;
  }
  // A job started in the background has succeeded so far, as sh says of `cmd &`.
  status = background ? 0 : launcher.wait(launcher.last);
}

/** Runs an and-or list: each pipeline after && only if the last status is 0, after || only if it is not. */
function runAndOr(item: AndOr): void {
  for (let i = 0; i < item.pipelines.length; i++) {
    const join = item.joins[i];
    if ((join == JOIN_AND && status != 0) || (join == JOIN_OR && status == 0)) continue;
    runPipeline(item.pipelines[i], item.background, item.text);
  }
}

function runLine(line: string): void {
  const list = parseCommandLine(line);
  if (list.error.length > 0) {
    console.writeString("shell: " + list.error + "\n", true);
    status = 2;
    return;
  }
  for (let i = 0; i < list.items.length; i++) runAndOr(list.items[i]);
}

say("Dogma shell. Type help for what there is.");
for (;;) {
  launcher.poll();
  for (let i = 0; i < launcher.reports.length; i++) say(launcher.reports[i]);
  launcher.reports.length = 0;
  console.setMode(CONSOLE_MODE_RAW);
  const input = editor.readLine("dogma:" + launcher.cwdPath + (status != 0 ? " [" + status.toString() + "]" : "") + "$ ");
  console.setMode(0);
  if (input.ended && input.line.trim().length == 0) break;
  runLine(input.line);
  if (input.ended) break;
}
endSession(status);
