/**
 * A property over untrusted arguments: random sequences of PROCESS_PROTECT, PROCESS_COPY_PAGES
 * (between two processes and within one), PROCESS_DISCARD, loads and stores, checked step by step against a model
 * of each page's byte and rights. After every step: every read gives the model's byte or the
 * model's fault; a frame shared copy-on-write has exactly as many holders as entries naming it;
 * no frame is writable in one place while another can see it. At the end every frame comes back.
 */
import { describe, expect, it } from "vitest";
import { Status } from "../../src/kernel/errors.ts";
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

describe("page rights and copy-on-write against a model", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`agrees with the model over 400 random steps (seed ${seed})`, async () => {
      const t = testMachine();
      const image = await t.loader.load(wat(`(module (memory 2) (func (export "_start")))`), "plain");
      t.kernel.kill(t.kernel.spawn(image).pid);
      const baseline = t.kernel.frames.freeCount;
      const processes = [t.kernel.spawn(image), t.kernel.spawn(image)];
      const model = processes.map(() => Array.from({ length: PAGES }, (): ModelPage => ({ byte: 0, rights: PTE_READ | PTE_WRITE })));
      const next = prng(seed);
      const int = (n: number) => Math.floor(next() * n);
      // Arguments are drawn to be often valid and sometimes not (page 0, past the end, zero pages).
      const pageArg = () => (int(10) === 0 ? int(40) : 1 + int(PAGES - 1));
      const countArg = () => (int(10) === 0 ? int(40) : 1 + int(4));

      for (let step = 0; step < 400; step++) {
        const who = int(2);
        const p = processes[who]!;
        const pages = model[who]!;
        const op = int(6);
        const where = `step ${step} (seed ${seed})`;
        if (op === 0) {
          const [page, count, rights] = [pageArg(), countArg(), RIGHTS[int(3)]!];
          const valid = page >= 1 && count >= 1 && page + count <= PAGES;
          expect(p.space.protect(page * 4096, count, rights), where).toBe(valid ? Status.OK : Status.E_BAD_ADDRESS);
          if (valid) for (let i = page; i < page + count; i++) pages[i]!.rights = rights;
        } else if (op === 1) {
          const from = int(2);
          const source = processes[from]!;
          const [src, dst, count] = [pageArg(), pageArg(), countArg()];
          const inWindow = (first: number) => first >= 1 && count >= 1 && first + count <= PAGES;
          const overlap = source === p && src < dst + count && dst < src + count;
          const expected = !inWindow(src) || !inWindow(dst) ? Status.E_BAD_ADDRESS : overlap ? Status.E_INVALID_ARGUMENT : Status.OK;
          expect(p.space.copyOnWriteFrom(source.space, src * 4096, dst * 4096, count), where).toBe(expected);
          if (expected === Status.OK) {
            const bytes = model[from]!.slice(src, src + count).map((m) => m.byte);
            bytes.forEach((byte, i) => (pages[dst + i] = { byte, rights: PTE_READ | PTE_WRITE }));
          }
        } else if (op === 4) {
          const [page, count] = [pageArg(), countArg()];
          const valid = page >= 1 && count >= 1 && page + count <= PAGES;
          expect(p.space.discard(page * 4096, count), where).toBe(valid ? Status.OK : Status.E_BAD_ADDRESS);
          if (valid) for (let i = page; i < page + count; i++) pages[i]!.byte = 0;
        } else if (op === 2 || op === 3) {
          const page = 1 + int(PAGES - 1);
          const value = 1 + int(255);
          const m = pages[page]!;
          const write = op === 2;
          const allowed = write ? m.rights === (PTE_READ | PTE_WRITE) : m.rights !== 0;
          const access = () => (write ? p.space.write(page * 4096 + 7, new Uint8Array([value])) : p.space.read(page * 4096 + 7, 1)[0]);
          if (!allowed) {
            expect(access, where).toThrow(ProcessFault);
            continue;
          }
          const result = access();
          if (write) m.byte = value;
          else expect(result, where).toBe(m.byte);
        } else {
          // Read everything readable through the kernel's own path: the model's bytes everywhere.
          for (let page = 1; page < PAGES; page++) {
            if (pages[page]!.rights === 0) continue;
            expect(p.space.read(page * 4096 + 7, 1)[0], `${where}, page ${page}`).toBe(pages[page]!.byte);
          }
        }
        checkFrames(t.kernel.services.sharedFrames, processes, where);
      }
      for (const p of processes) t.kernel.kill(p.pid);
      expect(t.kernel.frames.freeCount).toBe(baseline);
    });
  }
});

/** Holder counts equal the entries naming each shared frame; no frame writable where another sees it. */
function checkFrames(shared: { holders(frame: number): number }, processes: Process[], where: string): void {
  const names = new Map<number, { entries: number; writable: number }>();
  for (const p of processes) {
    for (let page = 1; page < PAGES; page++) {
      const mapping = p.space.mapping(page * 4096);
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
