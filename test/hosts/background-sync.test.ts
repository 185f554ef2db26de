/**
 * A disk image's background sync (src/hosts/node/background-sync.ts): an fdatasync starts on its
 * own once enough was written, or at the host's turn after what follows a flush; a flush waits for
 * it and syncs again unless nothing was written since it began; a failure it met reaches the next
 * flush instead of being lost. The syncs here are promises the test settles by hand.
 */
import { describe, expect, it } from "vitest";
import { BackgroundSync } from "../../src/hosts/node/background-sync.ts";

/** A fake fdatasync: each call is recorded and waits until the test settles it. */
function fakeSync() {
  const calls: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  const sync = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, sync };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A flush that succeeded, then a write (a checkpoint), whose sync began at the host's turn: calls[1], unsettled. */
async function checkpointSyncing() {
  const { calls, sync } = fakeSync();
  const background = new BackgroundSync(sync, 100);
  const first = background.flush();
  calls[0]!.resolve();
  await first;
  background.wrote(8);
  await turn();
  return { calls, background };
}

describe("background sync", () => {
  it("starts once the threshold is written, and never two at once", async () => {
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 100);
    background.wrote(60);
    expect(calls.length).toBe(0);
    background.wrote(40);
    expect(calls.length).toBe(1);
    background.wrote(500); // one runs: no second
    expect(calls.length).toBe(1);
    calls[0]!.resolve();
    await turn();
    expect(calls.length).toBe(2); // what came meanwhile was enough for the next
    calls[1]!.resolve();
    await background.settle();
    expect(calls.length).toBe(2);
  });

  it("flush syncs at once, beside the running sync, and waits for both", async () => {
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 100);
    background.wrote(100);
    background.wrote(10);
    let flushed = false;
    const flush = background.flush().then(() => (flushed = true));
    expect(calls.length).toBe(2); // the flush's own, for what came after the running one began
    calls[1]!.resolve();
    await turn();
    expect(flushed).toBe(false); // the running one is not done
    calls[0]!.resolve();
    await flush;
    expect(flushed).toBe(true);
  });

  it("gives a background sync's failure to the next flush, once", async () => {
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 100);
    background.wrote(100);
    calls[0]!.reject(new Error("EIO"));
    await background.settle();
    background.wrote(1000); // a failed sync starts no other until a flush has told it
    expect(calls.length).toBe(1);
    const failing = background.flush();
    calls[1]!.resolve(); // the flush's own sync succeeds: the background failure is still told
    await expect(failing).rejects.toThrow("EIO");
    await expect(background.flush()).resolves.toBeUndefined(); // told once (nothing written since: no sync either)
    expect(calls.length).toBe(2);
  });

  it("after a flush, syncs what follows at the host's turn, and a flush then waits for that instead of syncing again", async () => {
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 100);
    const first = background.flush();
    calls[0]!.resolve();
    await first;
    background.wrote(8); // (a checkpoint: far below the threshold)
    expect(calls.length).toBe(1); // not inside the write
    await turn();
    expect(calls.length).toBe(2);
    let flushed = false;
    const second = background.flush().then(() => (flushed = true));
    await turn();
    expect(calls.length).toBe(2); // no sync of its own: the one running began after the last write
    expect(flushed).toBe(false); // and it waits for that one
    calls[1]!.resolve();
    await second;
    const third = background.flush(); // nothing written since: nothing to wait for
    await third;
    expect(calls.length).toBe(2);
  });

  it("syncs again at a flush when anything was written after the last sync began", async () => {
    const { calls, background } = await checkpointSyncing();
    expect(calls.length).toBe(2);
    background.wrote(0); // (a write that failed at once: it may still have changed the file)
    const second = background.flush();
    expect(calls.length).toBe(3);
    calls[1]!.resolve();
    calls[2]!.resolve();
    await second;
  });

  it("a flush that waits for another sync tells what that sync met", async () => {
    const { calls, background } = await checkpointSyncing();
    calls[1]!.reject(new Error("EIO"));
    await expect(background.flush()).rejects.toThrow("EIO");
    expect(calls.length).toBe(2);
  });

  it("a flush tells a failure met by a background sync that ran beside its own (redteam16)", async () => {
    // The host tells a write-back error to one fdatasync of the file: a sync begun while the
    // flush's own ran may be the one told of the error on pages written before the flush.
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 100);
    background.wrote(8); // written before the flush: the flush promises it
    let settled = false;
    const flush = background.flush().then(
      () => (settled = true),
      (error: unknown) => {
        settled = true;
        throw error;
      },
    );
    expect(calls.length).toBe(1);
    background.wrote(8); // a write the queue let in while the flush waits
    await turn();
    expect(calls.length).toBe(2); // a sync after the flush's writes, beside the flush's own
    calls[0]!.resolve(); // the flush's own was not told
    await turn();
    expect(settled).toBe(false); // it waits for the one beside it
    calls[1]!.reject(new Error("EIO")); // that one was
    await expect(flush).rejects.toThrow("EIO");
  });

  it("a flush tells a failure met by another flush's sync that ran beside its own (redteam16)", async () => {
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 0); // (no background syncs: two flushes alone)
    background.wrote(8);
    const first = background.flush();
    background.wrote(8); // let in while the first flush waits
    const second = background.flush();
    expect(calls.length).toBe(2); // each its own
    calls[0]!.resolve(); // the first's was not told of the error on the pages it waited for
    calls[1]!.reject(new Error("EIO")); // the second's was
    await expect(second).rejects.toThrow("EIO");
    await expect(first).rejects.toThrow("EIO");
  });

  it("never starts one with a threshold of 0 (a read-only image)", () => {
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 0);
    background.wrote(1 << 30);
    expect(calls.length).toBe(0);
  });
});
