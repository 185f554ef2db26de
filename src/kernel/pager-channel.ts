import { Capability } from "./caps/capability.ts";
import type { Ipc } from "./caps/ipc.ts";
import { type MemoryObject, makeRegion } from "./caps/memory-object.ts";
import { KernelMessage, Rights } from "./caps/object-abi.ts";
import type { ObjectServices } from "./caps/object-services.ts";
import { PagerRequest } from "./caps/pager-request.ts";
import { PAGE_SIZE } from "./constants.ts";
import type { BackingStore, StoreSlot } from "./paging.ts";
import type { Receiver } from "./caps/receiver.ts";

/** Queue slots page-outs leave free for page-ins. */
const PAGE_IN_ROOM = 8;

/**
 * The backing store when the pager is a process: each page-out goes to it as a `PAGE_OUT`
 * message (space, page, slot) carrying the ciphertext in a fresh 1-page Region (paid by the pager's
 * Memory) and a PagerRequest to answer once stored; each page-in as a `PAGE_IN` (space, page,
 * slot) whose answer brings a Region back. The pager is expected to write the page to its disk at
 * the slot and drop the Region: until it does, the page costs a frame there instead of in the
 * process. The pager sees only ciphertext (the kernel keeps nonce and tag); whatever it answers is
 * checked by the sealer.
 *
 * Page-outs wait in the kernel for room in the pager's queue (they leave PAGE_IN_ROOM slots to
 * page-ins, which a process waits on) and go as it drains. A page-in the pager's queue cannot take
 * or that the pager drops unanswered is a failed read: Paging asks again a few times (the requests wait in the
 * channel, which outlives a pager that ends and is restarted), then ends the process with a
 * `page-integrity` fault.
 */
export class PagerChannel implements BackingStore {
  private readonly ipc: Ipc;
  private readonly services: ObjectServices;
  private readonly through: Capability;
  private readonly memory: MemoryObject;
  /** Page-outs waiting for room in the pager's queue, oldest first. */
  private readonly outgoing: Array<{ at: StoreSlot; ciphertext: Uint8Array; wanted: () => boolean; resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(ipc: Ipc, services: ObjectServices, through: Capability, memory: MemoryObject) {
    this.ipc = ipc;
    this.services = services;
    this.through = through;
    this.memory = memory;
  }

  write(at: StoreSlot, ciphertext: Uint8Array, wanted: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.outgoing.push({ at, ciphertext, wanted, resolve, reject });
      this.pump();
    });
  }

  /**
   * Sends waiting page-outs while the pager's queue has room beyond what page-ins need: the
   * kernel's side of the pipeline, so that the pager always has work and never a queue too full
   * for a page-in. Run at each new page-out and at each answer (the pager took a message off).
   */
  private pump(): void {
    const receiver = this.through.object as Receiver;
    while (this.outgoing.length > 0 && receiver.queued + PAGE_IN_ROOM < receiver.capacity) {
      const { at, ciphertext, wanted, resolve, reject } = this.outgoing.shift()!;
      // The page came back from the kernel's copy while this waited: nothing to store, and its
      // slot is free once this settles.
      if (!wanted()) {
        resolve();
        continue;
      }
      const region = makeRegion(this.services, this.memory, 1, 0);
      if (typeof region === "number") {
        reject(new Error(`no Region for a page-out: status ${region}`));
        continue;
      }
      this.services.memory.bytes.set(ciphertext.subarray(0, PAGE_SIZE), region.frameList[0]! * PAGE_SIZE);
      const request = new PagerRequest(false, (answer) => {
        if (answer.status === 0) resolve();
        else reject(new Error(`the pager failed a page-out: ${answer.status}`));
        this.pump();
      });
      const caps = [new Capability(region, Rights.REGION_OWNER | Rights.REGION_READ), new Capability(request, Rights.PAGER_REQUEST_ANSWER)];
      if (!this.ipc.kernelSend(this.through, KernelMessage.PAGE_OUT, [at.space, at.page, at.slot], caps)) {
        for (const cap of caps) cap.dispose();
        return;
      }
    }
  }

  read(at: StoreSlot): Promise<Uint8Array | null> {
    return new Promise((resolve) => {
      const request = new PagerRequest(true, (answer) => {
        resolve(answer.status === 0 ? answer.ciphertext : null);
        this.pump();
      });
      const cap = new Capability(request, Rights.PAGER_REQUEST_ANSWER);
      if (!this.ipc.kernelSend(this.through, KernelMessage.PAGE_IN, [at.space, at.page, at.slot], [cap])) cap.dispose();
    });
  }
}
