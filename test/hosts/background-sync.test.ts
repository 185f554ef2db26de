/**
 * A disk image's background sync (src/hosts/node/background-sync.ts): an fdatasync starts on its
 * own once enough was written, a flush waits for it and syncs again, and a failure it met reaches
 * the next flush instead of being lost. The syncs here are promises the test settles by hand.
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
    const next = background.flush();
    calls[2]!.resolve();
    await expect(next).resolves.toBeUndefined();
  });

  it("never starts one with a threshold of 0 (a read-only image)", () => {
    const { calls, sync } = fakeSync();
    const background = new BackgroundSync(sync, 0);
    background.wrote(1 << 30);
    expect(calls.length).toBe(0);
  });
});
