import type { Process } from "./process.ts";

/**
 * Fuel is how the kernel bounds the work a process does between two looks at the clock: every
 * safe point spends a unit (loader: src/loader/mmu-sequences.ts), and when the fuel runs out the next safe
 * point calls the kernel, which reads the clock and preempts the process if its slice is over.
 * Work a single instruction does in the kernel is charged here in proportion, so that no
 * instruction can stretch a slice (issue 16, finding 3: one 16 MiB `memory.fill` per loop
 * iteration ran for seconds between two clock reads).
 */

/** Bytes a bulk memory operation (copy, fill, init) may touch per unit of fuel: about a safe point's time. */
export const BULK_BYTES_PER_FUEL = 64;

/** Fuel a call that walks pages is charged per page, at most for this many (a whole private window). */
export const MAX_PAGE_WORK = 1 << 19;

/** Spends `units` of the running process's fuel; once it runs out, its next safe point calls the kernel. */
export function chargeFuel(process: Process, units: number): void {
  const fuel = process.fuel;
  if (!fuel || units <= 0) return;
  const left = (fuel.value as number) - units;
  // Any negative value sends the next safe point to the kernel; -1 keeps the i32 from wrapping.
  fuel.value = left < 0 ? -1 : left;
}

/** Charges a bulk memory operation of `length` bytes. */
export function chargeBulk(process: Process, length: number): void {
  if (length >= BULK_BYTES_PER_FUEL) chargeFuel(process, Math.floor(length / BULK_BYTES_PER_FUEL));
}
