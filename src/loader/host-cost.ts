import { IMAGE_MODULE_FIXED_BYTES } from "../kernel/constants.ts";
import { LoadError } from "./load-error.ts";

/**
 * What an instance of a module makes the host allocate outside physical memory (finding 2 of
 * issue 16: 40 tables grown by ten million entries each took Node down). WebAssembly tables,
 * globals and the engine's per-function state live in the host's heap, so the loader bounds them
 * here and reports their worst case in bytes; the kernel charges that, in pages, to the Memory
 * that pays for each process (docs/MEMORY.md "What a process costs").
 */

/** Entries a table may grow past its initial size when the binary declares no maximum. */
export const TABLE_GROWTH_ALLOWANCE = 4096;
/** Entries of all of a module's tables together, at their maximum: 1M entries are 8 MiB of host heap. */
export const MAX_TABLE_ENTRIES = 1 << 20;
/** Host bytes per table entry (a reference), per global and per function (V8's dispatch and import tables). */
const BYTES_PER_TABLE_ENTRY = 8;
/**
 * A global's cost is mostly its export: the loader exports every mutable global (for the debugger
 * and PROCESS_CLONE), and V8 makes a WebAssembly.Global object for each export of each instance,
 * 104-139 bytes measured. At 16 bytes, 100,000 globals (a 500 KB binary) cost 10-13 MiB of host
 * heap per process charged 1.6 MiB (redteam3).
 */
const BYTES_PER_GLOBAL = 160;
const BYTES_PER_FUNCTION = 16;
/**
 * Per export: V8 makes each instance's exports object at instantiation, a JS function for each
 * exported function (336 bytes measured). 100,000 exported functions (V8's limit; a 1.4 MB
 * binary) cost 34 MiB of host heap per process charged 1.6 MiB (redteam3).
 */
const BYTES_PER_EXPORT = 400;
/**
 * Per data segment and instance: V8's segment tables (about 8 bytes) and the process's own record
 * of each segment's live bytes (a reference: Process.segments). 100,000 segments, V8's limit, in a
 * binary of 200 KB cost 1.1 MiB of host heap per process, 12 times what it was charged (redteam3).
 */
const BYTES_PER_DATA_SEGMENT = 16;
/** The engine's fixed cost of an instance (the instance object, its export wrappers as they are made). */
const INSTANCE_FIXED_BYTES = 16 << 10;

export interface TableLimits {
  readonly initial: number;
  /** null: the binary declares none. */
  readonly maximum: number | null;
}

/**
 * The maximum the loader gives each table: the declared one, or the initial size plus
 * TABLE_GROWTH_ALLOWANCE when none is declared (a grow past it fails with -1, as WebAssembly
 * allows). Refuses a module whose tables together could exceed MAX_TABLE_ENTRIES.
 */
export function capTables(name: string, tables: readonly TableLimits[]): number[] {
  const maxima = tables.map((t) => t.maximum ?? t.initial + TABLE_GROWTH_ALLOWANCE);
  let total = 0;
  maxima.forEach((maximum, index) => {
    total += maximum;
    if (total > MAX_TABLE_ENTRIES) {
      throw new LoadError(name, `table section, table ${index}`, `tables of up to ${total} entries in all; at most ${MAX_TABLE_ENTRIES} are allowed (a table is host memory no quota could otherwise bound)`);
    }
  });
  return maxima;
}

/** The host bytes one instance may take, given its tables' capped maxima and its counts. */
export function instanceBytes(tableMaxima: readonly number[], counts: { globals: number; functions: number; exports: number; dataSegments: number }): number {
  const entries = tableMaxima.reduce((sum, n) => sum + n, 0);
  return (
    INSTANCE_FIXED_BYTES +
    entries * BYTES_PER_TABLE_ENTRY +
    counts.globals * BYTES_PER_GLOBAL +
    counts.functions * BYTES_PER_FUNCTION +
    counts.exports * BYTES_PER_EXPORT +
    counts.dataSegments * BYTES_PER_DATA_SEGMENT
  );
}

/**
 * Host bytes V8 keeps per byte of rewritten code: its own copy of the wire bytes, the module's
 * metadata, and the machine code as functions are compiled (lazily, at their first call; the
 * charge is for all of them). Measured on Node 26 (fresh process, distinct modules held, resident
 * set after collection, less the binary, its data and the fixed part): yosys (55.9 MB rewritten)
 * 1.1 lazily and 3.97 with every function compiled; a generated 2.73 MB binary (13.4 MB rewritten)
 * 1.3 and 2.1. Every function may come to be compiled, so every one is charged.
 */
const CODE_BYTES_FACTOR = 4;
/**
 * The engine's fixed cost of a compiled module and what the load leaves behind in the host's
 * allocator: a 40 KB C binary kept 0.6-0.7 MB, a 29 KB one 1.2-1.9 MB, an 87 KB one 1.2-2.4 MB; flite
 * (21.5 MB, 17 MB of data, 0.4 MB of code) 42.0-42.8 MB held eight at a time, its bytes and data
 * 38.6 MB of that.
 */
const MODULE_FIXED_BYTES = IMAGE_MODULE_FIXED_BYTES;

/**
 * The host bytes a loaded image keeps while anything holds it: the binary as given, each data
 * segment (copied into each process at its start; a view of the binary after a fresh load, a copy
 * after a cache hit: charged either way), the compiled module (see
 * CODE_BYTES_FACTOR) and a fixed part. The kernel charges it, in pages, to the Memory of each Image
 * of a binary a process loads (docs/MEMORY.md "What a process costs").
 */
export function imageHostBytes(binaryBytes: number, rewrittenBytes: number, segmentBytes: number): number {
  return binaryBytes + segmentBytes + CODE_BYTES_FACTOR * rewrittenBytes + MODULE_FIXED_BYTES;
}
