import { FAULT_EXPORT, FUEL_EXPORT, GLOBAL_EXPORT_PREFIX, INIT_EXPORT, MMU_HOME_GLOBAL, MMU_MODULE, MMU_TLB_GLOBAL } from "../kernel/mmu-abi.ts";
import { FUEL_PER_CHECK } from "../kernel/constants.ts";
import { writeNameSection } from "./name-section.ts";
import { HELPERS, MMU_FUNCTION_IMPORTS, type CodeLayout } from "./output-layout.ts";
import type { HelperFunction } from "./rewrite-helpers.ts";
import { mapFunction, writeConstExpr, writeElements } from "./rewrite-sections.ts";
import type { CodeOutput, Replacement } from "./code-output.ts";
import type { OutlinedLoop } from "./outline-plan.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";
import { ExternalKind, SectionId, type ModuleInfo } from "./wasm/module-info.ts";
import { I32, isNumberType } from "./wasm/value-types.ts";

/**
 * Assembles the rewritten module from the parsed original, its rewritten function bodies and the
 * loader's helpers:
 * - its memory (defined or imported) becomes the import `dogma:mmu.memory`, the machine's
 *   physical memory; its data segments, data count and start section go (the kernel copies the
 *   segments in and calls the start function, exported as `__dogma_init`); no memory export;
 * - `dogma:mmu` imports: the TLB address and fault flag globals, the slow paths and kernel calls;
 * - a `__dogma_fuel` global for safe points, and each mutable number global exported as
 *   `__dogma_global_N` (N its index in the original) for PROCESS_CLONE;
 * - each table declares its capped maximum (host-cost.ts);
 * - custom sections other than "name" are dropped (none has meaning to the engine).
 */

/** The largest memory a 32-bit module may declare, in 64 KiB pages: the physical memory fits under it. */
const MAX_PAGES = 65536;
const FUNC_TYPE = 0x60;

export interface RewrittenCode {
  /** The rewritten bodies of the program's functions, in order, each with its size; the module is framed around them. */
  readonly bodies: CodeOutput;
  /** The branch-hint section's function entries, in order, and how many there are. */
  readonly hints?: { readonly pieces: readonly Uint8Array[]; readonly functions: number };
  /** Functions rewritten again with their loops outlined: their new bodies in place of those in `bodies`. */
  readonly replaced?: readonly Replacement[];
  /** The loops moved into functions of their own (outline-plan.ts), and their bodies, each with its size, in order: they follow the helpers. */
  readonly outlined?: readonly OutlinedLoop[];
  readonly outlinedBodies?: readonly Uint8Array[];
}

/** The custom section V8 reads branch hints from (the branch-hinting proposal's code metadata). */
const BRANCH_HINT_SECTION = "metadata.code.branch_hint";

export interface OutputFacts {
  readonly tableMaxima: readonly number[];
}

/** Interns function types appended after the module's own. */
class AddedTypes {
  readonly entries: Array<{ params: readonly number[]; results: readonly number[] }> = [];
  private readonly byKey = new Map<string, number>();
  private readonly first: number;
  constructor(first: number) {
    this.first = first;
  }
  index(params: readonly number[], results: readonly number[]): number {
    const key = `${params.join()}:${results.join()}`;
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.first + this.entries.length;
      this.entries.push({ params, results });
      this.byKey.set(key, index);
    }
    return index;
  }
}

export function writeModule(info: ModuleInfo, layout: CodeLayout, facts: OutputFacts, code: RewrittenCode, helpers: readonly HelperFunction[]): Uint8Array {
  const bytes = info.bytes;
  const added = new AddedTypes(info.typeCount);
  const importTypes = MMU_FUNCTION_IMPORTS.map((i) => added.index(i.params, i.results));
  const outlined = code.outlined ?? [];
  const outlinedTypes = outlined.map((loop) => added.index(loop.params, loop.results));
  const helperTypes = helpers.map((h) => added.index(h.params, h.results));
  const sectionOf = (id: number) => info.sections.find((s) => s.id === id) ?? null;
  const pieces: Uint8Array[] = [new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0])];
  const section = (id: number, write: (w: ByteWriter) => void) => {
    const w = new ByteWriter(256);
    w.section(id, write);
    pieces.push(w.take());
  };

  section(SectionId.type, (w) => {
    const types = sectionOf(SectionId.type);
    w.u32(info.typeEntries + added.entries.length);
    if (types) {
      const r = { at: types.start };
      skipCount(bytes, r);
      w.copy(bytes, r.at, types.end);
    }
    for (const { params, results } of added.entries) {
      w.u8(FUNC_TYPE);
      w.u32(params.length);
      for (const p of params) w.u8(p);
      w.u32(results.length);
      for (const t of results) w.u8(t);
    }
  });

  section(SectionId.import, (w) => {
    const kept = info.imports.filter((i) => i.kind !== ExternalKind.memory);
    w.u32(kept.length + 3 + MMU_FUNCTION_IMPORTS.length);
    for (const i of kept) w.copy(bytes, i.start, i.end);
    w.name(MMU_MODULE);
    w.name("memory");
    w.u8(ExternalKind.memory);
    w.u8(1);
    w.u32(0);
    w.u32(MAX_PAGES);
    w.name(MMU_MODULE);
    w.name(MMU_TLB_GLOBAL);
    w.u8(ExternalKind.global);
    w.u8(I32);
    w.u8(0);
    w.name(MMU_MODULE);
    w.name(MMU_HOME_GLOBAL);
    w.u8(ExternalKind.global);
    w.u8(I32);
    w.u8(0);
    MMU_FUNCTION_IMPORTS.forEach((call, i) => {
      w.name(MMU_MODULE);
      w.name(call.name);
      w.u8(ExternalKind.function);
      w.u32(importTypes[i]!);
    });
  });

  section(SectionId.function, (w) => {
    w.u32(info.functions.length + helpers.length + outlined.length);
    for (const type of info.functions) w.u32(type);
    for (const type of helperTypes) w.u32(type);
    for (const type of outlinedTypes) w.u32(type);
  });

  if (info.tables.length > 0) {
    section(SectionId.table, (w) => {
      w.u32(info.tables.length);
      info.tables.forEach((table, i) => {
        if (table.init) w.bytes(new Uint8Array([0x40, 0x00]));
        w.bytes(table.refType);
        w.u8(1);
        w.u32(table.limits.initial);
        w.u32(facts.tableMaxima[i]!);
        if (table.init) writeConstExpr(bytes, table.init, layout, w);
      });
    });
  }

  section(SectionId.global, (w) => {
    w.u32(info.globals.length + 2 + (layout.streamGlobals ? 2 * layout.accessStreams : 0));
    for (const global of info.globals) {
      w.bytes(global.typeBytes);
      w.u8(global.mutable ? 1 : 0);
      writeConstExpr(bytes, global.init, layout, w);
    }
    w.u8(I32);
    w.u8(1);
    w.u8(0x41);
    w.s32(FUEL_PER_CHECK);
    w.u8(0x0b);
    // The fault flag (src/kernel/mmu-abi.ts FAULT_EXPORT), 0.
    w.u8(I32);
    w.u8(1);
    w.u8(0x41);
    w.u8(0);
    w.u8(0x0b);
    if (layout.streamGlobals) {
      // Access streams' pages, none (mmu-sequences.ts putStreamInvalid: -8192), then their addends.
      for (let i = 0; i < layout.accessStreams; i++) w.bytes(new Uint8Array([0x7e, 1, 0x42, 0x80, 0x40, 0x0b]));
      for (let i = 0; i < layout.accessStreams; i++) w.bytes(new Uint8Array([I32, 1, 0x41, 0, 0x0b]));
    }
  });

  section(SectionId.export, (w) => {
    const kept = info.exports.filter((e) => e.kind !== ExternalKind.memory);
    const globals = info.globals.flatMap((g, i) => (g.mutable && isNumberType(g.typeBytes[0]!) && g.typeBytes.length === 1 ? [i] : []));
    w.u32(kept.length + 2 + (info.start !== null ? 1 : 0) + globals.length);
    for (const e of kept) {
      w.name(e.name);
      w.u8(e.kind);
      w.u32(e.kind === ExternalKind.function ? mapFunction(layout, e.index) : e.kind === ExternalKind.global ? e.index + layout.globalShift : e.index);
    }
    w.name(FUEL_EXPORT);
    w.u8(ExternalKind.global);
    w.u32(layout.fuelGlobal);
    w.name(FAULT_EXPORT);
    w.u8(ExternalKind.global);
    w.u32(layout.faultGlobal);
    if (info.start !== null) {
      w.name(INIT_EXPORT);
      w.u8(ExternalKind.function);
      w.u32(mapFunction(layout, info.start));
    }
    for (const index of globals) {
      w.name(`${GLOBAL_EXPORT_PREFIX}${index}`);
      w.u8(ExternalKind.global);
      w.u32(index + layout.globalShift);
    }
  });

  if (info.element) {
    const element = info.element;
    section(SectionId.element, (w) => writeElements(bytes, element.start, element.end, layout, w));
  }

  const hints = code.hints;
  if (hints && hints.functions > 0) {
    section(SectionId.custom, (w) => {
      w.name(BRANCH_HINT_SECTION);
      w.u32(hints.functions);
      for (const piece of hints.pieces) w.bytes(piece);
    });
  }

  // The code section: the bodies stay where they were written; the rest is framed around them.
  const helperBodies = new ByteWriter(4096);
  for (const helper of helpers) {
    helperBodies.u32(helper.body.length);
    helperBodies.bytes(helper.body);
  }
  const count = new ByteWriter(8);
  count.u32(info.functions.length + helpers.length + outlined.length);
  const outlinedBodies = code.outlinedBodies ?? [];
  const replaced = code.replaced ?? [];
  const bodiesBytes = replaced.reduce((n, r) => n + r.bytes.length - r.length, code.bodies.length);
  const codeSize = count.length + bodiesBytes + helperBodies.length + outlinedBodies.reduce((n, b) => n + b.length, 0);
  const header = new ByteWriter(8);
  header.u8(SectionId.code);
  header.u32(codeSize);
  pieces.push(header.view(), count.view());

  const names = new ByteWriter(256);
  names.section(SectionId.custom, (w) =>
    w.bytes(
      writeNameSection(bytes, info.nameSection, {
        layout,
        definedFunctions: info.functions.length,
        outlined,
        importNames: MMU_FUNCTION_IMPORTS.map((i) => (HELPERS.some((h) => h.retries === i.name) ? `dogma$raw$${i.name}` : `dogma$${i.name}`)),
        helperNames: helpers.map((h) => h.name),
      }),
    ),
  );
  return code.bodies.frame(pieces, [helperBodies.view(), ...outlinedBodies, names.view()], replaced);
}

function skipCount(bytes: Uint8Array, r: { at: number }): void {
  while (bytes[r.at++]! & 0x80);
}
