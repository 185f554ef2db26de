import { PAGE_SIZE } from "../constants.ts";
import { Status } from "../errors.ts";
import { type Invocation, argumentObject, word } from "./invocation.ts";
import { KernelObject } from "./kernel-object.ts";
import { CAP_MOVE, ObjectKind, Op, Rights } from "./object-abi.ts";
import type { ObjectServices } from "./object-services.ts";
import type { RegionObject } from "./region.ts";

/**
 * What the pager answered: a status, and for a page-in the ciphertext it gave back, one page per
 * slot asked for, in the order asked (1 to `pages` of them: a shorter answer leaves the rest unread).
 */
export interface PagerAnswer {
  readonly status: number;
  readonly ciphertexts: readonly Uint8Array[];
}

/** The most pages one `PAGE_OUT` or `PAGE_IN` carries: three words (space, page, slot) a page. */
export const PAGER_BATCH_MAX = 21;

/**
 * One request the kernel sent the pager (`PAGE_OUT`, `PAGE_IN`) for `pages` pages, as a one-shot
 * capability that travels with it. Answering it (`PAGER_DONE`) settles the kernel's side for all of
 * them and uses it up; disposed unanswered (the pager dropped it, or ended), it settles as a
 * failure, so the kernel never waits on a pager that can no longer answer.
 *
 * Invariant: `settle` is called exactly once.
 */
export class PagerRequest extends KernelObject {
  readonly kind = ObjectKind.PAGER_REQUEST;
  readonly pageIn: boolean;
  readonly pages: number;
  private settle: ((answer: PagerAnswer) => void) | null;

  constructor(pageIn: boolean, pages: number, settle: (answer: PagerAnswer) => void) {
    super();
    this.pageIn = pageIn;
    this.pages = pages;
    this.settle = settle;
  }

  answer(answer: PagerAnswer): void {
    const settle = this.settle;
    this.settle = null;
    settle?.(answer);
  }

  protected teardown(): void {
    this.answer({ status: Status.E_PEER_DEAD, ciphertexts: [] });
  }
}

/**
 * The ciphertext the pager gave back: each of the Region's pages, copied out into one array (the
 * Region goes back to the kernel's Memory when its capability is disposed, so its frames cannot be
 * kept), a view of it a page. Null when the Region has no page, or more than were asked for.
 */
function ciphertextsIn(services: ObjectServices, region: RegionObject, asked: number): Uint8Array[] | null {
  const frames = region.frameList;
  if (frames.length === 0 || frames.length > asked) return null;
  const copied = new Uint8Array(frames.length * PAGE_SIZE);
  const bytes = services.memory.bytes;
  return frames.map((frame, i) => {
    copied.set(bytes.subarray(frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE), i * PAGE_SIZE);
    return copied.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  });
}

/**
 * PAGER_DONE: one word, the status (0: done), and for a page-in that is done one capability, the
 * owner of a Region of 1 to `pages` pages whose page i holds the slot of the request's page i; a
 * page-out's answer or a failure carries none. Any other shape is refused (E_INVALID_ARGUMENT) and
 * the request stays unanswered: an answer without its status word would otherwise read as "done"
 * and the kernel would drop its copy of pages the pager never stored. What the Region holds is the
 * sealer's to check, page by page. This is the pager's protocol's check (docs/CONTRACTS.md "The pager").
 */
export function invokePagerRequest(services: ObjectServices, inv: Invocation, request: PagerRequest): number {
  if (inv.message.label !== Op.PAGER_DONE) return Status.E_INVALID_ARGUMENT;
  if (!inv.cap.has(Rights.PAGER_REQUEST_ANSWER)) return Status.E_MISSING_RIGHT;
  if (inv.message.words.length !== 1) return Status.E_INVALID_ARGUMENT;
  const status = word(inv, 0) | 0;
  if (inv.message.caps.length !== (request.pageIn && status === 0 ? 1 : 0)) return Status.E_INVALID_ARGUMENT;
  let ciphertexts: Uint8Array[] = [];
  if (request.pageIn && status === 0) {
    const region = argumentObject<RegionObject>(inv, 0, ObjectKind.REGION, Rights.REGION_OWNER);
    if (typeof region === "number") return region;
    const copied = ciphertextsIn(services, region, request.pages);
    if (!copied) return Status.E_INVALID_ARGUMENT;
    ciphertexts = copied;
    // The Region came back to the kernel: it goes with its owner capability.
    inv.caller.caps.take(inv.message.caps[0]! & ~CAP_MOVE)?.dispose();
  }
  request.answer({ status, ciphertexts });
  inv.caller.caps.take(inv.capIndex)?.dispose();
  return Status.OK;
}
