// The process manager (docs/PROCESSES.md): spawning goes through this one service. A client
// passes a Memory (its quota pays) and names a boot module or hands over a binary in a Region; it
// gets a job capability, through which it gives the job arguments and capabilities, starts it,
// waits for its exit code and kills it. It also relays the kernel's introspection (ps, caps, mem,
// uptime) from its KERNEL_INSPECT capability, kills (and hands debuggers the right to debug) by pid
// within a session, and asks process 1 to halt. Registered as "proc". Its protocol is contract
// ProcessManager (contracts/procman.contract), which the kernel checks on every request and every
// reply through the capabilities minted from its request Receiver. Config:
//   service proc procman memory=64 kernel images bootinfo control
// Slots: 2 the registry, 3 its Memory, 4 Kernel (KERNEL_INSPECT), 5 the Images Cappage, 6 the
// boot info, 7 init's control capability.
//
// Requests, replies and jobs live in fixed tables and the message buffer: nothing allocates per
// request once it serves, so it can run for ever on the stub runtime.
import {
  print, eprint, errorName, exit, capKind, capCopy, capDrop, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel, msgBadge,
  msgReply, msgWord, msgWordCount, msgCap, msgCapCount, msgSetLabel, reply, Memory, Receiver, Process, registryRegister, registryLabel,
  registryRegisterForServices, CAP_MOVE, KIND_MEMORY, KIND_KERNEL, KIND_CAPPAGE, KIND_REGION, KIND_RECEIVER, KIND_REPLY, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND,
  OP_CAPPAGE_GET, OP_MEMORY_CREATE_PROCESS, OP_MEMORY_CREATE_IMAGE, OP_MEMORY_LOAD_ERROR, OP_PROCESS_GIVE, OP_PROCESS_MONITOR,
  OP_PROCESS_START, OP_PROCESS_STATE, OP_PROCESS_KILL, OP_PROCESS_SET_ARGS, OP_RECEIVER_MINT, OP_KERNEL_PROCESS, OP_KERNEL_CAPS,
  OP_KERNEL_FRAMES, OP_KERNEL_MEMORY, OP_KERNEL_UPTIME, OP_KERNEL_PAGING_INFO, MSG_PROCESS_ENDED, E_INVALID_ARGUMENT, E_INVALID_CAP, E_MISSING_RIGHT,
  E_NO_PROCESS, E_NOT_READY, E_PEER_DEAD, E_QUOTA, E_CONTRACT, E_BAD_MESSAGE, E_WRONG_TYPE, MAX_DATA_WORDS, REGISTRY_NAME_WORDS,
  KIND_IMAGE, RIGHT_PROCESS_DEBUG, RIGHT_PROCESS_INFO, OP_PROCESS_SUSPEND, OP_PROCESS_RESUME, check, registryForPrograms, contractRefusal,
} from "../lib";
import {
  PROC_SESSION, PROC_SPAWN, PROC_SPAWN_BINARY, PROC_SPAWN_IMAGE, PROC_KILL, PROC_INSPECT, PROC_HALT, PROC_DEBUG, JOB_ARGS, JOB_GIVE, JOB_START,
  JOB_WAIT, JOB_KILL, JOB_STATE, JOB_MONITOR, JOB_DEBUG, JOB_SUSPEND, JOB_RESUME, PROC_GRANT_REGISTRY, PROC_GRANT_PROC, PROC_GRANT_OWN_SESSION,
} from "../lib/proc-client";
import { processManagerAttach } from "../lib/contracts/procman";
import { readModuleNames } from "./procman-parts/boot-modules";
import { JOB_BIT, Job, MAX_JOBS, answerEnd, ended, freeEntry, handleOf, jobOf, jobs, release } from "./procman-parts/jobs";

const REGISTRY: i32 = 2;
const MEMORY: i32 = 3;
const KERNEL: i32 = 4;
const IMAGES: i32 = 5;
const BOOT_INFO: i32 = 6;
const CONTROL: i32 = 7;
/** init's control protocol: HALT (user/init/init.ts). */
const CONTROL_HALT: u32 = 1;

let nextSession: u32 = 1;
/**
 * The badge bit of a session a program made (through "program-proc", what a program's lookup of
 * "proc" finds) or was given (slot 3 of a program without a manifest, PROC_GRANT_OWN_SESSION): it
 * spawns, kills and debugs its own jobs as any session, and may not halt the machine. Before, any
 * program could look "proc" up, open a session and halt (redteam2, finding 9).
 */
const PROGRAM_SESSION: u32 = 0x40000000;

/**
 * The most jobs programs' sessions may hold at once, all together: the rest of the table stays the
 * shell's and the services', so a program that spawns until refused cannot keep the user from
 * running anything (redteam2's finding 10: 63 sleeping jobs, and every command then failed).
 */
const PROGRAM_JOBS: i32 = MAX_JOBS - 16;

/**
 * The priority every job runs at: one level below procman's own (the services' level; the kernel's
 * 0 runs first), and what a job creates runs there or lower (the kernel refuses a process a level
 * above its creator's). A user's program may start hundreds of spinning processes in its job's
 * Memory, and at the services' level they kept the console driver, the file system and the shell
 * from the CPU (redteam18: the shell did not answer `echo` in 45 s beside 294 of them); below it
 * they share the CPU with the user's other programs only.
 */
const JOB_PRIORITY: u32 = jobPriority();

function jobPriority(): u32 {
  const own = new Process(1).state();
  return own.status < 0 ? 5 : min(own.priority + 1, 7);
}

/** Jobs in the table that a program's session spawned. */
function programJobs(): i32 {
  let count = 0;
  for (let i = 0; i < MAX_JOBS; i++) if (jobs[i].process != 0 && (jobs[i].session & PROGRAM_SESSION) != 0) count++;
  return count;
}

/** Whether `badge` names a session at all (0, or the program mark alone, names none). */
function isSession(badge: u32): bool {
  return (badge & ~PROGRAM_SESSION) != 0;
}

/** A new session's badge, a program's when `badge` (the capability asking) is a program's. */
function newSession(badge: u32): u32 {
  const number = nextSession++ & (PROGRAM_SESSION - 1);
  return (number == 0 ? nextSession++ & (PROGRAM_SESSION - 1) : number) | (badge & PROGRAM_SESSION);
}

/** Boot module names as registry-style words, to match PROC_SPAWN's without decoding a string. */
const moduleWords = new StaticArray<StaticArray<u32>>(256);
let moduleCount = 0;
/**
 * The request's words and capabilities, copied out as it arrives: every invoke a handler makes
 * (even capKind) overwrites the one message buffer.
 */
const request = new StaticArray<u32>(MAX_DATA_WORDS);
let requestWords = 0;
const caps = new StaticArray<i32>(4);
let capCount = 0;
/** Set by a handler that keeps the reply capability (JOB_WAIT on a running job). */
let held = false;
/** A job to forget once the reply has gone (JOB_WAIT on an ended job). */
let releaseAfterReply: Job | null = null;

function expectKind(slot: i32, kind: u32, what: string): void {
  if (capKind(slot) != <i32>kind) check("procman", what + " at slot " + slot.toString(), E_INVALID_CAP);
}

/** Reads the module names from the boot info (a module's Image is at its index in the Cappage). */
function loadModuleNames(): void {
  const count = readModuleNames(BOOT_INFO, moduleWords);
  if (count < 0) check("procman", "read the boot info", E_INVALID_ARGUMENT);
  moduleCount = count;
}

/** A spawn's first word: which of slots 2 and 3 the job gets (PROC_GRANT_REGISTRY, PROC_GRANT_PROC). */
const GRANTS_WORD: i32 = 0;
/** Where a spawn's other words start (the module's name; the binary's length and name). */
const SPAWN_WORDS: i32 = 1;
/** Queue slots of the request Receiver: contract ProcessManager is of calls only, so a caller that finds them taken waits (none is reserved per capability). */
const REQUEST_QUEUE: u32 = 64;

/** Request word `i`, or 0 past its words. */
function word(i: i32): u32 {
  return i < requestWords ? request[i] : 0;
}

/** The index of the boot module the request's words name (after the grants), or -1. */
function moduleNamed(): i32 {
  const n = requestWords - SPAWN_WORDS;
  if (n <= 0 || n > REGISTRY_NAME_WORDS) return -1;
  for (let m = 0; m < moduleCount; m++) {
    const words = moduleWords[m];
    if (words == null) continue;
    let same = true;
    for (let i = 0; i < REGISTRY_NAME_WORDS && same; i++) same = word(SPAWN_WORDS + i) == words[i];
    if (same) return m;
  }
  return -1;
}

// ---- Requests -----------------------------------------------------------------------------

/** A minted capability to one of our Receivers, or the status. */
function mint(receiver: i32, badge: u32, rights: u32): i32 {
  msgBegin(OP_RECEIVER_MINT);
  msgAddWord(badge);
  msgAddWord(rights);
  const status = msgInvoke(receiver);
  return status < 0 ? status : msgCap(0);
}

function give(process: i32, cap: i32): i32 {
  msgBegin(OP_PROCESS_GIVE);
  msgAddCap(<u32>cap | CAP_MOVE);
  return msgInvoke(process);
}

/** Takes request capability `i` (it is ours now, and not dropped after the request); 0 if there is none. */
function takeCap(i: i32): i32 {
  if (i >= capCount) return 0;
  const cap = caps[i];
  caps[i] = 0;
  return cap;
}

const FROM_MODULE: i32 = 0;
const FROM_BINARY: i32 = 1;
const FROM_IMAGE: i32 = 2;

/**
 * The Image of boot module `module`, of the binary in the request's Region, or the one the request
 * brings (the caller loaded it); a cap (procman's to drop) or a status (reply words set on a refusal).
 */
function imageFor(from: i32, memory: i32): i32 {
  if (from == FROM_IMAGE) {
    const image = takeCap(1);
    if (image == 0) return E_INVALID_CAP;
    if (capKind(image) != <i32>KIND_IMAGE) {
      capDrop(image);
      return E_WRONG_TYPE;
    }
    return image;
  }
  const binary = from == FROM_BINARY;
  if (!binary) {
    const module = moduleNamed();
    if (module < 0) return E_INVALID_CAP;
    msgBegin(OP_CAPPAGE_GET);
    msgAddWord(<u32>module);
    const status = msgInvoke(IMAGES);
    return status < 0 ? status : msgCap(0);
  }
  const region = capCount > 1 ? caps[1] : 0;
  if (region == 0) return E_INVALID_CAP;
  msgBegin(OP_MEMORY_CREATE_IMAGE);
  for (let i = SPAWN_WORDS; i < min(requestWords, SPAWN_WORDS + 9); i++) msgAddWord(request[i]);
  msgAddCap(<u32>region);
  // The caller's Memory pays for the Image; this blocks procman while the kernel loads it.
  const status = msgInvoke(memory);
  if (status >= 0) return msgCap(0);
  if (status == E_INVALID_ARGUMENT || status == E_QUOTA) {
    // The loader's reason, or what the Image would cost, goes back as the reply's words (length, then UTF-8).
    msgBegin(OP_MEMORY_LOAD_ERROR);
    if (msgInvoke(memory) < 0) msgBegin(0);
  }
  return status;
}

/** PROC_SPAWN, PROC_SPAWN_BINARY and PROC_SPAWN_IMAGE: the reply's label; on success the job cap and pid are in the buffer. */
function spawn(session: u32, from: i32): u32 {
  const binary = from == FROM_BINARY;
  const memory = capCount > 0 ? caps[0] : 0;
  if (memory == 0) return fail(E_INVALID_CAP);
  if (capKind(memory) != <i32>KIND_MEMORY) return fail(capKind(memory) < 0 ? E_INVALID_CAP : E_WRONG_TYPE);
  const index = freeEntry();
  if (index < 0 || ((session & PROGRAM_SESSION) != 0 && programJobs() >= PROGRAM_JOBS)) return fail(E_QUOTA);
  const image = imageFor(from, memory);
  if (image < 0) {
    // A load refusal leaves the loader's message (or what the Image would cost) in the buffer: it is the reply's words.
    if ((image == E_INVALID_ARGUMENT || image == E_QUOTA) && binary) {
      msgSetLabel(registryLabel(image));
      return registryLabel(image);
    }
    return fail(image);
  }
  msgBegin(OP_MEMORY_CREATE_PROCESS);
  msgAddWord(JOB_PRIORITY);
  msgAddCap(<u32>image);
  const created = msgInvoke(memory);
  const process = msgCap(0);
  capDrop(image);
  if (created < 0) return fail(created);
  const job = jobs[index];
  job.process = process;
  job.session = session;
  job.ended = false;
  job.waiter = 0;
  const handle = handleOf(index);
  const status = setUp(job, handle, word(GRANTS_WORD), memory);
  if (status < 0) {
    release(job);
    return fail(status);
  }
  const jobCap = mint(requests, handle, RIGHT_RECEIVER_CALL);
  if (jobCap < 0) {
    release(job);
    return fail(jobCap);
  }
  msgBegin(0);
  msgAddWord(job.pid);
  msgAddCap(<u32>jobCap | CAP_MOVE);
  return 0;
}

/**
 * Slots 2 and 3 as `grants` asks (the registry as programs have it; procman with the spawner's
 * session), each a copy of the job's `memory` without rights when not granted (what JOB_GIVE moves
 * in still starts at slot 4); the monitor; the pid. 0 or a status.
 */
function setUp(job: Job, handle: u32, grants: u32, memory: i32): i32 {
  // The programs' registry capability: a job looks names up, and registers nothing (docs/BOOT.md).
  const registry = (grants & PROC_GRANT_REGISTRY) != 0 ? capCopy(programsRegistry) : capCopy(memory, 0);
  if (registry < 0) return registry;
  let status = give(job.process, registry);
  if (status < 0) return status;
  // The spawner's session, or (a program without a manifest) a program's session of its own.
  const self =
    (grants & PROC_GRANT_PROC) != 0 ? mint(requests, job.session, RIGHT_RECEIVER_CALL)
    : (grants & PROC_GRANT_OWN_SESSION) != 0 ? mint(requests, newSession(PROGRAM_SESSION), RIGHT_RECEIVER_CALL)
    : capCopy(memory, 0);
  if (self < 0) return self;
  status = give(job.process, self);
  if (status < 0) return status;
  const notice = mint(notices, handle, RIGHT_RECEIVER_SEND);
  if (notice < 0) return notice;
  msgBegin(OP_PROCESS_MONITOR);
  msgAddCap(<u32>notice | CAP_MOVE);
  status = msgInvoke(job.process);
  if (status < 0) return status;
  msgBegin(OP_PROCESS_STATE);
  status = msgInvoke(job.process);
  if (status < 0) return status;
  job.pid = msgWord(0);
  return 0;
}

/** An empty reply carrying `status`: its label. */
function fail(status: i32): u32 {
  msgBegin(registryLabel(status));
  return registryLabel(status);
}

/** Relays the request's words (after the label word) to `target` as `op`, then answers what it answered. */
function relay(target: i32, op: u32, from: i32, cap: i32 = 0): u32 {
  msgBegin(op);
  for (let i = from; i < requestWords; i++) msgAddWord(request[i]);
  if (cap != 0) msgAddCap(<u32>cap); // copied: the caller's, dropped with the request's others
  const status = msgInvoke(target);
  if (status < 0) return fail(status);
  // The answer is in the buffer already: a reply with label 0 sends its words back as they are.
  msgSetLabel(0);
  return 0;
}

function inspect(): u32 {
  const op = word(0);
  if (op != OP_KERNEL_PROCESS && op != OP_KERNEL_CAPS && op != OP_KERNEL_FRAMES && op != OP_KERNEL_MEMORY && op != OP_KERNEL_UPTIME && op != OP_KERNEL_PAGING_INFO) {
    return fail(E_INVALID_ARGUMENT);
  }
  return relay(KERNEL, op, 1);
}

/** PROC_KILL: a running job of the caller's session (0 has no authority). */
function killPid(session: u32): u32 {
  const pid = word(0);
  for (let i = 0; i < MAX_JOBS; i++) {
    const job = jobs[i];
    if (job.process == 0 || job.ended || job.pid != pid) continue;
    if (!isSession(session) || job.session != session) return fail(E_MISSING_RIGHT);
    msgBegin(OP_PROCESS_KILL);
    return fail(msgInvoke(job.process));
  }
  return fail(E_NO_PROCESS);
}

/**
 * A copy of a job's Process capability that debugs and watches it (PROCESS_DEBUG, PROCESS_INFO),
 * as the reply's capability: the job's holder, or its session, decides who debugs it.
 */
function debugCapability(job: Job): u32 {
  const cap = capCopy(job.process, RIGHT_PROCESS_DEBUG | RIGHT_PROCESS_INFO);
  if (cap < 0) return fail(cap);
  msgBegin(0);
  msgAddCap(<u32>cap | CAP_MOVE);
  return 0;
}

/** PROC_DEBUG: a running job of the caller's session (0 has no authority), as PROC_KILL. */
function debugPid(session: u32): u32 {
  const pid = word(0);
  for (let i = 0; i < MAX_JOBS; i++) {
    const job = jobs[i];
    if (job.process == 0 || job.ended || job.pid != pid) continue;
    if (!isSession(session) || job.session != session) return fail(E_MISSING_RIGHT);
    return debugCapability(job);
  }
  return fail(E_NO_PROCESS);
}

function halt(session: u32): u32 {
  if (!isSession(session) || (session & PROGRAM_SESSION) != 0) return fail(E_MISSING_RIGHT);
  if (capKind(CONTROL) != <i32>KIND_RECEIVER) return fail(E_NOT_READY);
  print("procman: halting the machine");
  msgBegin(CONTROL_HALT);
  const status = msgInvoke(CONTROL);
  if (status < 0) return fail(status);
  return fail(-<i32>msgLabel());
}

function jobRequest(job: Job, label: u32, replyCap: i32): u32 {
  if (label == JOB_WAIT) {
    if (job.ended) {
      answerEnd(job);
      // Released once the reply is out: releasing invokes, which would overwrite it.
      releaseAfterReply = job;
      return 0;
    }
    if (job.waiter != 0 || replyCap == 0) return fail(E_NOT_READY);
    job.waiter = replyCap;
    held = true;
    return 0;
  }
  if (label == JOB_STATE) return relay(job.process, OP_PROCESS_STATE, 0);
  if (job.ended) return fail(E_PEER_DEAD);
  // The block comes in the words, or in a Region the request brings (PROCESS_SET_ARGS reads it there).
  if (label == JOB_ARGS) {
    // PROCESS_SET_ARGS answers no words: the buffer still holds the block sent, which is no answer
    // (contract ProcessManager's Done has none; relaying it echoed the block, found by the contract).
    return fail(-<i32>relay(job.process, OP_PROCESS_SET_ARGS, 0, capCount > 0 ? caps[0] : 0));
  }
  if (label == JOB_START) {
    msgBegin(OP_PROCESS_START);
    return fail(msgInvoke(job.process));
  }
  if (label == JOB_KILL) {
    msgBegin(OP_PROCESS_KILL);
    return fail(msgInvoke(job.process));
  }
  if (label == JOB_DEBUG) return debugCapability(job);
  if (label == JOB_SUSPEND || label == JOB_RESUME) {
    msgBegin(label == JOB_SUSPEND ? OP_PROCESS_SUSPEND : OP_PROCESS_RESUME);
    return fail(msgInvoke(job.process));
  }
  if (label == JOB_MONITOR) {
    if (capCount == 0) return fail(E_BAD_MESSAGE);
    msgBegin(OP_PROCESS_MONITOR);
    msgAddCap(<u32>takeCap(0) | CAP_MOVE);
    return fail(msgInvoke(job.process));
  }
  if (label == JOB_GIVE) {
    if (capCount == 0) return fail(E_BAD_MESSAGE);
    msgBegin(OP_PROCESS_GIVE);
    for (let i = 0; i < capCount; i++) msgAddCap(<u32>takeCap(i) | CAP_MOVE);
    const status = msgInvoke(job.process);
    if (status < 0) return fail(status);
    msgSetLabel(0);
    return 0;
  }
  return fail(E_INVALID_ARGUMENT);
}

/** One request (in the buffer): the reply's label, the reply itself left in the buffer. */
function handle(label: u32, badge: u32, replyCap: i32): u32 {
  if (badge & JOB_BIT) {
    const job = jobOf(badge);
    return job == null ? fail(E_PEER_DEAD) : jobRequest(job, label, replyCap);
  }
  if (label == PROC_SPAWN) return spawn(badge, FROM_MODULE);
  if (label == PROC_SPAWN_BINARY) return spawn(badge, FROM_BINARY);
  if (label == PROC_SPAWN_IMAGE) return spawn(badge, FROM_IMAGE);
  if (label == PROC_INSPECT) return inspect();
  if (label == PROC_KILL) return killPid(badge);
  if (label == PROC_HALT) return halt(badge);
  if (label == PROC_DEBUG) return debugPid(badge);
  if (label == PROC_SESSION) {
    const session = mint(requests, newSession(badge), RIGHT_RECEIVER_CALL);
    if (session < 0) return fail(session);
    msgBegin(0);
    msgAddCap(<u32>session | CAP_MOVE);
    return 0;
  }
  return fail(E_INVALID_ARGUMENT);
}

expectKind(MEMORY, KIND_MEMORY, "a Memory");
expectKind(KERNEL, KIND_KERNEL, "the Kernel capability (grant kernel)");
expectKind(IMAGES, KIND_CAPPAGE, "the Images (grant images)");
expectKind(BOOT_INFO, KIND_REGION, "the boot info (grant bootinfo)");
loadModuleNames();
const memory = new Memory(MEMORY);
const requests = check("procman", "create its Receiver", memory.createReceiver(REQUEST_QUEUE));
// Before anything is minted from it: every capability to it is then an endpoint the kernel checks.
check("procman", "attach contract ProcessManager", processManagerAttach(requests));
const notices = check("procman", "create its notices Receiver", memory.createReceiver(<u32>MAX_JOBS + 8));
// Requests bring capabilities (a Memory, a Region, what a job is given): they must be installed.
check("procman", "listen", Process.self().listen(true));
/** What every job gets at slot 2: the registry as programs have it (no REGISTER, no name for services only). */
const programsRegistry = check("procman", "get the programs' registry capability", registryForPrograms(REGISTRY));
// "proc" for services (the shell: its sessions may halt); "program-proc", what a program's lookup
// of "proc" finds, makes program sessions, which may not.
check("procman", "register proc", registryRegisterForServices("proc", <u32>check("procman", "mint", new Receiver(requests).mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
check("procman", "register program-proc", registryRegister("program-proc", <u32>check("procman", "mint", new Receiver(requests).mint(PROGRAM_SESSION, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
print("procman: registered \"proc\"");

const others: i32[] = [notices];
const requestReceiver = new Receiver(requests);
for (;;) {
  const from = requestReceiver.receiveAny(others);
  if (from < 0) check("procman", "receive", from);
  if (from == 1) {
    if (msgLabel() == MSG_PROCESS_ENDED) ended(msgBadge());
    continue;
  }
  const replyCap = msgReply();
  const label = msgLabel();
  const badge = msgBadge();
  requestWords = min(msgWordCount(), MAX_DATA_WORDS);
  for (let i = 0; i < requestWords; i++) request[i] = msgWord(i);
  capCount = min(msgCapCount(), 4);
  for (let i = 0; i < capCount; i++) caps[i] = msgCap(i);
  held = false;
  const answer = handle(label, badge, replyCap);
  if (replyCap != 0 && !held) {
    msgSetLabel(answer);
    const replied = reply(replyCap);
    // A reply the contract refuses is procman's bug: say it (the caller gets E_PEER_DEAD).
    if (replied == E_CONTRACT) eprint("procman: reply refused: " + contractRefusal());
    if (replied < 0 && capKind(replyCap) == <i32>KIND_REPLY) capDrop(replyCap);
  }
  // Capabilities the request brought and no handler took (a Memory copy, a Region) are dropped,
  // after the reply: dropping is an invoke, which would overwrite the reply in the buffer.
  for (let i = 0; i < capCount; i++) if (caps[i] > 0) capDrop(caps[i]);
  const done = releaseAfterReply;
  releaseAfterReply = null;
  if (done != null) release(done);
}
