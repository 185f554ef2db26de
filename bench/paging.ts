// Demand paging (docs/MEMORY.md "Paging"): a sweep over four times physical memory with paging
// (a host store standing in for the pager), beside the same sweep on a machine where it fits;
// and sealing a page (AES-256-GCM, seal then open) beside a plain 4 KiB copy.
import type { SealedPage } from "../src/kernel/page-sealer.ts";
import { nodePageCipher } from "../src/hosts/node/node-page-cipher.ts";
import { type PageCipherFactory, PageSealer, portablePageCipher } from "../src/kernel/page-sealer.ts";
import { type BackingStore, EvictionPolicy, type EvictionPolicyCode, type StoreSlot } from "../src/kernel/paging.ts";
import { PAGE_SWEEP } from "../test/helpers/page-sweep.ts";
import { dogma, median, microsPerCall, now, result, runProcess, type Result } from "./harness.ts";

const RAM_MIB = 4;
const PAGES = (4 * RAM_MIB * 1024 * 1024) / 4096;
const ROUNDS = 3;

class MemoryStore implements BackingStore {
  private readonly slots = new Map<number, Uint8Array>();
  async write(at: StoreSlot, ciphertext: Uint8Array): Promise<void> {
    this.slots.set(at.slot, ciphertext.slice());
  }
  async read(at: readonly StoreSlot[]): Promise<Array<Uint8Array | null>> {
    return at.map((slot) => this.slots.get(slot.slot) ?? null);
  }
}

async function sweep(paging: EvictionPolicyCode | null): Promise<{ us: number; evictions: number; value: unknown }> {
  const samples: Array<{ us: number; evictions: number; value: unknown }> = [];
  for (let i = 0; i < 3; i++) {
    const machine = dogma(paging === null ? 64 : RAM_MIB);
    const pager = paging === null ? null : machine.kernel.enablePaging(new MemoryStore(), { storePages: 2 * PAGES, lowWater: 64, policy: paging });
    const image = await machine.loader.load(PAGE_SWEEP, "sweep");
    const start = now();
    const { value } = await runProcess(machine, image, "run", [PAGES, ROUNDS]);
    samples.push({ us: ((now() - start) * 1000) / (PAGES * ROUNDS), evictions: pager?.evictions ?? 0, value });
  }
  const mid = median(samples.map((s) => s.us));
  return samples.find((s) => s.us === mid) ?? samples[0]!;
}

async function sealing(cipher: PageCipherFactory): Promise<{ sealUs: number; copyUs: number }> {
  const sealer = new PageSealer({ fill: (bytes) => void crypto.getRandomValues(bytes) }, cipher);
  const page = new Uint8Array(4096).fill(3);
  const target = new Uint8Array(4096);
  const id = { space: 1, page: 1, version: 1 };
  const time = (work: () => void) => microsPerCall(work, 2000, 200);
  // The portable cipher loads its library at the first page it seals (answering that one with a promise).
  await sealer.seal(page, id);
  return {
    sealUs: time(() => {
      // Both ciphers measured here answer at once, once loaded.
      if (!sealer.open(sealer.seal(page, id) as SealedPage, id)) throw new Error("bench bug: a sealed page did not open");
    }),
    copyUs: time(() => target.set(page)),
  };
}

export async function paging(): Promise<{ results: Result[]; notes: string[] }> {
  const fits = await sweep(null);
  const clock = await sweep(EvictionPolicy.CLOCK);
  const aging = await sweep(EvictionPolicy.AGING);
  if (clock.value !== fits.value || aging.value !== fits.value) throw new Error(`MISMATCH in the paging sweep: ${String(clock.value)} / ${String(aging.value)}, without paging ${String(fits.value)}`);
  const native = await sealing(nodePageCipher);
  const portable = await sealing(portablePageCipher);
  const touches = PAGES * ROUNDS;
  return {
    results: [
      result(`sweep of ${4 * RAM_MIB} MiB in ${RAM_MIB} MiB of RAM, clock (per page touched)`, clock.us, "µs", "the same sweep in 64 MiB, no paging", fits.us),
      result(`sweep of ${4 * RAM_MIB} MiB in ${RAM_MIB} MiB of RAM, aging (per page touched)`, aging.us, "µs", "the same sweep in 64 MiB, no paging", fits.us),
      result("seal and open one page (AES-256-GCM, node:crypto: the Node host's)", native.sealUs, "µs", "copy 4 KiB (Uint8Array.set)", native.copyUs),
      result("seal and open one page (AES-256-GCM, @noble/ciphers: the portable one, browsers)", portable.sealUs, "µs", "the same with node:crypto", native.sealUs),
    ],
    notes: [
      `${PAGES} pages, ${ROUNDS} rounds, each page read and written once a round. Evictions: clock ${clock.evictions} (${((clock.evictions / (clock.us * touches)) * 1e6).toFixed(0)} evictions/s, each with a page-in to follow), aging ${aging.evictions}.`,
      "The store is a host Map standing in for the pager (no block I/O): what is measured is the kernel's side, sealing included.",
    ],
  };
}
