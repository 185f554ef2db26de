import { Errno } from "./errno.ts";
import { Right, has } from "./rights.ts";
import { errnoOfStatus } from "./protocol.ts";
import { streamRead, streamReadiness } from "./streams.ts";
import { streamErrno } from "./fd-calls.ts";
import type { WasiProcess } from "./wasi-process.ts";

const SUBSCRIPTION_BYTES = 48;
const EVENT_BYTES = 32;
/** A poll with more subscriptions than this is EINVAL (nothing is read). */
export const MAX_SUBSCRIPTIONS = 4096;
const EVENT_CLOCK = 0;
const EVENT_FD_READ = 1;
const EVENT_FD_WRITE = 2;
const ABSTIME = 1;
const HANGUP = 1;
/** Between two looks at streams that are not ready yet, the poll sleeps at most this long. */
const STREAM_RECHECK_NS = 2_000_000;

interface Subscription {
  readonly userdata: bigint;
  readonly tag: number;
  readonly clock: number;
  readonly timeout: bigint;
  readonly flags: number;
  readonly fd: number;
}

interface Event {
  readonly userdata: bigint;
  readonly error: number;
  readonly type: number;
  readonly bytes: bigint;
  readonly hangup: boolean;
}

/**
 * poll_oneoff: waits until at least one subscription is ready, then reports every one that is.
 * A clock is ready when its time has come (relative, or ABSTIME against its own clock; the CPU
 * time clocks count as the monotonic one while the process waits). A regular file is always
 * ready; a standard stream when its server says bytes can be read (or its input ended) or
 * written (streams.ts: STREAM INFO, or the console's INFO); one that cannot say is ready. A
 * descriptor that is not open, or lacks POLL_FD_READWRITE, is reported at once with its errno.
 * When the only thing to wait for is one stream, the poll waits in the stream's own READ and
 * keeps what it read for the next fd_read; with a clock beside, it looks again every 2 ms.
 */
export async function pollOneoff(w: WasiProcess, inPtr: number, outPtr: number, count: number, countOut: number): Promise<number> {
  if (count === 0 || count > MAX_SUBSCRIPTIONS) return Errno.INVAL;
  const raw = w.memory.read(w.process, inPtr, count * SUBSCRIPTION_BYTES);
  if (raw === null) return Errno.FAULT;
  w.k.touch(w.process, outPtr >>> 0, count * EVENT_BYTES);
  w.k.touch(w.process, countOut >>> 0, 4);
  const subscriptions = decode(raw, count);
  const start = w.k.clock.monotonicNs();
  const deadlines = subscriptions.map((s) => (s.tag === EVENT_CLOCK ? deadlineOf(w, s, start) : null));
  for (const s of subscriptions) if (s.tag > EVENT_FD_WRITE) return Errno.INVAL;
  for (;;) {
    const events: Event[] = [];
    let streamsWaiting = 0;
    for (const [i, s] of subscriptions.entries()) {
      if (s.tag === EVENT_CLOCK) {
        const deadline = deadlines[i]!;
        if (typeof deadline === "number" && deadline <= w.k.clock.monotonicNs()) events.push(event(s, 0));
        else if (deadline === "invalid") events.push(event(s, Errno.INVAL));
        continue;
      }
      const ready = await readiness(w, s);
      if (ready === "waiting") streamsWaiting++;
      else events.push(ready);
    }
    if (events.length > 0) return report(w, events, outPtr, countOut);
    const next = Math.min(...deadlines.map((d) => (typeof d === "number" ? d : Infinity)));
    const waiting = subscriptions.filter((s) => s.tag !== EVENT_CLOCK);
    if (next === Infinity && waiting.length === 1 && waiting[0]!.tag === EVENT_FD_READ) {
      // Nothing but one stream to read: wait in its READ, keep the bytes for fd_read.
      const only = waiting[0]!;
      const taken = await takeInput(w, only);
      return report(w, [taken], outPtr, countOut);
    }
    const now = w.k.clock.monotonicNs();
    const pause = streamsWaiting > 0 ? Math.min(STREAM_RECHECK_NS, next - now) : next - now;
    if (pause === Infinity) return Errno.INVAL; // nothing could ever be ready
    if (pause > 0) await w.k.sleep(w.process, pause);
  }
}

function decode(raw: Uint8Array, count: number): Subscription[] {
  const view = new DataView(raw.buffer, raw.byteOffset);
  return Array.from({ length: count }, (_, i) => {
    const at = i * SUBSCRIPTION_BYTES;
    const tag = view.getUint8(at + 8);
    return {
      userdata: view.getBigUint64(at, true),
      tag,
      clock: view.getUint32(at + 16, true),
      timeout: view.getBigUint64(at + 24, true),
      flags: view.getUint16(at + 40, true),
      fd: view.getUint32(at + 16, true),
    };
  });
}

/** A clock subscription's deadline on the monotonic clock, or "invalid" for a clock id WASI does not have. */
function deadlineOf(w: WasiProcess, s: Subscription, now: number): number | "invalid" {
  if (s.clock > 3 || (s.flags & ~ABSTIME) !== 0) return "invalid";
  if ((s.flags & ABSTIME) === 0) return now + Number(s.timeout);
  if (s.clock === 0) return now + Number(s.timeout - w.k.clock.wallNs());
  return s.clock === 1 ? Number(s.timeout) : now + Math.max(0, Number(s.timeout) - cpuNs(w));
}

export function cpuNs(w: WasiProcess): number {
  return w.process.descriptor.cpuTimeUs * 1000;
}

function event(s: Subscription, error: number, bytes = 0n, hangup = false): Event {
  return { userdata: s.userdata, error, type: s.tag, bytes, hangup };
}

async function readiness(w: WasiProcess, s: Subscription): Promise<Event | "waiting"> {
  const found = w.table.get(s.fd);
  if (!found) return event(s, Errno.BADF);
  if (!has(found.rightsBase, Right.POLL_FD_READWRITE)) return event(s, Errno.NOTCAPABLE);
  if (found.kind === "directory") return event(s, Errno.BADF);
  if (found.kind === "file") {
    if (s.tag === EVENT_FD_WRITE) return event(s, 0);
    const stat = await w.server.stat(found.slot);
    if (typeof stat === "number") return event(s, errnoOfStatus(stat));
    return event(s, 0, stat.size > found.offset ? stat.size - found.offset : 0n);
  }
  const pending = w.pending.get(s.fd);
  if (s.tag === EVENT_FD_READ && pending) return event(s, 0, BigInt(pending.length));
  if (found.slot === null) return event(s, 0); // the boot console: a read may wait, but nothing can say
  const ready = await streamReadiness(w.k, w.process, found.slot);
  const amount = s.tag === EVENT_FD_READ ? ready.readable : ready.writable;
  if (amount === null) return event(s, 0);
  if (amount === Infinity) return event(s, 0, 0n, true);
  return amount > 0 ? event(s, 0, BigInt(amount)) : "waiting";
}

/** Reads what the stream at `fd` has next (waiting for it) into the process's pending bytes. */
async function takeInput(w: WasiProcess, s: Subscription): Promise<Event> {
  const fd = s.fd;
  const found = w.stream(fd);
  if (!found || found.slot === null) return event(s, 0);
  const got = await streamRead(w.k, w.process, found.slot, 252);
  if (typeof got === "number") return event(s, streamErrno(got));
  if (got.length === 0) return event(s, 0, 0n, true);
  w.pending.set(fd, got);
  return event(s, 0, BigInt(got.length));
}

function report(w: WasiProcess, events: readonly Event[], outPtr: number, countOut: number): number {
  const bytes = new Uint8Array(events.length * EVENT_BYTES);
  const view = new DataView(bytes.buffer);
  events.forEach((e, i) => {
    const at = i * EVENT_BYTES;
    view.setBigUint64(at, e.userdata, true);
    view.setUint16(at + 8, e.error, true);
    view.setUint8(at + 10, e.type);
    if (e.type !== EVENT_CLOCK) {
      view.setBigUint64(at + 16, e.bytes, true);
      view.setUint16(at + 24, e.hangup ? HANGUP : 0, true);
    }
  });
  if (!w.memory.write(w.process, outPtr, bytes)) return Errno.FAULT;
  return w.memory.putU32(w.process, countOut, events.length) ? Errno.SUCCESS : Errno.FAULT;
}
