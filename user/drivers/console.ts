// The console driver (docs/DRIVERS.md "Console driver"): the console UART (docs/DEVICES.md
// "Console UART") behind a line discipline, serving WRITE, READ, SET_MODE, FOREGROUND and INFO,
// and the stream protocol beside them, to clients that find it as "console" in the registry, as
// contract Console (contracts/console.contract) says: the kernel lets nothing else through.
// Config:
//   driver console console device=console interrupt=console memory=64
// Slots: 2 the registry, 3 the device, 4 its interrupt line, 5 a Memory (the DMA window, its
// Receivers).
//
// One loop waits on two Receivers, the interrupt's first. Typed bytes go through the line
// discipline (console-parts/line-discipline.ts); readers wait in a queue until there is a line
// (or, in raw mode, a byte) for them. A ^C kills the foreground process, or tells it, and throws
// away what was typed. Output goes out by TRANSMIT from the DMA window.
//
// The UART keeps its input across a reset, so what is typed while this driver restarts waits for
// the next one. Nothing here allocates after the start, so it can serve for ever on the stub
// runtime.
import {
  exit, errorName, lineBegin, lineAdd, lineAddU32, linePrint, capKind, capDrop, msgBegin, msgAddWord, msgAddCap,
  msgInvoke, msgLabel, msgReply, msgWord, msgWordCount, msgCap, msgCapCount, reply, registryRegisterForServices, Device,
  Interrupt, Memory, Process, Receiver, Region, CAP_MOVE, KIND_PROCESS, KIND_RECEIVER, KIND_REPLY, MSG_INTERRUPT,
  OP_PROCESS_KILL, OP_RECEIVER_RECEIVE, RIGHT_RECEIVER_CALL, RIGHT_RECEIVER_SEND, E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_QUEUE_FULL,
  E_WRONG_TYPE, E_NOT_READY, STDERR,
} from "../lib";
import {
  CONSOLE_SERVICE, CONSOLE_WRITE, CONSOLE_READ, CONSOLE_SET_MODE, CONSOLE_FOREGROUND, CONSOLE_INFO,
  CONSOLE_INTERRUPTED, CONSOLE_SUSPENDED, CONSOLE_RELEASE, CONSOLE_TO_ERRORS, CONSOLE_READ_BYTES, CONSOLE_WRITE_BYTES, consoleLabel,
} from "../lib/console-client";
import { STREAM_WRITE, STREAM_READ, STREAM_INFO, STREAM_KIND_TERMINAL } from "../lib/streams";
import { consoleAttach } from "../lib/contracts/console";
import { Registers, KIND_CONSOLE, IRQ_ENABLE, IRQ_STATUS, DMA_SIZE } from "./common/device-registers";
import {
  STATUS, CONTROL, RX_COUNT, TX_STREAM, DMA_OFFSET, DMA_LENGTH, COMMAND, RESULT, STATUS_END_OF_INPUT,
  CONTROL_RECEIVE, COMMAND_TRANSMIT, COMMAND_RECEIVE, STREAM_OUTPUT, STREAM_ERRORS, IRQ_RX,
} from "./console-parts/uart";
import { LineDiscipline, INPUT_INTERRUPT, INPUT_SUSPEND, MODE_RAW, MODE_NO_ECHO } from "./console-parts/line-discipline";
import { ReaderQueue } from "./console-parts/readers";
import { Failure } from "./common/failure";

const DEVICE: i32 = 3;
const INTERRUPT: i32 = 4;
const MEMORY: i32 = 5;
/**
 * Calls that may wait in the Receiver while the driver works. Contract Console is of calls only: a
 * call that finds it full waits behind it, so this bounds the queue's memory, not how many jobs
 * hold the console (docs/CONTRACTS.md "Queue bounds").
 */
const CALL_QUEUE: u32 = 32;
/** The DMA window: received bytes in its first page, bytes to transmit in the second. */
const WINDOW_PAGES: u32 = 2;
const RX_AT: u32 = 0;
const TX_AT: u32 = 4096;
const CHUNK: u32 = 4096;

const failure = new Failure("console");
const fail = (what: string, status: i32): void => failure.fail(what, status);
const check = (what: string, status: i32): i32 => failure.check(what, status);

// ---- Start: the device, its window, the Receivers, the registry --------------------------------

check("listen", Process.self().listen(true)); // FOREGROUND brings a capability
const home = new Memory(MEMORY);
const device = new Device(DEVICE);
check("reset the device", device.reset());
const mapped = device.map();
if (mapped < 0) fail("map the device", <i32>mapped);
const registers = new Registers(<usize>mapped);
if (!registers.isKind(KIND_CONSOLE)) {
  lineBegin("console: slot 3 is not the console UART");
  linePrint(STDERR);
  exit(1);
}
const window = check("create the DMA window", home.createRegion(WINDOW_PAGES));
const windowInfo = new Region(window).info();
check("read the DMA window's address", windowInfo.status);
check("give the device its DMA window", device.dma(window));
if (registers.get(DMA_SIZE) != WINDOW_PAGES << 12) fail("the device does not see the window", E_INVALID_ARGUMENT);
const rxBuffer = <usize>windowInfo.address + RX_AT;
const txBuffer = <usize>windowInfo.address + TX_AT;

const interrupts = new Receiver(check("create the interrupt Receiver", home.createReceiver(1)));
const calls = new Receiver(check("create the call Receiver", home.createReceiver(CALL_QUEUE)));
// Before the capability it registers is minted: every call through it is then contract Console's.
check("give the call Receiver contract Console", consoleAttach(calls.cap));
const interrupt = new Interrupt(INTERRUPT);
check("bind the interrupt", interrupt.bind(<u32>check("mint", interrupts.mint(0, RIGHT_RECEIVER_SEND)) | CAP_MOVE));
registers.set(IRQ_ENABLE, IRQ_RX);
registers.set(CONTROL, CONTROL_RECEIVE);

const discipline = new LineDiscipline();
const readers = new ReaderQueue();
/** Who hears of ^C: a Process capability (killed) or a send capability (told); 0: nobody. */
let foreground: i32 = 0;
/** Received bytes not yet fed to the line discipline (it had no room): rxBuffer[rxNext, rxEnd). */
let rxNext: u32 = 0;
let rxEnd: u32 = 0;

// For services only (the shell): a program reaches the console through the standard streams the
// shell gives it while it is in the foreground, never through the registry, where a job in the
// background would take what is typed for the foreground.
check("register " + CONSOLE_SERVICE, registryRegisterForServices(CONSOLE_SERVICE, <u32>check("mint", calls.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
lineBegin("console: serving \"");
lineAdd(CONSOLE_SERVICE);
lineAdd("\"");
linePrint();

// ---- Output -------------------------------------------------------------------------------------

/** Sends `length` bytes at `from` to `stream`, through the transmit page. */
function transmit(from: usize, length: u32, stream: u32): void {
  if (stream != STREAM_OUTPUT) registers.set(TX_STREAM, stream);
  let done: u32 = 0;
  while (done < length) {
    const n = min(length - done, CHUNK);
    if (from + done != txBuffer) memory.copy(txBuffer, from + done, n);
    registers.set(DMA_OFFSET, TX_AT);
    registers.set(DMA_LENGTH, n);
    registers.set(COMMAND, COMMAND_TRANSMIT);
    done += n;
  }
  if (stream != STREAM_OUTPUT) registers.set(TX_STREAM, STREAM_OUTPUT);
}

/**
 * Sends the echo gathered so far. Typing ahead while nobody reads is not echoed yet (unless
 * `now`): a cooked reader gets it echoed when it asks, and a raw reader (the shell's editor)
 * shows it itself (setMode drops it), so typeahead before a prompt is shown once, not twice.
 */
function sendEcho(now: bool = false): void {
  if (discipline.echoLength == 0) return;
  if (!now && readers.count == 0 && !discipline.echoNearlyFull) return;
  transmit(discipline.echo, discipline.echoLength, STREAM_OUTPUT);
  discipline.clearEcho();
}

// ---- Input --------------------------------------------------------------------------------------

/** ^C: the foreground process is killed (and forgotten), or its Receiver is told. */
function interruptForeground(): void {
  if (foreground == 0) return;
  if (capKind(foreground) == <i32>KIND_PROCESS) {
    msgBegin(OP_PROCESS_KILL);
    msgInvoke(foreground);
    capDrop(foreground);
    foreground = 0;
    return;
  }
  msgBegin(CONSOLE_INTERRUPTED);
  const status = msgInvoke(foreground);
  if (status < 0 && status != E_QUEUE_FULL) {
    capDrop(foreground); // its Receiver is gone
    foreground = 0;
  }
}

/** ^Z: a foreground that listens (a send capability: the shell) is told; a Process one is not stopped behind its back. */
function suspendForeground(): void {
  if (foreground == 0 || capKind(foreground) != <i32>KIND_RECEIVER) return;
  msgBegin(CONSOLE_SUSPENDED);
  const status = msgInvoke(foreground);
  if (status < 0 && status != E_QUEUE_FULL) {
    capDrop(foreground);
    foreground = 0;
  }
}

/** RELEASE: every reader waiting is answered E_NOT_READY ("ask again"): the job they belong to was suspended. */
function releaseReaders(): void {
  while (readers.count > 0) {
    const replyCap = readers.reply;
    readers.pop();
    if (capKind(replyCap) != <i32>KIND_REPLY) continue;
    answer(replyCap, E_NOT_READY, 0);
  }
}

/** Feeds received bytes to the line discipline while it has room. */
function feed(): void {
  while (rxNext < rxEnd && discipline.hasRoom) {
    if (discipline.echoNearlyFull) sendEcho(true);
    const event = discipline.input(load<u8>(rxBuffer + rxNext));
    rxNext++;
    if (event == INPUT_INTERRUPT) {
      sendEcho(true);
      interruptForeground();
    } else if (event == INPUT_SUSPEND) {
      sendEcho(true);
      suspendForeground();
    }
  }
}

/** Takes what the UART holds, as far as the line discipline has room for it. */
function drain(): void {
  feed();
  while (rxNext == rxEnd && discipline.hasRoom && registers.get(RX_COUNT) > 0) {
    registers.set(DMA_OFFSET, RX_AT);
    registers.set(DMA_LENGTH, CHUNK);
    registers.set(COMMAND, COMMAND_RECEIVE);
    rxNext = 0;
    rxEnd = registers.get(RESULT);
    feed();
  }
  if (rxNext == rxEnd && registers.get(RX_COUNT) == 0 && (registers.get(STATUS) & STATUS_END_OF_INPUT) != 0) discipline.end();
  sendEcho();
}

function handleInterrupt(): void {
  registers.set(IRQ_STATUS, IRQ_RX);
  drain();
  interrupt.ack();
}

// ---- Answers ------------------------------------------------------------------------------------

const readScratch: usize = memory.data(<i32>CONSOLE_READ_BYTES);

/**
 * Answers the oldest readers while there is input for them. A reader that has gone (killed while
 * it waited: ^C of `cat`) is skipped, and the input it was given goes to the next one.
 */
function serveReaders(): void {
  while (readers.count > 0 && discipline.readable) {
    const replyCap = readers.reply;
    const max = readers.limit;
    readers.pop();
    if (capKind(replyCap) != <i32>KIND_REPLY) continue; // its caller has gone
    sendEcho(true); // what it is given was typed before; show that first
    answerRead(replyCap, discipline.take(readScratch, max));
  }
  drain(); // reading may have made room for input the UART still holds
}

/** Answers a READ with `n` bytes taken from the discipline; gives them back if the reader has gone. */
function answerRead(replyCap: i32, n: i32): void {
  msgBegin(0);
  msgAddWord(<u32>n);
  for (let i = 0; i < n; i += 4) msgAddWord(load<u32>(readScratch + <usize>i));
  if (reply(replyCap) < 0) discipline.giveBack();
}

function answer(replyCap: i32, status: i32, word: u32): void {
  msgBegin(consoleLabel(status));
  msgAddWord(word);
  reply(replyCap);
}

const writeScratch: usize = memory.data(256);

function handleWrite(replyCap: i32): void {
  const words = msgWordCount();
  const first = msgWord(0);
  const length = first & 0xffff;
  if (words < 1 || (first & ~(0xffff | CONSOLE_TO_ERRORS)) != 0 || length > <u32>(words - 1) * 4) {
    answer(replyCap, E_BAD_MESSAGE, 0);
    return;
  }
  for (let i: u32 = 0; i < length; i += 4) store<u32>(writeScratch + i, msgWord(1 + <i32>(i >> 2)));
  sendEcho();
  transmit(writeScratch, length, (first & CONSOLE_TO_ERRORS) != 0 ? STREAM_ERRORS : STREAM_OUTPUT);
  answer(replyCap, 0, length);
}

function handleRead(replyCap: i32): void {
  const max = msgWord(0);
  if (msgWordCount() < 1 || max == 0 || max > CONSOLE_READ_BYTES) {
    answer(replyCap, E_INVALID_ARGUMENT, 0);
    return;
  }
  if (readers.count == 0 && discipline.readable) {
    sendEcho(true);
    answerRead(replyCap, discipline.take(readScratch, max));
    drain();
    return;
  }
  if (readers.full) {
    answer(replyCap, E_QUEUE_FULL, 0);
    return;
  }
  readers.push(replyCap, max);
  sendEcho(); // someone reads now: what was typed ahead shows
}

/** FOREGROUND: the capability it brought replaces the foreground (none clears it). */
function handleForeground(replyCap: i32, cap: i32): void {
  if (cap != 0) {
    const kind = capKind(cap);
    if (kind != <i32>KIND_PROCESS && kind != <i32>KIND_RECEIVER) {
      capDrop(cap);
      answer(replyCap, E_WRONG_TYPE, 0);
      return;
    }
  }
  if (foreground != 0) capDrop(foreground);
  foreground = cap;
  answer(replyCap, 0, 0);
}

function handleCall(): void {
  const label = msgLabel();
  const replyCap = msgReply();
  // Only FOREGROUND takes a capability; any other brought along is not kept.
  const caps = msgCapCount();
  const cap = caps > 0 ? msgCap(0) : 0;
  for (let i = label == CONSOLE_FOREGROUND ? 1 : 0; i < caps; i++) if (msgCap(i) != 0) capDrop(msgCap(i));
  if (replyCap == 0) {
    if (label == CONSOLE_FOREGROUND && cap != 0) capDrop(cap);
    return; // a send: nobody to answer
  }
  // The console is a stream too (user/lib/streams.ts): its WRITE and READ are the stream's.
  if (label == CONSOLE_WRITE || label == STREAM_WRITE) handleWrite(replyCap);
  else if (label == CONSOLE_READ || label == STREAM_READ) handleRead(replyCap);
  else if (label == CONSOLE_FOREGROUND) handleForeground(replyCap, cap);
  else if (label == CONSOLE_RELEASE) {
    releaseReaders();
    answer(replyCap, 0, 0);
  }
  else if (label == CONSOLE_SET_MODE) {
    const mode = msgWord(0);
    if (msgWordCount() < 1 || (mode & ~(MODE_RAW | MODE_NO_ECHO)) != 0) answer(replyCap, E_INVALID_ARGUMENT, 0);
    else {
      answer(replyCap, 0, discipline.setMode(mode));
      // A ^C typed right after the Enter that ended a raw read is the foreground's now.
      if (discipline.takeRawInterrupt()) {
        sendEcho(true);
        interruptForeground();
      }
    }
  } else if (label == STREAM_INFO) {
    // The stream protocol's readiness (a WASI program's poll): a terminal; a write is always taken.
    msgBegin(0);
    msgAddWord(STREAM_KIND_TERMINAL);
    msgAddWord(discipline.ended && discipline.readyBytes == 0 ? 0xffff_ffff : discipline.readyBytes);
    msgAddWord(CONSOLE_WRITE_BYTES);
    reply(replyCap);
  } else if (label == CONSOLE_INFO) {
    msgBegin(0);
    msgAddWord(discipline.mode);
    msgAddWord(discipline.readyBytes);
    msgAddWord(<u32>readers.count);
    msgAddWord(discipline.ended ? 1 : 0);
    reply(replyCap);
  } else answer(replyCap, E_INVALID_ARGUMENT, 0);
}

// ---- The loop -----------------------------------------------------------------------------------

drain(); // what was typed while no driver ran (the UART kept it)
for (;;) {
  msgBegin(OP_RECEIVER_RECEIVE);
  msgAddCap(<u32>calls.cap);
  const from = msgInvoke(interrupts.cap);
  if (from < 0) fail("receive", from);
  if (from == 0) {
    if (msgLabel() == MSG_INTERRUPT) handleInterrupt();
  } else {
    handleCall();
  }
  serveReaders();
}
