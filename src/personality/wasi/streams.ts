import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import { ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";

/**
 * A WASI program's standard streams, when it has them: a program the shell starts holds them at
 * slots 4, 5 and 6 (docs/PROGRAMS.md), each a call capability speaking the stream protocol
 * (user/lib/streams.ts has the same numbers). fd 0, 1 and 2 then go there, as libdogma's read and
 * print do; a program without them (slot 5 is not a Receiver it may call) keeps the boot console.
 */
export const STREAM_WRITE = 0x1001;
export const STREAM_READ = 0x1002;
const STREAM_TO_ERRORS = 0x1_0000;
/** Bytes in one message at most: 63 words after the length word. */
export const STREAM_CHUNK = 252;
const SLOTS = [4, 5, 6] as const;

/** The slot fd (0, 1 or 2) reaches, or null when the process has no standard streams. */
export function streamSlot(k: KernelServices, process: Process, fd: number): number | null {
  if (fd < 0 || fd > 2) return null;
  if (k.capabilityKind(process, SLOTS[1], Rights.RECEIVER_CALL) !== ObjectKind.RECEIVER) return null;
  return SLOTS[fd]!;
}

/** Writes all of `data` to the stream at `slot`: the bytes written, or a (negative) status. */
export async function streamWrite(k: KernelServices, process: Process, slot: number, data: Uint8Array, errors: boolean): Promise<number> {
  let done = 0;
  while (done < data.length) {
    const n = Math.min(data.length - done, STREAM_CHUNK);
    const words = [n | (errors ? STREAM_TO_ERRORS : 0), ...pack(data.subarray(done, done + n))];
    const answer = await k.callFor(process, slot, STREAM_WRITE, words);
    if (typeof answer === "number") return done > 0 ? done : answer;
    if (answer.label !== 0) return done > 0 ? done : -answer.label;
    const taken = answer.words[0] ?? 0;
    if (taken === 0) break;
    done += taken;
  }
  return done;
}

/** Reads at most `max` (1 to 252) bytes from the stream at `slot`: the bytes (empty at its end), or a status. */
export async function streamRead(k: KernelServices, process: Process, slot: number, max: number): Promise<Uint8Array | number> {
  const answer = await k.callFor(process, slot, STREAM_READ, [Math.min(Math.max(max, 1), STREAM_CHUNK)]);
  if (typeof answer === "number") return answer;
  if (answer.label !== 0) return -answer.label;
  const count = Math.min(answer.words[0] ?? 0, max, 4 * (answer.words.length - 1));
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) bytes[i] = (answer.words[1 + (i >> 2)]! >>> (8 * (i & 3))) & 0xff;
  return bytes;
}

function pack(bytes: Uint8Array): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    words.push((bytes[i]! | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) >>> 0);
  }
  return words;
}
