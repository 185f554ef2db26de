// The process manager's job table (user/services/procman.ts): one entry per process it created,
// named by a badge (JOB_BIT | generation << 8 | index) so that a stale job capability, whose entry
// was freed and reused, finds nothing. An entry lives from the spawn until its end has been
// answered to JOB_WAIT, or until the table needs the room of one that ended unwaited.
import { msgBegin, msgAddWord, msgInvoke, msgWord, msgSetLabel, capDrop, reply, OP_PROCESS_KILL, OP_PROCESS_STATE } from "../../lib";

/** Jobs alive or ended and not yet waited for, at most. */
export const MAX_JOBS: i32 = 64;
/** A badge with this bit names a job: generation << 8 | index. Others are sessions (0: none). */
export const JOB_BIT: u32 = 0x80000000;

export class Job {
  /** The process capability (0: the entry is free). */
  process: i32 = 0;
  pid: u32 = 0;
  generation: u32 = 0;
  /** The session of the capability it was spawned through. */
  session: u32 = 0;
  ended: bool = false;
  state: u32 = 0;
  exitCode: i32 = 0;
  /** A held JOB_WAIT reply (0: none). */
  waiter: i32 = 0;
  /** Order of ending, to evict the oldest ended job when the table is full. */
  endedSeq: u32 = 0;
}

export const jobs = new StaticArray<Job>(MAX_JOBS);
for (let i = 0; i < MAX_JOBS; i++) jobs[i] = new Job();
let endings: u32 = 0;
export function handleOf(index: i32): u32 {
  return JOB_BIT | (jobs[index].generation << 8) | <u32>index;
}

/** The job a badge names, or null when it is stale (the entry was freed and reused since). */
export function jobOf(badge: u32): Job | null {
  const index = <i32>(badge & 0xff);
  if (index >= MAX_JOBS) return null;
  const job = jobs[index];
  return job.process != 0 && handleOf(index) == badge ? job : null;
}

/** A free entry: an unused one, else the one that ended first (its end is forgotten); -1 if all run. */
export function freeEntry(): i32 {
  let oldest = -1;
  for (let i = 0; i < MAX_JOBS; i++) {
    const job = jobs[i];
    if (job.process == 0) return i;
    if (job.ended && job.waiter == 0 && (oldest < 0 || job.endedSeq < jobs[oldest].endedSeq)) oldest = i;
  }
  if (oldest >= 0) release(jobs[oldest]);
  return oldest;
}

/** Forgets a job: drops its process capability (killing what still runs); its handle goes stale. */
export function release(job: Job): void {
  if (job.process == 0) return;
  if (!job.ended) {
    msgBegin(OP_PROCESS_KILL);
    msgInvoke(job.process);
  }
  capDrop(job.process);
  job.process = 0;
  job.generation = (job.generation + 1) & 0x7fffff;
}

/** A PROCESS_ENDED notice for the job with `badge`: keep how it ended, answer its waiter. */
export function ended(badge: u32): void {
  const job = jobOf(badge);
  if (job == null || job.ended) return;
  msgBegin(OP_PROCESS_STATE);
  if (msgInvoke(job.process) >= 0) {
    job.state = msgWord(1);
    job.exitCode = <i32>msgWord(2);
  }
  job.ended = true;
  job.endedSeq = endings++;
  if (job.waiter != 0) {
    const waiter = job.waiter;
    job.waiter = 0;
    answerEnd(job);
    msgSetLabel(0);
    if (reply(waiter) < 0) capDrop(waiter);
    release(job); // waited for: nothing more to tell anyone
  }
}

export function answerEnd(job: Job): void {
  msgBegin(0);
  msgAddWord(job.state);
  msgAddWord(<u32>job.exitCode);
}
