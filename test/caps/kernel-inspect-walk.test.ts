/**
 * KERNEL_PROCESS's walk of the process table (src/kernel/caps/kernel-inspect.ts liveProcessFrom):
 * `ps` asks for the live process at or above a pid, then at or above the answer's pid + 1; each
 * question goes on from where the last answer left the table, so a walk of N processes is N steps
 * (it was a scan of the whole table per question: N² at 100,000 live, issue 18).
 */
import { describe, expect, it, vi } from "vitest";
import { liveProcessFrom } from "../../src/kernel/caps/kernel-inspect.ts";

interface Entry {
  pid: number;
  alive: boolean;
}

describe("KERNEL_PROCESS's walk of the process table", () => {
  it("answers in pid order, going on from where the last answer left it, through deletions, ends and additions", () => {
    const table = new Map<number, Entry>();
    for (let pid = 1; pid <= 1000; pid++) table.set(pid, { pid, alive: true });
    const values = vi.spyOn(table, "values");
    const seen: number[] = [];
    for (let p = liveProcessFrom(table, 0); p; p = liveProcessFrom(table, p.pid + 1)) {
      seen.push(p.pid);
      if (p.pid !== 500) continue;
      // Meanwhile one ends and leaves the table, one has ended and not yet left, one starts.
      table.delete(501);
      table.get(502)!.alive = false;
      table.set(1001, { pid: 1001, alive: true });
    }
    const expected = [...Array.from({ length: 500 }, (_, i) => i + 1), ...Array.from({ length: 499 }, (_, i) => i + 503)];
    expect(seen).toEqual(expected);
    expect(values).toHaveBeenCalledTimes(1);
  });

  it("answers a question that continues no walk from the start of the table", () => {
    const table = new Map<number, Entry>([10, 20, 30].map((pid) => [pid, { pid, alive: true }]));
    expect(liveProcessFrom(table, 21)!.pid).toBe(30);
    expect(liveProcessFrom(table, 0)!.pid).toBe(10);
    expect(liveProcessFrom(table, 15)!.pid).toBe(20);
    expect(liveProcessFrom(table, 31)).toBeNull();
    table.get(20)!.alive = false;
    expect(liveProcessFrom(table, 11)!.pid).toBe(30);
  });
});
