// Running pipelines. Programs are spawned by the process manager (docs/PROCESSES.md) through the
// shell's session, each in a Memory of its job's own, made in the shell's: the shell's quota pays,
// and ^C can end the whole job at once (destroying the Memory kills every process in it).
// Programs get the standard slots of docs/PROGRAMS.md: 4 standard input, 5 standard output, 6
// standard errors, 7 their job's Memory, 8 and 9 handles of their own on the working directory
// and the root, 10 one on the host share's root when there is one (closed when they end), and
// their environment with their arguments (JOB_ARGS; through a Region when it does not fit the
// message). Paths the shell opens itself (redirections, binaries) that work out to /host... go
// to the host share's server (docs/HOSTFS.md) with the rest of the path. Between two programs of
// a pipeline is a pipe from the pipe service. A command without a / is a boot module, else a
// file in one of PATH's directories.
//
// The shell watches its programs with monitor capabilities (JOB_MONITOR) whose badge names the
// job and the program; the console's ^C comes to the same Receiver (badge INTERRUPT_BADGE) while
// a job is in the foreground.
import {
  capCopy, capDrop, capKind, KIND_CAPPAGE, Memory, Receiver, Region, msgLabel, msgBadge, msgWord, CAP_MOVE, RIGHT_RECEIVER_SEND,
  MSG_PROCESS_ENDED, STATE_FAULTED, faultKindName, errorName, registryLookup, E_INVALID_CAP,
} from "../../lib";
import { Job as ProcJob, procSpawn, procSpawnBinary, procSpawnImage, lastSpawnedPid, lastLoadError } from "../../lib/proc-client";
import { ImageBuilder } from "../../lib/caps/image";
import { packArgs, ARGS_IN_MESSAGE_BYTES } from "../../lib/caps/process";
import {
  FsClient, fsErrorName, FS_RIGHTS_ALL, FS_RIGHT_READ, FS_RIGHT_WRITE, FS_RIGHT_APPEND, FS_OPEN_CREATE, FS_OPEN_TRUNCATE,
  FS_OPEN_DIRECTORY, FS_KIND_FILE, FS_E_IO, direntName, direntNameLength, direntNext,
  fsRoot,
} from "../../lib/fs-client";
import { ConsoleClient, CONSOLE_INTERRUPTED } from "../../lib/console-client";
import { createPipe, closePipeEnd, PIPE_SERVICE } from "../../lib/pipe-client";
import { Command, Pipeline, ERRORS_CONSOLE, ERRORS_FILE, ERRORS_OUTPUT_STREAM, ERRORS_OUTPUT_FILE } from "./pipeline";
import { Lister } from "./glob";

/** Pages each program of a job may use (16 MiB: memtest's 8 MiB and its runtime fit). */
const PROGRAM_PAGES: u32 = 4096;
/** A binary run from a file up to this size is read whole into a Region of the job's Memory (MEMORY_CREATE_IMAGE takes 16 MiB). */
const MAX_REGION_BINARY_BYTES: u64 = 16 << 20;
/** Past it, the shell hands it to the kernel a piece at a time (an image builder), up to what that takes. */
const MAX_BINARY_BYTES: u64 = 64 << 20;
/** The pieces of a binary handed to an image builder. */
const PIECE_BYTES: u32 = 1 << 20;
const INTERRUPT_BADGE: u32 = 0xffff;
const MAX_PIPELINE = 8;

class Program {
  /** The job capability the process manager answered (0: none yet). */
  process: i32 = 0;
  pid: u32 = 0;
  name: string = "";
  ended: bool = false;
  /** The pipe ends this program was given that the shell must close when it ends (0: none). */
  readEnd: i32 = 0;
  writeEnd: i32 = 0;
  /** Its handles on the working directory and the root (the shell keeps copies to close them; 0: none). */
  directory: i32 = 0;
  rootHandle: i32 = 0;
  hostHandle: i32 = 0;
  /** The file its errors go to (2>), synced and closed when the job ends (0: none). */
  errorsFile: i32 = 0;
  /** The binary it runs from a file ("" for a boot module). */
  binary: string = "";
}

export class Job {
  programs: Program[] = [];
  memory: i32 = 0;
  /** Files opened for `<`, `>` and `>>` (0: none): synced and closed when the job ends. */
  inputFile: i32 = 0;
  outputFile: i32 = 0;
  /** The path `>` or `>>` named, for the message when a write to it failed. */
  outputPath: string = "";
  /** The last program's exit code (-1: it faulted), once it has ended. */
  status: i32 = 0;
  /**
   * `id` is the number the user sees (the smallest free); `serial` never repeats, and is what
   * the monitor badges carry, so a late notice of an ended job cannot be taken for a new one's.
   */
  constructor(readonly id: u32, readonly serial: u32, readonly text: string, readonly background: bool) {}

  get done(): bool {
    for (let i = 0; i < this.programs.length; i++) if (!this.programs[i].ended) return false;
    return true;
  }
}

/** Where the shell keeps what it starts programs from. */
export class Launcher {
  readonly jobs: Job[] = [];
  private nextSerial: u32 = 1;
  private pipeService: i32 = 0;
  /** Messages for the user about background jobs that ended. */
  readonly reports: string[] = [];

  constructor(
    readonly memory: i32,
    /** A call capability to the process manager with the shell's own session. */
    readonly proc: i32,
    readonly programs: Map<string, i32>,
    readonly console: ConsoleClient,
    readonly notices: Receiver,
    readonly files: FsClient,
    /** The file system's root and the working directory (0: no file system). */
    readonly root: i32,
    /** The Cappage the host share's server publishes its root in (`use=host`; 0: none, or no share device on this machine). */
    readonly hostRoots: i32 = 0,
  ) {
    this.cwd = root;
  }

  /** The working directory: a handle (the file system's, or the host share's), its path, and the rights it was opened with. */
  cwd: i32 = 0;
  cwdPath: string = "/";
  cwdRights: u32 = FS_RIGHTS_ALL;
  /** The host share's root (0: not found yet, or none). */
  private host: i32 = 0;
  private hostWaited: bool = false;
  /** The path `route` found, to open from the handle it answered, and whether that handle is the host share's root. */
  routed: string = "";
  routedToHost: bool = false;
  /** Where a command without a / is looked for after the boot modules: PATH's directories, ":"-separated. */
  searchPath: string = "/bin";

  /**
   * The host share's root: 0 when this machine has none. The first time `wait` is set it waits
   * up to 2 s for the server to publish it (it starts just before the shell); later, no wait.
   */
  hostRoot(wait: bool): i32 {
    if (this.host > 0 || this.hostRoots == 0 || capKind(this.hostRoots) != <i32>KIND_CAPPAGE) return this.host;
    const tries = wait && !this.hostWaited ? 200 : 1;
    if (wait) this.hostWaited = true;
    const found = fsRoot(this.hostRoots, 0, tries);
    if (found > 0) this.host = found;
    return this.host;
  }

  /** `path` (absolute, or relative to the working directory) with `.` and `..` worked out. */
  resolve(path: string): string {
    const parts = (path.startsWith("/") ? path : this.cwdPath + "/" + path).split("/");
    const out = new Array<string>();
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part.length == 0 || part == ".") continue;
      if (part == "..") {
        if (out.length > 0) out.pop();
      } else out.push(part);
    }
    return "/" + out.join("/");
  }

  /**
   * The directory `path` is opened from, with the path to open from it in `routed`: the host
   * share's root and the rest for what works out to /host... (when there is a host share), else
   * the root for `/…` and the working directory for the rest.
   */
  route(path: string): i32 {
    const absolute = this.resolve(path);
    const host = isHostPath(absolute) ? this.hostRoot(true) : 0;
    this.routedToHost = host > 0;
    if (host > 0) {
      this.routed = absolute.length == 5 ? "/" : absolute.slice(5);
      return host;
    }
    this.routed = path;
    return path.startsWith("/") ? this.root : this.cwd;
  }

  /** Starts `p` (checked: it has commands, and each names a program); "" or why it could not. */
  start(p: Pipeline): string {
    if (p.commands.length > MAX_PIPELINE) return "at most " + MAX_PIPELINE.toString() + " programs in a pipeline";
    const binaries = new Array<string>();
    for (let i = 0; i < p.commands.length; i++) {
      const c = p.commands[i];
      const binary = this.programs.has(c.argv[0]) && !c.argv[0].includes("/") ? "" : this.binaryPath(c.argv[0]);
      if (binary.length == 0 && !this.programs.has(c.argv[0])) return c.argv[0] + ": no such program (try help)";
      binaries.push(binary);
      if ((c.input.length > 0 || c.output.length > 0 || c.errorsTo == ERRORS_FILE) && this.root == 0 && this.hostRoot(false) == 0) return "redirection needs the file system, which this machine does not run";
      if (c.input.length > 0 && i > 0) return "only the first program of a pipeline can read from a file (<)";
      if (c.output.length > 0 && i + 1 < p.commands.length) return "only the last program of a pipeline can write to a file (>)";
    }
    const job = new Job(this.freeId(), this.nextSerial++ & 0xfff, p.text, p.background);
    const home = new Memory(this.memory).createMemory(PROGRAM_PAGES * <u32>p.commands.length);
    if (home < 0) return "no memory for the job: " + errorName(home);
    job.memory = home;
    const first = p.commands[0];
    const last = p.commands[p.commands.length - 1];
    if (first.input.length > 0) {
      const from = this.route(first.input);
      job.inputFile = this.files.open(from, this.routed, FS_RIGHT_READ);
      if (job.inputFile < 0) {
        const why = first.input + ": " + fsErrorName(job.inputFile);
        job.inputFile = 0;
        this.end(job);
        return why;
      }
    }
    if (last.output.length > 0) {
      const rights = last.append ? FS_RIGHT_APPEND | FS_OPEN_CREATE : FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE;
      const to = this.route(last.output);
      job.outputFile = this.files.open(to, this.routed, rights);
      job.outputPath = last.output;
      if (job.outputFile < 0) {
        const why = last.output + ": " + fsErrorName(job.outputFile);
        job.outputFile = 0;
        this.end(job);
        return why;
      }
    }
    let stdin = capCopy(job.inputFile != 0 ? job.inputFile : this.console.service);
    for (let i = 0; i < p.commands.length; i++) {
      const program = new Program();
      const c = p.commands[i];
      program.name = c.argv[0];
      program.binary = binaries[i];
      job.programs.push(program);
      let stdout = 0;
      let next = 0;
      if (i + 1 < p.commands.length) {
        const pipe = this.pipe();
        if (pipe == null) {
          capDrop(stdin);
          this.end(job);
          return "no pipe: the pipe service does not answer";
        }
        stdout = pipe.writeEnd;
        program.writeEnd = capCopy(pipe.writeEnd);
        next = pipe.readEnd;
      } else stdout = capCopy(job.outputFile != 0 ? job.outputFile : this.console.service);
      // 2>&1 before any > sends errors to the stream output had then: the next pipe, or the console.
      const stream = next != 0 ? stdout : this.console.service;
      const stderr = this.errorsFor(c, program, stream, job.outputFile);
      const why = stderr < 0 ? c.errors + ": " + fsErrorName(stderr) : this.spawn(job, i, c, stdin, stdout, stderr);
      if (why.length > 0) {
        if (stderr < 0) {
          capDrop(stdin);
          capDrop(stdout);
        }
        if (next != 0) capDrop(next);
        this.end(job);
        return why;
      }
      stdin = next;
    }
    this.jobs.push(job);
    if (p.background) {
      this.reports.push("[" + job.id.toString() + "] " + job.programs[job.programs.length - 1].pid.toString());
    }
    return "";
  }

  /** Waits for the foreground job `job` (the last started) to end; ^C ends it. Its status. */
  wait(job: Job): i32 {
    const interrupt = this.notices.mint(INTERRUPT_BADGE, RIGHT_RECEIVER_SEND);
    if (interrupt > 0) this.console.setForeground(<u32>interrupt | CAP_MOVE);
    while (!job.done) {
      if (this.notices.receive() < 0) break;
      const badge = msgBadge();
      if (badge == INTERRUPT_BADGE && msgLabel() == CONSOLE_INTERRUPTED) {
        // Every program of the job dies with its Memory; a shell's status for ^C is 130.
        new Memory(job.memory).destroy();
        for (let i = 0; i < job.programs.length; i++) job.programs[i].ended = true;
        job.status = 130;
        break;
      }
      if (msgLabel() == MSG_PROCESS_ENDED) this.ended(badge);
    }
    this.console.setForeground(0);
    this.forget(job);
    return job.status;
  }

  /** Takes the notices that have come in without waiting (background jobs that ended). */
  poll(): void {
    while (this.notices.receive(0) >= 0) {
      if (msgLabel() == MSG_PROCESS_ENDED) this.ended(msgBadge());
    }
  }

  /** The job started last. */
  get last(): Job {
    return this.jobs[this.jobs.length - 1];
  }

  private pipe(): PipeEndsOrNull {
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

  /**
   * The capability a command's errors go to: the console, a file (opened here; the program keeps
   * it to close), or a copy of `stream` (2>&1: its pipe or the console) or `outputFile` (2>&1
   * after >). A negative status when the file cannot be opened.
   */
  private errorsFor(c: Command, program: Program, stream: i32, outputFile: i32): i32 {
    if (c.errorsTo == ERRORS_OUTPUT_STREAM) return capCopy(stream);
    if (c.errorsTo == ERRORS_OUTPUT_FILE && outputFile != 0) return capCopy(outputFile);
    if (c.errorsTo != ERRORS_FILE) return capCopy(this.console.service);
    const rights = c.errorsAppend ? FS_RIGHT_APPEND | FS_OPEN_CREATE : FS_RIGHT_WRITE | FS_OPEN_CREATE | FS_OPEN_TRUNCATE;
    const from = this.route(c.errors);
    const file = this.files.open(from, this.routed, rights);
    if (file < 0) return file;
    program.errorsFile = file;
    return capCopy(file);
  }

  /** Creates program `index` of `job` with its streams (moved), arguments and environment, and starts it: "" or why not. */
  private spawn(job: Job, index: i32, c: Command, stdin: i32, stdout: i32, stderr: i32): string {
    const argv = c.argv;
    const program = job.programs[index];
    if (index > 0) program.readEnd = capCopy(stdin); // a pipe's read end, closed when it ends
    let created: i32;
    if (program.binary.length == 0) created = procSpawn(this.proc, <u32>job.memory, argv[0]);
    else {
      const loaded = this.spawnFile(job, program.binary);
      if (loaded.length > 0) {
        capDrop(stdin);
        capDrop(stdout);
        capDrop(stderr);
        return argv[0] + ": " + loaded;
      }
      created = this.spawnedFromFile;
    }
    if (created < 0) {
      capDrop(stdin);
      capDrop(stdout);
      capDrop(stderr);
      return argv[0] + ": cannot spawn it: " + errorName(created);
    }
    program.process = created;
    program.pid = lastSpawnedPid;
    const p = new ProcJob(created);
    const gave = [stdin, stdout, stderr, capCopy(job.memory)];
    if (this.cwd != 0) {
      const directory = this.files.open(this.cwd, ".", this.cwdRights | FS_OPEN_DIRECTORY);
      if (directory > 0) {
        program.directory = directory;
        gave.push(capCopy(directory));
        const top = this.root != 0 ? this.files.open(this.root, "/", FS_RIGHTS_ALL | FS_OPEN_DIRECTORY) : 0;
        if (top > 0) {
          program.rootHandle = top;
          gave.push(capCopy(top));
          const host = this.hostRoot(true);
          const share = host > 0 ? this.files.open(host, "/", FS_RIGHT_READ | FS_OPEN_DIRECTORY) : 0;
          if (share > 0) {
            program.hostHandle = share;
            gave.push(capCopy(share));
          }
        }
      }
    }
    for (let i = 0; i < gave.length; i++) {
      const status = p.give(<u32>gave[i] | CAP_MOVE);
      if (status < 0) return argv[0] + ": cannot give it its capabilities: " + errorName(status);
    }
    const args = this.setArgs(p, job, argv, c.env);
    if (args < 0) return argv[0] + ": cannot give it its arguments and environment: " + errorName(args);
    const notice = this.notices.mint((job.serial << 4) | <u32>index, RIGHT_RECEIVER_SEND);
    if (notice < 0 || p.monitor(<u32>notice | CAP_MOVE) < 0) return argv[0] + ": cannot watch it";
    const started = p.start();
    if (started < 0) return argv[0] + ": cannot start it: " + errorName(started);
    return "";
  }

  /** A program's PROCESS_ENDED notice came (badge: job serial << 4 | program). */
  private ended(badge: u32): void {
    const job = this.find(badge >> 4);
    if (job == null) return;
    const index = <i32>(badge & 15);
    if (index >= job.programs.length) return;
    const program = job.programs[index];
    if (program.ended) return;
    program.ended = true;
    // Its pipe ends close for it: the next program reads the end of input, the one before it
    // finds the pipe broken.
    if (program.writeEnd > 0) {
      closePipeEnd(program.writeEnd);
      capDrop(program.writeEnd);
      program.writeEnd = 0;
    }
    if (program.readEnd > 0) {
      closePipeEnd(program.readEnd);
      capDrop(program.readEnd);
      program.readEnd = 0;
    }
    if (program.directory > 0) {
      this.files.close(program.directory);
      program.directory = 0;
    }
    if (program.rootHandle > 0) {
      this.files.close(program.rootHandle);
      program.rootHandle = 0;
    }
    if (program.hostHandle > 0) {
      this.files.close(program.hostHandle);
      program.hostHandle = 0;
    }
    if (program.errorsFile > 0) {
      this.files.sync(program.errorsFile);
      this.files.close(program.errorsFile);
      program.errorsFile = 0;
    }
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

  private find(serial: u32): Job | null {
    for (let i = 0; i < this.jobs.length; i++) if (this.jobs[i].serial == serial) return this.jobs[i];
    return null;
  }

  private spawnedFromFile: i32 = 0;

  /**
   * Where the binary for a command lies: the path itself when it has a `/`, else the first
   * directory of PATH (`searchPath`) that holds a file of that name; "" when there is none.
   */
  private binaryPath(name: string): string {
    if (name.includes("/")) return this.isFile(name) ? name : "";
    const dirs = this.searchPath.split(":");
    for (let i = 0; i < dirs.length; i++) {
      const dir = dirs[i].length == 0 ? "." : dirs[i];
      const path = dir.endsWith("/") ? dir + name : dir + "/" + name;
      if (this.isFile(path)) return path;
    }
    return "";
  }

  private isFile(path: string): bool {
    const from = this.route(path);
    if (from == 0) return false;
    const file = this.files.open(from, this.routed, FS_RIGHT_READ);
    if (file < 0) return false;
    const isFile = this.files.kind == FS_KIND_FILE;
    this.files.close(file);
    return isFile;
  }

  /**
   * The names in the directory at `path` (absolute, or relative to the working directory), for
   * globbing: null when it cannot be listed.
   */
  listDirectory(path: string): string[] | null {
    const from = this.route(path.length == 0 ? "." : path);
    if (from == 0) return null;
    const dir = this.files.open(from, this.routed, FS_RIGHT_READ | FS_OPEN_DIRECTORY);
    if (dir < 0) return null;
    const names = new Array<string>();
    let cookie: u32 = 0;
    for (;;) {
      const n = this.files.readdir(dir, cookie);
      if (n <= 0) break;
      let at = this.files.address;
      for (let i = 0; i < n; i++) {
        names.push(String.UTF8.decodeUnsafe(direntName(at), direntNameLength(at)));
        at = direntNext(at);
      }
      cookie = this.files.cookie;
    }
    this.files.close(dir);
    return names;
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

  /**
   * Reads the binary of `name` from the file system into a Region of the job's Memory and asks the
   * process manager to load and spawn it (PROC_SPAWN_BINARY): "" (the job is in spawnedFromFile,
   * or a status there), or why it could not.
   */
  private spawnFile(job: Job, path: string): string {
    // start() found it a file already; opening it here is what reads it (and says if it went).
    const from = this.route(path);
    if (from == 0) return "no file system for it";
    const file = this.files.open(from, this.routed, FS_RIGHT_READ);
    if (file < 0) return fsErrorName(file);
    const size = this.files.size;
    if (size == 0 || size > MAX_BINARY_BYTES) {
      this.files.close(file);
      return size == 0 ? "an empty file is no program" : "larger than " + (MAX_BINARY_BYTES >> 20).toString() + " MiB, the most the kernel loads";
    }
    const base = path.lastIndexOf("/");
    const short = path.slice(base + 1);
    const name = short.length > 32 ? short.slice(0, 32) : short;
    if (size > MAX_REGION_BINARY_BYTES) {
      const why = this.spawnBuilt(job, file, size, name);
      this.files.close(file);
      return why;
    }
    const buffer = new FsClient(job.memory, <u32>((size + 4095) >> 12));
    let done: u64 = 0;
    while (done < size) {
      const n = buffer.read(file, done, <u32>(size - done), <u32>done);
      if (n <= 0) {
        this.files.close(file);
        return "reading it: " + fsErrorName(n < 0 ? n : FS_E_IO);
      }
      done += <u64>n;
    }
    this.files.close(file);
    const view = new Region(buffer.region).view();
    if (view < 0) return errorName(view);
    this.spawnedFromFile = procSpawnBinary(this.proc, <u32>job.memory, <u32>view | CAP_MOVE, <u32>size, name);
    if (this.spawnedFromFile < 0 && lastLoadError.length > 0) return "not a program the loader takes: " + lastLoadError;
    return "";
  }


  /**
   * A binary too big for one Region: read a piece at a time into a Region of 1 MiB and handed to
   * an image builder of the job's Memory (which pays for the Image), loaded, and the Image given
   * to the process manager (PROC_SPAWN_IMAGE): "" (the job in spawnedFromFile), or why not.
   */
  private spawnBuilt(job: Job, file: i32, size: u64, name: string): string {
    const memory = new Memory(job.memory);
    const made = memory.createImageBuilder(<u32>size, name);
    if (made < 0) return "cannot load it: " + errorName(made);
    const builder = new ImageBuilder(made);
    const buffer = new FsClient(job.memory, PIECE_BYTES >> 12);
    let done: u64 = 0;
    let why = "";
    while (done < size && why.length == 0) {
      const n = buffer.read(file, done, <u32>min(<u64>PIECE_BYTES, size - done), 0);
      if (n <= 0) why = "reading it: " + fsErrorName(n < 0 ? n : FS_E_IO);
      else {
        const appended = builder.append(buffer.region, <u32>n);
        if (appended < 0) why = "cannot load it: " + errorName(appended);
        done += <u64>n;
      }
    }
    if (buffer.region > 0) capDrop(buffer.region);
    if (why.length > 0) {
      capDrop(made);
      return why;
    }
    const image = builder.load();
    capDrop(made);
    if (image < 0) {
      const reason = memory.loadError();
      return reason.length > 0 ? "not a program the loader takes: " + reason : "cannot load it: " + errorName(image);
    }
    this.spawnedFromFile = procSpawnImage(this.proc, <u32>job.memory, <u32>image | CAP_MOVE);
    return "";
  }

  private freeId(): u32 {
    for (let id: u32 = 1; ; id++) {
      let taken = false;
      for (let i = 0; i < this.jobs.length; i++) if (this.jobs[i].id == id) taken = true;
      if (!taken) return id;
    }
    return 0;
  }

  /** A job that could not start: whatever of it runs is ended. */
  private end(job: Job): void {
    this.jobs.push(job);
    for (let i = 0; i < job.programs.length; i++) job.programs[i].ended = true;
    this.forget(job);
  }

  /** Frees an ended job: its Memory (and so its programs) and the capabilities kept for it. */
  private forget(job: Job): void {
    for (let i = 0; i < job.programs.length; i++) {
      const program = job.programs[i];
      if (program.writeEnd > 0) {
        closePipeEnd(program.writeEnd);
        capDrop(program.writeEnd);
      }
      if (program.readEnd > 0) {
        closePipeEnd(program.readEnd);
        capDrop(program.readEnd);
      }
      if (program.directory > 0) this.files.close(program.directory);
      if (program.rootHandle > 0) this.files.close(program.rootHandle);
      if (program.hostHandle > 0) this.files.close(program.hostHandle);
      if (program.errorsFile > 0) {
        this.files.sync(program.errorsFile);
        this.files.close(program.errorsFile);
      }
      if (program.process > 0) capDrop(program.process);
    }
    if (job.inputFile != 0) this.files.close(job.inputFile);
    if (job.outputFile != 0) {
      // What a program wrote to a file is on the disk when its job ends; a write that failed (a
      // full disk) is answered here, whether or not the program looked at its own writes.
      const synced = this.files.sync(job.outputFile);
      if (synced < 0) {
        this.console.writeString("shell: " + job.outputPath + ": " + fsErrorName(synced) + "\n", true);
        if (job.status == 0) job.status = 1;
      }
      this.files.close(job.outputFile);
    }
    job.inputFile = 0;
    job.outputFile = 0;
    if (job.memory > 0) {
      new Memory(job.memory).destroy();
      capDrop(job.memory);
      job.memory = 0;
    }
    const at = this.jobs.indexOf(job);
    if (at >= 0) this.jobs.splice(at, 1);
  }
}

/** Whether an absolute path names the host share (/host) or something in it. */
export function isHostPath(absolute: string): bool {
  return absolute == "/host" || absolute.startsWith("/host/");
}

class PipePair {
  writeEnd: i32 = 0;
  readEnd: i32 = 0;
}
type PipeEndsOrNull = PipePair | null;

/** The launcher's file system, for globbing. */
export class LauncherLister extends Lister {
  constructor(readonly launcher: Launcher) {
    super();
  }
  list(path: string): string[] | null {
    return this.launcher.listDirectory(path);
  }
}
