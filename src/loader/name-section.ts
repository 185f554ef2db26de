import type { CodeLayout } from "./output-layout.ts";
import { mapFunction } from "./rewrite-sections.ts";
import { ByteReader, DecodeError } from "./wasm/byte-reader.ts";
import { ByteWriter } from "./wasm/byte-writer.ts";
import type { Section } from "./wasm/module-info.ts";

/**
 * The "name" custom section: function and global names for messages, and the same section
 * rewritten for the output's index spaces, with names for the loader's own functions (a fault
 * report skips frames named `dogma$…`, src/kernel/fault.ts). The engine ignores a malformed name
 * section, and so does the loader: it reads no names from it and drops it from the output.
 */
const Sub = { module: 0, functions: 1, locals: 2, labels: 3, types: 4, tables: 5, memories: 6, globals: 7, elements: 8, data: 9, fields: 10, tags: 11 } as const;

export interface Names {
  readonly functions: ReadonlyMap<number, string>;
  readonly globals: ReadonlyMap<number, string>;
}

interface Subsection {
  readonly id: number;
  readonly start: number;
  readonly end: number;
}

/** The subsections, checked for shape; throws DecodeError if the section is malformed. */
function subsections(bytes: Uint8Array, section: Section): Subsection[] {
  const r = new ByteReader(bytes, section.start, section.end);
  r.name(); // "name"
  const result: Subsection[] = [];
  let last = -1;
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    if (size > r.end - r.at) r.fail(`name subsection ${id} runs past the end of the section`);
    if (id <= last) r.fail(`name subsection ${id} is out of order`);
    last = id;
    result.push({ id, start: r.at, end: r.at + size });
    r.at += size;
  }
  return result;
}

function nameMap(bytes: Uint8Array, sub: Subsection): Map<number, string> {
  const r = new ByteReader(bytes, sub.start, sub.end);
  const map = new Map<number, string>();
  for (let n = r.count(2), i = 0; i < n; i++) map.set(r.u32(), r.name());
  if (!r.done) r.fail("bytes after a name map");
  return map;
}

/** The names the binary gives its functions and globals; none if the section is missing or malformed. */
export function readNames(bytes: Uint8Array, section: Section | null): Names {
  const none: Names = { functions: new Map(), globals: new Map() };
  if (!section) return none;
  try {
    const subs = subsections(bytes, section);
    const functions = subs.find((s) => s.id === Sub.functions);
    const globals = subs.find((s) => s.id === Sub.globals);
    return { functions: functions ? nameMap(bytes, functions) : new Map(), globals: globals ? nameMap(bytes, globals) : new Map() };
  } catch (error) {
    if (error instanceof DecodeError) return none;
    throw error;
  }
}

/** Where each of the output's functions came from, for its name. */
export interface NamedFunctions {
  readonly layout: CodeLayout;
  readonly definedFunctions: number;
  /** Loops moved into functions of their own, after the helpers: each named for its function and its place there (`main.loop0`). */
  readonly outlined?: ReadonlyArray<{ readonly parent: number; readonly ordinal: number }>;
  readonly importNames: readonly string[];
  readonly helperNames: readonly string[];
}

/**
 * The output's name section. Functions keep their names at their new indices; a function of the
 * program without one is named by its original index (as fault reports have always shown it);
 * the loader's imports and helpers are named `dogma$…`. Local and label names follow their
 * functions, global names their globals; names of memories and data segments, which the output
 * no longer has, are dropped.
 */
export function writeNameSection(bytes: Uint8Array, section: Section | null, named: NamedFunctions): Uint8Array {
  let subs: Subsection[] = [];
  let functions = new Map<number, string>();
  if (section) {
    try {
      subs = subsections(bytes, section);
      const fn = subs.find((s) => s.id === Sub.functions);
      if (fn) functions = nameMap(bytes, fn);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      subs = [];
      functions = new Map();
    }
  }
  const { layout } = named;
  const out = new ByteWriter(1024);
  out.name("name");
  const sub = (id: number, write: (w: ByteWriter) => void) => {
    out.u8(id);
    out.sized(write);
  };
  const copy = (s: Subsection) => sub(s.id, (w) => w.copy(bytes, s.start, s.end));
  for (const s of subs.filter((s) => s.id === Sub.module)) copy(s);
  sub(Sub.functions, (w) => {
    const total = layout.firstHelper + named.helperNames.filter((n) => n !== "").length + (named.outlined ?? []).length;
    w.u32(total);
    for (let index = 0; index < layout.functionImports; index++) {
      w.u32(index);
      w.name(functions.get(index) ?? String(index));
    }
    named.importNames.forEach((name, i) => {
      w.u32(layout.functionImports + i);
      w.name(name);
    });
    for (let i = 0; i < named.definedFunctions; i++) {
      const original = layout.functionImports + i;
      w.u32(mapFunction(layout, original));
      w.name(functions.get(original) ?? String(original));
    }
    named.helperNames.forEach((name, i) => {
      if (name === "") return; // an unused helper
      w.u32(layout.firstHelper + i);
      w.name(name);
    });
    (named.outlined ?? []).forEach(({ parent, ordinal }, i) => {
      w.u32(layout.firstOutlined + i);
      w.name(`${functions.get(parent) ?? String(parent)}.loop${ordinal}`);
    });
  });
  for (const s of subs) {
    try {
      if (s.id === Sub.locals || s.id === Sub.labels) sub(s.id, (w) => renumberIndirect(bytes, s, layout, w));
      else if (s.id === Sub.globals) sub(s.id, (w) => shiftGlobals(bytes, s, layout, w));
      else if (s.id === Sub.types || s.id === Sub.tables || s.id === Sub.elements || s.id === Sub.fields || s.id === Sub.tags) copy(s);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      // A malformed subsection is left out; the rest keeps its names.
    }
  }
  return out.take();
}

/** Local or label names: a map from function index to a name map, the function indices renumbered. */
function renumberIndirect(bytes: Uint8Array, s: Subsection, layout: CodeLayout, w: ByteWriter): void {
  const r = new ByteReader(bytes, s.start, s.end);
  const count = r.count(2);
  const body = new ByteWriter(s.end - s.start + 16);
  body.u32(count);
  for (let i = 0; i < count; i++) {
    body.u32(mapFunction(layout, r.u32()));
    const start = r.at;
    for (let n = r.count(2), k = 0; k < n; k++) (r.u32(), r.name());
    body.copy(bytes, start, r.at);
  }
  if (!r.done) r.fail("bytes after an indirect name map");
  w.bytes(body.view());
}

function shiftGlobals(bytes: Uint8Array, s: Subsection, layout: CodeLayout, w: ByteWriter): void {
  const programGlobals = layout.fuelGlobal - layout.globalShift;
  const names = [...nameMap(bytes, s)].filter(([index]) => index < programGlobals).sort((a, b) => a[0] - b[0]);
  const body = new ByteWriter(s.end - s.start + 64);
  body.u32(names.length + 4);
  body.u32(layout.tlbGlobal);
  body.name("dogma$tlb");
  body.u32(layout.homeGlobal);
  body.name("dogma$home");
  for (const [index, name] of names) {
    body.u32(index + layout.globalShift);
    body.name(name);
  }
  body.u32(layout.fuelGlobal);
  body.name("dogma$fuel");
  body.u32(layout.faultGlobal);
  body.name("dogma$fault_pending");
  w.bytes(body.view());
}
