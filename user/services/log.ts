// The log service: a ring of the last 512 lines the system's processes print (services, drivers and
// init write here, through libdogma's print, instead of on the console: user/lib/system-log.ts),
// which `dmesg` reads back, and `dmesg -f` follows. It shows on the console what the boot was
// asked to show: every line with `param verbose 1` in the boot info (`dogma boot --verbose`),
// otherwise only the lines written to an errors stream.
//
// Config: `service log log memory=256 bootinfo log-channel pin=2`, right after the registry, so
// that everything started after it finds it. Slots: 2 the registry, 3 its Memory (for its
// Receiver), 4 the boot info (optional: without it, quiet), 5 the receive side of init's log
// channel (optional): init sends its own lines there, never waiting on a service it supervises,
// and they wait in the channel while this service is not running. pin=2: a process that prints
// while the pager is busy must not wait for a page-in of the log.
//
// Protocol (docs/DRIVERS.md "Log service"): contract Log (contracts/log.contract), which the kernel
// checks on every message through the call capability registered as "log":
//   WRITE (1): word 0 the byte length | LOG_ERROR | LOG_SHOWN, then the bytes packed little-endian
//              (at most 252; longer lines are cut). Replies Written (0).
//   READ (2):  word 0 a sequence number, word 1 (optional) LOG_READ_WAIT. Replies Line (0) with the
//              oldest kept line at or after it: words sequence, next sequence, byte length | flags,
//              time (ns since boot, low and high), bytes (at most 236: what fits a message); or NoLine
//              (1) when there is none. With LOG_READ_WAIT the reply waits for the next line instead
//              (128 readers at most wait; another gets Busy, 4: E_QUEUE_FULL's magnitude).
// Followers do not wait here: libdogma's logRead waits on word 0 of a shared Page, the sequence
// number the next line gets, registered read-only as "log-sequence" (a futex wait of its own, in
// the kernel), and reads when it moves. So no number of followers fills anything of the log's:
// with 8 places for held READs, shared by all, a program's 8 children in `dmesg -f` kept everyone
// else from following the log. LOG_READ_WAIT is for a reader that cannot map the Page.
// The messages init sends through its log channel (WRITE only, no reply) are not the contract's.
// Programs have a log of their own: "log" is registered for services only, and a program's lookup
// of it finds "program-log" (docs/BOOT.md "The service registry"), minted with another badge. A
// program's lines are kept in a ring of their own (PROGRAM_LINES) and marked LOG_PROGRAM, which
// dmesg shows: a program writing in a loop pushes out only programs' lines, never what init, the
// drivers and the services said, and no program's line passes for theirs. Sequence numbers are
// shared: READ answers the oldest kept line of either ring at or after the one asked.
// Lines live in static memory and nothing allocates per request, so it can run for ever.
import {
  exit, Memory, Receiver, Region, msgBegin, msgWord, msgWordCount, msgAddWord, msgLabel, msgReply, msgClearCaps, msgSetLabel,
  registryRegister, reply, capDrop, capKind, now, systemLogOff, CAP_MOVE, RIGHT_RECEIVER_CALL, KIND_RECEIVER, KIND_REGION,
  LOG_ERROR, LOG_SHOWN, LOG_LINE_BYTES, LOG_READ_WAIT, MAX_DATA_WORDS, LOG_PROGRAM, msgBadge, registryRegisterForServices,
  LOG_SERVICE, PROGRAM_LOG_SERVICE, LOG_SEQUENCE_SERVICE, Page, PAGE_SHARED, RIGHT_PAGE_READ, capCopy, futexWake,
} from "../lib";
import { Log, LogReading, LogWriting, logAttach } from "../lib/contracts/log";
import { console_write } from "../lib/sys";

systemLogOff(); // a call to itself would never be answered

const MEMORY: i32 = 3;
const BOOT_INFO: i32 = 4;
const CHANNEL: i32 = 5;
/** The system's lines (init, drivers, services), then the programs' (PROGRAM_BADGE's), in one table. */
const LINES: u32 = 512;
const PROGRAM_LINES: u32 = 128;
const ALL_LINES: u32 = LINES + PROGRAM_LINES;
/** The badge of the capability registered as "program-log". */
const PROGRAM_BADGE: u32 = 1;
/** The Receiver's queue (for the kernel's notices: endpoints have their slots beyond it). */
const QUEUE_SLOTS: i32 = 128;
/** READs held for a line (LOG_READ_WAIT): followers wait on the sequence word instead. */
const MAX_WAITING: i32 = 128;
/** Line's words before the bytes: sequence, next, length and flags, time (two). */
const LINE_HEAD_WORDS: i32 = 5;
/** Bytes of a line that fit in a Line answer. */
const ANSWER_BYTES: u32 = <u32>(MAX_DATA_WORDS - LINE_HEAD_WORDS) * 4;
const ring: usize = memory.data(<i32>(ALL_LINES * LOG_LINE_BYTES));
const lengths: usize = memory.data(<i32>(ALL_LINES * 4));
const times: usize = memory.data(<i32>(ALL_LINES * 8));
/** Each slot's sequence number (valid once written: the counts below say which slots are). */
const sequences: usize = memory.data(<i32>(ALL_LINES * 4));
const scratch: usize = memory.data(<i32>LOG_LINE_BYTES + 1);
/** Sequence number of the next line written, whichever ring keeps it. */
let next: u32 = 0;
/** Lines written to the system's ring and to the programs'. */
let systemWritten: u32 = 0;
let programWritten: u32 = 0;
/** Every line goes to the console too (`param verbose 1`). */
let verbose = false;
/**
 * Followers (`dmesg -f`) wait on word 0 of a shared Page, `next`, registered read-only as
 * "log-sequence": each waits in the kernel on its own mapping of it (futex), so that no number of
 * followers fills anything of the log's. 0 until published.
 */
let sequenceWord: usize = 0;
const waiting = new StaticArray<i32>(MAX_WAITING);
const waitingFor = new StaticArray<u32>(MAX_WAITING);

/** A failure before serving: said on the console (there is no log to say it in) and the end. */
function check(what: string, result: i32): i32 {
  if (result < 0) {
    const text = "log: " + what + ": status " + result.toString() + "\n";
    const bytes = String.UTF8.encode(text);
    console_write(2, <i32>changetype<usize>(bytes), bytes.byteLength);
    exit(1);
  }
  return result;
}

/** Whether the boot info at BOOT_INFO says `param verbose 1`. */
function verboseBoot(): bool {
  if (capKind(BOOT_INFO) != <i32>KIND_REGION) return false;
  const info = new Region(BOOT_INFO).info();
  if (info.status < 0) return false;
  const length = min(load<u32>(<usize>info.address), info.pages * 4096 - 4);
  const text = String.UTF8.decodeUnsafe(<usize>info.address + 4, <usize>length);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] == "config") break;
    if (lines[i].trim() == "param verbose 1") return true;
  }
  return false;
}

/** Keeps the `length` bytes at `from` (a line, no newline) as the next line, shows it if it should be, and answers the readers waiting for it. */
function keep(from: usize, length: u32, flags: u32): void {
  length = min(length, LOG_LINE_BYTES);
  const program = (flags & LOG_PROGRAM) != 0;
  const slot = program ? LINES + programWritten++ % PROGRAM_LINES : systemWritten++ % LINES;
  const at = ring + <usize>(slot * LOG_LINE_BYTES);
  memory.copy(at, from, length);
  store<u32>(lengths + <usize>(slot * 4), length | (flags & (LOG_ERROR | LOG_PROGRAM)));
  store<i64>(times + <usize>(slot * 8), now());
  store<u32>(sequences + <usize>(slot * 4), next);
  next++;
  if (sequenceWord != 0) {
    store<u32>(sequenceWord, next);
    futexWake(sequenceWord, i32.MAX_VALUE);
  }
  if ((flags & LOG_SHOWN) == 0 && (verbose || (flags & LOG_ERROR) != 0)) {
    memory.copy(scratch, at, length);
    store<u8>(scratch + length, 0x0a);
    console_write((flags & LOG_ERROR) != 0 ? 2 : 1, <i32>scratch, <i32>length + 1);
  }
}

/** WRITE in the buffer (a call, or a send through the channel); `program`: through "program-log". */
function write(program: bool): u32 {
  const words = msgWordCount();
  if (words < 1) return 11; // E_INVALID_ARGUMENT's magnitude
  const head = msgWord(0);
  const length = min(min(head & 0xffff, <u32>(words - 1) * 4), LOG_LINE_BYTES);
  for (let i: u32 = 0; i < length; i += 4) {
    const word = msgWord(1 + <i32>(i >> 2));
    for (let b: u32 = 0; b < 4 && i + b < length; b++) store<u8>(scratch + i + b, <u8>(word >> (8 * b)));
  }
  keep(scratch, length, (head & (LOG_ERROR | LOG_SHOWN)) | (program ? LOG_PROGRAM : 0));
  return 0;
}

/** Puts the line in `slot` (kept) in the buffer as READ's answer. */
function answer(slot: u32): void {
  const seq = load<u32>(sequences + <usize>(slot * 4));
  const at = ring + <usize>(slot * LOG_LINE_BYTES);
  const kept = load<u32>(lengths + <usize>(slot * 4));
  const length = min(kept & 0xffff, ANSWER_BYTES);
  const time = load<i64>(times + <usize>(slot * 8));
  LogReading.beginLine();
  msgAddWord(seq);
  msgAddWord(seq + 1);
  msgAddWord((kept & ~0xffff) | length);
  msgAddWord(<u32>time);
  msgAddWord(<u32>(<u64>time >>> 32));
  for (let i: u32 = 0; i < length; i += 4) {
    let word: u32 = 0;
    for (let b: u32 = 0; b < 4 && i + b < length; b++) word |= <u32>load<u8>(at + i + b) << (8 * b);
    msgAddWord(word);
  }
}

/** The slot of the oldest kept line at or after sequence `seq`, or -1 when there is none yet. */
function oldestFrom(seq: u32): i32 {
  let best: i32 = -1;
  let bestSeq: u32 = 0;
  const systemKept = min(systemWritten, LINES);
  for (let i: u32 = 0; i < systemKept; i++) {
    const s = load<u32>(sequences + <usize>(i * 4));
    if (s >= seq && (best < 0 || s < bestSeq)) (best = <i32>i), (bestSeq = s);
  }
  const programKept = min(programWritten, PROGRAM_LINES);
  for (let i: u32 = LINES; i < LINES + programKept; i++) {
    const s = load<u32>(sequences + <usize>(i * 4));
    if (s >= seq && (best < 0 || s < bestSeq)) (best = <i32>i), (bestSeq = s);
  }
  return best;
}

/** Makes and registers the followers' sequence Page; without it (no room), followers use READ's wait. */
function publishSequence(): void {
  const made = new Memory(MEMORY).createPage();
  if (made < 0) return;
  const page = new Page(made);
  if (page.setFlags(PAGE_SHARED) < 0) return;
  const address = page.mapGlobal(true);
  if (address < 0) return;
  store<u32>(<usize>address, next);
  const readOnly = capCopy(made, RIGHT_PAGE_READ);
  if (readOnly < 0 || registryRegister(LOG_SEQUENCE_SERVICE, <u32>readOnly | CAP_MOVE) < 0) return;
  sequenceWord = <usize>address;
}

/** A reply that could not be given (its caller has gone) is dropped. */
function answered(status: i32, replyCap: i32): void {
  if (status < 0) capDrop(replyCap);
}

/** READ in the buffer, a call: answered with its line, NoLine or Busy, or kept until the next line comes (LOG_READ_WAIT). */
function read(replyCap: i32): void {
  const seq = msgWordCount() > 0 ? msgWord(0) : 0;
  const wait = msgWordCount() > 1 && (msgWord(1) & LOG_READ_WAIT) != 0;
  const slot = oldestFrom(seq);
  if (slot >= 0) {
    answer(<u32>slot);
    answered(LogReading.replyLine(replyCap), replyCap);
    return;
  }
  if (!wait) {
    LogReading.beginNoLine();
    answered(LogReading.replyNoLine(replyCap), replyCap);
    return;
  }
  for (let i = 0; i < MAX_WAITING; i++) {
    if (unchecked(waiting[i]) != 0) continue;
    unchecked((waiting[i] = replyCap));
    unchecked((waitingFor[i] = seq));
    return;
  }
  LogReading.beginBusy();
  answered(LogReading.replyBusy(replyCap), replyCap);
}

/** Answers every waiting reader whose line has come (a reader that has gone just drops its reply). */
function wakeReaders(): void {
  for (let i = 0; i < MAX_WAITING; i++) {
    const waiter = unchecked(waiting[i]);
    if (waiter == 0) continue;
    const slot = oldestFrom(unchecked(waitingFor[i]));
    if (slot < 0) continue;
    unchecked((waiting[i] = 0));
    answer(<u32>slot);
    answered(LogReading.replyLine(waiter), waiter);
  }
}

verbose = verboseBoot();
// Contract Log bounds each endpoint to one message on its way, and the queue keeps a slot for each
// endpoint (every process holding "log" holds one): 128 of them, 8 pages.
const requests = new Receiver(check("create its Receiver", new Memory(MEMORY).createReceiver(QUEUE_SLOTS)));
// Before the capability it registers is minted: every message through it is then the contract's.
check("give its Receiver contract Log", logAttach(requests.cap));
const others: i32[] = [];
if (capKind(CHANNEL) == <i32>KIND_RECEIVER) others.push(CHANNEL);
check("register \"log\"", registryRegisterForServices(LOG_SERVICE, <u32>check("mint", requests.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
check("register \"program-log\"", registryRegister(PROGRAM_LOG_SERVICE, <u32>check("mint", requests.mint(PROGRAM_BADGE, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
publishSequence();
const started = String.UTF8.encode("log: registered \"log\"" + (verbose ? "; showing every line on the console (verbose)" : ""));
keep(changetype<usize>(started), <u32>started.byteLength, 0);

for (;;) {
  const status = requests.receiveAny(others);
  if (status < 0) check("receive", status);
  const replyCap = msgReply();
  const label = msgLabel();
  // Init's channel is a send capability of its own; through the Receiver, the badge says whose door.
  const program = status == 0 && msgBadge() == PROGRAM_BADGE;
  msgClearCaps();
  // Through "log" the kernel lets nothing but Write and Read calls in; init's channel sends Writes.
  if (label == Log.Write) {
    write(program);
    if (replyCap != 0) {
      LogWriting.beginWritten();
      answered(LogWriting.replyWritten(replyCap), replyCap);
    }
    wakeReaders();
  } else if (label == Log.Read && replyCap != 0) {
    read(replyCap);
  } else if (replyCap != 0) {
    capDrop(replyCap);
  }
}
