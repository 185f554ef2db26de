// dogma:runtime incremental
// The shell (docs/PROGRAMS.md "The shell"): reads command lines from the console with line
// editing, history and completion, and runs them: POSIX sh's language (shell-parts/parse.ts,
// exec.ts), builtins (builtins.ts), and programs — boot modules the config names with `module`
// lines, and binaries found on PATH — in pipelines, in the foreground (^C ends the job, ^Z stops
// it) or in the background with `&`; scripts with `sh FILE` and #! lines.
// Config: service shell shell memory=32768 bootinfo use=fs use=host session
// Slots: 2 the registry, 3 a Memory (programs' jobs are made in it), 4 the boot info (names the
// modules), 5 the Cappage the file system publishes its root in (docs/FS.md), 6 (optional) the
// one the host share's server publishes its root in (docs/HOSTFS.md): /host. Programs are
// spawned by the process manager ("proc"), through a session of the shell's; each gets its own
// handle on the working directory.
//
// It uses the garbage-collected runtime: it allocates per line, for ever.
import { Region, Receiver, Memory, eprint, statusText, exit, sleep, capKind, E_INVALID_CAP, KIND_CAPPAGE } from "../lib";
import { procLookup, procSession } from "../lib/proc-client";
import { FsClient, fsRoot } from "../lib/fs-client";
import { ConsoleClient, CONSOLE_MODE_RAW } from "../lib/console-client";
import { LineEditor } from "./shell-parts/editor";
import { Launcher } from "./shell-parts/jobs";
import { ShellFiles, shellRoot } from "./shell-parts/shell-files";
import { Shell, FLOW_ABORT, FLOW_EXIT, FLOW_NONE } from "./shell-parts/exec";
import { parseProgram } from "./shell-parts/parse";
import { setShellConsole } from "./shell-parts/channel";
import { ShellCompleter } from "./shell-parts/complete";
import { visible } from "./tool-parts/visible";
import { bootModules, machineDevices } from "./shell-parts/install";

const MEMORY: i32 = 3;
const BOOT_INFO: i32 = 4;
const FS_ROOTS: i32 = 5;
const HOST_ROOTS: i32 = 6;

/**
 * A start-up failure ends the shell with a fault, not an exit: init restarts a session that
 * faults, while any exit of the session (`exit N`, ^D) ends it and halts the machine with N.
 */
function fail(what: string, status: i32): void {
  eprint("shell: " + what + ": " + statusText(status));
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
    if (!inConfig && f.length == 3 && f[0] == "module") {
      modules.set(f[2], I32.parseInt(f[1]));
      bootModules.push(f[2]); // install -c checks their drivers as init does
    }
    if (!inConfig && f.length >= 3 && f[0] == "device" && f[2] == "share") hasShare = true;
    if (!inConfig && f.length >= 3 && f[0] == "device") machineDevices.push(f[2]); // what install checks a driver's device against
    if (inConfig && f.length == 2 && f[0] == "module" && modules.has(f[1])) found.set(f[1], modules.get(f[1]));
  }
  return found;
}

const console = new ConsoleClient();
const connected = console.connect();
if (connected < 0) fail("connect to the console", connected);
setShellConsole(console);
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
const client = new FsClient(MEMORY, 1);
const root = shellRoot(client, fsRoot(FS_ROOTS, 0, 300));
const files = new ShellFiles(client, root > 0 ? root : 0, hasShare && capKind(HOST_ROOTS) == <i32>KIND_CAPPAGE ? HOST_ROOTS : 0, root > 0 ? FS_ROOTS : 0);
const launcher = new Launcher(MEMORY, session(), known, console, notices, files);
const sh = new Shell(launcher, files);
launcher.variables = sh.vars;
const editor = new LineEditor(console);
editor.completer = new ShellCompleter(sh);
sh.history = editor.history;
// The variables every session starts with, exported: PWD follows cd, PATH is where programs are looked for.
sh.vars.set("HOME", "/");
sh.vars.set("PATH", "/bin");
sh.vars.set("PWD", "/");
sh.vars.set("SHELL", "shell");
sh.vars.export("HOME");
sh.vars.export("PATH");
sh.vars.export("PWD");
sh.vars.export("SHELL");
if (root <= 0) console.writeString("shell: no file system on this machine (" + statusText(root) + "); cd and the file tools will not work\n");

/**
 * Ends the session: what was written is made durable first (the shell is init's session, so its
 * clean exit halts the machine, and init stops the file system without asking it to sync).
 */
function endSession(code: i32): void {
  if (files.root != 0) client.sync(files.root);
  console.setMode(0);
  exit(code);
}

/** The prompt: the working directory (quoted if it holds control characters) and a failing status. */
function prompt(): string {
  return "dogma:" + visible(files.cwdPath) + (sh.status != 0 ? " [" + sh.status.toString() + "]" : "") + "$ ";
}

/**
 * Reads one command: a line, and more lines (prompt "> ") while what was typed is incomplete (an
 * open quote, an if without fi, a here-document). Null at the end of the session's input.
 */
function readCommand(): string | null {
  console.setMode(CONSOLE_MODE_RAW);
  let input = editor.readLine(prompt());
  let text = input.line;
  while (!input.ended && parseProgram(text).incomplete) {
    input = editor.readLine("> ");
    text += "\n" + input.line;
  }
  // The console stays raw until the command runs (the main loop): see there.
  if (input.ended && text.trim().length == 0) return null;
  return text;
}

console.writeString("Dogma shell. Type help for what there is.\n");
for (;;) {
  launcher.poll();
  for (let i = 0; i < launcher.reports.length; i++) console.writeString(launcher.reports[i] + "\n");
  launcher.reports.length = 0;
  const text = readCommand();
  if (text == null) break;
  if (!files.reconnect()) sh.error("the file system has gone, and no new one is there yet");
  if (!launcher.reconnect()) sh.error("the process manager has gone, and no new one is there yet");
  if (editor.takeInterrupt()) {
    // A ^C typed with the Enter: the command is interrupted before it starts (status 130).
    console.writeString("^C\n");
    sh.status = 130;
    continue;
  }
  const parsed = parseProgram(text!);
  if (parsed.list == null) {
    sh.error(parsed.error);
    sh.status = 2;
    continue;
  }
  sh.flow = FLOW_NONE;
  // ^C is the shell's from here, and only then does the console leave raw mode: a ^C typed in the
  // same burst as the Enter is among the raw bytes nobody read, and the console hands it to the
  // foreground as it changes mode.
  launcher.listen(true);
  console.setMode(0);
  sh.runList(parsed.list!);
  if (launcher.interrupted) sh.status = 130;
  else if (sh.flow == FLOW_ABORT) sh.status = 2;
  launcher.listen(false);
  if (sh.flow == FLOW_EXIT) endSession(sh.status);
  sh.flow = FLOW_NONE;
  // A full collection between commands: the incremental collector may let a command's garbage
  // (megabytes after a large $(...) or pipeline) stand while the next one grows the heap to the
  // shell's quota, where an allocation ends the shell.
  __collect();
}
endSession(sh.status);
