/**
 * A page-in that finds the pager's queue full waits in the kernel for room, as page-outs do. It
 * was a failed read (redteam17): asked again at once, three times, then its process ended with
 * `page-integrity` ("the pager gave back page ... not at all"), with an honest pager that was only
 * busy. More processes faulting at once than the queue's free slots (init's 64, less what
 * page-outs hold: 8 kept for page-ins) were killed so: a program that runs a dozen children
 * thrashing could end others' processes.
 */
import { expect, it } from "vitest";
import type { Capability } from "../../src/kernel/caps/capability.ts";
import { Rights } from "../../src/kernel/caps/object-abi.ts";
import type { PagerRequest } from "../../src/kernel/caps/pager-request.ts";
import { Receiver } from "../../src/kernel/caps/receiver.ts";
import { PagerChannel } from "../../src/kernel/pager-channel.ts";
import { testMachine } from "../helpers/test-host.ts";

it("keeps page-ins the pager's queue cannot take yet, and sends them as it drains", async () => {
  const t = testMachine({ memory: 4 << 20 });
  const k = t.kernel;
  const capacity = 10;
  const receiver = new Receiver(capacity);
  const channel = new PagerChannel(k.ipc, k.services, k.capability(receiver, Rights.RECEIVER_SEND), k.memoryObject(64));
  // Twelve processes fault at once while the pager is busy elsewhere.
  const settled: number[] = [];
  const reads = Array.from({ length: 12 }, (_, i) => channel.read([{ space: 1, page: 16 + i, slot: i }]).then((answer) => (settled.push(i), answer)));
  await new Promise((resolve) => setImmediate(resolve));
  expect(settled).toEqual([]);
  expect(receiver.queued).toBe(capacity);

  // The pager takes its messages one by one and answers each with its slot's bytes.
  for (let answered = 0; answered < 12; answered++) {
    const envelope = receiver.take();
    expect(envelope, `message ${answered}`).not.toBeNull();
    const slot = envelope!.words[2]!;
    const request = (envelope!.caps[0] as Capability).object as PagerRequest;
    request.answer({ status: 0, ciphertexts: [new Uint8Array(4096).fill(slot + 1)] });
    for (const cap of envelope!.caps) cap.dispose();
  }
  const answers = await Promise.all(reads);
  answers.forEach((answer, i) => expect(answer[0]?.[0], `page-in ${i}`).toBe(i + 1));
  expect(receiver.queued).toBe(0);
});
