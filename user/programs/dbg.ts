// dbg PROGRAM [ARGS...] | dbg -p PID: a debugger (docs/DEBUGGING.md). It starts PROGRAM through the
// process manager, or takes a running job of its session (the shell's other jobs), attaches to it
// through a Process capability with the debug right, and reads commands from its input: break,
// watch, continue, step, x, set, globals, bt, info, detach, kill (help lists them). The program
// starts stopped; `continue` starts it. ^C at the shell ends dbg's job: dbg and a program it
// started; a program it attached to runs on.
// dogma:runtime incremental
import {
  print, eprint, write, read, errorName, exit, args, Memory, Receiver, Process, CAP_MOVE, RIGHT_RECEIVER_SEND,
  SLOT_JOB_MEMORY, DEBUG_KILL_ON_END,
} from "../lib";
import { procForTool } from "../lib/proc-client";
import { Target, newTarget, runningTarget } from "./dbg-parts/target";
import { Session, STOPPED_BADGE, ENDED_BADGE, parseNumber } from "./dbg-parts/session";

const argv = args();
if (argv.length < 2 || (argv[1] == "-p" && argv.length != 3)) {
  eprint("usage: dbg PROGRAM [ARGS...] | dbg -p PID");
  exit(2);
}
const proc = procForTool();
if (proc < 0) fail("no process manager: " + errorName(proc));
const attaching = argv[1] == "-p";
const pid = attaching ? parseNumber(argv[2]) : 0;
if (attaching && (pid <= 0 || pid > 0xffffffff)) fail(argv[2] + ": not a pid");
const target: Target = attaching ? runningTarget(proc, <u32>pid) : newTarget(proc, argv.slice(1));
if (target.cap < 0) fail(target.why);

const receiver = new Memory(SLOT_JOB_MEMORY).createReceiver(16);
if (receiver < 0) fail("no Receiver for its events: " + errorName(receiver));
const events = new Receiver(receiver);
const stopped = events.mint(STOPPED_BADGE, RIGHT_RECEIVER_SEND);
const ended = events.mint(ENDED_BADGE, RIGHT_RECEIVER_SEND);
if (stopped < 0 || ended < 0) fail("cannot mint its event capabilities");
const watched = new Process(target.cap).monitor(<u32>ended | CAP_MOVE);
if (watched < 0) fail("cannot watch pid " + target.pid.toString() + ": " + errorName(watched));
const session = new Session(target.cap, target.pid, events, target.job, proc);
// A program dbg started dies with it; one it attached to is let go.
const attached = session.target.attach(<u32>stopped | CAP_MOVE, attaching ? 0 : DEBUG_KILL_ON_END);
if (attached < 0) fail("cannot attach to pid " + target.pid.toString() + ": " + errorName(attached) + (attached == -12 ? " (it has a debugger already)" : ""));
// The attach's own stop: a program dbg started has not run yet, nothing to say of where it is.
session.waitForStop(!attaching);
if (!attaching) print("dbg: " + argv[1] + " is pid " + target.pid.toString() + ", stopped before it starts (continue starts it; help lists the commands)");

const line = new StaticArray<u8>(1024);
let length = 0;
let going = !session.ended;
while (going) {
  write("(dbg) ");
  const text = readLine();
  if (text === null) break;
  going = session.run(<string>text);
}
// At the end of input or on quit: a program dbg started ends with it (KILL_ON_END); an attached one runs on.
exit(0);

/** The next line of input, without its newline; null at the end of input. */
function readLine(): string | null {
  for (;;) {
    for (let i = 0; i < length; i++) {
      if (line[i] != 10) continue;
      const text = String.UTF8.decodeUnsafe(changetype<usize>(line), <usize>i).replace("\r", "");
      memory.copy(changetype<usize>(line), changetype<usize>(line) + <usize>i + 1, <usize>(length - i - 1));
      length -= i + 1;
      return text;
    }
    if (length == line.length) length = 0; // an over-long line is dropped
    const n = read(changetype<usize>(line) + <usize>length, line.length - length);
    if (n <= 0) {
      if (length == 0) return null;
      const text = String.UTF8.decodeUnsafe(changetype<usize>(line), <usize>length);
      length = 0;
      return text;
    }
    length += n;
  }
  return null;
}

function fail(why: string): void {
  eprint("dbg: " + why);
  exit(1);
}
