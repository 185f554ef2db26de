// The process manager's protocol from a client's side (user/services/procman.ts,
// docs/PROCESSES.md): contract ProcessManager (contracts/procman.contract), which the kernel checks
// on every message, spoken here through its generated wrappers (user/lib/contracts/procman.ts).
// Spawning goes through it: the client passes a Memory (which pays), gets a job capability back,
// gives the job its arguments and capabilities, starts it and waits for it.
//
// Replies carry a status as the label's magnitude (as the registry's do: a negative status is not
// a user label); procStatus turns it back. Programs the process manager starts find it at slot 3
// (SLOT_PROC), with the session of whoever spawned them, when their spawner asked for it
// (PROC_GRANT_PROC). Not exported by libdogma's index: a program that imports it speaks the
// contract (its `dogma.contracts` section says so), and only those should.
import { E_INVALID_ARGUMENT, E_BAD_MESSAGE } from "./errors";
import { CAP_MOVE } from "./abi";
import { msgAddWord, msgAddCap, msgLabel, msgCap, msgCapCount, msgWord, msgWordCount, MAX_DATA_WORDS } from "./message";
import { msgAddName, registryLookup } from "./registry";
import { capKind } from "./caps/capability";
import { KIND_RECEIVER } from "./abi";
import { msgAddArgsBlock, packArgs, ARGS_IN_MESSAGE_BYTES } from "./caps/process";
import { msgBytesText } from "./caps/kernel-policy";
import { ProcessManager, ProcessManagerReady } from "./contracts/procman";
import { capDrop } from "./caps/capability";

// Requests on the service capability (any badge but a job's): the contract's labels.
export const PROC_SESSION: u32 = ProcessManager.NewSession;
export const PROC_SPAWN: u32 = ProcessManager.Spawn;
export const PROC_SPAWN_BINARY: u32 = ProcessManager.SpawnBinary;
export const PROC_KILL: u32 = ProcessManager.Kill;
export const PROC_INSPECT: u32 = ProcessManager.Inspect;
export const PROC_HALT: u32 = ProcessManager.Halt;
/** Caps: a Memory, and an Image (a binary the caller loaded itself: one over 16 MiB, through an image builder). */
export const PROC_SPAWN_IMAGE: u32 = ProcessManager.SpawnImage;
/** A Process capability (RIGHT_PROCESS_DEBUG, RIGHT_PROCESS_INFO) to job `pid` of this capability's session. */
export const PROC_DEBUG: u32 = ProcessManager.Debug;
// Requests on a job capability (what PROC_SPAWN and PROC_SPAWN_BINARY answer).
export const JOB_ARGS: u32 = ProcessManager.Args;
export const JOB_GIVE: u32 = ProcessManager.Give;
export const JOB_START: u32 = ProcessManager.Start;
export const JOB_WAIT: u32 = ProcessManager.Wait;
export const JOB_KILL: u32 = ProcessManager.KillJob;
export const JOB_STATE: u32 = ProcessManager.JobState;
/** Cap 0: a send capability, which gets the job's PROCESS_ENDED notice (as PROCESS_MONITOR). */
export const JOB_MONITOR: u32 = ProcessManager.Monitor;
/** A Process capability to the job with RIGHT_PROCESS_DEBUG and RIGHT_PROCESS_INFO (docs/DEBUGGING.md). */
export const JOB_DEBUG: u32 = ProcessManager.DebugJob;
/** The job stops being scheduled (^Z in the shell) until JOB_RESUME; PROCESS_SUSPEND's answer. */
export const JOB_SUSPEND: u32 = ProcessManager.Suspend;
/** A suspended job runs again (fg, bg). */
export const JOB_RESUME: u32 = ProcessManager.Resume;

/** Where a program the process manager started finds it (a call capability with its spawner's session). */
export const SLOT_PROC: i32 = 3;
/**
 * A spawn's first word: which of the job's slots 2 and 3 the process manager fills. Slot 2: the
 * registry as programs have it (it looks any service up); slot 3: the process manager with the
 * spawner's session. A slot not granted holds a copy of the job's Memory without rights, so that
 * what JOB_GIVE moves in still starts at slot 4. A program without a manifest gets both
 * (PROC_GRANTS_STANDARD); one with a manifest what it asks for (docs/MANIFESTS.md).
 */
export const PROC_GRANT_REGISTRY: u32 = 1;
export const PROC_GRANT_PROC: u32 = 2;
/** Slot 3: a session of the job's own (a program's: it manages its own jobs, and may not halt). */
export const PROC_GRANT_OWN_SESSION: u32 = 4;
export const PROC_GRANTS_STANDARD: u32 = PROC_GRANT_REGISTRY | PROC_GRANT_PROC;
/** What the shell gives a program without a manifest: the registry, and a session of its own. */
export const PROC_GRANTS_NO_MANIFEST: u32 = PROC_GRANT_REGISTRY | PROC_GRANT_OWN_SESSION;
/** The first slot JOB_GIVE fills in a spawned program (the shell gives 4 stdin, 5 stdout, 6 errors, 7 a Memory: docs/PROGRAMS.md). */
export const SLOT_FIRST_PASSED: i32 = 4;
/** A binary's name for PROC_SPAWN_BINARY: at most this many bytes. */
export const PROC_NAME_BYTES: i32 = 32;

/** The status a process manager reply's label stands for: 0 or negative. */
export function procStatus(label: u32): i32 {
  return -<i32>label;
}

/** The reply's status, or the call's own (`invoked`, the wrapper's) when the call failed. */
function called(invoked: i32): i32 {
  return invoked < 0 ? invoked : procStatus(msgLabel());
}

/** The process manager's service capability from the registry (session 0: no kill, no halt). */
export function procLookup(): i32 {
  return registryLookup("proc");
}

/**
 * The process manager for a tool: slot 3 when the process manager started this program (a call
 * capability, with its spawner's session), else the registry's (session 0). A cap or a status.
 */
export function procForTool(): i32 {
  return capKind(SLOT_PROC) == <i32>KIND_RECEIVER ? SLOT_PROC : procLookup();
}

/** A call capability to the process manager with a fresh session: jobs spawned through it may be killed by pid through it. */
export function procSession(proc: i32): i32 {
  ProcessManagerReady.beginNewSession();
  const status = called(ProcessManagerReady.newSession(proc));
  return status < 0 ? status : msgCap(0);
}

/** The pid of the job the last successful spawn answered. */
export let lastSpawnedPid: u32 = 0;
/** Why the last PROC_SPAWN_BINARY was refused (the loader's message), "" otherwise. */
export let lastLoadError: string = "";

/** The job capability a spawn answered, or the status. */
function spawned(status: i32): i32 {
  if (status < 0) return status;
  if (msgCapCount() < 1) return E_BAD_MESSAGE;
  lastSpawnedPid = msgWord(0);
  return msgCap(0);
}

/**
 * A job running boot module `name` in `memory` (a Memory capability with MEMORY_CREATE, copied
 * unless `memory | CAP_MOVE`; its quota pays). Not started: give it arguments and capabilities,
 * then Job.start. The job capability, or a status (E_INVALID_CAP: no such module).
 */
export function procSpawn(proc: i32, memory: u32, name: string, grants: u32 = PROC_GRANTS_STANDARD): i32 {
  ProcessManagerReady.beginSpawn();
  msgAddWord(grants);
  if (!msgAddName(name)) return E_INVALID_ARGUMENT;
  msgAddCap(memory);
  return spawned(called(ProcessManagerReady.spawn(proc)));
}

/**
 * A job running the WebAssembly binary in the first `length` bytes of `region` (owner or view),
 * loaded into an Image charged to `memory`. E_INVALID_ARGUMENT when the loader refuses it:
 * lastLoadError says why. `grants`: its slots 2 and 3 (PROC_GRANT_REGISTRY, PROC_GRANT_PROC). Allocates.
 */
export function procSpawnBinary(proc: i32, memory: u32, region: u32, length: u32, name: string, grants: u32 = PROC_GRANTS_STANDARD): i32 {
  lastLoadError = "";
  const bytes = Uint8Array.wrap(String.UTF8.encode(name));
  if (bytes.length > PROC_NAME_BYTES) return E_INVALID_ARGUMENT;
  ProcessManagerReady.beginSpawnBinary();
  msgAddWord(grants);
  msgAddWord(length);
  for (let i = 0; i < bytes.length; i += 4) {
    let w: u32 = 0;
    for (let b = 0; b < 4 && i + b < bytes.length; b++) w |= <u32>bytes[i + b] << (8 * b);
    msgAddWord(w);
  }
  msgAddCap(memory);
  msgAddCap(region);
  const status = called(ProcessManagerReady.spawnBinary(proc));
  if (status < 0 && msgWordCount() > 0 && msgLabel() != 0) lastLoadError = msgBytesText(1, min(msgWord(0), <u32>(MAX_DATA_WORDS - 1) * 4));
  return spawned(status);
}

/**
 * A job running the Image `image` (a capability with IMAGE_SPAWN; copied unless `| CAP_MOVE`) in
 * `memory`, as procSpawn: for a binary the caller loaded itself (Memory.createImageBuilder, past
 * what one Region of it holds). The job capability, or a status.
 */
export function procSpawnImage(proc: i32, memory: u32, image: u32, grants: u32 = PROC_GRANTS_STANDARD): i32 {
  ProcessManagerReady.beginSpawnImage();
  msgAddWord(grants);
  msgAddCap(memory);
  msgAddCap(image);
  return spawned(called(ProcessManagerReady.spawnImage(proc)));
}

/** Kills process `pid`, which must be a job of this capability's session (E_MISSING_RIGHT otherwise). */
export function procKill(proc: i32, pid: u32): i32 {
  ProcessManagerReady.beginKill();
  msgAddWord(pid);
  return called(ProcessManagerReady.kill(proc));
}

/**
 * A Process capability with RIGHT_PROCESS_DEBUG and RIGHT_PROCESS_INFO to process `pid`, which
 * must be a job of this capability's session (E_MISSING_RIGHT otherwise): the capability, or a status.
 */
export function procDebug(proc: i32, pid: u32): i32 {
  ProcessManagerReady.beginDebug();
  msgAddWord(pid);
  const status = called(ProcessManagerReady.debug(proc));
  return status < 0 ? status : msgCapCount() > 0 ? msgCap(0) : E_BAD_MESSAGE;
}

/**
 * Relays a kernel introspection operation (OP_KERNEL_PROCESS, _CAPS, _FRAMES, _MEMORY, _UPTIME)
 * with up to two words; the kernel's answer words are in the message (readKernelProcess...).
 */
export function procInspect(proc: i32, op: u32, a: u32 = 0, b: u32 = 0): i32 {
  ProcessManagerReady.beginInspect();
  msgAddWord(op);
  msgAddWord(a);
  msgAddWord(b);
  return called(ProcessManagerReady.inspect(proc));
}

/** Asks for a clean shutdown (a session is needed): process 1 stops every service and the machine powers off. */
export function procHalt(proc: i32): i32 {
  ProcessManagerReady.beginHalt();
  return called(ProcessManagerReady.halt(proc));
}

/** JOB_WAIT's answer. */
export class JobEnd {
  status: i32 = 0;
  state: u32 = 0;
  exitCode: i32 = 0;
}

/** A job: one process the process manager created for its holder. */
export class Job {
  constructor(readonly cap: i32) {}

  /** Its arguments (args[0]: the program name) and environment, at most 248 bytes in all. Allocates. */
  setArgs(args: string[], env: string[] = []): i32 {
    const block = packArgs(args, env);
    if (block.length > ARGS_IN_MESSAGE_BYTES) return E_INVALID_ARGUMENT;
    ProcessManagerReady.beginArgs();
    msgAddArgsBlock(block, <u32>args.length);
    return called(ProcessManagerReady.args(this.cap));
  }

  /** As setArgs, the `length` bytes of the block (packArgs) at the start of the Region `region` (a view or the owner; it stays with the caller). */
  setArgsFrom(region: i32, length: u32, argc: u32): i32 {
    ProcessManagerReady.beginArgs();
    msgAddWord(length);
    msgAddWord(argc);
    msgAddCap(<u32>region);
    return called(ProcessManagerReady.args(this.cap));
  }

  /** Installs `cap` (moved with CAP_MOVE) in its table, in order from slot 4: the slot, or a status. */
  give(cap: u32): i32 {
    ProcessManagerReady.beginGive();
    msgAddCap(cap);
    const status = called(ProcessManagerReady.give(this.cap));
    return status < 0 ? status : <i32>msgWord(0);
  }

  start(): i32 {
    ProcessManagerReady.beginStart();
    return called(ProcessManagerReady.start(this.cap));
  }

  /** Blocks until it has ended: its state (STATE_EXITED, STATE_FAULTED) and exit code. */
  wait(): JobEnd {
    const end = new JobEnd();
    ProcessManagerReady.beginWait();
    end.status = called(ProcessManagerReady.wait(this.cap));
    if (end.status >= 0) {
      end.state = msgWord(0);
      end.exitCode = <i32>msgWord(1);
    }
    return end;
  }

  kill(): i32 {
    ProcessManagerReady.beginKillJob();
    return called(ProcessManagerReady.killJob(this.cap));
  }

  /** PROCESS_STATE's words are in the message (pid, state, exit code, fault kind, ...). */
  state(): i32 {
    ProcessManagerReady.beginJobState();
    return called(ProcessManagerReady.jobState(this.cap));
  }

  /** `sendCap` (moved with CAP_MOVE) gets a PROCESS_ENDED message when it ends, as PROCESS_MONITOR sends. */
  monitor(sendCap: u32): i32 {
    ProcessManagerReady.beginMonitor();
    msgAddCap(sendCap);
    return called(ProcessManagerReady.monitor(this.cap));
  }

  /** A Process capability to it with RIGHT_PROCESS_DEBUG and RIGHT_PROCESS_INFO, or a status. */
  debug(): i32 {
    ProcessManagerReady.beginDebugJob();
    const status = called(ProcessManagerReady.debugJob(this.cap));
    return status < 0 ? status : msgCapCount() > 0 ? msgCap(0) : E_BAD_MESSAGE;
  }

  /** It stops being scheduled until resume (^Z). */
  suspend(): i32 {
    ProcessManagerReady.beginSuspend();
    return called(ProcessManagerReady.suspend(this.cap));
  }

  resume(): i32 {
    ProcessManagerReady.beginResume();
    return called(ProcessManagerReady.resume(this.cap));
  }

  /** Drops the job capability (the job runs on). */
  drop(): void {
    capDrop(this.cap);
  }
}

/** Moves `cap` into a job (a convenience: give with CAP_MOVE). */
export function jobMove(job: Job, cap: i32): i32 {
  return job.give(<u32>cap | CAP_MOVE);
}
