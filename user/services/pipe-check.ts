// The pipe service's protocol from a client's side, edges included (test/services/pipe.test.ts):
// bytes in order, the end of input after the write end closes, a broken pipe after the read end
// closes, stale ends, malformed requests (one contract Pipe forbids: the kernel refuses it), and
// the table of 64 pipes filling up and emptying.
// Config: service check pipe-check
import { print, eprint, errorName, exit, registryLookup, sleep, msgBegin, msgAddWord, msgInvoke, msgLabel, capDrop, E_INVALID_CAP } from "../lib";
import { createPipe, closePipeEnd, PIPE_SERVICE, PIPE_CREATE, PipeEnds } from "../lib/pipe-client";
import { streamWrite, streamRead, STREAM_WRITE, STREAM_READ, STREAM_INFO } from "../lib/streams";

let service = registryLookup(PIPE_SERVICE);
for (let i = 0; i < 200 && service == E_INVALID_CAP; i++) {
  sleep(10_000_000);
  service = registryLookup(PIPE_SERVICE);
}
if (service < 0) {
  eprint("pipe-check: no pipe service: " + errorName(service));
  exit(1);
}
const buffer = memory.data(4096);

function say(what: string, status: i32): void {
  print("pipe-check: " + what + ": " + (status < 0 ? errorName(status) : status.toString()));
}

function make(): PipeEnds {
  const ends = createPipe(service);
  if (ends.status < 0) {
    say("create", ends.status);
    exit(1);
  }
  return ends;
}

function ask(cap: i32, label: u32, words: StaticArray<u32>): i32 {
  msgBegin(label);
  for (let i = 0; i < words.length; i++) msgAddWord(words[i]);
  const status = msgInvoke(cap);
  return status < 0 ? status : -<i32>msgLabel();
}

// Bytes go through in order, and the end of input comes after the write end closes.
const p = make();
for (let i = 0; i < 10; i++) store<u8>(buffer + <usize>i, <u8>(0x30 + i));
say("write 10 bytes", streamWrite(p.writeEnd, buffer, 10));
say("read at most 4", streamRead(p.readEnd, buffer + 100, 4));
say("read the rest", streamRead(p.readEnd, buffer + 104, 200));
let same = true;
for (let i = 0; i < 10; i++) if (load<u8>(buffer + 100 + <usize>i) != <u8>(0x30 + i)) same = false;
print("pipe-check: the bytes came out in order: " + (same ? "yes" : "no"));
say("close the write end", closePipeEnd(p.writeEnd));
say("read after the write end closed", streamRead(p.readEnd, buffer, 10));
say("write after closing it", streamWrite(p.writeEnd, buffer, 1));
say("close the read end", closePipeEnd(p.readEnd));
// Both ends closed: the pipe is freed and its capabilities are stale.
say("read from a freed pipe", streamRead(p.readEnd, buffer, 10));
say("info on a freed pipe", ask(p.readEnd, STREAM_INFO, []));
say("close a freed pipe", closePipeEnd(p.writeEnd));
say("create on a freed pipe's end", ask(p.writeEnd, PIPE_CREATE, []));

// A broken pipe: the reader goes away, the writer learns it.
const q = make();
say("close the read end first", closePipeEnd(q.readEnd));
say("write to a broken pipe", streamWrite(q.writeEnd, buffer, 5));

// Malformed requests.
const r = make();
say("read of 0 bytes", ask(r.readEnd, STREAM_READ, [0]));
say("read of 253 bytes", ask(r.readEnd, STREAM_READ, [253]));
say("write longer than its words", ask(r.writeEnd, STREAM_WRITE, [9, 0]));
say("read on the write end", ask(r.writeEnd, STREAM_READ, [4]));
say("write on the read end", ask(r.readEnd, STREAM_WRITE, [1, 0x41]));
say("create on a pipe end", ask(r.readEnd, PIPE_CREATE, []));
say("info on the write end", ask(r.writeEnd, STREAM_INFO, []));
say("label 9 on the service", ask(service, 9, []));

// The table: 64 pipes at most (three are open here), and closing frees them.
const held = new Array<PipeEnds>();
let status = 0;
while (status >= 0 && held.length < 100) {
  const ends = createPipe(service);
  status = ends.status;
  if (status >= 0) held.push(ends);
}
print("pipe-check: made " + held.length.toString() + " more pipes, then: " + errorName(status));
for (let i = 0; i < held.length; i++) {
  closePipeEnd(held[i].writeEnd);
  closePipeEnd(held[i].readEnd);
  capDrop(held[i].writeEnd);
  capDrop(held[i].readEnd);
}
const again = createPipe(service);
say("a pipe after they were freed", again.status < 0 ? again.status : 0);
print("pipe-check: done");
