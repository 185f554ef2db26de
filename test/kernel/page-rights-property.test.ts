/**
 * A property over untrusted arguments: random sequences of PROCESS_PROTECT, PROCESS_COPY_PAGES
 * (between two processes and within one), PROCESS_DISCARD, loads and stores, checked step by step against a model
 * of each page's byte and rights. After every step: every read gives the model's byte or the
 * model's fault; a frame shared copy-on-write has exactly as many holders as entries naming it;
 * no frame is writable in one place while another can see it. At the end every frame comes back.
 */
import { describe, expect, it } from "vitest";
import { TLB_MAX_ENTRIES } from "../../src/kernel/constants.ts";
import { Status } from "../../src/kernel/errors.ts";
import { checkInvariants } from "../../src/kernel/invariants.ts";
import { ProcessFault } from "../../src/kernel/fault.ts";
import { PTE_READ, PTE_WRITE } from "../../src/kernel/page-table.ts";
import type { Process } from "../../src/kernel/process.ts";
import { prng } from "../caps/prng.ts";
import { testMachine } from "../helpers/test-host.ts";
import { wat } from "../helpers/wat.ts";

const PAGES = 32; // memory 2: 2 × 64 KiB
const RIGHTS = [0, PTE_READ, PTE_READ | PTE_WRITE] as const;

interface ModelPage {
  byte: number;
  rights: number;
}

/**
 * `windows` > 1: the pages are WINDOWS runs of PAGES, 16 MiB apart (a TLB of TLB_MAX_ENTRIES, the
 * memory declaring no maximum), so that page p of each run has the same TLB entry: the kernel's
 * own accesses displace each other's entries into the TLB's victim entries (src/kernel/tlb.ts),
 * which every protect, copy and discard must reach; the invariant checker runs after every step.
 */
const LAYOUTS = [
  { windows: 1, memory: "(memory 2)" },
  { windows: 3, memory: `(memory ${(2 * TLB_MAX_ENTRIES) / 16 + 2})` },
] as const;

describe.each(LAYOUTS)("page rights and copy-on-write against a model ($windows runs of pages)", ({ windows, memory }) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`agrees with the model over 400 random steps (seed ${seed})`, async () => {
      const t = testMachine({ memory: 32 << 20 });
      const image = await t.loader.load(wat(`(module ${memory} (func (export "_start")))`), "plain");
      t.kernel.kill(t.kernel.spawn(image).pid);
      const baseline = t.kernel.frames.freeCount;
      const processes = [t.kernel.spawn(image), t.kernel.spawn(image)];
      const models = processes.map(() => Array.from({ length: windows }, () => Array.from({ length: PAGES }, (): ModelPage => ({ byte: 0, rights: PTE_READ | PTE_WRITE }))));
      const next = prng(seed);
      const int = (n: number) => Math.floor(next() * n);
      /** The byte address of page `page` of run `w`. */
      const at = (w: number, page: number) => (w * TLB_MAX_ENTRIES + page) * 4096;
      // Arguments are drawn to be often valid and sometimes not (page 0, past the end, zero pages).
      const pageArg = () => (int(10) === 0 ? int(40) : 1 + int(PAGES - 1));
      const countArg = () => (int(10) === 0 ? int(40) : 1 + int(4));

      for (let step = 0; step < 400; step++) {
        const who = int(2);
        const p = processes[who]!;
        const w = int(windows);
        const pages = models[who]![w]!;
        const op = int(6);
        const where = `step ${step} (seed ${seed})`;
        if (op === 0) {
          const [page, count, rights] = [pageArg(), countArg(), RIGHTS[int(3)]!];
          const valid = page >= 1 && count >= 1 && page + count <= PAGES;
          // Past a run's end is inside the next one's window: only the model's pages are drawn.
          if (windows > 1 && !valid) continue;
          expect(p.space.protect(at(w, page), count, rights), where).toBe(valid ? Status.OK : Status.E_BAD_ADDRESS);
          if (valid) for (let i = page; i < page + count; i++) pages[i]!.rights = rights;
        } else if (op === 1) {
          const from = int(2);
          const fromWindow = int(windows);
          const source = processes[from]!;
          const [src, dst, count] = [pageArg(), pageArg(), countArg()];
          const inWindow = (first: number) => first >= 1 && count >= 1 && first + count <= PAGES;
          const overlap = source === p && fromWindow === w && src < dst + count && dst < src + count;
          const expected = !inWindow(src) || !inWindow(dst) ? Status.E_BAD_ADDRESS : overlap ? Status.E_INVALID_ARGUMENT : Status.OK;
          if (windows > 1 && expected === Status.E_BAD_ADDRESS) continue;
          expect(p.space.copyOnWriteFrom(source.space, at(fromWindow, src), at(w, dst), count), where).toBe(expected);
          if (expected === Status.OK) {
            const bytes = models[from]![fromWindow]!.slice(src, src + count).map((m) => m.byte);
            bytes.forEach((byte, i) => (pages[dst + i] = { byte, rights: PTE_READ | PTE_WRITE }));
          }
        } else if (op === 4) {
          const [page, count] = [pageArg(), countArg()];
          const valid = page >= 1 && count >= 1 && page + count <= PAGES;
          if (windows > 1 && !valid) continue;
          expect(p.space.discard(at(w, page), count), where).toBe(valid ? Status.OK : Status.E_BAD_ADDRESS);
          if (valid) for (let i = page; i < page + count; i++) pages[i]!.byte = 0;
        } else if (op === 2 || op === 3) {
          const page = 1 + int(PAGES - 1);
          const value = 1 + int(255);
          const m = pages[page]!;
          const write = op === 2;
          const allowed = write ? m.rights === (PTE_READ | PTE_WRITE) : m.rights !== 0;
          const access = () => (write ? p.space.write(at(w, page) + 7, new Uint8Array([value])) : p.space.read(at(w, page) + 7, 1)[0]);
          if (!allowed) {
            expect(access, where).toThrow(ProcessFault);
            continue;
          }
          const result = access();
          if (write) m.byte = value;
          else expect(result, where).toBe(m.byte);
        } else {
          // Read everything readable through the kernel's own path: the model's bytes everywhere.
          for (let v = 0; v < windows; v++) {
            for (let page = 1; page < PAGES; page++) {
              if (models[who]![v]![page]!.rights === 0) continue;
              expect(p.space.read(at(v, page) + 7, 1)[0], `${where}, page ${page} of run ${v}`).toBe(models[who]![v]![page]!.byte);
            }
          }
        }
        checkFrames(t.kernel.services.sharedFrames, processes, windows, where);
        if (windows > 1) expect(checkInvariants(t.kernel), where).toEqual([]);
      }
      for (const p of processes) t.kernel.kill(p.pid);
      expect(t.kernel.frames.freeCount).toBe(baseline);
    });
  }
});

/** Holder counts equal the entries naming each shared frame; no frame writable where another sees it. */
function checkFrames(shared: { holders(frame: number): number }, processes: Process[], windows: number, where: string): void {
  const names = new Map<number, { entries: number; writable: number }>();
  for (const p of processes) {
    for (let index = 0; index < windows * PAGES; index++) {
      const page = index % PAGES;
      if (page === 0) continue;
      const mapping = p.space.mapping((Math.floor(index / PAGES) * TLB_MAX_ENTRIES + page) * 4096);
      if (!mapping) continue;
      const seen = names.get(mapping.frame) ?? { entries: 0, writable: 0 };
      seen.entries++;
      if (mapping.writable) seen.writable++;
      names.set(mapping.frame, seen);
    }
  }
  for (const [frame, { entries, writable }] of names) {
    if (entries > 1 || shared.holders(frame) > 0) expect(shared.holders(frame), `${where}: holders of frame ${frame}`).toBe(entries);
    if (entries > 1) expect(writable, `${where}: frame ${frame} writable while shared`).toBe(0);
  }
}
