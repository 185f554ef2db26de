// redteam4: two page-ins of one page at once (two parents cloning one serving process, a debugger
// reading a page its target faults on). The first brings it back; the page is written and goes
// out again, at a newer version, into the slot the first freed; then the second's answer comes.
// It read that slot: before, it failed authentication and raised a `page-integrity` fault against
// an honest pager, or (the slot elsewhere) released the newer version's entry, so that the page was
// out with no copy anywhere. Now the second sees the page is not what it asked for and gives nothing.
import { expect, it } from "vitest";
import type { BackingStore, PageAnswer, Paging, StoreSlot } from "../../src/kernel/paging.ts";
import { pageKey } from "../../src/kernel/stored-pages.ts";
import { testMachine } from "../helpers/test-host.ts";
import { TestStore } from "../helpers/test-store.ts";
import { wat } from "../helpers/wat.ts";

/** An honest store whose reads are answered, from what the slots hold then, only when let go. */
class HeldStore implements BackingStore {
  readonly inner = new TestStore();
  readonly held: Array<() => void> = [];
  write(at: StoreSlot, ciphertext: Uint8Array, wanted: () => boolean): Promise<void> {
    return this.inner.write(at, ciphertext);
  }
  read(at: readonly StoreSlot[]): Promise<ReadonlyArray<Uint8Array | null>> {
    return new Promise((resolve) => this.held.push(() => resolve(this.inner.read(at))));
  }
}

const PAGE = 2;

it("a page-in that another brought back meanwhile gives nothing, faults nothing and keeps the newer version", async () => {
  const t = testMachine({ memory: 4 << 20 });
  const store = new HeldStore();
  const paging = t.kernel.enablePaging(store, { storePages: 64, lowWater: 4 });
  const image = await t.loader.load(wat(`(module (memory 1) (data (i32.const 0x2000) "first") (func (export "_start")))`), "holder");
  const process = t.kernel.spawn(image, { entry: "_start" }); // created, never run: its pages stay
  const evict = () => (paging as unknown as { evict(p: unknown, page: number, pinned: boolean): boolean }).evict(process, PAGE, false);
  const key = pageKey(process.pid, PAGE);
  const written = async () => {
    while (paging.stored.get(key)?.inKernel !== null || paging.stored.get(key)?.plain !== null) await new Promise((r) => setImmediate(r));
  };
  const text = (answer: PageAnswer | null) => new TextDecoder().decode(answer!.bytes.subarray(0, 5));

  expect(evict()).toBe(true);
  await written();
  const first = paging.fetch(process, PAGE);
  const second = paging.fetch(process, PAGE);
  while (store.held.length < 2) await new Promise((r) => setImmediate(r));
  store.held.shift()!();
  const answer = await first;
  expect(text(answer)).toBe("first");
  expect(paging.land(process, PAGE, answer!)).toBe(true);
  expect(process.space.pagedVersion(PAGE)).toBeNull();
  // Written, and out again: a newer version, in a slot of its own.
  expect(t.kernel.writeMemory(process, PAGE * 4096, new TextEncoder().encode("newer"))).toBe(true);
  expect(evict()).toBe(true);
  await written();
  store.held.shift()!();
  expect(await second).toBeNull();
  // The newer version is still out, and comes back.
  expect(paging.stored.get(key)).toBeDefined();
  const third = paging.fetch(process, PAGE);
  while (store.held.length < 1) await new Promise((r) => setImmediate(r));
  store.held.shift()!();
  expect(text(await third)).toBe("newer");
});
