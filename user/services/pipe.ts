// The pipe service (docs/PROGRAMS.md "Pipes"): bounded byte pipes between processes, each end a
// call capability speaking the stream protocol (user/lib/streams.ts). Registers "pipe". Its
// Receiver has contract Pipe (contracts/pipe.contract): the kernel lets through only the requests
// and answers it allows (an unknown label is E_CONTRACT at the caller's). Registered for services
// only: programs are given pipe ends by the shell, never the service.
// Config: service pipe pipe memory=64   (slot 3: a Memory for its Receiver)
//
// A pipe holds PIPE_BYTES. A WRITE takes what fits and answers how much; when nothing fits it
// waits (its Reply and bytes are kept) until the reader makes room. A READ answers what is there,
// waits while the pipe is empty and open, and answers 0 once the write end is closed and the pipe
// is drained. Closing the read end breaks the pipe: a waiting and every later WRITE answer
// E_PEER_DEAD. INFO (either end) answers at once what the end could do now: kind 2 (a pipe), the
// bytes a READ would take (0xffffffff: the write end is closed and nothing is left), the room a
// WRITE would find (0xffffffff: the read end is closed, a WRITE fails at once). A pipe is freed when both ends are closed; its badges carry a generation, so a
// capability to a freed pipe answers E_INVALID_CAP, never another pipe's bytes.
//
// The badge of an end: (pipe + 1) << 16 | generation << 1 | end (0 write, 1 read); badge 0 is the
// service itself. Nothing allocates after the start.
import {
  eprint, errorName, exit, print, Memory, Receiver, Process, msgBegin, msgAddWord, msgAddCap, msgInvoke, msgLabel,
  msgReply, msgBadge, msgWord, msgWordCount, msgCap, msgCapCount, capDrop, reply, registryRegisterForServices, CAP_MOVE,
  RIGHT_RECEIVER_CALL, OP_RECEIVER_RECEIVE, E_BAD_MESSAGE, E_INVALID_ARGUMENT, E_INVALID_CAP, E_PEER_DEAD, E_QUEUE_FULL,
  E_QUOTA, check,
} from "../lib";
import { PIPE_SERVICE, PIPE_CREATE, PIPE_CLOSE, PIPE_BYTES } from "../lib/pipe-client";
import { pipeAttach } from "../lib/contracts/pipe";
import { STREAM_WRITE, STREAM_READ, STREAM_INFO, STREAM_KIND_PIPE, STREAM_CHUNK } from "../lib/streams";

const MEMORY: i32 = 3;
const PIPES: i32 = 64;
const buffers: usize = memory.data(PIPES * <i32>PIPE_BYTES);
/** A waiting writer's bytes, one chunk per pipe. */
const pendingBytes: usize = memory.data(PIPES * <i32>STREAM_CHUNK);

class Pipe {
  used: bool = false;
  generation: u32 = 0;
  head: u32 = 0;
  tail: u32 = 0;
  writeClosed: bool = false;
  readClosed: bool = false;
  /** A reader waiting for bytes: its Reply capability and how many it wants (0: none). */
  reader: i32 = 0;
  readerMax: u32 = 0;
  /** A writer waiting for room: its Reply capability and its bytes' length (0: none). */
  writer: i32 = 0;
  writerLength: u32 = 0;
}

const pipes = new StaticArray<Pipe>(PIPES);
for (let i = 0; i < PIPES; i++) pipes[i] = new Pipe();

check("pipe", "listen", Process.self().listen(false));
// A queue slot for each endpoint of contract Pipe (one call on its way each): two ends of 64
// pipes, and the service's own capabilities (10 pages).
const calls = new Receiver(check("pipe", "create a Receiver", new Memory(MEMORY).createReceiver(160)));
check("pipe", "give its Receiver contract Pipe", pipeAttach(calls.cap));
// For services only (the shell makes a pipeline's pipes): a program's lookup is E_MISSING_RIGHT.
// The 64 pipes are everyone's and a capability never tells its server that its holder ended, so
// a program that made them all and kept them (or was killed holding them) left every pipeline
// failing until a restart (redteam19, test/programs/pipe-hog).
check("pipe", "register " + PIPE_SERVICE, registryRegisterForServices(PIPE_SERVICE, <u32>check("pipe", "mint", calls.mint(0, RIGHT_RECEIVER_CALL)) | CAP_MOVE));
print("pipe: serving \"" + PIPE_SERVICE + "\"");

function answer(replyCap: i32, status: i32, word: u32): void {
  msgBegin(<u32>(status < 0 ? -status : 0));
  msgAddWord(word);
  reply(replyCap);
}

function badgeOf(index: i32, end: u32): u32 {
  return (<u32>(index + 1) << 16) | ((unchecked(pipes[index]).generation & 0x7fff) << 1) | end;
}

/** The pipe a badge names, or -1 when it names none (a freed pipe, a stale generation). */
function pipeOf(badge: u32): i32 {
  const index = <i32>(badge >> 16) - 1;
  if (index < 0 || index >= PIPES) return -1;
  const p = unchecked(pipes[index]);
  if (!p.used || (p.generation & 0x7fff) != ((badge >> 1) & 0x7fff)) return -1;
  return index;
}

/** STREAM_INFO: what either end could do now, without waiting (see the top of the file). */
function info(replyCap: i32, index: i32): void {
  const p = unchecked(pipes[index]);
  const held = p.head - p.tail;
  msgBegin(0);
  msgAddWord(STREAM_KIND_PIPE);
  msgAddWord(held == 0 && p.writeClosed ? 0xffffffff : held);
  msgAddWord(p.readClosed ? 0xffffffff : PIPE_BYTES - held);
  reply(replyCap);
}

function create(replyCap: i32): void {
  let index = -1;
  for (let i = 0; i < PIPES; i++) {
    if (!unchecked(pipes[i]).used) {
      index = i;
      break;
    }
  }
  if (index < 0) {
    answer(replyCap, E_QUOTA, 0);
    return;
  }
  const p = unchecked(pipes[index]);
  p.used = true;
  p.generation++;
  p.head = 0;
  p.tail = 0;
  p.writeClosed = false;
  p.readClosed = false;
  const writeEnd = calls.mint(badgeOf(index, 0), RIGHT_RECEIVER_CALL);
  const readEnd = calls.mint(badgeOf(index, 1), RIGHT_RECEIVER_CALL);
  if (writeEnd < 0 || readEnd < 0) {
    if (writeEnd > 0) capDrop(writeEnd);
    if (readEnd > 0) capDrop(readEnd);
    p.used = false;
    answer(replyCap, writeEnd < 0 ? writeEnd : readEnd, 0);
    return;
  }
  msgBegin(0);
  msgAddCap(<u32>writeEnd | CAP_MOVE);
  msgAddCap(<u32>readEnd | CAP_MOVE);
  reply(replyCap);
}

/** Moves up to `n` bytes at `from` into pipe `index`: how many fitted. */
function put(index: i32, from: usize, n: u32): u32 {
  const p = unchecked(pipes[index]);
  const room = PIPE_BYTES - (p.head - p.tail);
  const taken = min(room, n);
  const base = buffers + <usize>index * PIPE_BYTES;
  for (let i: u32 = 0; i < taken; i++) store<u8>(base + ((p.head + i) % PIPE_BYTES), load<u8>(from + i));
  p.head += taken;
  return taken;
}

/** Answers a READ of at most `max` bytes from pipe `index` with what is there (the caller checked there is some, or the end). */
function answerRead(replyCap: i32, index: i32, max: u32): void {
  const p = unchecked(pipes[index]);
  const n = min(max, p.head - p.tail);
  const base = buffers + <usize>index * PIPE_BYTES;
  msgBegin(0);
  msgAddWord(n);
  for (let i: u32 = 0; i < n; i += 4) {
    let word: u32 = 0;
    for (let b: u32 = 0; b < 4 && i + b < n; b++) word |= <u32>load<u8>(base + ((p.tail + i + b) % PIPE_BYTES)) << (8 * b);
    msgAddWord(word);
  }
  p.tail += n;
  reply(replyCap);
}

/** After a pipe's state changed: answers a waiting reader or writer that can go on now. */
function settle(index: i32): void {
  const p = unchecked(pipes[index]);
  if (p.writer != 0) {
    if (p.readClosed) {
      answer(p.writer, E_PEER_DEAD, 0);
      p.writer = 0;
    } else if (p.head - p.tail < PIPE_BYTES) {
      const taken = put(index, pendingBytes + <usize>index * STREAM_CHUNK, p.writerLength);
      answer(p.writer, 0, taken);
      p.writer = 0;
    }
  }
  if (p.reader != 0 && (p.head != p.tail || p.writeClosed)) {
    answerRead(p.reader, index, p.readerMax);
    p.reader = 0;
  }
  if (p.writeClosed && p.readClosed && p.reader == 0 && p.writer == 0) p.used = false;
}

function write(replyCap: i32, index: i32): void {
  const p = unchecked(pipes[index]);
  const first = msgWord(0);
  const n = first & 0xffff;
  if (msgWordCount() < 1 || n > <u32>(msgWordCount() - 1) * 4 || n > STREAM_CHUNK) {
    answer(replyCap, E_BAD_MESSAGE, 0);
    return;
  }
  if (p.writeClosed) {
    answer(replyCap, E_INVALID_CAP, 0);
    return;
  }
  if (p.readClosed) {
    answer(replyCap, E_PEER_DEAD, 0);
    return;
  }
  if (p.writer != 0) {
    answer(replyCap, E_QUEUE_FULL, 0);
    return;
  }
  const staged = pendingBytes + <usize>index * STREAM_CHUNK;
  for (let i: u32 = 0; i < n; i += 4) store<u32>(staged + i, msgWord(1 + <i32>(i >> 2)));
  if (n == 0) {
    answer(replyCap, 0, 0);
    return;
  }
  if (p.head - p.tail < PIPE_BYTES) answer(replyCap, 0, put(index, staged, n));
  else {
    p.writer = replyCap;
    p.writerLength = n;
  }
}

function read(replyCap: i32, index: i32): void {
  const p = unchecked(pipes[index]);
  const max = msgWord(0);
  if (msgWordCount() < 1 || max == 0 || max > STREAM_CHUNK) {
    answer(replyCap, E_INVALID_ARGUMENT, 0);
    return;
  }
  if (p.readClosed) {
    answer(replyCap, E_INVALID_CAP, 0);
    return;
  }
  if (p.reader != 0) {
    answer(replyCap, E_QUEUE_FULL, 0);
    return;
  }
  if (p.head != p.tail || p.writeClosed) answerRead(replyCap, index, max);
  else {
    p.reader = replyCap;
    p.readerMax = max;
  }
}

function close(replyCap: i32, index: i32, end: u32): void {
  const p = unchecked(pipes[index]);
  if (end == 0) p.writeClosed = true;
  else {
    p.readClosed = true;
    p.tail = p.head; // nobody will read it
  }
  answer(replyCap, 0, 0);
  settle(index);
}

for (;;) {
  msgBegin(OP_RECEIVER_RECEIVE);
  check("pipe", "receive", msgInvoke(calls.cap));
  const label = msgLabel();
  const badge = msgBadge();
  const replyCap = msgReply();
  for (let i = 0; i < msgCapCount(); i++) if (msgCap(i) != 0) capDrop(msgCap(i));
  if (replyCap == 0) continue;
  if (badge == 0) {
    if (label == PIPE_CREATE) create(replyCap);
    else answer(replyCap, E_INVALID_ARGUMENT, 0);
    continue;
  }
  const index = pipeOf(badge);
  if (index < 0) {
    answer(replyCap, E_INVALID_CAP, 0);
    continue;
  }
  const end = badge & 1;
  if (label == PIPE_CLOSE) close(replyCap, index, end);
  else if (label == STREAM_WRITE && end == 0) write(replyCap, index);
  else if (label == STREAM_READ && end == 1) read(replyCap, index);
  else if (label == STREAM_INFO) info(replyCap, index);
  else answer(replyCap, E_INVALID_ARGUMENT, 0);
  settle(index);
}
