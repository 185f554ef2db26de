// The pipe service's protocol (docs/PROGRAMS.md "Pipes"). The service registers "pipe"; CREATE
// answers a pipe's two ends, each a call capability that speaks the stream protocol (streams.ts):
// WRITE on the write end, READ on the read end, and CLOSE on either. A reply's label is a status
// as its magnitude. The kernel holds both sides to contract Pipe (contracts/pipe.contract).
import { E_INVALID_CAP } from "./errors";
import { msgLabel, msgCap, msgCapCount } from "./message";
import { Pipe, PipeReady } from "./contracts/pipe";

export const PIPE_SERVICE = "pipe";

/** On the service capability: replies cap 0 the write end, cap 1 the read end. */
export const PIPE_CREATE: u32 = Pipe.Create;
/** On an end: that end is closed. Closing the write end is the reader's end of input; closing the read end breaks the pipe (writes answer E_PEER_DEAD). */
export const PIPE_CLOSE: u32 = Pipe.Close;
/** Bytes a pipe holds before a writer waits. */
export const PIPE_BYTES: u32 = 4096;

/** A new pipe's ends, after `createPipe`. */
export class PipeEnds {
  status: i32 = 0;
  writeEnd: i32 = 0;
  readEnd: i32 = 0;
}

/** Asks the pipe service at `service` for a pipe. */
export function createPipe(service: i32): PipeEnds {
  const ends = new PipeEnds();
  PipeReady.beginCreate();
  let status = PipeReady.create(service);
  if (status >= 0) status = -<i32>msgLabel();
  if (status >= 0 && msgCapCount() < 2) status = E_INVALID_CAP;
  ends.status = status;
  if (status < 0) return ends;
  ends.writeEnd = msgCap(0);
  ends.readEnd = msgCap(1);
  return ends;
}

/** Closes the end `cap` names (the capability stays; drop it too). 0 or a status. */
export function closePipeEnd(cap: i32): i32 {
  PipeReady.beginClose();
  const status = PipeReady.close(cap);
  return status < 0 ? status : -<i32>msgLabel();
}
