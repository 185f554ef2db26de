import { Status } from "../errors.ts";
import { canWrite, type Message, type MessageBuffer, writeMessage } from "../message.ts";
import type { Process } from "../process.ts";
import type { Capability } from "./capability.ts";
import type { KernelObject } from "./kernel-object.ts";
import { CAP_MOVE, ObjectKind, Rights } from "./object-abi.ts";

/** One `invoke` as its handler sees it. */
export interface Invocation {
  readonly caller: Process;
  readonly cap: Capability;
  readonly capIndex: number;
  readonly message: Message;
  readonly buffer: MessageBuffer;
}

/**
 * Writes a kernel answer into the caller's buffer, installing `caps` in its table. Nothing is
 * installed if the answer cannot be written; the capabilities are then disposed.
 */
export function answer(inv: Invocation, words: ArrayLike<number> = [], caps: Capability[] = []): number {
  const writable = canWrite(inv.caller, inv.buffer, words.length, caps.length);
  if (writable !== Status.OK) {
    for (const cap of caps) cap.dispose();
    return writable;
  }
  const indices: number[] = [];
  for (const cap of caps) {
    const index = inv.caller.caps.install(cap);
    if (index === 0) {
      for (const installed of indices) inv.caller.caps.take(installed)?.dispose();
      for (const rest of caps.slice(indices.length)) rest.dispose();
      return Status.E_QUOTA;
    }
    indices.push(index);
  }
  writeMessage(inv.caller, inv.buffer, 0, words, indices, 0, 0);
  return Status.OK;
}

/** A capability that may only move: copies of it would break its one-holder meaning. */
export function movesOnly(cap: Capability): boolean {
  return cap.object.kind === ObjectKind.REPLY || (cap.object.kind === ObjectKind.REGION && cap.has(Rights.REGION_OWNER));
}

/** The capability a message names as an argument (the move bit is ignored); null when invalid. */
export function argumentCap(inv: Invocation, at: number): Capability | null {
  const raw = inv.message.caps[at];
  return raw === undefined ? null : inv.caller.caps.get(raw & ~CAP_MOVE);
}

/** An argument that must be an object of `kind` with `rights`: the object, or a status. */
export function argumentObject<T extends KernelObject>(inv: Invocation, at: number, kind: number, rights: number): T | number {
  const cap = argumentCap(inv, at);
  if (!cap) return Status.E_INVALID_CAP;
  if (cap.object.kind !== kind) return Status.E_WRONG_TYPE;
  if (!cap.has(rights)) return Status.E_MISSING_RIGHT;
  if (cap.object.destroyed && kind !== ObjectKind.PROCESS) return Status.E_PEER_DEAD;
  return cap.object as T;
}

// Not frozen: a frozen array has elements of another kind, and the loops over envelopes' lists
// then made an iterator each (measured); `readonly` keeps it empty.
const NO_CAPS: readonly Capability[] = [];

/**
 * Takes the capabilities a message carries out of the sender's table: moved ones leave it, copied
 * ones stay and a copy travels. All are checked before any is taken, so a bad index takes none;
 * a copy of a contract endpoint whose Receiver has no queue room left for another is E_QUEUE_FULL,
 * and nothing is taken either.
 */
export function takeCaps(sender: Process, raw: ArrayLike<number>): readonly Capability[] | number {
  // One empty list for every message without capabilities (most calls and replies): no array each.
  if (raw.length === 0) return NO_CAPS;
  const seen = new Set<number>();
  const plan: Array<{ index: number; move: boolean }> = [];
  for (let i = 0; i < raw.length; i++) {
    const index = raw[i]! & ~CAP_MOVE;
    const cap = sender.caps.get(index);
    if (!cap) return Status.E_INVALID_CAP;
    const move = (raw[i]! & CAP_MOVE) !== 0 || movesOnly(cap);
    if (seen.has(index) && (move || plan.some((p) => p.index === index && p.move))) return Status.E_INVALID_ARGUMENT;
    seen.add(index);
    plan.push({ index, move });
  }
  const copies = plan.map(({ index, move }) => (move ? null : sender.caps.get(index)!.derive(0xffff_ffff)));
  return plan.map(({ index, move }, i) => (move ? sender.caps.take(index)! : copies[i]!));
}

/** Two-word timeouts: none given or all ones is for ever; a deadline on the monotonic clock. */
export function deadlineFrom(words: Uint32Array, at: number, nowNs: number): number {
  if (words.length < at + 2) return Infinity;
  const ns = Number((BigInt(words[at + 1]!) << 32n) | BigInt(words[at]!));
  if (words[at] === 0xffff_ffff && words[at + 1] === 0xffff_ffff) return Infinity;
  return nowNs + ns;
}

export function word(inv: Invocation, at: number): number {
  return inv.message.words[at] ?? 0;
}
