import { Capability } from "./caps/capability.ts";
import type { Ipc } from "./caps/ipc.ts";
import { type MemoryObject, makeRegion } from "./caps/memory-object.ts";
import { KernelMessage, Rights } from "./caps/object-abi.ts";
import type { ObjectServices } from "./caps/object-services.ts";
import { PAGER_BATCH_MAX, PagerRequest } from "./caps/pager-request.ts";
import { PAGE_SIZE } from "./constants.ts";
import type { BackingStore, StoreSlot } from "./paging.ts";
import type { Receiver } from "./caps/receiver.ts";

/** Queue slots page-outs leave free for page-ins. */
const PAGE_IN_ROOM = 8;
/** Free frames a page-out's Region of several pages leaves to others. */
const FRAMES_LEFT = 64;

interface PageOut {
  readonly at: StoreSlot;
  readonly ciphertext: Uint8Array;
  readonly wanted: () => boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The backing store when the pager is a process. Page-outs go to it as `PAGE_OUT` messages of up
 * to `batch` pages: a (space, page, slot) triple a page, the ciphertext in one fresh Region (paid by
 * the pager's Memory) whose page i is the i-th triple's, and one PagerRequest to answer once all
 * are stored. Page-ins go as `PAGE_IN` messages of up to `batch` triples (the page a process
 * touched, then neighbours worth reading with it), whose answer brings back one Region of 1 to
 * that many pages. The pager is expected to write the pages to its disk and drop the Region:
 * until it does, they cost frames there instead of in the processes. The pager sees only
 * ciphertext (the kernel keeps nonce and tag); whatever it answers is checked by the sealer.
 *
 * Page-outs wait in the kernel for room in the pager's queue (they leave PAGE_IN_ROOM slots to
 * page-ins, which a process waits on) and go as it drains, gathered `batch` to a message in slot
 * order. Page-ins the queue cannot take wait too, in order, and go first as it drains: taken for
 * failed reads, they were asked again at once and their processes ended with `page-integrity`
 * when more processes faulted together than the queue had room for, the pager honest but busy
 * (redteam17). A page-in the pager drops unanswered (it ended holding it) is a failed read: Paging
 * asks again a few times (the requests wait in the channel, which outlives a pager that ends and
 * is restarted), then ends the process with a `page-integrity` fault.
 */
export class PagerChannel implements BackingStore {
  readonly batch: number;
  private readonly ipc: Ipc;
  private readonly services: ObjectServices;
  private readonly through: Capability;
  private readonly memory: MemoryObject;
  /** Page-outs waiting for room in the pager's queue, oldest first. */
  private readonly outgoing: PageOut[] = [];
  /** Page-ins waiting for room in the pager's queue, oldest first: their words and request. */
  private readonly incoming: Array<{ readonly words: number[]; readonly request: Capability }> = [];

  /** `batch`: the most pages the pager takes in one message (KERNEL_SET_PAGER), 1 to PAGER_BATCH_MAX. */
  constructor(ipc: Ipc, services: ObjectServices, through: Capability, memory: MemoryObject, batch = 1) {
    if (!Number.isInteger(batch) || batch < 1 || batch > PAGER_BATCH_MAX) throw new RangeError(`a pager batch of ${batch} pages: 1 to ${PAGER_BATCH_MAX}`);
    this.ipc = ipc;
    this.services = services;
    this.through = through;
    this.memory = memory;
    this.batch = batch;
  }

  /** Queues a page-out: it goes with the others of its burst at `flush`. */
  write(at: StoreSlot, ciphertext: Uint8Array, wanted: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => this.outgoing.push({ at, ciphertext, wanted, resolve, reject }));
  }

  /** The page-outs queued so far go, in full messages as far as the pager's queue has room. */
  flush(): void {
    this.pump();
  }

  /**
   * Sends waiting page-outs while the pager's queue has room beyond what page-ins need: the
   * kernel's side of the pipeline, so that the pager always has work and never a queue too full
   * for a page-in. Run at each new page-out and at each answer (the pager took a message off).
   */
  private pump(): void {
    const receiver = this.through.object as Receiver;
    while (this.incoming.length > 0 && !receiver.full) {
      const { words, request } = this.incoming.shift()!;
      this.sendPageIn(words, request);
    }
    while (this.outgoing.length > 0 && receiver.queued + PAGE_IN_ROOM < receiver.capacity) {
      const batch = this.nextBatch();
      if (batch.length > 0 && !this.send(batch)) return;
    }
  }

  /**
   * Up to `batch` waiting page-outs, in slot order (the pager writes runs of slots in one call).
   * One whose page came back from the kernel's copy while it waited has nothing to store: it is
   * settled now, and its slot is free once it has.
   */
  private nextBatch(): PageOut[] {
    const batch: PageOut[] = [];
    // Its Region's frames come from what is free: a batch leaves the last ones to the processes
    // and servers a page-out goes through (at worst it goes one page at a time, as with batch 1).
    const most = Math.max(1, Math.min(this.batch, this.services.frames.freeCount - FRAMES_LEFT));
    while (batch.length < most && this.outgoing.length > 0) {
      const out = this.outgoing.shift()!;
      if (out.wanted()) batch.push(out);
      else out.resolve();
    }
    return batch.sort((a, b) => a.at.slot - b.at.slot);
  }

  /**
   * Sends one PAGE_OUT for `batch`; false when the channel did not take it (the request, disposed,
   * fails them all: Paging keeps their blobs and sends them again later).
   */
  private send(batch: PageOut[]): boolean {
    // Every byte of it is written below, before the pager gets it: no zeroing first.
    const region = makeRegion(this.services, this.memory, batch.length, 0, true);
    if (typeof region === "number") {
      for (const out of batch) out.reject(new Error(`no Region for a page-out: status ${region}`));
      return true;
    }
    const words: number[] = [];
    const bytes = this.services.memory.bytes;
    batch.forEach((out, i) => {
      const at = region.frameList[i]! * PAGE_SIZE;
      const ciphertext = out.ciphertext.subarray(0, PAGE_SIZE);
      bytes.set(ciphertext, at);
      // Never the frame's earlier bytes (another process's, maybe) to the pager.
      if (ciphertext.length < PAGE_SIZE) bytes.fill(0, at + ciphertext.length, at + PAGE_SIZE);
      words.push(out.at.space, out.at.page, out.at.slot);
    });
    const request = new PagerRequest(false, batch.length, (answer) => {
      for (const out of batch) {
        if (answer.status === 0) out.resolve();
        else out.reject(new Error(`the pager failed a page-out: ${answer.status}`));
      }
      this.pump();
    });
    const caps = [new Capability(region, Rights.REGION_OWNER | Rights.REGION_READ), new Capability(request, Rights.PAGER_REQUEST_ANSWER)];
    if (this.ipc.kernelSend(this.through, KernelMessage.PAGE_OUT, words, caps)) return true;
    for (const cap of caps) cap.dispose();
    return false;
  }

  read(at: readonly StoreSlot[]): Promise<ReadonlyArray<Uint8Array | null>> {
    return new Promise((resolve) => {
      const asked = at.slice(0, this.batch);
      const request = new PagerRequest(true, asked.length, (answer) => {
        resolve(answer.status === 0 ? answer.ciphertexts : []);
        this.pump();
      });
      const words: number[] = [];
      for (const slot of asked) words.push(slot.space, slot.page, slot.slot);
      const cap = new Capability(request, Rights.PAGER_REQUEST_ANSWER);
      const receiver = this.through.object as Receiver;
      if (this.incoming.length > 0 || (receiver.full && !receiver.destroyed)) this.incoming.push({ words, request: cap });
      else this.sendPageIn(words, cap);
    });
  }

  /** Sends one PAGE_IN; a channel that does not take it (gone) fails it (its request, disposed, answers so). */
  private sendPageIn(words: number[], request: Capability): void {
    if (!this.ipc.kernelSend(this.through, KernelMessage.PAGE_IN, words, [request])) request.dispose();
  }
}
