import { ObjectKind, Rights } from "../../kernel/caps/object-abi.ts";
import type { Process } from "../../kernel/process.ts";
import type { KernelServices } from "../../kernel/services.ts";
import { AbiStatus, Stream, pack, unpack } from "./protocol.ts";

/**
 * The slot fd (0, 1 or 2) reaches, or null for the boot console. A program the shell starts
 * holds its streams at slots 4, 5 and 6 (docs/PROGRAMS.md; `slots` from its WASI config), each a
 * call capability speaking the stream protocol (user/lib/streams.ts has the same numbers): the
 * console, a pipe, or a file's handle; fd 0, 1 and 2 then go there, as libdogma's read and print
 * do. One started without them (its slot 5 is not a Receiver it may call) keeps the boot console.
 */
export function streamSlot(k: KernelServices, process: Process, slots: readonly [number, number, number] | null, fd: 0 | 1 | 2): number | null {
  if (slots === null || k.capabilityKind(process, slots[1], Rights.RECEIVER_CALL) !== ObjectKind.RECEIVER) return null;
  return slots[fd];
}

/** Writes all of `data` to the stream at `slot`: the bytes written, or a (negative) status. */
export async function streamWrite(k: KernelServices, process: Process, slot: number, data: Uint8Array, errors: boolean): Promise<number> {
  let done = 0;
  while (done < data.length) {
    const n = Math.min(data.length - done, Stream.CHUNK);
    const words = [n | (errors ? Stream.TO_ERRORS : 0), ...pack(data.subarray(done, done + n))];
    const answer = await k.callFor(process, slot, Stream.WRITE, words);
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
  const wanted = Math.min(Math.max(max, 1), Stream.CHUNK);
  let answer = await k.callFor(process, slot, Stream.READ, [wanted]);
  // E_NOT_READY: the console let the read of a job the shell stopped (^Z) go; it runs again now: ask again.
  while (typeof answer !== "number" && answer.label === -AbiStatus.E_NOT_READY) answer = await k.callFor(process, slot, Stream.READ, [wanted]);
  if (typeof answer === "number") return answer;
  if (answer.label !== 0) return -answer.label;
  const count = Math.min(answer.words[0] ?? 0, wanted, 4 * (answer.words.length - 1));
  return unpack(answer.words, 1, count);
}

/** What a stream is and whether it can be read or written now without waiting. */
export interface StreamReadiness {
  readonly kind: number | null;
  /** Bytes that can be read now (null: not known, so taken as ready); Infinity at the end of input. */
  readonly readable: number | null;
  /** Room to write now (null: not known, so taken as ready); Infinity when the reader is gone. */
  readonly writable: number | null;
}

const END_OF_INPUT = 0xffff_ffff;

/**
 * Asks the stream at `slot` what it is and whether it is ready, without waiting: the stream
 * protocol's INFO, which every stream of the system answers (contracts Console, Pipe and
 * FileSystem list it: the console a terminal, a pipe, a file from its handle's position). Any other
 * answer, E_CONTRACT from a server whose contract has no INFO included (the kernel refuses it, and
 * the server never sees it), says nothing: the stream is taken as ready, and its kind as unknown.
 */
export async function streamReadiness(k: KernelServices, process: Process, slot: number): Promise<StreamReadiness> {
  const info = await k.callFor(process, slot, Stream.INFO, []);
  if (typeof info === "number" || info.label !== 0 || info.words.length < 3) return { kind: null, readable: null, writable: null };
  const [kind = 0, readable = 0, writable = 0] = info.words;
  return { kind, readable: readable === END_OF_INPUT ? Infinity : readable, writable: writable === END_OF_INPUT ? Infinity : writable };
}
