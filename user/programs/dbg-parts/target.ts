// How dbg gets its target (docs/DEBUGGING.md "dbg"): a program it starts itself through the process
// manager (a boot module, or a binary file under the working directory or the root), which it
// debugs through its job's JOB_DEBUG; or a running process of its session (PROC_DEBUG): the shell's
// other jobs. Either way it holds a Process capability with RIGHT_PROCESS_DEBUG and RIGHT_PROCESS_INFO.
import {
  capCopy, capDrop, errorName, Region, E_INVALID_CAP, CAP_MOVE, SLOT_STDIN, SLOT_STDOUT, SLOT_STDERR, SLOT_JOB_MEMORY,
} from "../../lib";
import { Job, procSpawn, procSpawnBinary, procDebug, lastSpawnedPid, lastLoadError } from "../../lib/proc-client";
import { FsClient, fsErrorName, FS_RIGHT_READ, FS_KIND_FILE } from "../../lib/fs-client";
import { manifestTextIn, manifestSectionError } from "../../lib/manifest";
import { procGrantsOfText } from "../../lib/manifest-grants";

/** The shell's working directory and root handles (docs/PROGRAMS.md); dbg reads binaries through them. */
const SLOT_CWD: i32 = 8;
const SLOT_ROOT: i32 = 9;
/** A binary dbg loads from a file: at most this size (one Region). */
const MAX_BINARY_BYTES: u64 = 16 << 20;

export class Target {
  /** The Process capability that debugs it, or a status. */
  cap: i32 = 0;
  pid: u32 = 0;
  /** Its job capability when dbg started it (0: attached to a running process). */
  job: i32 = 0;
  /** Why there is none, when `cap` is a status. */
  why: string = "";
}

/** Process `pid`, a job of dbg's session (the shell's other jobs). */
export function runningTarget(proc: i32, pid: u32): Target {
  const target = new Target();
  target.pid = pid;
  target.cap = procDebug(proc, pid);
  if (target.cap < 0) target.why = "cannot debug pid " + pid.toString() + ": " + errorName(target.cap) + (target.cap == -2 ? " (only the jobs of this shell's session)" : "");
  return target;
}

/**
 * `argv[0]` with arguments `argv`, created in dbg's own job Memory (so ^C ends both), with dbg's
 * standard streams; not started: the debugger starts it.
 */
export function newTarget(proc: i32, argv: string[]): Target {
  const target = new Target();
  const name = argv[0];
  let job = name.includes("/") ? E_INVALID_CAP : procSpawn(proc, <u32>SLOT_JOB_MEMORY, name);
  if (job == E_INVALID_CAP) job = spawnFile(proc, name, target);
  if (job < 0) {
    target.cap = job;
    if (target.why.length == 0) target.why = name + ": " + (job == E_INVALID_CAP ? "no such program" : errorName(job));
    return target;
  }
  target.job = job;
  target.pid = lastSpawnedPid;
  const j = new Job(job);
  const streams = [SLOT_STDIN, SLOT_STDOUT, SLOT_STDERR, SLOT_JOB_MEMORY];
  for (let i = 0; i < streams.length; i++) {
    const copy = capCopy(streams[i]);
    const given = copy < 0 ? copy : j.give(<u32>copy | CAP_MOVE);
    if (given < 0) return failed(target, name + ": cannot give it its streams: " + errorName(given));
  }
  const args = j.setArgs(argv);
  if (args < 0) return failed(target, name + ": cannot give it its arguments (at most 248 bytes): " + errorName(args));
  target.cap = j.debug();
  if (target.cap < 0) return failed(target, name + ": the process manager gives no right to debug it: " + errorName(target.cap));
  return target;
}

function failed(target: Target, why: string): Target {
  if (target.job > 0) {
    new Job(target.job).kill();
    capDrop(target.job);
    target.job = 0;
  }
  target.cap = -1;
  target.why = why;
  return target;
}

/** A binary file (under the working directory, or the root for /…) loaded and spawned: the job, or a status. */
function spawnFile(proc: i32, path: string, target: Target): i32 {
  const dir = path.startsWith("/") ? SLOT_ROOT : SLOT_CWD;
  const files = new FsClient(SLOT_JOB_MEMORY, 1);
  const file = files.open(dir, path, FS_RIGHT_READ);
  if (file < 0) return E_INVALID_CAP;
  const size = files.size;
  if (files.kind != FS_KIND_FILE || size == 0 || size > MAX_BINARY_BYTES) {
    files.close(file);
    target.why = path + ": " + (size > MAX_BINARY_BYTES ? "larger than 16 MiB" : "not a program");
    return -11;
  }
  const buffer = new FsClient(SLOT_JOB_MEMORY, <u32>((size + 4095) >> 12));
  let done: u64 = 0;
  while (done < size) {
    const n = buffer.read(file, done, <u32>(size - done), <u32>done);
    if (n <= 0) {
      files.close(file);
      target.why = path + ": reading it: " + (n < 0 ? fsErrorName(n) : "it ended early");
      return -11;
    }
    done += <u64>n;
  }
  files.close(file);
  // What the shell would give it, by its manifest: under the debugger a program holds no more
  // (it held the debugger's own session before, whatever its manifest said).
  const manifest = manifestTextIn(buffer.address, <u32>size);
  if (manifestSectionError.length > 0) {
    capDrop(buffer.region);
    target.why = path + ": its manifest section is malformed: " + manifestSectionError;
    return -11;
  }
  const view = new Region(buffer.region).view();
  if (view < 0) return view;
  const short = path.slice(path.lastIndexOf("/") + 1);
  const job = procSpawnBinary(proc, <u32>SLOT_JOB_MEMORY, <u32>view | CAP_MOVE, <u32>size, short.length > 32 ? short.slice(0, 32) : short, procGrantsOfText(manifest));
  if (job < 0 && lastLoadError.length > 0) target.why = path + ": not a program the loader takes: " + lastLoadError;
  capDrop(buffer.region);
  return job;
}
