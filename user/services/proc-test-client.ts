// The process manager from a client's side, every case the tests check (test/services/procman):
// spawning boot modules and a binary handed over in a Region (a copy of this program's own
// binary, which then runs as "child"), arguments and passed capabilities, refusals (a bad binary
// with the loader's reason, bad arguments, missing rights, an exhausted quota, no such module),
// kill and debug authority by session, and the tools ps, caps, mem, uptime, kill and halt, which ends it all.
// Config: service client proc-test-client memory=4096 [-- no-halt]
import {
  print, eprint, errorName, exit, sleep, args, getpid, imageBase, imageSize, capKind, capCopy, Memory, Region, capInfo,
  capDrop, msgBegin, msgAddWord, msgInvoke, msgLabel, E_INVALID_CAP, KIND_MEMORY, RIGHT_MEMORY_INFO, STATE_EXITED,
  STATE_FAULTED, CAP_MOVE, contractRefusal, msgAddCap, msgAddName, Receiver, RIGHT_RECEIVER_SEND, msgWord,
} from "../lib";
import {
  Job, procLookup, procSession, procSpawn, procSpawnBinary, procKill, procDebug, procHalt, lastSpawnedPid,
  lastLoadError, procStatus, JOB_ARGS, JOB_GIVE, PROC_SPAWN, PROC_GRANTS_STANDARD, SLOT_FIRST_PASSED,
} from "../lib/proc-client";

const NAME = "proc-test-client";
const MEMORY: i32 = 3;

function say(line: string): void {
  print(NAME + ": " + line);
}

function check(what: string, result: i32): i32 {
  if (result < 0) {
    eprint(NAME + ": " + what + ": " + errorName(result));
    exit(1);
  }
  return result;
}

/** Spawns boot module `name` with `argv` in the session, runs it to its end, and says how it ended. */
function run(session: i32, argv: string[]): i32 {
  const job = new Job(check("spawn " + argv[0], procSpawn(session, <u32>MEMORY, argv[0])));
  check("args of " + argv[0], job.setArgs(argv));
  check("start " + argv[0], job.start());
  const end = job.wait();
  check("wait for " + argv[0], end.status);
  say(argv.join(" ") + ": " + (end.state == STATE_EXITED ? "exited with code " + end.exitCode.toString() : "ended in state " + end.state.toString()));
  return end.exitCode;
}

const argv = args();
if (argv.length > 1 && argv[1] == "child") {
  // The copy handed over as a binary: it says what it was given, and exits 7.
  say("child (pid " + getpid().toString() + ") runs from a Region with args " + argv.slice(1).join(" ") + "; slot 4 holds a " + (capKind(SLOT_FIRST_PASSED) == <i32>KIND_MEMORY ? "Memory" : "?"));
  exit(7);
}

let proc = procLookup();
for (let i = 1; i < 200 && proc == E_INVALID_CAP; i++) {
  sleep(10_000_000);
  proc = procLookup();
}
check("look up proc", proc);
const session = check("open a session", procSession(proc));
const home = new Memory(MEMORY);

// A boot module, with arguments.
run(session, ["echo", "spawned", "by", "procman"]);

// A binary in a Region: this program's own, which runs as "child" and is given a capability.
const size = <u32>imageSize();
const owner = check("create a Region", home.createRegion((size + 4095) / 4096));
const region = new Region(owner);
memory.copy(<usize>region.info().address, imageBase(), size);
const view = check("view the Region", region.view());
const copy = new Job(check("spawn a binary", procSpawnBinary(session, <u32>MEMORY, <u32>view, size, "self-copy")));
say("spawned self-copy as pid " + lastSpawnedPid.toString());
check("args of self-copy", copy.setArgs(["self-copy", "child", "x"]));
say("gave it slot " + check("give", copy.give(<u32>check("copy", capCopy(MEMORY, RIGHT_MEMORY_INFO)) | CAP_MOVE)).toString());
check("start self-copy", copy.start());
const end = copy.wait();
say("self-copy: exited with code " + end.exitCode.toString());
say("waiting again: " + errorName(copy.wait().status));

// Refusals.
const junk = check("create a junk Region", home.createRegion(1));
store<u32>(<usize>new Region(junk).info().address, 0x12345678);
const junkView = check("view junk", new Region(junk).view());
say("junk binary: " + errorName(procSpawnBinary(session, <u32>MEMORY, <u32>junkView, 64, "junk")) + ": " + lastLoadError);
say("no such module: " + errorName(procSpawn(session, <u32>MEMORY, "no-such-program")));
const infoOnly = check("copy", capCopy(MEMORY, RIGHT_MEMORY_INFO));
say("a Memory without MEMORY_CREATE: " + errorName(procSpawn(session, <u32>infoOnly, "echo")));
const tiny = check("create a tiny Memory", home.createMemory(4));
say("a Memory of 4 pages: " + errorName(procSpawn(session, <u32>tiny, "echo")));
const unstarted = new Job(check("spawn echo", procSpawn(session, <u32>MEMORY, "echo")));
say("arguments too long: " + errorName(unstarted.setArgs(["echo", "y".repeat(300)])));
msgBegin(JOB_ARGS);
msgAddWord(9);
msgAddWord(1);
msgAddWord(0x41414141);
check("bad args", msgInvoke(unstarted.cap));
say("a malformed argument block: " + errorName(procStatus(msgLabel())));
check("kill the unstarted echo", unstarted.kill());
say("start after kill: " + errorName(unstarted.start()));

// Contract ProcessManager: what state Ready does not allow, the kernel refuses (E_CONTRACT, the
// call's own status) and procman never sees; before, procman answered each with a status of its own.
msgBegin(99);
say("label 99: " + errorName(msgInvoke(session)) + ": " + contractRefusal());
msgBegin(0);
say("a reply's label as a request: " + errorName(msgInvoke(session)));
msgBegin(JOB_GIVE);
say("give nothing: " + errorName(msgInvoke(unstarted.cap)));
msgBegin(PROC_SPAWN);
msgAddWord(PROC_GRANTS_STANDARD);
msgAddName("echo");
msgAddCap(<u32>junkView);
say("spawn paid by a Region: " + errorName(msgInvoke(session)) + ": " + contractRefusal());

// Who may kill: the session that spawned a job, not the registry's capability nor another session.
const sleeper = new Job(check("spawn sleeper", procSpawn(session, <u32>MEMORY, "sleeper")));
const sleeperPid = lastSpawnedPid;
check("args of sleeper", sleeper.setArgs(["sleeper", "600000"]));
check("start sleeper", sleeper.start());
// Watched, suspended and resumed through its job (what the shell does for ^Z, fg and bg).
const watch = check("create a Receiver to watch it", home.createReceiver(2));
say("watch it: " + errorName(sleeper.monitor(<u32>check("mint", new Receiver(watch).mint(1, RIGHT_RECEIVER_SEND)) | CAP_MOVE)));
say("suspend it: " + errorName(sleeper.suspend()) + "; resume it: " + errorName(sleeper.resume()));
const told = sleeper.state();
say("its state: " + errorName(told) + ", pid " + (told >= 0 && msgWord(0) == sleeperPid ? "its own" : "another"));
say("kill through the registry's capability: " + errorName(procKill(proc, sleeperPid)));
say("kill from another session: " + errorName(procKill(check("another session", procSession(proc)), sleeperPid)));
say("kill a pid procman did not spawn: " + errorName(procKill(session, 1)));
say("halt through the registry's capability: " + errorName(procHalt(proc)));
// Who may debug: the same rule, and the capability debugs and watches, no more (docs/DEBUGGING.md).
say("debug through the registry's capability: " + errorName(procDebug(proc, sleeperPid)));
say("debug from another session: " + errorName(procDebug(check("another session", procSession(proc)), sleeperPid)));
const debugged = check("debug from its session", procDebug(session, sleeperPid));
say("debug from its session: rights 0x" + capInfo(debugged).rights.toString(16));
capDrop(debugged);
const jobDebug = check("debug through the job", sleeper.debug());
say("debug through the job: rights 0x" + capInfo(jobDebug).rights.toString(16));
capDrop(jobDebug);

// The tools, spawned in the session: they find procman at slot 3.
run(session, ["ps"]);
run(session, ["caps", getpid().toString()]);
run(session, ["mem"]);
run(session, ["uptime"]);
run(session, ["caps", "99999"]);
run(session, ["kill", sleeperPid.toString()]);
const slept = sleeper.wait();
check("wait for sleeper", slept.status);
say("sleeper: " + (slept.state == STATE_FAULTED ? "faulted" : "exited with code " + slept.exitCode.toString()));

if (argv.length > 1 && argv[1] == "no-halt") exit(0);
run(session, ["halt"]);
say("still running after halt");
exit(1);
