// Running programs. Programs are spawned by the process manager (docs/PROCESSES.md) through the
// shell's session, each in a Memory of its job's own, made in the shell's: the shell's quota pays,
// and ^C can end the whole job at once (destroying the Memory kills every process in it).
// Programs get the standard slots of docs/PROGRAMS.md: 4 standard input, 5 standard output, 6
// standard errors, 7 their job's Memory, 8 and 9 handles of their own on the working directory
// and the root, 10 one on the host share's root when there is one (closed when they end), and
// their environment with their arguments (JOB_ARGS). Between two programs of a pipeline is a
// pipe from the pipe service; where a command's input or output is the shell's own memory (what
// $(...) captures, what a builtin wrote), a pipe too, which the shell *pumps* while it waits.
//
// The shell watches every program with a monitor capability whose badge names the job and the
// program; the console's ^C (CONSOLE_INTERRUPTED) and ^Z (CONSOLE_SUSPENDED) come to the same
// Receiver (badge INTERRUPT_BADGE) while a job is in the foreground. ^Z suspends every program
// of the job (JOB_SUSPEND) and has the console let their reads go; fg and bg resume them.
import {
  capCopy, capDrop, Memory, Receiver, msgLabel, msgBadge, msgWord, msgBegin, msgInvoke, CAP_MOVE, RIGHT_RECEIVER_SEND,
  MSG_PROCESS_ENDED, STATE_FAULTED, faultKindName, errorName, registryLookup, registryForPrograms, E_INVALID_CAP, E_TIMEOUT, statusText,
  E_QUEUE_FULL, E_PEER_DEAD, sleep,
} from "../../lib";
import { Job as ProcJob, procSpawn, lastSpawnedPid, procKill, procLookup, procSession } from "../../lib/proc-client";
import { packArgs, ARGS_IN_MESSAGE_BYTES } from "../../lib/caps/process";
import { Region } from "../../lib/caps/region";
import { FS_RIGHTS_ALL, FS_RIGHT_READ, FS_OPEN_DIRECTORY } from "../../lib/fs-client";
import { ConsoleClient, CONSOLE_INTERRUPTED, CONSOLE_SUSPENDED } from "../../lib/console-client";
import { createPipe, closePipeEnd, PIPE_SERVICE } from "../../lib/pipe-client";
import { STREAM_INFO, STREAM_CHUNK, streamRead, streamWrite } from "../../lib/streams";
import { Command, Pipeline, OpenedFile } from "./pipeline";
import { Channel, ByteBuffer, Drainer, Feeder, IO_CONSOLE, IO_CAP, IO_BUFFER, IO_PIPE_NEXT, IO_NULL, IO_FEED, IO_DRAIN } from "./channel";
import { ShellFiles, TEXT_TOO_LARGE } from "./shell-files";
import { BinaryLoader } from "./binaries";
import { PROC_SERVICE, procGrantsOf } from "../../lib/manifest-grants";
import { Variables } from "./variables";
import { Manifest, MAX_MANIFEST_BYTES, PROGRAM_CAPS, parseManifest } from "../../lib/manifest";

/**
 * Pages each program of a job may use (64 MiB): its memory (memtest's 8 MiB and its runtime fit)
 * and, for a binary read from the file system, its Image, charged what the host keeps of it (the
 * binary, its data and its compiled code: docs/MEMORY.md "What a process costs"), twice the binary
 * and 3 MiB while it loads: a 17 MiB binary needs 37 MiB then. The shell's own limit bounds them all.
 */
const PROGRAM_PAGES: u32 = 16384;
const INTERRUPT_BADGE: u32 = 0xffff;
const MAX_PIPELINE = 8;
/** The status of a job stopped by ^Z: 128 + SIGTSTP, as sh says. */
export const STOPPED_STATUS: i32 = 148;
/** How long a wait with pumps sleeps at most when nothing moved (a notice wakes it at once). */
const MAX_IDLE_NS: u64 = 16_000_000;
/** The first wait for room in a fed pipe: the program that reads it usually makes room at once. */
const FEED_IDLE_NS: u64 = 50_000;

class Program {
  /** The job capability the process manager answered (0: none yet). */
  process: i32 = 0;
  pid: u32 = 0;
  name: string = "";
  ended: bool = false;
  /** Pipe ends the shell closes when this program ends: the next reads the end of input, the one before finds the pipe broken. */
  closeOnEnd: i32[] = [];
  /** Its handles on the working directory and the roots (closed when it ends). */
  handles: i32[] = [];
}

/** Bytes the shell moves between its memory and a pipe while it waits for a job. */
class Pump {
  done: bool = false;
  constructor(
    /** The pipe end the shell holds: the read end of a program's output, or the write end of its input. */
    readonly end: i32,
    /** Where output goes (null: dropped, /dev/null), or what input comes from. */
    readonly buffer: ByteBuffer | null,
    readonly intoShell: bool,
  ) {}
}

export const JOB_RUNNING: i32 = 0;
export const JOB_STOPPED: i32 = 1;
export const JOB_DONE: i32 = 2;

/**
 * Why a job got no stream for its input or output (`status`, the failed copy's or pipe's). A full
 * queue: a contract with one-way messages (the file system's, for a redirection's handle) keeps a
 * queue slot for every capability to its server (docs/CONTRACTS.md "Queue bounds"), and too many
 * are held now.
 */
function noStreamWhy(status: i32): string {
  if (status == E_QUEUE_FULL) return "no stream for its input or output: its server's queue has room for no more capabilities (E_QUEUE_FULL: too many open at once)";
  return "no pipe for its input or output: the pipe service does not answer (" + errorName(status) + ")";
}

export class Job {
  programs: Program[] = [];
  memory: i32 = 0;
  files: OpenedFile[] = [];
  pumps: Pump[] = [];
  /** The last program's exit code (-1: it faulted), once it has ended. */
  status: i32 = 0;
  state: i32 = JOB_RUNNING;
  background: bool;
  /**
   * `id` is the number the user sees (the smallest free); `serial` never repeats, and is what
   * the monitor badges carry, so a late notice of an ended job cannot be taken for a new one's.
   */
  constructor(readonly id: u32, readonly serial: u32, readonly text: string, background: bool) {
    this.background = background;
  }

  get done(): bool {
    for (let i = 0; i < this.programs.length; i++) if (!this.programs[i].ended) return false;
    return true;
  }

  /** The pid of its last program (what `cmd &` says, and $!). */
  get pid(): u32 {
    return this.programs.length > 0 ? this.programs[this.programs.length - 1].pid : 0;
  }
}

/** Why a start failed, and the status it is (127: no such command; 126: it cannot run; 1 otherwise). */
export class StartFailure {
  /** The command of the pipeline it concerns (its errors stream says it). */
  index: i32 = 0;
  constructor(
    readonly why: string,
    readonly status: i32,
  ) {}
}

/** The standard slots the shell gives, 4 to 10 (docs/PROGRAMS.md): the services a manifest needs follow them. */
const STANDARD_SLOTS: i32 = 7;

export class Launcher {
  readonly jobs: Job[] = [];
  private nextSerial: u32 = 1;
  private pipeService: i32 = 0;
  /** Messages for the user about background jobs that ended. */
  readonly reports: string[] = [];
  /** The shell's variables, for PATH: where a command without a / is looked for after the boot modules (":"-separated). */
  variables: Variables | null = null;

  get searchPath(): string {
    return this.variables != null && this.variables!.has("PATH") ? this.variables!.get("PATH") : "/bin";
  }
  /** Why the last start failed (null: it did not). */
  failure: StartFailure | null = null;
  /** A ^C came while the command line ran: what runs stops (the shell's loops, the line). */
  interrupted: bool = false;
  /** Whether a command line runs (^C is the shell's then: listen). */
  private listening: bool = false;
  readonly binaries: BinaryLoader;

  constructor(
    readonly memory: i32,
    /** A call capability to the process manager with the shell's own session (a new one after it was restarted: reconnect). */
    public proc: i32,
    readonly programs: Map<string, i32>,
    readonly console: ConsoleClient,
    readonly notices: Receiver,
    readonly files: ShellFiles,
  ) {
    this.binaries = new BinaryLoader(proc, files);
  }

  /**
   * After the process manager was restarted, the shell's session answered E_PEER_DEAD, and every
   * command that was no builtin failed (126) until the session ended. Asked before each command
   * line (a Kill of pid 0, which names no job): when the session is dead, a new one is opened with
   * the process manager now registered. Its jobs went with the old one. Whether the shell has one.
   */
  reconnect(): bool {
    if (procKill(this.proc, 0) != E_PEER_DEAD) return true;
    // Waiting for it a while, as at the start: init restarts it after a backoff, and until it
    // registers again the registry may still hold the one that ended.
    let mine = E_PEER_DEAD;
    for (let i = 0; i < 500 && mine < 0; i++) {
      if (i > 0) sleep(10_000_000);
      const proc = procLookup();
      if (proc < 0) continue;
      mine = procSession(proc);
      capDrop(proc);
    }
    if (mine < 0) return false;
    capDrop(this.proc);
    this.proc = mine;
    this.binaries.proc = mine;
    return true;
  }

  /**
   * Where the binary for a command lies: the path itself when it has a `/`, else the first
   * directory of PATH that holds a file of that name; "" when there is none (a boot module may
   * still answer to the name).
   */
  binaryPath(name: string): string {
    if (name.includes("/")) return this.files.isFile(name) ? name : "";
    const dirs = this.searchPath.split(":");
    for (let i = 0; i < dirs.length; i++) {
      const dir = dirs[i].length == 0 ? "." : dirs[i];
      const path = dir.endsWith("/") ? dir + name : dir + "/" + name;
      if (this.files.isFile(path)) return path;
    }
    return "";
  }

  /** Whether `name` names a program: a boot module, or a file on PATH (or a path). */
  exists(name: string): bool {
    return (this.programs.has(name) && !name.includes("/")) || this.binaryPath(name).length > 0;
  }

  /** Starts `p`: the job, or null with `failure` saying why. Its files go with the job, which closes them. */
  start(p: Pipeline): Job | null {
    this.failure = null;
    if (p.commands.length > MAX_PIPELINE) return this.refuse(p, "at most " + MAX_PIPELINE.toString() + " programs in a pipeline", 1);
    for (let i = 0; i < p.commands.length; i++) {
      const c = p.commands[i];
      const boot = this.programs.has(c.argv[0]) && !c.argv[0].includes("/");
      c.binary = boot ? "" : this.binaryPath(c.argv[0]);
      if (c.binary.length == 0 && !boot) {
        const path = c.argv[0].includes("/");
        const there = path && this.files.kindOf(c.argv[0]) >= 0;
        const refused = this.refuse(p, c.argv[0] + (there ? ": is not a file it can run" : path ? ": no such file" : ": command not found"), there ? 126 : 127);
        this.failure!.index = i;
        return refused;
      }
    }
    const job = new Job(this.freeId(), this.nextSerial++ & 0xfff, p.text, p.background);
    job.files = p.files;
    const home = new Memory(this.memory).createMemory(PROGRAM_PAGES * <u32>p.commands.length);
    if (home < 0) return this.refuseJob(job, "no memory for the job: " + statusText(home), 1);
    job.memory = home;
    let previous = 0; // the read end of the pipe from the program before
    for (let i = 0; i < p.commands.length; i++) {
      const c = p.commands[i];
      const program = new Program();
      program.name = c.argv[0];
      job.programs.push(program);
      let next = 0; // this program's pipe to the next: its write end (the next gets `previousRead`)
      let nextRead = 0;
      if (i + 1 < p.commands.length && (c.fds[1].kind == IO_PIPE_NEXT || c.fds[2].kind == IO_PIPE_NEXT)) {
        const pipe = this.pipe();
        if (pipe == null) {
          if (previous != 0) capDrop(previous);
          return this.refuseJob(job, "no pipe: the pipe service does not answer", 1);
        }
        next = pipe.writeEnd;
        nextRead = pipe.readEnd;
        program.closeOnEnd.push(capCopy(next));
      }
      const stdin = c.fds[0].kind == IO_PIPE_NEXT && previous != 0 ? previous : this.capFor(c.fds[0], false, job, program);
      if (previous != 0 && stdin != previous) {
        closePipeEnd(previous);
        capDrop(previous);
      }
      const stdout = c.fds[1].kind == IO_PIPE_NEXT ? capCopy(next) : this.capFor(c.fds[1], true, job, program);
      const stderr = c.fds[2].kind == IO_PIPE_NEXT ? capCopy(next) : this.capFor(c.fds[2], true, job, program);
      if (next != 0) capDrop(next);
      if (stdin < 0 || stdout < 0 || stderr < 0) {
        if (stdin > 0) capDrop(stdin);
        if (stdout > 0) capDrop(stdout);
        if (stderr > 0) capDrop(stderr);
        if (nextRead != 0) capDrop(nextRead);
        return this.refuseJob(job, c.argv[0] + ": " + noStreamWhy(stdin < 0 ? stdin : stdout < 0 ? stdout : stderr), 1);
      }
      if (i > 0 && stdin == previous) program.closeOnEnd.push(capCopy(stdin));
      const why = this.spawn(job, program, c, stdin, stdout, stderr);
      if (why != null) {
        if (nextRead != 0) capDrop(nextRead);
        const refused = this.refuseJob(job, why!.why, why!.status);
        this.failure!.index = i;
        return refused;
      }
      previous = nextRead;
    }
    if (previous != 0) capDrop(previous);
    this.jobs.push(job);
    if (p.background) {
      this.fillInputsNow(job);
      this.reports.push("[" + job.id.toString() + "] " + job.pid.toString());
    }
    return job;
  }

  private refuse(p: Pipeline, why: string, status: i32): Job | null {
    this.closeFiles(p.files, null);
    this.failure = new StartFailure(why, status);
    return null;
  }

  private refuseJob(job: Job, why: string, status: i32): Job | null {
    this.failure = new StartFailure(why, status);
    this.jobs.push(job);
    for (let i = 0; i < job.programs.length; i++) job.programs[i].ended = true;
    this.forget(job);
    return null;
  }

  /**
   * A capability for a program's input (`output` false) or output from a channel: a copy of the
   * console or of a file, or one end of a new pipe the shell pumps (memory, /dev/null). A status
   * when no pipe could be made.
   */
  private capFor(channel: Channel, output: bool, job: Job, program: Program): i32 {
    if (channel.kind == IO_CONSOLE) return capCopy(this.console.service);
    if (channel.kind == IO_CAP) return capCopy(channel.cap);
    if (channel.kind == IO_FEED && output) {
      // A program of the stage that feeds a job writes straight into its pipe (the shell keeps
      // the pipe's write end open: the job reads the end when the whole stage is over).
      return channel.feeder != null ? capCopy(channel.feeder!.end) : E_INVALID_CAP;
    }
    if (channel.kind == IO_DRAIN && !output) {
      // A program of the stage that drains a job reads straight from its pipe.
      return channel.drainer != null ? capCopy(channel.drainer!.end) : E_INVALID_CAP;
    }
    if (channel.kind == IO_DRAIN) {
      const drained = this.pipe();
      if (drained == null) return E_INVALID_CAP;
      // Its end closes the pipe's write side, so the shell's stage reads the end of input.
      program.closeOnEnd.push(capCopy(drained.writeEnd));
      channel.drainer = new JobDrain(this, job, drained.readEnd);
      return drained.writeEnd;
    }
    if (channel.kind == IO_FEED) {
      const fed = this.pipe();
      if (fed == null) return E_INVALID_CAP;
      // Its end closes the pipe's read side, so the shell's stage finds it broken.
      program.closeOnEnd.push(capCopy(fed.readEnd));
      channel.feeder = new JobFeed(this, job, fed.writeEnd);
      return fed.readEnd;
    }
    const pipe = this.pipe();
    if (pipe == null) return E_INVALID_CAP;
    if (output) {
      // The program writes; the shell reads into its memory (or drops it, /dev/null).
      program.closeOnEnd.push(capCopy(pipe.writeEnd));
      job.pumps.push(new Pump(pipe.readEnd, channel.kind == IO_BUFFER ? channel.buffer : null, true));
      return pipe.writeEnd;
    }
    program.closeOnEnd.push(capCopy(pipe.readEnd));
    if (channel.kind == IO_BUFFER) job.pumps.push(new Pump(pipe.writeEnd, channel.buffer, false));
    else {
      closePipeEnd(pipe.writeEnd); // /dev/null: the end of input at once
      capDrop(pipe.writeEnd);
    }
    return pipe.readEnd;
  }

  /** Creates `program` with its streams (moved), arguments and environment, and starts it: null, or why not. */
  private spawn(job: Job, program: Program, c: Command, stdin: i32, stdout: i32, stderr: i32): StartFailure | null {
    const argv = c.argv;
    let created: i32;
    // A boot module's manifest is its record, read before the spawn: slots 2 and 3 follow it.
    const moduleManifest = c.binary.length == 0 ? this.manifestOf(c) : null;
    if (c.binary.length == 0 && this.manifestRefusal.length > 0) {
      capDrop(stdin);
      capDrop(stdout);
      capDrop(stderr);
      return new StartFailure(argv[0] + ": " + this.manifestRefusal, 126);
    }
    if (c.binary.length == 0) created = procSpawn(this.proc, <u32>job.memory, argv[0], procGrantsOf(moduleManifest));
    else {
      const loaded = this.binaries.spawn(job.memory, c.binary);
      if (loaded.length > 0) {
        capDrop(stdin);
        capDrop(stdout);
        capDrop(stderr);
        return new StartFailure(argv[0] + ": " + loaded, 126);
      }
      created = this.binaries.spawned;
    }
    if (created < 0) {
      capDrop(stdin);
      capDrop(stdout);
      capDrop(stderr);
      return new StartFailure(argv[0] + ": cannot start it: " + statusText(created), 126);
    }
    program.process = created;
    program.pid = lastSpawnedPid;
    const p = new ProcJob(created);
    // What it gets: what its manifest asks for, or today's standard set without one.
    const manifest = c.binary.length == 0 ? moduleManifest : this.manifestOf(c);
    if (this.manifestRefusal.length > 0) {
      capDrop(stdin);
      capDrop(stdout);
      capDrop(stderr);
      return new StartFailure(argv[0] + ": " + this.manifestRefusal, 126);
    }
    const gave = [stdin, stdout, stderr, capCopy(job.memory)];
    const files = this.files;
    if (files.cwd != 0) {
      // A manifest that asks `cap cwd read` / `cap root read` gets the directory with the read
      // right alone: a program that only reads cannot write, unlink or fill the disk (redteam11).
      const cwdRights = manifest != null && manifest!.readsOnly("cwd") ? FS_RIGHT_READ : files.cwdRights;
      const rootRights = manifest != null && manifest!.readsOnly("root") ? FS_RIGHT_READ : FS_RIGHTS_ALL;
      const directory = files.client.open(files.cwd, ".", cwdRights | FS_OPEN_DIRECTORY);
      if (directory > 0) {
        program.handles.push(directory);
        gave.push(capCopy(directory));
        const top = files.root != 0 ? files.client.open(files.root, "/", rootRights | FS_OPEN_DIRECTORY) : 0;
        if (top > 0) {
          program.handles.push(top);
          gave.push(capCopy(top));
          const host = files.hostRoot(true);
          const share = host > 0 ? files.client.open(host, "/", FS_RIGHT_READ | FS_OPEN_DIRECTORY) : 0;
          if (share > 0) {
            program.handles.push(share);
            gave.push(capCopy(share));
          }
        }
      }
    }
    if (manifest != null) {
      const why = this.narrow(gave, manifest!, job);
      if (why.length > 0) {
        for (let i = 0; i < gave.length; i++) capDrop(gave[i]);
        return new StartFailure(argv[0] + ": " + why, 126);
      }
    }
    for (let i = 0; i < gave.length; i++) {
      const status = p.give(<u32>gave[i] | CAP_MOVE);
      if (status < 0) return new StartFailure(argv[0] + ": cannot give it its capabilities: " + statusText(status), 126);
    }
    const args = this.setArgs(p, job, argv, c.env);
    if (args < 0) return new StartFailure(argv[0] + ": cannot give it its arguments and environment: " + statusText(args), 126);
    const notice = this.notices.mint((job.serial << 4) | <u32>(job.programs.length - 1), RIGHT_RECEIVER_SEND);
    if (notice < 0 || p.monitor(<u32>notice | CAP_MOVE) < 0) return new StartFailure(argv[0] + ": cannot watch it", 126);
    const started = p.start();
    if (started < 0) return new StartFailure(argv[0] + ": cannot start it: " + statusText(started), 126);
    return null;
  }

  /** Why the last manifestOf refused to run the program ("" when it did not). */
  private manifestRefusal: string = "";
  /** The registry as programs have it (REGISTRY_FOR_PROGRAMS), for the services a manifest needs; 0 until first asked. */
  private programsRegistry: i32 = 0;

  /**
   * The manifest of what `c` runs: read from the binary it runs from a file, or for a boot module
   * run by name, its record in /etc/manifests (docs/MANIFESTS.md); null when it has none (it gets
   * today's standard set). A manifest that does not parse, the program does not run with.
   */
  private manifestOf(c: Command): Manifest | null {
    this.manifestRefusal = "";
    let text: string | null = null;
    if (c.binary.length > 0) {
      if (this.binaries.manifestError.length > 0) {
        this.manifestRefusal = "its manifest section is malformed: " + this.binaries.manifestError;
        return null;
      }
      text = this.binaries.manifestText;
    } else if (this.files.root != 0 && !c.argv[0].includes("/")) {
      text = this.files.readText("/etc/manifests/" + c.argv[0], MAX_MANIFEST_BYTES);
      if (text == null && this.files.lastStatus == TEXT_TOO_LARGE) {
        this.manifestRefusal = "its record /etc/manifests/" + c.argv[0] + " is larger than a manifest may be (" + MAX_MANIFEST_BYTES.toString() + " bytes)";
        return null;
      }
    }
    if (text == null) return null;
    const m = parseManifest(text!);
    if (m.error.length > 0) {
      this.manifestRefusal = "its manifest does not parse: " + m.error;
      return null;
    }
    return m;
  }

  /**
   * Narrows the standard set `gave` (slots 4 on: streams, the job's Memory, the working directory,
   * the root, the host share's root) to what `manifest` asks for: a slot it does not ask for holds
   * a copy of the job's Memory without rights (nothing to use: the slots keep their places), and
   * those at the end go. Then the services it needs, looked up in the registry, from slot 11 in
   * the order of its lines. "" or why it cannot run.
   */
  private narrow(gave: i32[], manifest: Manifest, job: Job): string {
    for (let i = 0; i < gave.length; i++) {
      const asked = PROGRAM_CAPS[i < 3 ? 0 : i - 2];
      if (manifest.hasCap(asked)) continue;
      capDrop(gave[i]);
      gave[i] = capCopy(job.memory, 0);
    }
    let needs = 0;
    for (let n = 0; n < manifest.needs.length; n++) if (!manifest.needs[n].shared && manifest.needs[n].service != PROC_SERVICE) needs++;
    if (needs > 0) {
      while (gave.length < STANDARD_SLOTS) gave.push(capCopy(job.memory, 0));
      for (let n = 0; n < manifest.needs.length; n++) {
        const need = manifest.needs[n];
        // The process manager comes at slot 3, with the shell's session (user/lib/manifest-grants.ts).
        if (need.shared || need.service == PROC_SERVICE) continue;
        // Looked up as the program would: a name for services only (a driver's) is not its to have.
        if (this.programsRegistry <= 0) this.programsRegistry = registryForPrograms();
        const found = this.programsRegistry > 0 ? registryLookup(need.service, this.programsRegistry) : this.programsRegistry;
        if (found > 0) gave.push(found);
        else if (need.optional) gave.push(capCopy(job.memory, 0));
        else return "it needs service " + need.service + " (" + need.contract + "), which is not running: " + statusText(found);
      }
      return "";
    }
    // Nothing asked past the last slot it asks for: the slots after it are left empty.
    let last = gave.length - 1;
    while (last >= 0) {
      const asked = PROGRAM_CAPS[last < 3 ? 0 : last - 2];
      if (manifest.hasCap(asked)) break;
      capDrop(gave[last]);
      gave.pop();
      last--;
    }
    return "";
  }

  /**
   * Waits for the foreground job `job` to end, moving bytes between the shell's memory and its
   * pipes meanwhile; ^C ends it, ^Z stops it (when it has no pumps: the shell itself is part of
   * such a job). Its status: the last program's, 130 after ^C, STOPPED_STATUS after ^Z.
   */
  wait(job: Job): i32 {
    job.background = false;
    this.takeInterrupts(true);
    let idle: u64 = 1_000_000;
    while (!job.done) {
      if (this.heldTooMuch(job)) {
        this.sayHeld(job);
        this.stop(job, 1);
        break;
      }
      let status: i32;
      if (this.pumpsLeft(job)) {
        if (this.pump(job)) {
          idle = 1_000_000;
          status = this.notices.receive(0);
        } else {
          status = this.notices.receive(idle);
          idle = min(idle * 2, MAX_IDLE_NS);
        }
        if (status == E_TIMEOUT) continue;
      } else status = this.notices.receive();
      if (status < 0) break;
      const badge = msgBadge();
      const label = msgLabel();
      if (badge == INTERRUPT_BADGE && label == CONSOLE_INTERRUPTED) {
        // A shell's status for ^C is 130.
        this.stop(job, 130);
        this.interrupted = true;
        break;
      }
      if (badge == INTERRUPT_BADGE && label == CONSOLE_SUSPENDED) {
        if (job.pumps.length > 0) continue;
        this.suspend(job);
        this.takeInterrupts(this.listening);
        this.console.writeString("\n[" + job.id.toString() + "]+ Stopped  " + job.text + "\n");
        return STOPPED_STATUS;
      }
      if (label == MSG_PROCESS_ENDED) this.ended(badge);
    }
    this.finishPumps(job);
    this.takeInterrupts(this.listening);
    this.forget(job);
    return job.status;
  }

  /**
   * While a command line runs (`on`), ^C comes to the shell too, not only while it waits for a
   * job: its own loops stop at their next turn (Shell.loopEnds). At the prompt it does not (the
   * line editor reads ^C itself).
   */
  listen(on: bool): void {
    this.listening = on;
    this.interrupted = false;
    this.takeInterrupts(on);
  }

  /** Makes the console send ^C and ^Z to the shell's notices (`on`), or to nobody. */
  private takeInterrupts(on: bool): void {
    if (!on) {
      this.console.setForeground(0);
      return;
    }
    const interrupt = this.notices.mint(INTERRUPT_BADGE, RIGHT_RECEIVER_SEND);
    if (interrupt > 0) this.console.setForeground(<u32>interrupt | CAP_MOVE);
  }

  /** Takes the notices that came (ends of jobs, a ^C) without waiting: whether a ^C has come since the line began. */
  checkInterrupt(): bool {
    this.poll();
    return this.interrupted;
  }

  /**
   * Writes `len` bytes into `end`, the pipe into `job`'s first program, as room comes, watching
   * the job meanwhile (its ends, its pumps): false once nobody can read them (it has ended or
   * closed its input: a broken pipe).
   */
  feed(job: Job, end: i32, ptr: usize, len: i32): bool {
    let done = 0;
    let idle: u64 = FEED_IDLE_NS;
    while (done < len) {
      if (job.done || this.interrupted || streamInfo(end) < 0) return false;
      const room = msgWord(2);
      if (room == 0xffffffff) return false;
      if (room == 0) {
        this.watch(job, idle);
        idle = min(idle * 2, MAX_IDLE_NS);
        continue;
      }
      idle = FEED_IDLE_NS;
      // No more than there is room for: the write is answered at once.
      const written = streamWrite(end, ptr + <usize>done, <usize>min(<i32>room, len - done));
      if (written <= 0) return false;
      done += written;
    }
    return true;
  }

  /**
   * Reads at most `max` bytes of `job`'s output from `end`, the pipe out of its last program, into
   * `ptr`, waiting while it may still write and watching it meanwhile: the count, 0 at the end
   * (the pipe closed and empty, or a ^C).
   */
  drain(job: Job, end: i32, ptr: usize, max: i32): i32 {
    let idle: u64 = FEED_IDLE_NS;
    for (;;) {
      if (this.interrupted || streamInfo(end) < 0) return 0;
      const ready = msgWord(1);
      if (ready == 0xffffffff) return 0;
      if (ready > 0) {
        // No more than is there: the read is answered at once.
        const n = streamRead(end, ptr, min(ready, <u32>max));
        return n < 0 ? 0 : n;
      }
      this.watch(job, idle);
      idle = min(idle * 2, MAX_IDLE_NS);
    }
    return 0;
  }

  /** Ends the reading of the job `drain` drained: its read end is closed and dropped. */
  endDrain(drain: Channel): void {
    if (drain.drainer != null) drain.drainer!.close();
  }

  /** Ends every program of `job` at once (they die with its Memory), with `status` as the job's. */
  private stop(job: Job, status: i32): void {
    new Memory(job.memory).destroy();
    for (let i = 0; i < job.programs.length; i++) job.programs[i].ended = true;
    job.status = status;
  }

  /** While a stage feeds `job`: moves what its pumps can, and takes one notice (at most `idle` ns). */
  private watch(job: Job, idle: u64): void {
    if (this.pumpsLeft(job) && this.pump(job)) idle = 0;
    if (this.notices.receive(idle) < 0) return;
    const badge = msgBadge();
    const label = msgLabel();
    if (label == MSG_PROCESS_ENDED && badge != INTERRUPT_BADGE) this.ended(badge);
    if (badge == INTERRUPT_BADGE && label == CONSOLE_INTERRUPTED) {
      // ^C while the shell feeds the job: the job ends, and so does the stage feeding it.
      this.stop(job, 130);
      this.interrupted = true;
    }
  }

  /** Ends the input of the job `feed` fed (no more comes): its write end is closed and dropped. */
  endFeed(feed: Channel): void {
    if (feed.feeder != null) feed.feeder!.close();
  }

  // ---- Pumps ---------------------------------------------------------------------------------
  private suspend(job: Job): void {
    for (let i = 0; i < job.programs.length; i++) {
      const program = job.programs[i];
      if (!program.ended && program.process > 0) new ProcJob(program.process).suspend();
    }
    job.state = JOB_STOPPED;
    this.console.releaseReaders();
  }

  /** Runs a stopped job again: in the foreground (fg, waited for: its status) or the background (bg: 0). */
  resume(job: Job, foreground: bool): i32 {
    for (let i = 0; i < job.programs.length; i++) {
      const program = job.programs[i];
      if (!program.ended && program.process > 0) new ProcJob(program.process).resume();
    }
    job.state = JOB_RUNNING;
    if (!foreground) {
      job.background = true;
      return 0;
    }
    return this.wait(job);
  }

  /** Ends every program of `job` (kill %N): its Memory goes. */
  kill(job: Job): void {
    if (job.memory > 0) new Memory(job.memory).destroy();
  }

  /** The job with user number `id`, or null. */
  job(id: u32): Job | null {
    for (let i = 0; i < this.jobs.length; i++) if (this.jobs[i].id == id) return this.jobs[i];
    return null;
  }

  /** The job `%` means: the last stopped, else the last started. */
  get current(): Job | null {
    for (let i = this.jobs.length - 1; i >= 0; i--) if (this.jobs[i].state == JOB_STOPPED) return this.jobs[i];
    return this.jobs.length > 0 ? this.jobs[this.jobs.length - 1] : null;
  }

  /** Takes the notices that have come in without waiting (background jobs that ended). */
  poll(): void {
    while (this.notices.receive(0) >= 0) {
      if (msgLabel() == MSG_PROCESS_ENDED) this.ended(msgBadge());
      else if (msgBadge() == INTERRUPT_BADGE && msgLabel() == CONSOLE_INTERRUPTED) this.interrupted = this.listening;
    }
  }

  // ---- Pumps ---------------------------------------------------------------------------------

  /** Whether a pump into the shell's memory was refused (its buffer held its limit). */
  private heldTooMuch(job: Job): bool {
    for (let i = 0; i < job.pumps.length; i++) {
      const p = job.pumps[i];
      if (p.intoShell && p.buffer != null && p.buffer!.full) return true;
    }
    return false;
  }

  /** Says (once) that the job's output was refused: the shell held as much of it as it may. */
  private sayHeld(job: Job): void {
    for (let i = 0; i < job.pumps.length; i++) {
      const p = job.pumps[i];
      if (!p.intoShell || p.buffer == null || !p.buffer!.full || p.buffer!.fullSaid) continue;
      p.buffer!.fullSaid = true;
      this.console.writeString("shell: " + job.text + ": more output than the shell holds for its next command or $(...) (" + (p.buffer!.limit >> 20).toString() + " MiB); stopped\n", true);
    }
  }

  private pumpsLeft(job: Job): bool {
    for (let i = 0; i < job.pumps.length; i++) if (!job.pumps[i].done) return true;
    return false;
  }

  /** Moves what can move now without waiting: whether anything did. */
  private pump(job: Job): bool {
    let moved = false;
    for (let i = 0; i < job.pumps.length; i++) {
      const p = job.pumps[i];
      if (p.done) continue;
      const info = streamInfo(p.end);
      if (info < 0) {
        p.done = true;
        continue;
      }
      if (p.intoShell) {
        const ready = msgWord(1);
        if (ready == 0) continue;
        if (ready == 0xffffffff) {
          p.done = true;
          continue;
        }
        if (this.readInto(p, min(ready, STREAM_CHUNK)) > 0) moved = true;
      } else {
        const room = msgWord(2);
        if (room == 0xffffffff) {
          p.done = true; // the reader has gone
          continue;
        }
        if (room == 0) continue;
        if (this.writeFrom(p, min(room, STREAM_CHUNK))) moved = true;
      }
    }
    return moved;
  }

  /** One READ of at most `max` bytes from a pump's pipe into its buffer: the count (0: the end). */
  private readInto(p: Pump, max: u32): i32 {
    const scratch = heap.alloc(<usize>STREAM_CHUNK);
    const n = streamRead(p.end, scratch, min(max, STREAM_CHUNK));
    // Past MAX_HELD_BYTES the buffer refuses it: wait() stops the job (its writer would wait for room for ever).
    const kept = n > 0 && (p.buffer == null || p.buffer!.append(scratch, n));
    heap.free(scratch);
    if (!kept) {
      p.done = true;
      return 0;
    }
    return n;
  }

  /** One WRITE of what is left of a pump's buffer, at most `room` bytes; the input ends (CLOSE) when it is all written. */
  private writeFrom(p: Pump, room: u32): bool {
    const buffer = p.buffer!;
    const n = <u32>min(<i32>room, buffer.unread);
    if (n == 0) {
      closePipeEnd(p.end);
      p.done = true;
      return true;
    }
    const written = streamWrite(p.end, buffer.data.dataStart + <usize>buffer.readAt, <usize>n);
    if (written < 0) {
      p.done = true;
      return false;
    }
    buffer.readAt += written;
    if (buffer.unread == 0) {
      closePipeEnd(p.end);
      p.done = true;
    }
    return true;
  }

  /** The job has ended: what its programs wrote and is still in their pipes comes in, and every pump end goes. */
  private finishPumps(job: Job): void {
    for (let i = 0; i < job.pumps.length; i++) {
      const p = job.pumps[i];
      if (p.intoShell) while (!p.done && this.readInto(p, STREAM_CHUNK) > 0) {}
      closePipeEnd(p.end);
      capDrop(p.end);
    }
    job.pumps.length = 0;
  }

  /** A background job's input made in memory: what fits the pipe now (4 KiB); the rest is not waited for. */
  private fillInputsNow(job: Job): void {
    for (let i = 0; i < job.pumps.length; i++) {
      const p = job.pumps[i];
      if (p.intoShell) continue;
      while (!p.done) {
        if (streamInfo(p.end) < 0) break;
        const room = msgWord(2);
        if (room == 0 || room == 0xffffffff) break;
        this.writeFrom(p, min(room, STREAM_CHUNK));
      }
      closePipeEnd(p.end);
    }
  }

  // ---- Endings -------------------------------------------------------------------------------

  /** A program's PROCESS_ENDED notice came (badge: job serial << 4 | program). */
  private ended(badge: u32): void {
    const job = this.find(badge >> 4);
    if (job == null) return;
    const index = <i32>(badge & 15);
    if (index >= job.programs.length) return;
    const program = job.programs[index];
    if (program.ended) return;
    program.ended = true;
    this.release(program);
    // PROCESS_STATE's words: pid, state, exit code, fault kind, fault address.
    const p = new ProcJob(program.process);
    let state: u32 = 0;
    let code: i32 = 0;
    let faultKind: i32 = -1;
    let faultAddress: u32 = 0xffffffff;
    if (p.state() >= 0) {
      state = msgWord(1);
      code = <i32>msgWord(2);
      faultKind = <i32>msgWord(3);
      faultAddress = msgWord(4);
    }
    p.wait(); // it has ended: the answer comes at once, and the process manager forgets the job
    const status = state == STATE_FAULTED ? -1 : code;
    if (state == STATE_FAULTED) {
      this.console.writeString(
        "shell: " + program.name + " (pid " + program.pid.toString() + ") faulted: " + faultKindName(faultKind) +
          (faultAddress != 0xffffffff ? " at 0x" + faultAddress.toString(16) : "") + "\n",
        true,
      );
    }
    if (index == job.programs.length - 1) job.status = status;
    if (job.background && job.done) {
      this.forget(job); // first: a failed write to its file changes its status
      this.reports.push("[" + job.id.toString() + "] done (" + job.status.toString() + ")  " + job.text);
    }
  }

  /** What the shell kept for a program that has ended: its pipe ends are closed, its directory handles too. */
  private release(program: Program): void {
    for (let i = 0; i < program.closeOnEnd.length; i++) {
      closePipeEnd(program.closeOnEnd[i]);
      capDrop(program.closeOnEnd[i]);
    }
    program.closeOnEnd.length = 0;
    for (let i = 0; i < program.handles.length; i++) this.files.client.close(program.handles[i]);
    program.handles.length = 0;
  }

  private find(serial: u32): Job | null {
    for (let i = 0; i < this.jobs.length; i++) if (this.jobs[i].serial == serial) return this.jobs[i];
    return null;
  }

  /**
   * JOB_ARGS: the arguments and environment, in the message when they fit, else from a Region of
   * the job's Memory (what a long environment needs).
   */
  private setArgs(p: ProcJob, job: Job, argv: string[], env: string[]): i32 {
    const block = packArgs(argv, env);
    if (block.length <= ARGS_IN_MESSAGE_BYTES) return p.setArgs(argv, env);
    const region = new Memory(job.memory).createRegion(<u32>((block.length + 4095) >> 12));
    if (region < 0) return region;
    const info = new Region(region).info();
    if (info.status < 0) return info.status;
    memory.copy(<usize>info.address, block.dataStart, <usize>block.length);
    const view = new Region(region).view();
    capDrop(region);
    if (view < 0) return view;
    const status = p.setArgsFrom(view, <u32>block.length, <u32>argv.length);
    capDrop(view);
    return status;
  }

  private pipe(): PipePair | null {
    if (this.pipeService <= 0) this.pipeService = registryLookup(PIPE_SERVICE);
    if (this.pipeService <= 0) return null;
    const ends = createPipe(this.pipeService);
    if (ends.status < 0) {
      if (ends.status == E_INVALID_CAP || ends.status == -6) this.pipeService = 0;
      return null;
    }
    const out = new PipePair();
    out.writeEnd = ends.writeEnd;
    out.readEnd = ends.readEnd;
    return out;
  }

  private freeId(): u32 {
    for (let id: u32 = 1; ; id++) {
      let taken = false;
      for (let i = 0; i < this.jobs.length; i++) if (this.jobs[i].id == id) taken = true;
      if (!taken) return id;
    }
    return 0;
  }

  /** Syncs and closes the files a job's redirections opened; a write that failed is said, and makes `job`'s status 1. */
  closeFiles(files: OpenedFile[], job: Job | null): void {
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      if (f.written) {
        // What a program wrote to a file is on the disk when its job ends; a write that failed (a
        // full disk) is answered here, whether or not the program looked at its own writes.
        const synced = this.files.client.sync(f.handle);
        if (synced < 0) {
          this.console.writeString("shell: " + f.path + ": " + statusText(synced) + "\n", true);
          if (job != null && job.status == 0) job.status = 1;
        }
      }
      this.files.client.close(f.handle);
    }
    files.length = 0;
  }

  /** Frees an ended job: its Memory (and so its programs) and the capabilities kept for it. */
  private forget(job: Job): void {
    for (let i = 0; i < job.programs.length; i++) {
      const program = job.programs[i];
      this.release(program);
      if (program.process > 0) capDrop(program.process);
      program.process = 0;
    }
    for (let i = 0; i < job.pumps.length; i++) {
      closePipeEnd(job.pumps[i].end);
      capDrop(job.pumps[i].end);
    }
    job.pumps.length = 0;
    this.closeFiles(job.files, job);
    if (job.memory > 0) {
      new Memory(job.memory).destroy();
      capDrop(job.memory);
      job.memory = 0;
    }
    job.state = JOB_DONE;
    const at = this.jobs.indexOf(job);
    if (at >= 0) this.jobs.splice(at, 1);
  }
}

/** INFO on a stream end: 0 (kind, readable bytes, room in the message words) or a status. */
function streamInfo(cap: i32): i32 {
  msgBegin(STREAM_INFO);
  const status = msgInvoke(cap);
  if (status < 0) return status;
  return msgLabel() != 0 ? -<i32>msgLabel() : 0;
}

/** The pipe into a job's first program that a stage of the shell writes into (IO_FEED). */
class JobFeed extends Feeder {
  private open: bool = true;

  constructor(
    readonly launcher: Launcher,
    readonly job: Job,
    readonly writeEnd: i32,
  ) {
    super();
  }

  write(ptr: usize, len: i32): bool {
    return this.open && this.launcher.feed(this.job, this.writeEnd, ptr, len);
  }

  get end(): i32 {
    return this.writeEnd;
  }

  get gone(): bool {
    return this.job.programs.length == 0 || this.job.programs[0].ended;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closePipeEnd(this.writeEnd);
    capDrop(this.writeEnd);
  }
}

/** The pipe out of a job's last program that a stage of the shell reads (IO_DRAIN). */
class JobDrain extends Drainer {
  private open: bool = true;

  constructor(
    readonly launcher: Launcher,
    readonly job: Job,
    readonly readEnd: i32,
  ) {
    super();
  }

  read(ptr: usize, max: i32): i32 {
    return this.open ? this.launcher.drain(this.job, this.readEnd, ptr, max) : 0;
  }

  get end(): i32 {
    return this.readEnd;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closePipeEnd(this.readEnd);
    capDrop(this.readEnd);
  }
}

class PipePair {
  writeEnd: i32 = 0;
  readEnd: i32 = 0;
}
