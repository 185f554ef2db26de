import { PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import { SEALED_PAGE_BYTES, type SealedPage } from "../page-sealer.ts";
import { type Invocation, argumentObject, word } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { CAP_MOVE, ObjectKind, Op, Rights } from "./object-abi.ts";
import type { ObjectServices } from "./object-services.ts";
import type { RegionObject } from "./region.ts";

/** What the pager answered: a status, and for a page-in the sealed page it gave back. */
export interface PagerAnswer {
  readonly status: number;
  readonly sealed: SealedPage | null;
}

/**
 * One request the kernel sent the pager (`PAGE_OUT`, `PAGE_IN`), as a one-shot capability that
 * travels with it. Answering it (`PAGER_DONE`) settles the kernel's side and uses it up; disposed
 * unanswered (the pager dropped it, or ended), it settles as a failure, so the kernel never waits
 * on a pager that can no longer answer.
 *
 * Invariant: `settle` is called exactly once.
 */
export class PagerRequest extends KernelObject {
  readonly kind = ObjectKind.PAGER_REQUEST;
  readonly pageIn: boolean;
  private settle: ((answer: PagerAnswer) => void) | null;

  constructor(pageIn: boolean, settle: (answer: PagerAnswer) => void) {
    super();
    this.pageIn = pageIn;
    this.settle = settle;
  }

  answer(answer: PagerAnswer): void {
    const settle = this.settle;
    this.settle = null;
    settle?.(answer);
  }

  protected teardown(): void {
    this.answer({ status: Status.E_PEER_DEAD, sealed: null });
  }
}

/** The sealed page the pager gave back: the ciphertext in the Region's first page, the tag in words. */
export function sealedPageIn(services: ObjectServices, region: RegionObject, nonce: Uint8Array, tag: Uint8Array): SealedPage | null {
  const frame = region.frameList[0];
  if (frame === undefined) return null;
  const data = new Uint8Array(SEALED_PAGE_BYTES);
  data.set(services.memory.bytes.subarray(frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE), 0);
  data.set(tag, PAGE_SIZE);
  return { nonce, data };
}

/** PAGER_DONE. */
export function invokePagerRequest(services: ObjectServices, inv: Invocation, request: PagerRequest): number {
  if (inv.message.label !== Op.PAGER_DONE) return Status.E_INVALID_ARGUMENT;
  if (!inv.cap.has(Rights.PAGER_REQUEST_ANSWER)) return Status.E_MISSING_RIGHT;
  const status = word(inv, 0) | 0;
  let sealed: SealedPage | null = null;
  if (request.pageIn && status === 0) {
    const region = argumentObject<RegionObject>(inv, 0, ObjectKind.REGION, Rights.REGION_OWNER);
    if (typeof region === "number") return region;
    const nonce = new Uint8Array(Uint32Array.from([word(inv, 1), word(inv, 2), word(inv, 3)]).buffer);
    const tag = new Uint8Array(Uint32Array.from([word(inv, 4), word(inv, 5), word(inv, 6), word(inv, 7)]).buffer);
    sealed = sealedPageIn(services, region, nonce, tag);
    if (!sealed) return Status.E_INVALID_ARGUMENT;
    // The Region came back to the kernel: it goes with its owner capability.
    inv.caller.caps.take(inv.message.caps[0]! & ~CAP_MOVE)?.dispose();
  }
  request.answer({ status, sealed });
  inv.caller.caps.take(inv.capIndex)?.dispose();
  return Status.OK;
}
